"""Outdated-image checks (fleet/freshness.py) against a real lab: registry requests and time (run by hand, as root).

    python3 bench/bench_freshness.py             # both
    python3 bench/bench_freshness.py three many  # a selection

three   100 running containers on the 3 lab daemons (unix1, unix3, ssh -> d2) using 3 references to the
        lab registry; new content then pushed to one of them. Registry requests counted in the
        registry's own access log (Dockyard's user agent), for `dockyard outdated --json` (a cold CLI
        process) and for a check in the terminal UI (headless, `U`): key press -> every row's mark
        on screen (↑ on the outdated tag's rows), polled every 10 ms.
many    2,000 containers using 50 references: one extra dockerd listening on 40 unix sockets (40
        "hosts" to Dockyard, each with the same 50 containers, one per reference); a check's
        registry requests, wall time; a second check (cached: no request).

Everything started here is stopped here (the lab and the extra daemon, by pid).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "tui"), str(HERE.parent / "tests"), str(HERE)]

from installed import compile_checkout  # noqa: E402
from lab import IMAGE, Daemon, Lab  # noqa: E402

from dockyard.config.model import Config, HostConfig, RegistryConfig  # noqa: E402


def requests_in_log(registry, since: int) -> int:
    """Dockyard's manifest requests in the registry's access log after byte `since`."""
    pattern = re.compile(r'"(HEAD|GET) /v2/[^ ]*/manifests/[^ ]* HTTP/[0-9.]+" \d+ \d+ "[^"]*" "dockyard/')
    with open(registry.log_path, "rb") as f:
        f.seek(since)
        return sum(1 for line in f.read().decode(errors="replace").splitlines() if pattern.search(line))


def log_size(registry) -> int:
    time.sleep(0.3)  # the registry writes its access log line after answering
    return os.path.getsize(registry.log_path)


def push(daemon: Daemon, ref: str, label: str | None = None) -> None:
    if label is None:
        daemon.docker("tag", IMAGE, ref)
    else:
        daemon.docker("build", "-q", "-t", ref, "-", input=f"FROM {IMAGE}\nLABEL bench={label}\n")
    daemon.docker("push", ref)


# ---------------------------------------------------------------------- three: 100 containers, 3 references


def bench_three(lab: Lab) -> None:
    uid = uuid.uuid4().hex[:6]
    refs = [f"{lab.registry.host}/bench/{name}-{uid}:1" for name in ("web", "api", "db")]
    for ref in refs:
        push(lab.d1, ref)
    for daemon in (lab.d2, lab.d3):
        for ref in refs:
            daemon.docker("pull", "-q", ref)
    daemons = [lab.d1, lab.d2, lab.d3]

    def start(d: int) -> None:
        count = 34 if d == 0 else 33
        for i in range(count):
            daemons[d].run_container(f"fb-{uid}-{d}-{i}", "sleep", "3600", image=refs[i % 3])

    t0 = time.monotonic()
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(start, range(3)))
    print(f"(100 containers started in {time.monotonic() - t0:.0f} s)")
    push(lab.d1, refs[0], label="v2-" + uid)  # the web tag moves on: its 34 containers are outdated

    cfg = Path(tempfile.mkdtemp()) / "dockyard.toml"
    lab.write_config(cfg, hosts=("unix1", "unix3", "ssh"))
    before = log_size(lab.registry)
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "dockyard", "--config", str(cfg), "outdated", "--json"],
                         capture_output=True, text=True, env={**os.environ, **lab.env(),
                                                               "PYTHONPATH": str(HERE.parent / "tui")})
    wall = time.monotonic() - t0
    data = json.loads(out.stdout)
    mine = [c for c in data["containers"] if c["name"].startswith(f"fb-{uid}-")]
    states = {s: sum(1 for c in mine if c["status"] == s) for s in ("outdated", "current")}
    print(f"\n## 100 containers, 3 hosts, 3 references\n")
    print("| measure | value |\n|---|---|")
    print(f"| `dockyard outdated --json` (cold process): registry requests | "
          f"**{requests_in_log(lab.registry, before)}** (exit {out.returncode}) |")
    print(f"| its wall time, process start to exit | {wall:.2f} s |")
    print(f"| its states: outdated / current (expected 34 / 66) | {states['outdated']} / {states['current']} |")
    asyncio.run(_three_on_screen(lab, uid, refs))


async def _three_on_screen(lab: Lab, uid: str, refs: list[str]) -> None:
    """The terminal UI (headless): `U`, then every row's mark as expected."""
    from dockyard.config import load_config
    from dockyard.ui.app import DockyardApp

    cfg = Path(tempfile.mkdtemp()) / "dockyard.toml"
    lab.write_config(cfg, hosts=("unix1", "unix3", "ssh"))
    os.environ.update(lab.env())
    app = DockyardApp(load_config(str(cfg)))
    async with app.run_test(size=(160, 45)) as pilot:
        pane = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pane = app.panes.get("containers") if app.panes else None
            if pane is not None and sum(1 for r in pane.rows if r.data is not None
                                        and r.data.name.startswith(f"fb-{uid}-")) == 100:
                break
            await pilot.pause(0.05)
        await app.fleet.wait_settled(10)
        while any(session.cache.counts() is None for session in app.fleet.sessions.values()):
            await pilot.pause(0.05)  # every host's images listed too: the check is what is measured
        update = [c.key for c in pane.active_columns].index("update")
        before = log_size(lab.registry)

        def marks() -> dict[str, str]:
            table = pane.table
            out = {}
            for i in range(table.row_count):
                row = pane.rows[i] if i < len(pane.rows) else None
                if row is not None and row.data is not None and row.data.name.startswith(f"fb-{uid}-"):
                    out[row.data.name] = table.get_row_at(i)[update].plain
            return out

        expected = {f"fb-{uid}-{d}-{i}": ("↑" if i % 3 == 0 else "")
                    for d in range(3) for i in range(34 if d == 0 else 33)}
        checker = app.fleet.freshness
        checks_before = checker.last_check
        t0, wall0 = time.monotonic(), time.time()
        await pilot.press("U")
        while marks() != expected and time.monotonic() - t0 < 20:
            await pilot.pause(0.01)
        shown = time.monotonic() - t0
        from_start = time.time() - checker.last_started if checker.last_started else None
        checked = (checker.last_check - wall0) if checker.last_check != checks_before else None
        phases = ", ".join(f"{k} {v:.2f}" for k, v in getattr(checker, "last_phases", {}).items())
        got = marks()
        ok = got == expected
        if not ok:
            wrong = sorted(k for k in expected if got.get(k) != expected[k])
            print(f"(TUI: {len(wrong)} rows differ, e.g. {[(k, got.get(k), expected[k]) for k in wrong[:5]]}; "
                  f"{len(got)} rows of ours on screen)")
        requests = requests_in_log(lab.registry, before)
    print(f"| TUI (headless, 160x45, 100 rows): `U` -> every row's mark on screen | "
          f"**{shown:.2f} s** ({'all as expected' if ok else 'NOT as expected'}); from the check's start: "
          f"**{from_start:.2f} s** |")
    print(f"| its registry requests; the check itself (key press -> controller done) | **{requests}**; "
          f"{checked:.2f} s ({phases} s) |" if checked is not None else f"| its registry requests | **{requests}** |")


# ---------------------------------------------------------------------- many: 2,000 containers, 50 references


class ManySockets(Daemon):
    """One dockerd listening on `count` more unix sockets: each a distinct host to a client."""

    def __init__(self, root: str, name: str, count: int):
        super().__init__(root, name)
        self.sockets = [str(self.dir / f"h{i}.sock") for i in range(count)]

    def command(self) -> list[str]:
        return super().command() + [arg for s in self.sockets for arg in ("--host", f"unix://{s}")]


def bench_many(lab: Lab, sockets: int = 40, references: int = 50) -> None:
    uid = uuid.uuid4().hex[:6]
    many = ManySockets(lab.root, "many", sockets)
    lab.extra_daemons.append(many)
    many.start()
    many.ensure_image()
    refs = [f"{lab.registry.host}/bench/many{i}-{uid}:1" for i in range(references)]
    t0 = time.monotonic()
    for ref in refs:
        push(many, ref)
    for i, ref in enumerate(refs):
        many.docker("create", "--network", "none", "--name", f"fm-{uid}-{i}", ref, "sleep", "3600")
    print(f"\n(50 references pushed, 50 containers created in {time.monotonic() - t0:.0f} s)")
    config = Config(hosts=tuple(HostConfig(name=f"h{i}", url=f"unix://{s}") for i, s in enumerate(many.sockets)),
                    registries=(RegistryConfig(name="lab", url=lab.registry.url, insecure=True),))
    asyncio.run(_many(lab, config, uid, sockets * references))


async def _many(lab: Lab, config: Config, uid: str, expected: int) -> None:
    from dockyard.fleet import Fleet

    async with Fleet(config, live=False) as fleet:
        before = log_size(lab.registry)
        t0 = time.monotonic()
        report = await fleet.freshness.check()
        first = time.monotonic() - t0
        phases = ", ".join(f"{k} {v:.2f}" for k, v in report.phases.items())
        requests = requests_in_log(lab.registry, before)
        mine = [r for r in report.rows if r.container.name.startswith(f"fm-{uid}-")]
        current = sum(1 for r in mine if r.freshness.state == "current")
        before = log_size(lab.registry)
        t0 = time.monotonic()
        await fleet.freshness.check()
        second = time.monotonic() - t0
        cached = requests_in_log(lab.registry, before)
    print(f"\n## {len(mine)} containers (expected {expected}), {len(config.hosts)} hosts, 50 references\n")
    print("| measure | value |\n|---|---|")
    print(f"| first check: registry requests | **{requests}** (target ≤ 50) |")
    print(f"| first check: wall time (listing {len(config.hosts)} hosts included) | {first:.2f} s ({phases} s) |")
    print(f"| states: current | {current} of {len(mine)} |")
    print(f"| second check (cached): registry requests, wall time | {cached}, {second:.2f} s |")


def main(argv: list[str]) -> int:
    wanted = set(argv or ["three", "many"])
    compile_checkout()
    os.environ["DOCKYARD_NO_DOCKER_HUB"] = "1"
    lab = Lab.start()
    try:
        if "three" in wanted:
            bench_three(lab)
        if "many" in wanted:
            bench_many(lab)
    finally:
        lab.stop()
    return 0


if __name__ == "__main__":
    from lab import owner
    owner.stop_on_signals()  # a SIGTERM or hang-up stops the labs this run started (tests/lab/owner.py)
    raise SystemExit(main(sys.argv[1:]))
