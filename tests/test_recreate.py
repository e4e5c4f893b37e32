"""Recreate with the newer image (`dockyard recreate`, the Containers pane's `R`) against the real lab.

A tag is pushed to the lab registry, containers run from it, new content is pushed to the same tag
from another daemon (so the container's host must pull it), then the container is recreated. What
is checked is what a user would check: `docker inspect` before and after (only the image, IDs and
timestamps may differ), the data in its anonymous volume, the image it runs, and after a rollback
the old container running under its name with nothing left over.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from helpers import dockyard, make_app, names_on_screen, showing, table_rows, until
from lab import IMAGE

from dockyard.fleet.recreate import _own_config, _reattach_anonymous
from dockyard.textfmt import short_id

SIZE = (120, 36)


def uid() -> str:
    return uuid.uuid4().hex[:8]


def build_and_push(daemon, ref: str, *lines: str) -> str:
    """Build `FROM IMAGE` + `lines` as `ref` on `daemon`, push it to the lab registry; its image ID."""
    dockerfile = "\n".join([f"FROM {IMAGE}", *lines]) + "\n"
    daemon.docker("build", "-q", "-t", ref, "-", input=dockerfile)
    daemon.docker("push", ref)
    return image_id(daemon, ref)


def image_id(daemon, ref: str) -> str:
    return daemon.docker("image", "inspect", "-f", "{{.Id}}", ref).stdout.strip()


def inspect(daemon, name: str) -> dict:
    return json.loads(daemon.docker("inspect", name).stdout)[0]


def containers_named(daemon, name: str) -> list[str]:
    """Every container (any state) whose name holds `name`: leftovers would show here."""
    out = daemon.docker("ps", "-a", "--filter", f"name={name}", "--format", "{{.Names}}").stdout
    return sorted(out.split())


def write_config(lab, tmp_path: Path, hosts, grace: float = 1, **top) -> str:
    path = lab.write_config(tmp_path / "dockyard.toml", hosts=hosts, **top)
    path.write_text(path.read_text() + f"\n[recreate]\ngrace = {grace}\nhealth_timeout = 30\n")
    return str(path)


VOLATILE = ("Id", "Created", "Image", "State", "ResolvConfPath", "HostnamePath", "HostsPath", "LogPath",
            "GraphDriver", "Mounts", "ExecIDs")


def comparable(info: dict) -> dict:
    """Inspect without what a new container gets anew (IDs, timestamps, paths under its ID, runtime
    network endpoint), its own ID replaced by a placeholder; mounts compared separately."""
    text = json.dumps(info).replace(info["Id"], "<ID>").replace(info["Id"][:12], "<ID>")
    out = {k: v for k, v in json.loads(text).items() if k not in VOLATILE}
    out["HostConfig"] = {k: v for k, v in out["HostConfig"].items() if k != "Mounts"}
    out["Config"]["Env"] = sorted(out["Config"]["Env"] or [])  # Podman lists them in a new order each time
    networks = out.pop("NetworkSettings")["Networks"]
    out["Networks"] = {n: {k: e.get(k) for k in ("IPAMConfig", "Aliases", "Links", "DriverOpts", "NetworkID")}
                       for n, e in networks.items()}
    return out


def differences(a, b, path: str = "") -> list[str]:
    """Where two inspect documents differ, as key paths (for a failure message that says where)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b)) for d in differences(a.get(k), b.get(k), f"{path}.{k}")]
    if a != b:
        return [f"{path}: {a!r} -> {b!r}"]
    return []


def mounts(info: dict) -> list[tuple]:
    return sorted((m["Type"], m.get("Name"), m["Destination"], m["RW"]) for m in info["Mounts"])


# --------------------------------------------------------------------------- what carries over (no daemon)


def test_what_the_old_image_set_is_left_to_the_new_image():
    image = {"Cmd": ["sleep", "300"], "Entrypoint": None, "Env": ["PATH=/bin"], "Labels": {"v": "1"},
             "WorkingDir": "/app", "Volumes": {"/data": {}}, "ExposedPorts": {"80/tcp": {}}}
    config = {"Cmd": ["sleep", "300"], "Entrypoint": None, "Env": ["PATH=/bin", "FOO=bar"],
              "Labels": {"v": "1", "com.docker.compose.project": "shop"}, "WorkingDir": "/app",
              "Volumes": {"/data": {}, "/extra": {}}, "ExposedPorts": {"80/tcp": {}}, "Hostname": "0123456789ab",
              "Image": "reg/app:1"}
    own = _own_config(config, image, "0123456789abcdef")
    assert own["Cmd"] is None and own["Entrypoint"] is None  # the new image's CMD applies
    assert own["Env"] == ["FOO=bar"] and own["Labels"] == {"com.docker.compose.project": "shop"}
    assert own["WorkingDir"] == "" and own["Volumes"] == {"/extra": {}} and own["ExposedPorts"] is None
    assert own["Hostname"] == "" and own["Image"] == "reg/app:1"
    # the container's own command is kept; with its own entrypoint, so is its Cmd (the daemon would not
    # take the image's CMD then either)
    assert _own_config(dict(config, Cmd=["serve"]), image, "x" * 64)["Cmd"] == ["serve"]
    kept = _own_config(dict(config, Entrypoint=["tini", "--"]), image, "x" * 64)
    assert kept["Entrypoint"] == ["tini", "--"] and kept["Cmd"] == ["sleep", "300"]


def test_anonymous_volumes_are_mounted_by_name_named_ones_stay_as_they_were():
    info = {"Mounts": [
        {"Type": "volume", "Name": "a" * 64, "Destination": "/data", "RW": True},
        {"Type": "volume", "Name": "b" * 64, "Destination": "/m", "RW": False},
        {"Type": "volume", "Name": "named", "Destination": "/named", "RW": True},
        {"Type": "bind", "Source": "/srv", "Destination": "/srv", "RW": True}]}
    host_config = {"Binds": ["named:/named", "/srv:/srv:ro"], "Mounts": [{"Type": "volume", "Target": "/m"}]}
    assert _reattach_anonymous(info, host_config) == {"a" * 64, "b" * 64}
    assert host_config["Binds"] == ["named:/named", "/srv:/srv:ro"]
    assert sorted(host_config["Mounts"], key=lambda m: m["Target"]) == [
        {"Type": "volume", "Source": "a" * 64, "Target": "/data", "ReadOnly": False},
        {"Type": "volume", "Source": "b" * 64, "Target": "/m", "ReadOnly": True}]


# --------------------------------------------------------------------------- the CLI


def test_recreate_pull_keeps_everything_but_the_image(lab, made, tmp_path):
    d1 = lab.d1
    ref = f"{lab.registry.host}/rc/keep:{uid()}"
    old_image = build_and_push(lab.d2, ref, "RUN echo v1 > /version")
    d1.docker("pull", ref)
    name, net, net2 = f"rc-keep-{uid()}", f"rc-net-{uid()}", f"rc-net2-{uid()}"
    subnet = f"10.{200 + int(uid()[:2], 16) % 50}.{int(uid()[:2], 16)}"
    d1.docker("network", "create", "--internal", "--subnet", f"{subnet}.0/24", net)
    d1.docker("network", "create", "--internal", net2)
    made.append((d1, name))
    try:
        d1.docker("run", "-d", "--name", name, "--network", net, "--network-alias", "web", "--ip", f"{subnet}.50",
                  "-e", "FOO=bar", "-l", "com.docker.compose.project=shop", "-l", "com.docker.compose.service=web",
                  "-l", "team=blue", "--restart", "unless-stopped", "-v", "/data", "--stop-timeout", "1",
                  "--health-cmd", "test -f /data/x", "--health-interval", "1s", "--memory", "64m",
                  "--log-opt", "max-size=1m", "--hostname", "shop-web", "--workdir", "/data", "--user", "0:0",
                  "-p", "127.0.0.1::8080",  # kept as configured (an internal network publishes nothing)
                  ref, "sh", "-c", "echo started > /data/x; exec sleep 300")
        d1.docker("network", "connect", "--alias", "api", net2, name)
        d1.docker("exec", name, "sh", "-c", "echo precious > /data/keep")
        before = inspect(d1, name)
        new_image = build_and_push(lab.d3, ref, "RUN echo v2 > /version")  # elsewhere: unix1 must pull it
        assert new_image != old_image

        cfg = write_config(lab, tmp_path, ("unix1", "tcp2"))
        proc = dockyard("--config", cfg, "recreate", "--pull", name, "--host", "unix1")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"unix1/{name}: recreated" in proc.stdout, proc.stdout
        assert "watching it until healthy" in proc.stdout  # it has a healthcheck: healthy, not just running

        after = inspect(d1, name)
        assert after["Id"] != before["Id"]
        assert after["Image"] == image_id(d1, ref) == new_image != before["Image"]
        assert d1.docker("exec", name, "cat", "/version").stdout.strip() == "v2"
        assert d1.docker("exec", name, "cat", "/data/keep").stdout.strip() == "precious"  # the anonymous volume
        assert after["State"]["Running"] and after["State"]["Health"]["Status"] == "healthy"
        assert differences(comparable(before), comparable(after)) == []
        assert mounts(after) == mounts(before)
        (volume,) = [m["Name"] for m in before["Mounts"]]
        # how the anonymous volume came along: mounted by its name, as compose does
        assert after["HostConfig"]["Mounts"] == [{"Type": "volume", "Source": volume, "Target": "/data"}]
        assert after["NetworkSettings"]["Networks"][net]["IPAddress"] == f"{subnet}.50"
        assert after["NetworkSettings"]["Networks"][net]["Aliases"][0] == "web"
        assert after["NetworkSettings"]["Networks"][net2]["Aliases"][0] == "api"
        assert after["HostConfig"]["PortBindings"] == {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}
        assert after["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
        assert after["Config"]["Labels"]["com.docker.compose.project"] == "shop" and "FOO=bar" in after["Config"]["Env"]
        assert containers_named(d1, name) == [name]  # the old one is gone, its volume is not
        assert d1.docker("volume", "inspect", volume, check=False).returncode == 0
        outdated = dockyard("--config", cfg, "outdated", "--host", "unix1", "--json")
        (row,) = [r for r in json.loads(outdated.stdout)["containers"] if r["name"] == name]
        assert row["status"] == "current" and row["id"] == after["Id"], row
    finally:
        d1.docker("rm", "-f", name, check=False)
        d1.docker("network", "rm", net, net2, check=False)


def test_a_new_image_that_exits_is_rolled_back_and_the_rest_skipped(lab, made, tmp_path):
    """Over SSH (d2) first, then unix3 (d3): the replacement exits at once, the old container runs
    again under its name, nothing is left over, and unix3's is not touched (a rolling update stops)."""
    ref = f"{lab.registry.host}/rc/roll:{uid()}"
    good = build_and_push(lab.d2, ref, 'CMD ["sleep", "300"]')
    lab.d3.docker("pull", ref)
    name = f"rc-roll-{uid()}"
    ids = {}
    for daemon in (lab.d2, lab.d3):
        made.append((daemon, name))
        ids[daemon.name] = daemon.run_container(name, image=ref)
    build_and_push(lab.d1, ref, 'CMD ["sh", "-c", "echo broken image; echo bad config >&2; exit 3"]')

    cfg = write_config(lab, tmp_path, ("ssh", "unix3"))
    proc = dockyard("--config", cfg, "recreate", "--pull", name)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    out = proc.stdout
    assert f"ssh/{name}: ROLLED BACK: the replacement exited (code 3); the old container {ids['d2'][:12]} runs again" \
        in out, out
    assert "    | broken image" in out and "    | bad config" in out  # its last log lines
    assert f"unix3/{name}: skipped: not attempted: {name} on ssh rolled-back" in out
    assert f"dockyard: ssh: {name}: rolled-back" in proc.stderr

    assert inspect(lab.d2, name)["Id"] == ids["d2"] and inspect(lab.d2, name)["State"]["Running"]
    assert containers_named(lab.d2, name) == [name]  # neither the replacement nor a renamed old one
    assert image_id(lab.d2, ref) != good  # the new image was pulled: it was the one that failed
    assert inspect(lab.d3, name)["Id"] == ids["d3"] and image_id(lab.d3, ref) == good  # not even pulled


def test_dry_run_and_read_only_change_nothing(lab, made, tmp_path):
    ref = f"{lab.registry.host}/rc/dry:{uid()}"
    old_image = build_and_push(lab.d2, ref, 'CMD ["sleep", "300"]')
    lab.d1.docker("pull", ref)
    name = f"rc-dry-{uid()}"
    made.append((lab.d1, name))
    cid = lab.d1.run_container(name, image=ref, args=("-e", "FOO=bar", "-v", "/data"))
    build_and_push(lab.d3, ref, 'CMD ["sleep", "301"]')
    cfg = write_config(lab, tmp_path, ("unix1",))

    plan = dockyard("--config", cfg, "recreate", "--pull", "--dry-run", cid[:12])  # by ID, as docker takes it
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert plan.stdout.startswith("dry run: nothing is changed")
    assert f"unix1/{name}: pull {ref} on unix1, then replace {cid[:12]}" in plan.stdout
    assert "keep env: FOO" in plan.stdout and "(anonymous, re-attached)" in plan.stdout
    assert f"{ref} on unix1 is the image it runs: recreated only if the pull brings a newer one" in plan.stdout

    cfg_ro = str(tmp_path / "ro.toml")
    Path(cfg_ro).write_text(Path(cfg).read_text().replace("[[hosts]]", "readonly = true\n\n[[hosts]]", 1))
    for args in (("--config", cfg, "--readonly"), ("--config", cfg_ro)):  # the flag, the config key
        proc = dockyard(*args, "recreate", "--pull", name)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "read-only" in proc.stderr
    assert inspect(lab.d1, name)["Id"] == cid
    assert image_id(lab.d1, ref) == old_image  # not pulled either
    assert containers_named(lab.d1, name) == [name]

    every = dockyard("--config", cfg, "recreate", "--all-outdated", "--dry-run", "--json")
    planned = {p["name"]: p for p in json.loads(every.stdout)["plan"]}
    assert name in planned and planned[name]["id"] == cid and planned[name]["refused"] is None, every.stdout
    assert inspect(lab.d1, name)["Id"] == cid

    missing = dockyard("--config", cfg, "recreate", f"rc-nobody-{uid()}")
    assert missing.returncode == 2 and "no container named" in missing.stderr


def test_a_swarm_task_is_refused_with_a_pointer_to_service_update(swarm, swarm_services, tmp_path):
    service = swarm_services(f"rc-svc-{uid()}", mode="global")
    node = swarm.a1
    (task,) = node.docker("ps", "--filter", f"label=com.docker.swarm.service.name={service}",
                          "--format", "{{.Names}}").stdout.split()
    before = json.loads(node.docker("inspect", task).stdout)[0]["Id"]
    cfg = swarm.write_config(tmp_path / "swarm.toml", ("a1",))
    proc = dockyard("--config", str(cfg), "recreate", task)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert f"a1/{task}: refused: a swarm task of service {service}" in proc.stdout
    assert f"dockyard service update {service} --image REF" in proc.stdout
    assert json.loads(node.docker("inspect", task).stdout)[0]["Id"] == before


def test_the_pull_sends_the_users_login_for_the_registry(swarm, swarm_registry, tmp_path):
    """A private registry (htpasswd): with the `docker login` the pull and the recreate go through;
    without it the pull fails, nothing changes, and the error says no credentials were sent."""
    ref = swarm_registry.push()  # a fresh tag a1 does not hold
    node = swarm.a1
    swarm_registry._docker("pull", ref)
    name = f"rc-login-{uid()}"
    node.docker("run", "-d", "--name", name, "--network", "none", "--stop-timeout", "1", ref, "sleep", "300")
    try:
        cid = inspect(node, name)["Id"]
        swarm_registry._docker("build", "-q", "-t", ref, "-", input=f"FROM {ref}\nRUN echo v2 > /version\n")
        swarm_registry._docker("push", ref)
        new_image = image_id(node, ref)
        swarm_registry._docker("rmi", ref)  # a1 must pull it again
        cfg = swarm.write_config(tmp_path / "swarm.toml", ("a1",))
        cfg.write_text(cfg.read_text() + "\n[recreate]\ngrace = 1\n")

        anonymous = dockyard("--config", str(cfg), "recreate", "--pull", name,
                             env={"DOCKER_CONFIG": str(tmp_path / "no-login")})
        assert anonymous.returncode == 3, anonymous.stdout + anonymous.stderr
        assert f"no credentials for {swarm_registry.host} were sent" in anonymous.stdout
        assert inspect(node, name)["Id"] == cid

        logged_in = dockyard("--config", str(cfg), "recreate", "--pull", name,
                             env={"DOCKER_CONFIG": str(swarm_registry.docker_config)})
        assert logged_in.returncode == 0, logged_in.stdout + logged_in.stderr
        assert inspect(node, name)["Image"] == new_image
        assert node.docker("exec", name, "cat", "/version").stdout.strip() == "v2"
        everything = anonymous.stdout + anonymous.stderr + logged_in.stdout + logged_in.stderr
        assert swarm_registry.password not in everything
    finally:
        node.docker("rm", "-f", name, check=False)


def test_on_podman(lab, podman, tmp_path):
    """Podman's Docker-compatible API: pull with progress, the same config, the anonymous volume's data."""
    ref = f"{lab.registry.host}/rc/podman:{uid()}"
    build_and_push(lab.d2, ref, 'CMD ["sleep", "300"]')
    name = f"rc-pod-{uid()}"
    podman.docker("pull", ref)
    podman.docker("run", "-d", "--name", name, "--network", "none", "-e", "FOO=bar", "-l", "team=blue",
                  "--restart", "on-failure:3", "-v", "/data", ref)
    try:
        podman.docker("exec", name, "sh", "-c", "echo precious > /data/keep")
        before = json.loads(podman.docker("inspect", name).stdout)[0]
        new_image = build_and_push(lab.d3, ref, 'RUN echo v2 > /version\nCMD ["sleep", "300"]')
        cfg = tmp_path / "podman.toml"
        cfg.write_text(f'[[hosts]]\nname = "podman"\nurl = "unix://{podman.socket}"\n\n[recreate]\ngrace = 1\n')
        proc = dockyard("--config", str(cfg), "recreate", "--pull", name)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"podman/{name}: recreated" in proc.stdout
        after = json.loads(podman.docker("inspect", name).stdout)[0]
        assert after["Id"] != before["Id"] and after["Image"] != before["Image"]
        assert podman.docker("exec", name, "cat", "/version").stdout.strip() == "v2"
        assert podman.docker("exec", name, "cat", "/data/keep").stdout.strip() == "precious"
        assert "FOO=bar" in after["Config"]["Env"] and after["Config"]["Labels"]["team"] == "blue"
        assert after["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
        assert differences(comparable(before), comparable(after)) == [] and mounts(after) == mounts(before)
        assert after["Image"] == new_image  # the image dockerd pushed, by ID
        assert containers_named(podman, name) == [name]
    finally:
        podman.docker("rm", "-f", name, check=False)


# --------------------------------------------------------------------------- the terminal UI


async def test_the_recreate_key_confirms_then_shows_progress_and_the_result(lab, made, tmp_path):
    from dockyard.config import load_config
    from dockyard.ui.dialogs.confirm import ConfirmDialog
    from dockyard.ui.dialogs.progress import ProgressScreen

    ref = f"{lab.registry.host}/rc/ui:{uid()}"
    build_and_push(lab.d2, ref, 'CMD ["sleep", "300"]')
    lab.d1.docker("pull", ref)
    name = f"rc-ui-{uid()}"
    made.append((lab.d1, name))
    cid = lab.d1.run_container(name, image=ref)
    new_image = build_and_push(lab.d3, ref, 'RUN echo v2 > /version\nCMD ["sleep", "300"]')

    app, notes = make_app(load_config(write_config(lab, tmp_path, ("unix1",))))
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: ("unix1", name) in names_on_screen(app), 8, "row")
        session = app.fleet.sessions["unix1"]
        await until(lambda: {"containers", "images"} <= session.cache.loaded, 10, "images listed too")
        await app.fleet.freshness.check(hosts=["unix1"])  # what the background check does after a minute
        known = app.fleet.freshness.state_of("unix1", cid)
        assert known is not None and known.state == "outdated", known
        await pilot.press("slash", *name, "enter")
        await until(lambda: len(table_rows(app)) == 1, 2, "one row")
        await pilot.press("R")
        await until(lambda: showing(app, ConfirmDialog), 2, "confirm dialog")
        dialog = app.screen
        ((host, line),) = dialog.targets
        assert host == "unix1" and name in line and ref in line
        assert f"{short_id(known.running_digest)} → {short_id(known.registry_digest)}" in line  # old → new digest
        assert dialog.query_one("#opt-pull").value is True  # pulling first is the default
        assert lab.d1.docker("inspect", "-f", "{{.Id}}", name).stdout.strip() == cid  # nothing before the answer
        await pilot.press("y")
        await until(lambda: showing(app, ProgressScreen), 2, "progress")
        screen = app.screen
        await until(lambda: screen.finished, 30, "recreate finished")
        ok, text = screen.results[f"unix1/{name}"]
        assert ok and text.startswith("recreated"), (text, notes)
        assert image_id(lab.d1, ref) == new_image == inspect(lab.d1, name)["Image"]
        assert inspect(lab.d1, name)["Id"] != cid
        await pilot.press("escape")
    assert not [m for m, severity in notes if severity == "error"]


async def test_a_rollback_on_screen_is_red_and_noticed_with_its_last_log_line(lab, made, tmp_path):
    from dockyard.config import load_config
    from dockyard.ui.dialogs.confirm import ConfirmDialog
    from dockyard.ui.dialogs.progress import ProgressScreen

    ref = f"rc-local/uiroll:{uid()}"  # built on the host: recreated without a pull (the option unticked)
    lab.d1.docker("build", "-q", "-t", ref, "-", input=f'FROM {IMAGE}\nCMD ["sleep", "300"]\n')
    name = f"rc-uiroll-{uid()}"
    made.append((lab.d1, name))
    cid = lab.d1.run_container(name, image=ref)
    lab.d1.docker("build", "-q", "-t", ref, "-", input=f'FROM {IMAGE}\nCMD ["sh", "-c", "echo no db; exit 1"]\n')
    app, notes = make_app(load_config(write_config(lab, tmp_path, ("unix1",))))
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: ("unix1", name) in names_on_screen(app), 8, "row")
        await pilot.press("slash", *name, "enter")
        await until(lambda: len(table_rows(app)) == 1, 2, "one row")
        await pilot.press("R")
        await until(lambda: showing(app, ConfirmDialog), 2, "confirm dialog")
        await pilot.click("#opt-pull")
        assert app.screen.query_one("#opt-pull").value is False
        await pilot.press("y")
        await until(lambda: showing(app, ProgressScreen), 2, "progress")
        screen = app.screen
        await until(lambda: screen.finished, 30, "recreate finished")
        ok, text = screen.results[f"unix1/{name}"]
        assert not ok and text.startswith("ROLLED BACK: the replacement exited (code 1)") and "no db" in text, text
        await until(lambda: any(s == "error" and "ROLLED BACK" in m for m, s in notes), 5, "a notice")
        notice = next(m for m, s in notes if s == "error" and "ROLLED BACK" in m)
        assert notice.startswith(f"recreate {name} on unix1:") and "last log line: no db" in notice, notice
        await pilot.press("escape")
    assert inspect(lab.d1, name)["Id"] == cid and containers_named(lab.d1, name) == [name]
    lab.d1.docker("rm", "-f", name, check=False)
    lab.d1.docker("rmi", "-f", ref, check=False)


async def test_read_only_hides_the_recreate_key_and_a_read_only_host_is_skipped(lab, made):
    from fleet_hosts import config, unix_host

    from dockyard.ui.dialogs.confirm import ConfirmDialog

    name = f"rc-ro-{uid()}"
    made.append((lab.d1, name))
    cid = lab.d1.run_container(name, "sleep", "300")
    app, _ = make_app(config(unix_host(lab.d1, "unix1")), readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: ("unix1", name) in names_on_screen(app), 8, "row")
        assert "R" not in app.active_bindings
        await pilot.press("R")
        await pilot.pause(0.2)
        assert not showing(app, ConfirmDialog)

    app, notes = make_app(config(unix_host(lab.d1, "unix1", readonly=True)))  # only this host is read-only
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: ("unix1", name) in names_on_screen(app), 8, "row")
        await pilot.press("slash", *name, "enter")
        await until(lambda: len(table_rows(app)) == 1, 2, "one row")
        await pilot.press("R")
        await until(lambda: any("read-only hosts" in m for m, _ in notes), 2, "the skip said")
        assert not showing(app, ConfirmDialog)
    assert inspect(lab.d1, name)["Id"] == cid


# --------------------------------------------------------------------------- the controller


async def test_a_recreate_under_way_is_finished_when_its_caller_stops_listening(lab, made):
    """Closing the progress screen (or ctrl-c) mid-way must not leave the old container renamed
    aside and stopped: the one under way finishes, and closing the fleet waits for it."""
    from fleet_hosts import config, unix_host

    from dockyard.config.model import RecreateConfig
    from dockyard.fleet import Fleet

    ref = f"rc-local/app:{uid()}"  # built on the host itself: no pull needed
    lab.d1.docker("build", "-q", "-t", ref, "-", input=f'FROM {IMAGE}\nCMD ["sleep", "300"]\n')
    name = f"rc-bg-{uid()}"
    made.append((lab.d1, name))
    cid = lab.d1.run_container(name, image=ref)
    lab.d1.docker("build", "-q", "-t", ref, "-", input=f'FROM {IMAGE}\nRUN echo v2 > /version\nCMD ["sleep", "300"]\n')
    steps = []
    async with Fleet(config(unix_host(lab.d1), recreate=RecreateConfig(grace=1)), live=False) as fleet:
        stream = fleet.recreate.run([("unix1", name)])
        async for ev in stream:
            steps.append(ev.status)
            if ev.status.startswith("stopping the old container"):
                break  # the caller goes away with the old container renamed aside
        await stream.aclose()
    assert not any(s == "recreated" for s in steps)
    after = inspect(lab.d1, name)
    assert after["Id"] != cid and after["State"]["Running"] and after["Image"] == image_id(lab.d1, ref)
    assert containers_named(lab.d1, name) == [name]
    lab.d1.docker("rmi", "-f", ref, check=False)


async def test_parallel_recreates_several_at_once(lab, made):
    """--parallel 2: the second container starts before the first is done; both come through."""
    from fleet_hosts import config, unix_host

    from dockyard.config.model import RecreateConfig
    from dockyard.fleet import Fleet

    ref = f"rc-local/par:{uid()}"
    lab.d1.docker("build", "-q", "-t", ref, "-", input=f'FROM {IMAGE}\nCMD ["sleep", "300"]\n')
    names = [f"rc-par{i}-{uid()}" for i in (1, 2)]
    ids = {}
    for name in names:
        made.append((lab.d1, name))
        ids[name] = lab.d1.run_container(name, image=ref)
    lab.d1.docker("build", "-q", "-t", ref, "-", input=f'FROM {IMAGE}\nRUN echo v2 > /version\nCMD ["sleep", "300"]\n')
    async with Fleet(config(unix_host(lab.d1), recreate=RecreateConfig(grace=1)), live=False) as fleet:
        events = [ev async for ev in fleet.recreate.run([("unix1", n) for n in names], parallel=2)]
    order = [(ev.name, ev.kind) for ev in events]
    first_result = order.index((names[0], "result")) if (names[0], "result") in order else len(order)
    assert (names[1], "step") in order[:first_result], order  # both under way at once
    assert sorted((ev.report.name, ev.report.outcome) for ev in events if ev.done) == [(n, "recreated") for n in names]
    for name in names:
        assert inspect(lab.d1, name)["Id"] != ids[name] and inspect(lab.d1, name)["Image"] == image_id(lab.d1, ref)
    lab.d1.docker("rmi", "-f", ref, check=False)


async def test_unhealthy_or_restarting_replacements_are_rolled_back(lab, made):
    """The other two ways a replacement fails: its healthcheck fails, or its restart policy restarts it."""
    from fleet_hosts import config, unix_host

    from dockyard.config.model import RecreateConfig
    from dockyard.fleet import Fleet

    ref = f"rc-local/health:{uid()}"
    lab.d1.docker("build", "-q", "-t", ref, "-", input=f'FROM {IMAGE}\nRUN touch /v1\nCMD ["sleep", "300"]\n')
    sick, looping = f"rc-sick-{uid()}", f"rc-loop-{uid()}"
    made += [(lab.d1, sick), (lab.d1, looping)]
    ids = {sick: lab.d1.run_container(sick, image=ref, args=("--health-cmd", "test -f /v1", "--health-interval", "1s",
                                                             "--health-retries", "1")),
           looping: lab.d1.run_container(looping, "sh", "-c", "test -f /v1 && exec sleep 300",
                                         image=ref, args=("--restart", "always"))}
    # the new image lacks /v1: the healthcheck fails, and the second container's command exits
    lab.d1.docker("build", "-q", "-t", ref, "-", input=f'FROM {IMAGE}\nCMD ["sleep", "300"]\n')
    async with Fleet(config(unix_host(lab.d1), recreate=RecreateConfig(grace=3, health_timeout=20)),
                     live=False) as fleet:
        # both at once (parallel): neither waits for the other's rollback, and neither is skipped by it
        reports = {ev.report.name: ev.report async for ev in fleet.recreate.run([("unix1", sick), ("unix1", looping)],
                                                                                 parallel=2) if ev.done}
    assert reports[sick].outcome == "rolled-back" and "turned unhealthy" in reports[sick].reason, reports[sick]
    assert reports[looping].outcome == "rolled-back", reports[looping]
    assert "restarted" in reports[looping].reason, reports[looping].reason
    for name, cid in ids.items():
        info = inspect(lab.d1, name)
        assert info["Id"] == cid and info["State"]["Running"], name
        assert containers_named(lab.d1, name) == [name]
    lab.d1.docker("rm", "-f", sick, looping, check=False)
    lab.d1.docker("rmi", "-f", ref, check=False)
