"""Swarm through the fleet controller, against real swarms on loopback (tests/swarm_lab.py).

Swarm A: a1, a2 managers and a3 worker; swarm B: b1. Every test removes the services it made.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
import uuid

import pytest

import lab as _lab
from fleet_hosts import config, ssh_host, unix_host
from helpers import dockyard, until
from dockyard.config.model import HostConfig
from dockyard.fleet import Fleet, ReadOnlyError
from dockyard.fleet.models import SwarmService, SwarmTask
from dockyard.fleet.swarm import AmbiguousName, group_swarms, match_nodes, stacks

V2 = "dockyard-test/busybox:v2"


def swarm_config(swarm, names=("a1", "a2", "a3", "b1"), **kw):
    extra = kw.pop("extra", {})
    return config(*(unix_host(swarm.nodes[n].daemon, n, **extra.get(n, {})) for n in names), **kw)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def by_name(items, name):
    return next(i for i in items if i.name == name)


# --------------------------------------------------------------------------- the lab itself


def _listeners(pids: set[int]) -> list[str]:
    out = subprocess.run(["ss", "-H", "-lntup"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines()
            if any(f"pid={p}," in line for p in pids)]


def test_swarm_lab_stays_on_loopback(swarm):
    """Nodes run with the loopback-only flags, listen on 127.0.0.1 only, open no VXLAN port and
    never create the machine-wide docker_gwbridge link."""
    pids = set()
    for node in swarm.nodes.values():
        pid = node.daemon.pid
        pids.add(pid)
        cmdline = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        for flag in _lab.DOCKERD_NET_FLAGS:
            assert flag.encode() in cmdline, (node.name, flag)
    listeners = _listeners(pids)
    assert listeners, "the managers' swarm ports should show up"
    for line in listeners:
        local = line.split()[4]
        assert local.startswith("127.0.0.1:"), line
    assert ":4789 " not in subprocess.run(["ss", "-H", "-lun"], capture_output=True, text=True).stdout
    links = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True).stdout
    assert not re.search(r"^docker_gwbridge\b", links, re.M)
    for node in swarm.nodes.values():
        assert re.search(rf"^{node.bridge}\b", links, re.M), node.bridge


# --------------------------------------------------------------------------- membership


def _info(role, node, cluster="", managers=()):
    swarm = {"LocalNodeState": "active", "NodeID": node, "ControlAvailable": role == "manager",
             "RemoteManagers": [{"NodeID": m, "Addr": "127.0.0.1:1"} for m in managers]}
    if cluster:
        swarm["Cluster"] = {"ID": cluster}
    return {"Swarm": swarm}


def test_grouping_by_cluster_id_names_and_workers():
    hosts = [HostConfig("solo", "unix:///s"), HostConfig("w", "unix:///w"), HostConfig("m2", "unix:///m2"),
             HostConfig("m1", "unix:///m1"), HostConfig("b", "unix:///b", swarm="blue"),
             HostConfig("lost", "unix:///l"), HostConfig("down", "unix:///d")]
    infos = {"solo": {"Swarm": {"LocalNodeState": "inactive", "NodeID": ""}},
             "w": _info("worker", "nw", managers=("n1", "n2")),
             "m2": _info("manager", "n2", "A", ("n1", "n2")),
             "m1": _info("manager", "n1", "A", ("n1", "n2")),
             "b": _info("manager", "nb", "B", ("nb",)),
             "lost": _info("worker", "nx", managers=("elsewhere",))}
    swarms = group_swarms(hosts, infos)
    assert [(s.id, s.name, s.managers, s.workers) for s in swarms] == [
        ("A", "m2", ("m2", "m1"), ("w",)),  # named after its first manager host in config order
        ("B", "blue", ("b",), ()),  # the host's `swarm` key names it
    ]


def test_a_node_is_named_by_id_then_hostname_then_id_prefix():
    """As `docker node inspect` resolves: a worker's hostname "a3" while a manager's random ID
    begins "a3" names the worker (CI once drew such an ID and every `node update a3` failed)."""
    def node(node_id, hostname):
        return {"ID": node_id, "Description": {"Hostname": hostname}}
    a1, a2, a3 = node("a3478nyqzmyt9cq1", "a1"), node("x8g65iafigt0wx2k", "a2"), node("q1w2e3r4t5y6u7i8", "a3")
    b1 = node("a3zz0000000000b1", "b1")
    listed = [("A", a1), ("A", a2), ("A", a3), ("B", b1)]
    assert match_nodes(listed, "a3") == [("A", a3)]  # the hostname, not the two IDs beginning "a3"
    assert match_nodes(listed, "a3478nyqzmyt9cq1") == [("A", a1)]  # a whole ID
    assert match_nodes(listed, "x8g") == [("A", a2)]  # a prefix no hostname is
    assert match_nodes(listed, "a3z") == [("B", b1)]
    assert match_nodes(listed, "b") == []  # neither a hostname nor an ID's beginning
    twin = node("m0000000000000a3", "a3")
    assert match_nodes([*listed, ("B", twin)], "a3") == [("A", a3), ("B", twin)]  # asks for the ID


async def test_hosts_grouped_into_swarms_with_roles(swarm):
    cfg = swarm_config(swarm, extra={"b1": {"swarm": "blue"}})
    async with Fleet(cfg, live=False) as fleet:
        results = await fleet.swarm.discover()
        assert all(r.ok for r in results), results
        got = {s.name: s for s in fleet.swarm.swarms()}
        assert set(got) == {"a1", "blue"}
        assert got["a1"].managers == ("a1", "a2") and got["a1"].workers == ("a3",)
        assert got["blue"].managers == ("b1",) and got["a1"].id != got["blue"].id
        rows = {h.name: h for h in fleet.hosts()}
        assert (rows["a3"].swarm_role, rows["a3"].swarm_id) == ("worker", got["a1"].id)
        assert (rows["a2"].swarm_role, rows["a2"].swarm_name) == ("manager", "a1")
        assert rows["b1"].swarm_name == "blue"


async def test_services_tasks_nodes_of_two_swarms(swarm, swarm_services):
    web = swarm_services(unique("web"), replicas=3)
    solo = swarm_services(unique("solo"), "B", replicas=1, labels={"com.docker.stack.namespace": "shop"})
    async with Fleet(swarm_config(swarm), live=False) as fleet:
        await fleet.swarm.discover()
        snaps = {s.swarm.name: s for s in await fleet.swarm.load_all()}
    a, b = snaps["a1"], snaps["b1"]
    assert a.error is None and b.error is None
    service = by_name(a.services, web)
    assert (service.mode, service.running, service.desired) == ("replicated", 3, 3)
    assert service.image == _lab.IMAGE and service.swarm == "a1" and service.host in ("a1", "a2")
    assert [s.name for s in b.services if s.name in (web, solo)] == [solo]  # each swarm its own
    assert by_name(b.services, solo).stack == "shop"
    tasks = sorted((t for t in a.tasks if t.service_id == service.id), key=lambda t: t.slot)
    assert [t.name for t in tasks] == [f"{web}.1", f"{web}.2", f"{web}.3"]
    assert {t.node for t in tasks} <= {"a1", "a2", "a3"} and all(t.state == "running" for t in tasks)
    nodes = {n.hostname: n for n in a.nodes}
    assert set(nodes) == {"a1", "a2", "a3"}
    assert nodes["a1"].manager_status == "leader" and nodes["a2"].manager_status == "reachable"
    assert nodes["a3"].role == "worker" and nodes["a3"].manager_status == ""
    assert sum(n.tasks for n in a.nodes) >= 3
    assert [st.name for st in stacks(b)] == ["shop"]


async def test_failover_to_the_next_manager_keeps_the_name(swarm, lab):
    """a1 is reached over SSH; when that sshd goes away the swarm is read through a2,
    still named after a1."""
    sshd = lab.new_sshd(docker_socket=swarm.a1.daemon.socket)
    try:
        cfg = config(ssh_host(lab, swarm.a1.daemon, sshd, name="a1", known_hosts=sshd.known_hosts), unix_host(swarm.a2.daemon, "a2"))
        async with Fleet(cfg, live=False) as fleet:
            await fleet.swarm.discover()
            (sw,) = fleet.swarm.swarms()
            first = await fleet.swarm.load(sw)
            assert (first.host, first.error) == ("a1", None)
            sshd.stop()
            again = await fleet.swarm.load(sw)
            assert again.error is None and again.host == "a2"
            assert fleet.swarm.swarms()[0].name == "a1"
            assert {n.hostname for n in again.nodes} == {"a1", "a2", "a3"}
    finally:
        sshd.stop()
        lab.extra_sshds.remove(sshd)


# --------------------------------------------------------------------------- actions


def _tag_v2(swarm) -> None:
    for name in ("a1", "a2", "a3"):
        swarm.nodes[name].docker("tag", _lab.IMAGE, V2)


async def test_scale_rolling_update_and_rollback(swarm, swarm_services):
    name = swarm_services(unique("roll"), replicas=1, args=("--update-monitor", "200ms", "--update-delay", "0s",
                                                                "--rollback-monitor", "200ms", "--rollback-delay", "0s"))
    _tag_v2(swarm)
    async with Fleet(swarm_config(swarm), live=False) as fleet:
        await fleet.swarm.discover()
        sw, inspected = await fleet.swarm.find_service(name)
        await fleet.swarm.scale(sw, inspected["ID"], 2)
        swarm.wait_running(name, 2)

        await fleet.swarm.update_image(sw, inspected["ID"], V2)
        seen = [ev async for ev in fleet.swarm.follow_update(sw, inspected["ID"], every=0.2, timeout=90)]
        states = [ev.update.state for ev in seen if isinstance(ev, SwarmService) and ev.update]
        assert states[-1] == "completed", seen
        task_events = [ev for ev in seen if isinstance(ev, SwarmTask)]
        assert any(t.image == V2 and t.state == "running" for t in task_events)
        assert any(t.desired == "shutdown" for t in task_events)  # old tasks shutting down, one by one
        running = swarm.running_tasks(name)
        assert len(running) == 2 and all(t["Spec"]["ContainerSpec"]["Image"] == V2 for t in running)

        await fleet.swarm.rollback(sw, inspected["ID"])
        seen = [ev async for ev in fleet.swarm.follow_update(sw, inspected["ID"], every=0.2, timeout=90)]
        assert [ev.update.state for ev in seen if isinstance(ev, SwarmService) and ev.update][-1] \
            == "rollback_completed"
        snap = await fleet.swarm.load(sw)
        assert by_name(snap.services, name).image == _lab.IMAGE

        before = {t["ID"] for t in swarm.running_tasks(name)}
        await fleet.swarm.force_update(sw, inspected["ID"])
        [ev async for ev in fleet.swarm.follow_update(sw, inspected["ID"], every=0.2, timeout=90)]
        after = {t["ID"] for t in swarm.running_tasks(name)}
        assert len(after) == 2 and not before & after  # every task replaced

        await fleet.swarm.remove_service(sw, inspected["ID"])
        assert name not in swarm.a1.docker("service", "ls", "--format", "{{.Name}}").stdout.split()


async def test_ambiguous_service_name_asks_for_the_swarm(swarm, swarm_services):
    name = unique("dup")
    swarm_services(name, "A")
    swarm_services(name, "B")
    async with Fleet(swarm_config(swarm), live=False) as fleet:
        await fleet.swarm.discover()
        with pytest.raises(AmbiguousName, match="a1, b1"):
            await fleet.swarm.find_service(name)
        sw, inspected = await fleet.swarm.find_service(name, swarm="b1")
        assert sw.name == "b1" and inspected["Spec"]["Name"] == name


async def test_drain_moves_tasks_and_labels(swarm, swarm_services):
    name = swarm_services(unique("drain"), replicas=3, args=("--placement-pref", "spread=node.id"))
    async with Fleet(swarm_config(swarm), live=False) as fleet:
        await fleet.swarm.discover()
        sw, node = await fleet.swarm.find_node("a3")
        try:
            await fleet.swarm.update_node(sw, node["ID"], availability="drain", add_labels={"zone": "x"})
            swarm.wait_running(name, 3)
            await until(lambda: all(t["NodeID"] != node["ID"] for t in swarm.running_tasks(name)), 30,
                        "tasks off the drained node")
            snap = await fleet.swarm.load(sw)
            a3 = by_name_host(snap.nodes, "a3")
            assert (a3.availability, a3.labels) == ("drain", {"zone": "x"})
            assert a3.tasks == 0
        finally:
            await fleet.swarm.update_node(sw, node["ID"], availability="active", remove_labels=["zone"])
        snap = await fleet.swarm.load(sw)
        assert (by_name_host(snap.nodes, "a3").availability, by_name_host(snap.nodes, "a3").labels) == ("active", {})


def by_name_host(nodes, hostname):
    return next(n for n in nodes if n.hostname == hostname)


async def test_read_only_refuses_every_swarm_change(swarm, swarm_services):
    name = swarm_services(unique("ro"), replicas=1)
    async with Fleet(swarm_config(swarm), live=False, readonly=True) as fleet:
        await fleet.swarm.discover()
        sw, inspected = await fleet.swarm.find_service(name)
        sid = inspected["ID"]
        for attempt in (fleet.swarm.scale(sw, sid, 2), fleet.swarm.update_image(sw, sid, V2),
                        fleet.swarm.rollback(sw, sid), fleet.swarm.force_update(sw, sid),
                        fleet.swarm.remove_service(sw, sid),
                        fleet.swarm.update_node(sw, (await fleet.swarm.find_node("a3"))[1]["ID"], availability="drain")):
            with pytest.raises(ReadOnlyError):
                await attempt
    assert len(swarm.running_tasks(name)) == 1
    out = swarm.a1.docker("service", "inspect", name, "--format", "{{.Spec.Mode.Replicated.Replicas}}").stdout
    assert out.strip() == "1"


async def test_stack_grouped_and_removed_with_its_secrets_and_configs(swarm, swarm_services):
    stack = unique("shop")
    label = {"com.docker.stack.namespace": stack}
    front = swarm_services(f"{stack}_front", replicas=1, labels=label)
    back = swarm_services(f"{stack}_back", replicas=2, labels=label)
    secret = f"{stack}_token"
    swarm.a1.docker("secret", "create", "--label", f"com.docker.stack.namespace={stack}", secret, "-",
                    input="not-shown-anywhere")
    swarm.a1.docker("config", "create", "--label", f"com.docker.stack.namespace={stack}", f"{stack}_cfg", "-",
                    input="cfg")
    async with Fleet(swarm_config(swarm), live=False) as fleet:
        await fleet.swarm.discover()
        sw = fleet.swarm.find("a1")
        snap = await fleet.swarm.load(sw)
        (st,) = [s for s in stacks(snap) if s.name == stack]
        assert [s.name for s in st.services] == [back, front]
        assert (st.running, st.desired) == (3, 3)
        assert (st.secrets, st.configs) == ((secret,), (f"{stack}_cfg",))
        assert "not-shown-anywhere" not in json.dumps([o.to_json() for o in snap.secrets])
        results = await fleet.swarm.remove_stack(sw, stack)
        assert all(r.ok for r in results) and len(results) == 4, results
        snap = await fleet.swarm.load(sw)
        assert not [s for s in stacks(snap) if s.name == stack]


async def test_service_logs_merged_across_tasks(swarm, swarm_services):
    name = swarm_services(unique("talk"), replicas=2, args=("--placement-pref", "spread=node.id"),
                    cmd=("sh", "-c", "echo hello from $(hostname); sleep 100000"))
    async with Fleet(swarm_config(swarm), live=False) as fleet:
        await fleet.swarm.discover()
        sw, inspected = await fleet.swarm.find_service(name)
        lines = []
        deadline = time.monotonic() + 20
        while len(lines) < 2 and time.monotonic() < deadline:
            lines = [ln async for ln in fleet.swarm.service_logs(sw, inspected["ID"], follow=False)
                     if hasattr(ln, "text")]
            await asyncio.sleep(0.3)
    names = sorted(ln.source.name for ln in lines)
    assert len(names) == 2 and [n.split("@")[0] for n in names] == [f"{name}.1", f"{name}.2"], names
    assert all(n.split("@")[1] in ("a1", "a2", "a3") for n in names)
    assert all(ln.text.startswith("hello from ") for ln in lines)


# --------------------------------------------------------------------------- live


async def test_live_cache_follows_events(swarm, swarm_services):
    name = unique("live")
    async with Fleet(swarm_config(swarm), live=True) as fleet:
        changes = []
        fleet.subscribe(lambda ch: changes.append(ch))
        await until(lambda: {s.swarm.name for s in fleet.swarm.snapshots()} == {"a1", "b1"}, 20, "both swarms")

        def service():
            for snap in fleet.swarm.snapshots():
                for s in snap.services:
                    if s.name == name:
                        return s
            return None

        swarm_services(name, replicas=1, wait=False)
        took = await until(lambda: service() is not None, 5, "new service in the cache")
        assert took < 3  # from the service event, not the 30 s reconcile
        await until(lambda: service().running == 1, 10, "its task running")
        swarm.a1.docker("service", "scale", "-d", f"{name}=2")
        await until(lambda: service().desired == 2 and service().running == 2, 10, "scaled to 2 live")
        assert any(change.hosts("swarm") for change in changes)


# --------------------------------------------------------------------------- CLI

@pytest.fixture
def swarm_toml(swarm, tmp_path):
    """Both managers of swarm A configured, its worker, and swarm B (named "blue")."""
    return str(swarm.write_config(tmp_path / "swarm.toml", extra={"b1": {"swarm": "blue"}}))


def test_cli_services_lists_each_swarm_once(swarm, swarm_services, swarm_toml, tmp_path):
    web = swarm_services(unique("web"), replicas=2)
    blue = swarm_services(unique("blue"), "B", replicas=1, labels={"com.docker.stack.namespace": "shop"})
    result = dockyard("--config", swarm_toml, "services", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["errors"] == []
    mine = [s for s in data["services"] if s["name"] in (web, blue)]
    assert len(mine) == 2  # a1 and a2 both manage swarm A: listed once
    by = {s["name"]: s for s in mine}
    assert set(by[web]) == {"swarm", "host", "name", "id", "mode", "replicas", "image", "stack", "updated"}
    assert (by[web]["swarm"], by[web]["mode"], by[web]["replicas"]) == ("a1", "replicated", {"running": 2, "desired": 2})
    assert by[web]["host"] in ("a1", "a2") and by[web]["image"] == _lab.IMAGE and by[web]["stack"] is None
    assert (by[blue]["swarm"], by[blue]["host"], by[blue]["stack"]) == ("blue", "b1", "shop")

    table_out = dockyard("--config", swarm_toml, "services", "--swarm", "blue")
    lines = table_out.stdout.splitlines()
    assert lines[0].split()[:4] == ["SWARM", "ID", "NAME", "MODE"]
    assert any(ln.startswith("blue") and blue in ln and "1/1" in ln for ln in lines)
    assert not any(web in ln for ln in lines)

    only_b = json.loads(dockyard("--config", swarm_toml, "services", "--host", "b1", "--json").stdout)
    assert {s["swarm"] for s in only_b["services"]} == {"blue"} and blue in {s["name"] for s in only_b["services"]}

    broken = tmp_path / "broken.toml"
    broken.write_text(open(swarm_toml).read() + '\n[[hosts]]\nname = "gone"\nurl = "unix:///nonexistent/docker.sock"\n')
    partial = dockyard("--config", str(broken), "services", "--json")
    assert partial.returncode == 3
    data = json.loads(partial.stdout)
    assert [e["host"] for e in data["errors"]] == ["gone"]
    assert {web, blue} <= {s["name"] for s in data["services"]}


def test_cli_nodes(swarm, swarm_toml):
    result = dockyard("--config", swarm_toml, "nodes", "--json")
    assert result.returncode == 0, result.stderr
    nodes = json.loads(result.stdout)["nodes"]
    assert sorted((n["swarm"], n["hostname"], n["role"], n["manager_status"]) for n in nodes) == [
        ("a1", "a1", "manager", "leader"), ("a1", "a2", "manager", "reachable"), ("a1", "a3", "worker", ""),
        ("blue", "b1", "manager", "leader")]
    assert set(nodes[0]) == {"swarm", "hostname", "id", "role", "availability", "state", "manager_status", "engine"}
    assert all(n["state"] == "ready" and n["availability"] == "active" for n in nodes)

    hosts = {h["name"]: h for h in json.loads(dockyard("--config", swarm_toml, "hosts", "--json").stdout)["hosts"]}
    swarm_a = hosts["a1"]["swarm_id"]
    assert (hosts["a3"]["swarm_role"], hosts["a3"]["swarm_id"], hosts["a3"]["swarm_name"]) == ("worker", swarm_a, "a1")
    assert (hosts["b1"]["swarm_role"], hosts["b1"]["swarm_name"]) == ("manager", "blue") and hosts["b1"]["swarm_id"] != swarm_a


def test_cli_scale_asks_for_the_swarm_when_a_name_is_in_two(swarm, swarm_services, swarm_toml):
    name = unique("twice")
    swarm_services(name, "A")
    swarm_services(name, "B")
    ambiguous = dockyard("--config", swarm_toml, "service", "scale", f"{name}=2")
    assert ambiguous.returncode == 2 and "--swarm" in ambiguous.stderr and "a1, blue" in ambiguous.stderr
    ok = dockyard("--config", swarm_toml, "service", "scale", f"{name}=2", "--swarm", "blue")
    assert ok.returncode == 0, ok.stderr
    assert f"{name} scaled to 2 (swarm blue)" in ok.stdout
    swarm.wait_running(name, 2, swarm="B")
    assert len(swarm.running_tasks(name, "A")) == 1
    assert dockyard("--config", swarm_toml, "service", "scale", "nope-404=1").returncode == 2
    assert dockyard("--config", swarm_toml, "service", "scale", f"{name}=x").returncode == 2
    refused = dockyard("--config", swarm_toml, "--readonly", "service", "scale", f"{name}=3", "--swarm", "blue")
    assert refused.returncode == 2 and "read-only" in refused.stderr
    assert len(swarm.running_tasks(name, "B")) == 2


def test_cli_update_waits_and_fails_on_pause_then_rollback(swarm, swarm_services, swarm_toml):
    name = swarm_services(unique("upd"), replicas=2, args=("--update-monitor", "200ms", "--update-delay", "0s",
                                                     "--rollback-monitor", "200ms", "--rollback-delay", "0s"))
    _tag_v2(swarm)
    good = dockyard("--config", swarm_toml, "service", "update", name, "--image", V2)
    assert good.returncode == 0, good.stdout + good.stderr
    assert f"{name}: update completed" in good.stdout
    assert sum(f"{name}." in ln and "running" in ln and V2 in ln for ln in good.stdout.splitlines()) >= 2

    bad = dockyard("--config", swarm_toml, "service", "update", name, "--image", "dockyard-test/missing:1")
    assert bad.returncode == 3, bad.stdout + bad.stderr
    assert f"{name}: update paused" in bad.stdout and "update paused" in bad.stderr

    back = dockyard("--config", swarm_toml, "service", "rollback", name)
    assert back.returncode == 0, back.stdout + back.stderr
    assert f"{name}: update rollback_completed" in back.stdout
    running = swarm.running_tasks(name)
    assert len(running) == 2 and all(t["Spec"]["ContainerSpec"]["Image"] == V2 for t in running)


def _task_images(swarm, name):
    """The image each running task's container was created from, asked of the node it runs on."""
    node_of = {n.info()["Swarm"]["NodeID"]: n for n in (swarm.a1, swarm.a2, swarm.a3)}
    return [json.loads(node_of[t["NodeID"]].docker("inspect", t["Status"]["ContainerStatus"]["ContainerID"]).stdout)
            [0]["Config"]["Image"] for t in swarm.running_tasks(name)]


def test_cli_update_to_a_private_image_sends_the_registry_login(swarm, swarm_services, swarm_toml, swarm_registry,
                                                               tmp_path):
    """`service update --image` sends the `docker login` of the image's registry (X-Registry-Auth, as
    `docker service update --with-registry-auth`): the nodes pull the private image and run it.
    Without it the nodes cannot pull: the update pauses and the error says why."""
    name = swarm_services(unique("priv"), replicas=2, args=("--update-monitor", "200ms", "--update-delay", "0s",
                                                              "--update-failure-action", "pause"))
    ref = swarm_registry.push()
    anonymous = dockyard("--config", swarm_toml, "service", "update", name, "--image", ref,
                         env={"DOCKER_CONFIG": str(tmp_path / "no-login")})
    assert anonymous.returncode == 3, anonymous.stdout + anonymous.stderr
    assert f"No such image: {ref}" in anonymous.stdout  # the rejected task's error, as the daemon says it
    assert "update paused" in anonymous.stderr
    assert f"no credentials for {swarm_registry.host} were sent" in anonymous.stderr

    logged_in = dockyard("--config", swarm_toml, "service", "update", name, "--image", ref,
                         env={"DOCKER_CONFIG": str(swarm_registry.docker_config)})
    assert logged_in.returncode == 0, logged_in.stdout + logged_in.stderr
    assert f"{name}: update completed" in logged_in.stdout
    swarm.wait_running(name, 2)  # the slot the anonymous try left without a task may still be starting
    assert _task_images(swarm, name) == [ref, ref]
    everything = anonymous.stdout + anonymous.stderr + logged_in.stdout + logged_in.stderr
    assert swarm_registry.password not in everything


def test_cli_service_logs_and_node_update(swarm, swarm_services, swarm_toml):
    name = swarm_services(unique("say"), replicas=1, cmd=("sh", "-c", "echo said by $(hostname); sleep 100000"))
    deadline = time.monotonic() + 20
    while True:
        logs = dockyard("--config", swarm_toml, "service", "logs", name)
        if logs.stdout.strip() or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert logs.returncode == 0, logs.stderr
    (line,) = logs.stdout.splitlines()
    assert re.match(rf"{name}\.1@a[123] \| said by ", line), line

    drained = dockyard("--config", swarm_toml, "node", "update", "a3", "--availability", "drain")
    try:
        assert drained.returncode == 0, drained.stderr
        assert "a3" in drained.stdout and "availability drain" in drained.stdout
        out = swarm.a1.docker("node", "inspect", "a3", "--format", "{{.Spec.Availability}}").stdout
        assert out.strip() == "drain"
    finally:
        again = dockyard("--config", swarm_toml, "node", "update", "a3", "--availability", "active")
    assert again.returncode == 0
    assert dockyard("--config", swarm_toml, "node", "update", "zz-none", "--availability", "active").returncode == 2


async def test_live_promotion_makes_a_worker_a_manager_host(swarm):
    """A worker promoted joins its swarm's managers, and a demoted one leaves them, without waiting
    for the next reconcile."""
    async with Fleet(swarm_config(swarm, ("a1", "a3")), live=True) as fleet:
        await until(lambda: [(s.managers, s.workers) for s in fleet.swarm.swarms()] == [(("a1",), ("a3",))], 20,
                    "a3 a worker")
        sw, node = await fleet.swarm.find_node("a3")
        await fleet.swarm.update_node(sw, node["ID"], role="manager")  # promote (the Nodes pane's P)
        try:
            took = await until(lambda: [s.managers for s in fleet.swarm.swarms()] == [("a1", "a3")], 10,
                               "a3 a manager")
            assert took < 5  # from the node event, not the 30 s reconcile
            assert fleet.host("a3").swarm_role == "manager"
        finally:
            swarm.a1.docker("node", "demote", "a3")  # elsewhere: seen through the node event
        await until(lambda: [(s.managers, s.workers) for s in fleet.swarm.swarms()] == [(("a1",), ("a3",))], 10,
                    "a3 a worker again")

