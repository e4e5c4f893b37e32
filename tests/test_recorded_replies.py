"""Parsers against replies recorded from real engines (tests/replies/: dockerd 20.10, Podman 4, a swarm
manager; `python3 tests/replies/capture.py` records them again). No daemon, no root: these run with
`pytest -m "not lab"`. What each engine answered differently is asserted as the user then sees it."""

from __future__ import annotations

import asyncio
import copy

import pytest

from dockyard.fleet.from_api import container_from_api, image_from_api, network_from_api, volume_from_api
from dockyard.fleet.images import Images
from dockyard.fleet.logs import LogLine, LogSource, merged_logs, since_after, split_lines, timestamp_key
from dockyard.fleet.stats import stats_from_api
from dockyard.fleet.swarm import (group_swarms, host_swarm, node_from_api, object_from_api, service_from_api,
                                  stacks, task_from_api)
from dockyard.fleet.swarm_models import SwarmSnapshot
from dockyard.fleet.volumes import Volumes
from dockyard.config.model import HostConfig
from replies import ENGINES, ReplayFleet, reply

IMAGE = {"dockerd-20.10": "dockyard-test/busybox:latest", "podman-4": "localhost/dockyard-test/busybox:latest"}
COMPOSE = "com.docker.compose.project"


# --- fleet/from_api.py


@pytest.mark.parametrize("recorded", ENGINES)
def test_containers_images_volumes_networks_from_each_engine(recorded):
    containers = {c.name: c for c in (container_from_api("h", raw) for raw in reply(recorded, "containers"))}
    assert set(containers) == {"web", "job", "chatty"}
    web, job = containers["web"], containers["job"]
    assert (web.state, web.host, web.image) == ("running", "h", IMAGE[recorded])
    assert web.volumes == ("shop-data",) and web.labels[COMPOSE] == "shop" and web.ports == ()
    assert web.status.startswith("Up ") and job.state == "exited" and job.status.startswith("Exited (0)")
    assert len(web.id) == 64 and web.image_id.startswith("sha256:")

    [image] = [image_from_api("h", raw) for raw in reply(recorded, "images")]
    assert image.tags == (IMAGE[recorded],) and image.size > 1_000_000
    # dockerd does not count an image's containers in /images/json (-1); Podman does
    assert image.containers == (-1 if recorded.startswith("dockerd") else 3)

    [volume] = [volume_from_api("h", raw) for raw in reply(recorded, "volumes")["Volumes"]]
    assert (volume.name, volume.driver, volume.labels) == ("shop-data", "local", {COMPOSE: "shop"})

    networks = {n.name: n for n in (network_from_api("h", raw) for raw in reply(recorded, "networks"))}
    back = networks["shop-back"]
    assert back.internal and back.driver == "bridge" and len(back.subnets) == 1 and back.labels == {COMPOSE: "shop"}


def test_a_container_without_a_name_shows_its_short_id():
    raw = reply("dockerd-20.10", "containers")[0]
    raw["Names"] = []
    assert container_from_api("h", raw).name == raw["Id"][:12]


# --- fleet/stats.py


def test_stats_arithmetic_on_a_dockerd_sample():
    """CPU% = container delta / system delta × online CPUs × 100, as the docker CLI computes it;
    memory is usage minus the inactive page cache."""
    s = reply("dockerd-20.10", "stats-web")
    cpu, pre = s["cpu_stats"], s["precpu_stats"]
    assert (cpu["cpu_usage"]["total_usage"], pre["cpu_usage"]["total_usage"]) == (43528965, 42750207)
    assert (cpu["system_cpu_usage"], pre["system_cpu_usage"], cpu["online_cpus"]) == (4124070000000, 4122080000000, 2)
    stats = stats_from_api("h", "web", s)
    assert stats.cpu_percent == pytest.approx(778758 / 1_990_000_000 * 2 * 100)  # 0.0783 %
    assert stats.mem_usage == 466944 and stats.mem_limit == 25324953600
    assert stats.mem_percent == pytest.approx(466944 / 25324953600 * 100)
    assert stats.pids is not None and stats.pids >= 1

    cached = copy.deepcopy(s)
    cached["memory_stats"]["stats"]["inactive_file"] = 400000  # cgroup v2 key
    assert stats_from_api("h", "web", cached).mem_usage == 66944
    del cached["memory_stats"]["stats"]["inactive_file"]
    cached["memory_stats"]["stats"]["total_inactive_file"] = 500000  # cgroup v1 key, more than usage
    assert stats_from_api("h", "web", cached).mem_usage == 0


def test_stats_of_a_first_podman_sample_have_no_cpu_percent_yet():
    """Podman's one-shot sample has no previous system time: no CPU% rather than a wrong one."""
    s = reply("podman-4", "stats-web")
    assert "system_cpu_usage" not in s["precpu_stats"]
    stats = stats_from_api("h", "web", s)
    assert stats.cpu_percent is None and stats.mem_usage == 475136


def test_a_counter_that_went_backwards_gives_no_cpu_percent():
    s = reply("dockerd-20.10", "stats-web")
    s["precpu_stats"]["cpu_usage"]["total_usage"] = s["cpu_stats"]["cpu_usage"]["total_usage"] + 1
    assert stats_from_api("h", "web", s).cpu_percent is None


# --- fleet/reports.py (what images.py and volumes.py build from the replies)


@pytest.mark.parametrize("recorded", ENGINES)
async def test_history_and_volume_usage_reports(recorded):
    fleet = ReplayFleet({"h": recorded})
    history = await Images(fleet).history("h", IMAGE[recorded])
    assert [h.created_by.split()[-1] for h in history] == ['["sh"]', "/bin", "/bin/busybox"]
    assert history[0].created >= history[1].created >= history[2].created
    assert history[2].size > 1_000_000  # the busybox layer
    [usage] = await Volumes(fleet).usage("h")
    assert (usage.name, usage.used_by, usage.ref_count, usage.size, usage.host) == ("shop-data", ("web",), 1, 0, "h")
    if recorded.startswith("dockerd"):
        assert (usage.driver, usage.labels) == ("local", {COMPOSE: "shop"})
    else:  # Podman's system/df leaves a volume's driver, mountpoint and labels empty: so does the report
        assert (usage.driver, usage.mountpoint, usage.labels) == ("", "", {})


async def test_drift_across_dockerd_and_podman():
    """The lab image is under two names (Podman prefixes localhost/), so each host lacks the other's."""
    fleet = ReplayFleet({"d": "dockerd-20.10", "p": "podman-4"})
    rows = await Images(fleet).drift()
    by_ref = {r.reference: r for r in rows}
    assert set(by_ref) == set(IMAGE.values())
    assert by_ref[IMAGE["dockerd-20.10"]].missing == ("p",) and by_ref[IMAGE["podman-4"]].missing == ("d",)
    assert by_ref[IMAGE["dockerd-20.10"]].to_json()["hosts"].keys() == {"d"}


# --- fleet/logs.py


def _chunks(engine: str, size: int):
    """The recorded frames re-cut into chunks of `size` bytes per stream (lines span chunks)."""
    async def gen():
        for stream, text in reply(engine, "logs-chatty"):
            data = text.encode()
            for i in range(0, len(data), size):
                yield stream, data[i:i + size]
    return gen()


@pytest.mark.parametrize("size", [1, 7, 1000])
async def test_split_lines_reassembles_lines_across_chunks(size):
    lines = [line async for line in split_lines(_chunks("dockerd-20.10", size))]
    assert [(s, t) for s, t, _ in lines] == [
        ("stderr", "err 0"), ("stdout", "out 0"), ("stdout", "out 1"), ("stderr", "err 1"),
        ("stderr", "err 2"), ("stdout", "out 2"), ("stderr", "err 3"), ("stdout", "out 3")]
    assert lines[0][2] == "2026-12-06T05:30:44.455796070Z"


def test_timestamps_of_both_engines_sort_as_text():
    """dockerd stamps to the nanosecond, Podman to the second: both get a 9-digit fraction."""
    assert timestamp_key("2026-12-06T05:31:06Z") == "2026-12-06T05:31:06.000000000Z"
    assert timestamp_key("2026-12-06T05:30:44.4557Z") == "2026-12-06T05:30:44.455700000Z"
    assert timestamp_key("2026-12-06T05:31:06Z") > timestamp_key("2026-12-06T05:30:44.455796070Z")
    assert since_after("1970-01-01T00:00:01.999999999Z") == "2.000000000"


async def test_merged_logs_of_dockerd_and_podman_in_timestamp_order():
    fleet = ReplayFleet({"d": "dockerd-20.10", "p": "podman-4"})
    sources = [LogSource("p", "chatty", "chatty"), LogSource("d", "chatty", "chatty")]
    out = [x async for x in merged_logs(fleet, sources, follow=False, window=0.01)]
    lines = [x for x in out if isinstance(x, LogLine)]
    assert len(lines) == len(out) == 16
    keys = [timestamp_key(line.timestamp) for line in lines]
    assert keys == sorted(keys)
    assert [line.source.host for line in lines] == ["d"] * 8 + ["p"] * 8  # dockerd's ran 20 s earlier
    podman = [(line.stream, line.text) for line in lines if line.source.host == "p"]
    assert podman == [(s, t.split(" ", 1)[1].rstrip("\n")) for s, t in reply("podman-4", "logs-chatty")]


# --- fleet/swarm.py -> fleet/swarm_models.py


def _snapshot():
    hosts = [HostConfig("a1", "unix:///a1"), HostConfig("a3", "unix:///a3"), HostConfig("b1", "unix:///b1")]
    infos = {"a1": reply("swarm", "info-manager"), "a3": reply("swarm", "info-worker"),
             "b1": reply("swarm", "info-other-swarm")}
    swarms = group_swarms(hosts, infos)
    hostnames = {n["ID"]: n["Description"]["Hostname"] for n in reply("swarm", "nodes")}
    names = {s["ID"]: s["Spec"]["Name"] for s in reply("swarm", "services")}
    tasks = [task_from_api("a1", t, names, hostnames) for t in reply("swarm", "tasks")]
    snapshot = SwarmSnapshot(
        swarm=swarms[0], host="a1",
        services=tuple(service_from_api("a1", "a1", s, tasks) for s in reply("swarm", "services")),
        tasks=tuple(tasks),
        nodes=tuple(node_from_api("a1", n, tasks) for n in reply("swarm", "nodes")),
        secrets=tuple(object_from_api("a1", "secret", o) for o in reply("swarm", "secrets")),
        configs=tuple(object_from_api("a1", "config", o) for o in reply("swarm", "configs")))
    return swarms, snapshot


def test_hosts_group_into_their_swarms_from_info():
    assert host_swarm(reply("swarm", "info-manager")).role == "manager"
    worker = host_swarm(reply("swarm", "info-worker"))
    assert worker.role == "worker" and worker.cluster_id == "" and len(worker.manager_ids) == 2
    assert host_swarm(reply("dockerd-20.10", "info")).role is None
    swarms, _ = _snapshot()
    assert [(s.name, s.managers, s.workers) for s in swarms] == [("a1", ("a1",), ("a3",)), ("b1", ("b1",), ())]


def test_services_tasks_nodes_and_stacks_of_a_swarm():
    _, snap = _snapshot()
    services = {s.name: s for s in snap.services}
    web, agent = services["shop_web"], services["agent"]
    assert (web.mode, web.running, web.desired, web.stack) == ("replicated", 2, 2, "shop")
    assert (agent.mode, agent.running, agent.desired, agent.stack) == ("global", 3, 3, None)
    assert web.image == "dockyard-test/busybox:latest" and web.version > 0
    assert sorted(t.name for t in snap.tasks if t.service == "shop_web") == ["shop_web.1", "shop_web.2"]
    assert {t.node for t in snap.tasks} == {"a1", "a2", "a3"} and all(t.state == "running" for t in snap.tasks)
    nodes = {n.hostname: n for n in snap.nodes}
    assert (nodes["a1"].role, nodes["a1"].manager_status) == ("manager", "leader")
    assert (nodes["a2"].manager_status, nodes["a3"].role, nodes["a3"].manager_status) == ("reachable", "worker", "")
    assert sum(n.tasks for n in snap.nodes) == 5 and nodes["a3"].tasks == 1
    [stack] = stacks(snap)
    assert (stack.name, [s.name for s in stack.services], stack.secrets, stack.configs) == (
        "shop", ["shop_web"], ("shop_key",), ("shop_conf",))
    assert (stack.running, stack.desired) == (2, 2)


def test_a_service_read_without_its_tasks_counts_from_the_service_status():
    raw = reply("swarm", "services")
    [agent] = [service_from_api("a1", "a1", s, None) for s in raw if s["Spec"]["Name"] == "agent"]
    assert (agent.running, agent.desired) == (3, 3)
