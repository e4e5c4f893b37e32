"""Fleet-core benchmarks against a real lab (run by hand, as root).

    python3 bench/bench_fleet.py            # all four
    python3 bench/bench_fleet.py ps fanout  # a selection
    python3 bench/bench_fleet.py ps --against /tmp/round1   # ps beside another checkout (git worktree)

ps      `dockyard ps --json` over 3 lab hosts (2 unix, 1 SSH) in one process, wall time,
        beside `docker ps` run once per host (the docker CLI's way to see 3 daemons).
fanout  fan-out to N hosts that are each 100 ms away (a delay-line proxy per host in front
        of a real daemon), N = 1, 5, 10, 20, 50: time from a cold start to every host's
        container list — should stay near one round trip, not N.
ssh     per-request overhead of the SSH transport over a direct unix socket (`_ping` and
        `containers/json`, 500 sequential requests each).
events  a container run with the docker CLI -> in the live cache, by the daemon's events alone
        (reconcile pushed out to an hour), unix and SSH, from `docker run` returning.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests"), str(HERE)]

from installed import compile_checkout  # noqa: E402
from lab import Lab  # noqa: E402

from dockyard.config.model import Config, HostConfig  # noqa: E402
from dockyard.fleet import Fleet  # noqa: E402


def populate(lab: Lab, per_daemon: int) -> None:
    for daemon in (lab.d1, lab.d2, lab.d3):
        for i in range(per_daemon):
            daemon.run_container(f"bench-{daemon.name}-{i}", "sleep", "3600")


def bench_ps(lab: Lab, runs: int = 10, against: Path | None = None) -> None:
    """`dockyard ps --json` over 3 hosts; with `against` (another checkout, e.g. an older commit's
    worktree) that checkout's source runs in turn with this one's, in the same loop."""
    cfg = Path(tempfile.mkdtemp()) / "dockyard.toml"
    lab.write_config(cfg, hosts=("unix1", "unix3", "ssh"))
    sources = {"this checkout": HERE.parent / "tui"}
    if against is not None:
        compileall.compile_dir(str(against / "tui"), quiet=1)  # as installed (see installed.py)
        sources[f"{against} (other)"] = against / "tui"
    cmd = [sys.executable, "-m", "dockyard", "--config", str(cfg), "ps", "--json"]
    times: dict[str, list[float]] = {name: [] for name in sources}
    out = ""
    for name, tui in sources.items():  # warm the page cache
        subprocess.run(cmd, env={**os.environ, "PYTHONPATH": str(tui)}, check=True, capture_output=True)
    for _ in range(runs):
        for name, tui in sources.items():
            start = time.perf_counter()
            out = subprocess.run(cmd, env={**os.environ, "PYTHONPATH": str(tui)}, check=True, capture_output=True,
                                 text=True).stdout
            times[name].append(time.perf_counter() - start)
    count = out.count('"host":')
    docker = []
    for _ in range(runs):
        start = time.perf_counter()
        for daemon in (lab.d1, lab.d3, lab.d2):
            daemon.docker("ps", "--format", "{{json .}}")
        docker.append(time.perf_counter() - start)
    print("\n## dockyard ps --json, 3 hosts (unix, unix, ssh), one process")
    print(f"containers listed: {count}; runs: {runs}")
    print("| command | median | min |\n|---|---|---|")
    for name, values in times.items():
        print(f"| dockyard ps --json (3 hosts, 1 over SSH), {name} | {statistics.median(values):.3f} s "
              f"| {min(values):.3f} s |")
    print(f"| docker ps x3 (one per host, all unix) | {statistics.median(docker):.3f} s | {min(docker):.3f} s |")


async def _fanout_once(socks: list[str]) -> float:
    config = Config(hosts=tuple(HostConfig(name=f"h{i}", url=f"unix://{s}", connect_timeout=10)
                                for i, s in enumerate(socks)))
    start = time.perf_counter()
    async with Fleet(config, live=False) as fleet:
        results = [r async for r in fleet.containers.list()]
    elapsed = time.perf_counter() - start
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    return elapsed


async def bench_fanout(lab: Lab, delay: float = 0.1) -> None:
    root = tempfile.mkdtemp(prefix="dyb", dir="/tmp")
    proxy = subprocess.Popen([sys.executable, str(HERE / "latency_proxy.py"), "--dir", root, "--target",
                              lab.d1.socket, "--delay", str(delay), "--count", "50"],
                             stdout=subprocess.PIPE, text=True)
    assert proxy.stdout is not None and proxy.stdout.readline().strip() == "ready"
    socks = [f"{root}/p{i}.sock" for i in range(50)]
    print(f"\n## fan-out to N hosts, each behind {delay * 1000:.0f} ms injected latency")
    print("cold = new Fleet: connect + version + list (2 round trips); warm = list on a connected fleet")
    print("| hosts | cold median of 5 | cold min | warm median of 5 |\n|---|---|---|---|")
    try:
        for n in (1, 5, 10, 20, 50):
            cold = [await _fanout_once(socks[:n]) for _ in range(5)]
            warm = await _fanout_warm(socks[:n])
            print(f"| {n} | {statistics.median(cold):.3f} s | {min(cold):.3f} s | {statistics.median(warm):.3f} s |")
    finally:
        proxy.terminate()
        proxy.wait()


async def _fanout_warm(socks: list[str]) -> list[float]:
    config = Config(hosts=tuple(HostConfig(name=f"h{i}", url=f"unix://{s}", connect_timeout=10)
                                for i, s in enumerate(socks)))
    times = []
    async with Fleet(config, live=False) as fleet:
        await fleet.wait_settled(10)
        for _ in range(5):
            start = time.perf_counter()
            results = [r async for r in fleet.containers.list()]
            times.append(time.perf_counter() - start)
            assert all(r.ok for r in results)
    return times


async def bench_ssh(lab: Lab, n: int = 500) -> None:
    from fleet_hosts import ssh_host, unix_host

    config = Config(hosts=(unix_host(lab.d2, "direct"), ssh_host(lab, lab.d2, name="ssh")))
    async with Fleet(config, live=False) as fleet:
        await fleet.wait_settled(10)
        rows = []
        for label, fn in (("_ping", lambda c: c.ping()), ("containers/json", lambda c: c.list_containers())):
            per = {}
            for host in ("direct", "ssh"):
                session = fleet.session(host)
                for _ in range(20):
                    await session.call(fn)
                start = time.perf_counter()
                for _ in range(n):
                    await session.call(fn)
                per[host] = (time.perf_counter() - start) / n * 1000
            rows.append((label, per["direct"], per["ssh"]))
    print(f"\n## SSH transport overhead ({n} sequential requests, same daemon)")
    print("| request | direct unix | over SSH | overhead |\n|---|---|---|---|")
    for label, direct, ssh in rows:
        print(f"| {label} | {direct:.2f} ms | {ssh:.2f} ms | {ssh - direct:+.2f} ms |")


def _run_timed(daemon, name: str) -> float:
    """`docker run -d` a sleeper; when the CLI returned."""
    daemon.run_container(name, "sleep", "300")
    return time.perf_counter()


async def bench_events(lab: Lab, runs: int = 10) -> None:
    from fleet_hosts import ssh_host, unix_host

    from dockyard.fleet import Timing

    timing = Timing()
    timing.reconcile_every = 3600.0  # only the events stream can deliver the new container
    config = Config(hosts=(unix_host(lab.d1, "unix1"), ssh_host(lab, lab.d2, name="ssh")))
    rows = []
    async with Fleet(config, live=True, timing=timing) as fleet:
        await fleet.wait_settled(10)
        for host, daemon in (("unix1", lab.d1), ("ssh", lab.d2)):
            after_cli, from_start = [], []
            for i in range(runs):
                name = f"bench-event-{host}-{i}"
                start = time.perf_counter()
                cli = asyncio.create_task(asyncio.to_thread(_run_timed, daemon, name))
                while not any(c.name == name for c in fleet.cached("containers", [host])):
                    if time.perf_counter() - start > 30:
                        raise SystemExit(f"{name} never reached the cache")
                    await asyncio.sleep(0.002)
                seen = time.perf_counter()
                cli_done = await cli  # the event usually arrives before the CLI has returned
                from_start.append(seen - start)
                after_cli.append(max(0.0, seen - cli_done))
                await asyncio.to_thread(daemon.docker, "rm", "-f", name)
            rows.append((host, statistics.median(from_start), max(from_start), max(after_cli)))
    print(f"\n## container run outside -> in the live cache by events ({runs} runs, reconcile off)")
    print("| host | from `docker run` start: median | max | max after `docker run` returned | target <= 1.0 s |")
    print("|---|---|---|---|---|")
    for host, median, worst, late in rows:
        print(f"| {host} | {median:.3f} s | {worst:.3f} s | {late:.3f} s | {'ok' if late <= 1.0 else '**over**'} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("parts", nargs="*", default=["ps", "fanout", "ssh", "events"])
    parser.add_argument("--containers", type=int, default=20, help="containers per lab daemon")
    parser.add_argument("--against", type=Path, metavar="DIR",
                        help="ps: also run this other checkout's source, in turn (e.g. a worktree of an older commit)")
    args = parser.parse_args()
    compile_checkout()
    lab = Lab.start()
    try:
        populate(lab, args.containers)
        if "ps" in args.parts:
            bench_ps(lab, against=args.against)
        if "fanout" in args.parts:
            asyncio.run(bench_fanout(lab))
        if "ssh" in args.parts:
            asyncio.run(bench_ssh(lab))
        if "events" in args.parts:
            asyncio.run(bench_events(lab))
    finally:
        lab.stop()


if __name__ == "__main__":
    from lab import owner
    owner.stop_on_signals()  # a SIGTERM or hang-up stops the labs this run started (tests/lab/owner.py)
    main()
