"""Regenerate the README screenshots from the real test lab.

    sudo python screenshots/make_screenshots.py        (root: the lab runs dockerd and sshd)

Starts a Lab (tests/lab/: three dockerd, an sshd in front of one of them, all on loopback,
containers with network none), creates a small demo fleet with compose-project labels, runs
Dockyard headless at 120x32 with a config naming four hosts (unix, TLS, SSH, and one dead host)
and saves SVGs next to this file:

    hosts.svg       the Hosts pane: three online, one unreachable
    containers.svg  every container of the fleet with its HOST column
    filter.svg      `/project:shop` applied
    confirm.svg     the remove confirmation for containers marked on two hosts
    hostkey.svg     the SSH host-key dialog for a host whose key is not in known_hosts
    services.svg    the Services pane over two swarms (tests/swarm_lab.py), a stack among them
    nodes.svg       the Nodes pane: managers, a worker, one node drained

`python screenshots/make_screenshots.py swarm` makes only the swarm ones.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import lab as lab_module  # noqa: E402  (tests/lab/)
from fleet_hosts import config, ssh_host, tls_host, unix_host  # noqa: E402
from helpers import showing, until  # noqa: E402
from dockyard.config.model import HostConfig, RegistryConfig  # noqa: E402
from dockyard.fleet import HostState  # noqa: E402
from dockyard.ui.app import DockyardApp  # noqa: E402
from dockyard.ui.dialogs.confirm import ConfirmDialog  # noqa: E402
from dockyard.ui.dialogs.hostkey import HostKeyDialog  # noqa: E402
from dockyard.ui.container_view import ContainerScreen  # noqa: E402
from dockyard.ui.logs import LogsScreen  # noqa: E402

os.environ["DOCKYARD_NO_DOCKER_HUB"] = "1"  # screenshots talk to loopback only

SIZE = (120, 32)
PROJECT = "com.docker.compose.project"

# daemon attribute -> [(name, project, running)]
DEMO = {
    "d1": [("shop-web-1", "shop", True), ("shop-web-2", "shop", True), ("metrics-agent", "monitoring", True),
           ("nightly-backup", None, False)],
    "d3": [("shop-db", "shop", True), ("shop-cache", "shop", True), ("grafana", "monitoring", True)],
    "d2": [("edge-proxy", "edge", True), ("edge-worker-1", "edge", True), ("edge-worker-2", "edge", True)],
}


def build_fleet(lab) -> None:
    for repo in ("shop/web", "shop/db", "monitoring/agent", "edge/proxy"):
        ref = f"{lab.registry.host}/{repo}:1.0"
        lab.d1.docker("tag", lab_module.IMAGE, ref)
        lab.d1.docker("push", ref)
    for attr, containers in DEMO.items():
        daemon = getattr(lab, attr)
        for name, project, running in containers:
            labels = {PROJECT: project, "com.docker.compose.service": name.rsplit("-", 1)[0]} if project else {}
            if running:  # each one logs a line now and then, so the logs view has something to show
                script = (f"i=0; while :; do echo \"{name}: request $i served in $((i * 7 % 50 + 3)) ms\"; "
                          "[ $((i % 5)) = 4 ] && echo \"warning: slow upstream\" >&2; i=$((i+1)); sleep 0.5; done")
                daemon.run_container(name, "sh", "-c", script, labels=labels)
            else:
                daemon.docker("create", "--network", "none", "--name", name, lab_module.IMAGE, "sleep", "1")


def fleet_config(lab, known_hosts: str | None = None):
    return replace(config(
        unix_host(lab.d1, "build-box"),
        tls_host(lab, lab.d3, "db-tls"),
        ssh_host(lab, lab.d2, name="edge-ssh", **({"known_hosts": known_hosts} if known_hosts else {})),
        HostConfig(name="old-dc", url="tcp://127.0.0.1:9", connect_timeout=1),
    ), registries=(RegistryConfig(name="lab", url=lab.registry.url, insecure=True),))


async def shoot(pilot, name: str) -> None:
    pilot.app.clear_notifications()
    await pilot.pause(0.2)
    pilot.app.save_screenshot(name, str(HERE))
    print(f"wrote {HERE / name}")


async def main_screens(lab) -> None:
    app = DockyardApp(fleet_config(lab))
    app.animation_level = "none"
    expected = sum(len(cs) for cs in DEMO.values())  # every container shows, the created ones too
    async with app.run_test(size=SIZE) as pilot:
        pane = app.panes["containers"]
        await until(lambda: len([r for r in pane.rows if r.data is not None]) == expected, 15, what="rows")
        await until(lambda: app.fleet.host("old-dc").state == HostState.UNREACHABLE, 15, what="dead host")
        # wait for the first CPU/MEM samples of the running containers on screen
        await until(lambda: all(r.sort_values.get("cpu") is not None and r.sort_values.get("mem") is not None
                                for r in pane.rows if r.data and r.data.state == "running"), 15,
                    "CPU and MEM of every running container")
        await shoot(pilot, "containers.svg")

        await pilot.press("1")
        await until(lambda: app.panes["hosts"].table.row_count == 4, 15, what="hosts rows")
        await shoot(pilot, "hosts.svg")

        await pilot.press("2", "slash", *"project:shop", "enter")
        await until(lambda: pane.table.row_count == 4, 15, what="filtered rows")
        await shoot(pilot, "filter.svg")

        # mark one container on build-box and one on db-tls, then ctrl+d
        await pilot.press("g", "space", "j", "space", "ctrl+d")
        await until(lambda: showing(app, ConfirmDialog), 15, what="confirm dialog")
        await shoot(pilot, "confirm.svg")
        await pilot.press("n")
        await pilot.press("escape")  # clear marks
        await pilot.press("escape")  # clear the filter

        # merged logs of the edge project (three containers on the SSH host) and shop (two hosts)
        await pilot.press("slash", *"project:shop", "enter")
        await until(lambda: pane.table.row_count == 4, 15, what="shop rows")
        await pilot.press("ctrl+a", "l")
        await until(lambda: isinstance(app.screen, LogsScreen) and app.screen.log_widget.item_count >= 8,
                    15, what="merged log lines")
        await shoot(pilot, "logs.svg")
        await pilot.press("escape")
        await pilot.press("escape", "escape")

        # one container up close
        await until(lambda: not isinstance(app.screen, LogsScreen), 15, what="back from logs")
        pane.table.move_cursor(row=0)
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, ContainerScreen) and len(app.screen.samples) >= 3,
                    20, what="detail samples")
        await shoot(pilot, "container.svg")
        await pilot.press("escape")

        # images across hosts, drift view: the lab builds the test image on each daemon separately
        await pilot.press("3", "v")
        await until(lambda: app.panes["images"].drift_view and app.panes["images"].table.row_count >= 1,
                    15, what="drift rows")
        await shoot(pilot, "drift.svg")

        # registries: the lab registry's repositories
        await pilot.press("6")
        reg = app.panes["registries"]
        await until(lambda: reg.status.get("lab", ("",))[0].startswith("open"), 15, what="registry ping")
        await pilot.press("enter")
        await until(lambda: reg.level.kind == "repos" and not reg.level.loading and reg.rows,
                    15, what="repositories")
        await shoot(pilot, "registries.svg")


async def hostkey_screen(lab, workdir: Path) -> None:
    empty = workdir / "known_hosts"
    empty.write_text("")
    app = DockyardApp(fleet_config(lab, known_hosts=str(empty)))
    app.animation_level = "none"
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: showing(app, HostKeyDialog), 15, what="host-key dialog")
        await until(lambda: app.panes["containers"].table.row_count >= 6, 15, what="rows behind the dialog")
        await shoot(pilot, "hostkey.svg")
        await pilot.press("escape")


SWARM_SERVICES = [  # (name, swarm, replicas, stack)
    ("shop_web", "A", 3, "shop"), ("shop_api", "A", 2, "shop"), ("metrics", "A", 1, None),
    ("edge_proxy", "B", 1, "edge"),
]


async def swarm_screens(sw) -> None:
    names = {"a1": "prod-mgr-1", "a2": "prod-mgr-2", "a3": "prod-worker-1", "b1": "edge-1"}
    app = DockyardApp(config(*(unix_host(sw.nodes[n].daemon, host) for n, host in names.items())))
    app.animation_level = "none"
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: sum(len(s.services) for s in app.fleet.swarm.snapshots()) == len(SWARM_SERVICES), 30,
                    "services of both swarms")
        await pilot.press("7")
        await until(lambda: app.panes["services"].table.row_count == len(SWARM_SERVICES), 10, "services rows")
        await shoot(pilot, "services.svg")
        await pilot.press("9")
        await until(lambda: any(r.data.availability == "drain" for r in app.panes["nodes"].rows), 10, "drained node")
        await shoot(pilot, "nodes.svg")


def make_swarm_screens() -> None:
    import swarm_lab

    sw = swarm_lab.SwarmLab.start()
    try:
        for name, swarm_name, replicas, stack in SWARM_SERVICES:
            labels = {"com.docker.stack.namespace": stack} if stack else None
            sw.create_service(name, swarm=swarm_name, replicas=replicas, labels=labels)
        sw.a1.docker("node", "update", "--availability", "drain", "a3")
        asyncio.run(swarm_screens(sw))
    finally:
        sw.stop()


def main() -> int:
    if sys.argv[1:] == ["swarm"]:
        make_swarm_screens()
        return 0
    make_swarm_screens()
    with lab_module.Lab.start() as lab, tempfile.TemporaryDirectory() as tmp:
        print(f"lab up in {lab.startup_seconds:.1f} s at {lab.root}")
        build_fleet(lab)
        asyncio.run(main_screens(lab))
        asyncio.run(hostkey_screen(lab, Path(tmp)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
