"""Swarm benchmarks against real swarms on loopback (tests/swarm_lab.py; run by hand, as root).

    python3 bench/bench_swarm.py [--services 200] [--replicas 5] [--idle 30] [load event idle roll pane]

Swarm A (a1, a2 managers, a3 worker) gets 3/4 of the services, swarm B (b1) the rest; every
service runs `--replicas` busybox tasks (200 × 5 = 1,000 tasks). Then, headless (the fleet
controller a Services pane reads; the pane itself only repaints what the cache says):

load    cold: new Fleet → connect, discover, one snapshot per swarm (what the Services pane's
        first rows wait for); warm: a snapshot of both swarms on a connected fleet. Median of 5.
event   live Fleet: a task's container is killed on its node → the cache shows that task failed
        (and its replacement), timed from the daemon's own task timestamp; a `service scale`
        → the cache shows the new desired count. 5 each.
idle    live Fleet with a pane watching (reload every 5 s): this process's CPU over `--idle` s.
roll    rolling update of a 6-replica service (parallelism 1): each task transition's lag from
        its daemon timestamp to the live cache.
pane    the app, headless (Textual's run_test, 170×45; no terminal, so no output cost): `7` →
        the Services pane's first rows and all rows; a task killed → its row in the Tasks pane
        (`8`) no longer says running, from the daemon's task timestamp; the process's CPU over
        `--idle` s with the Services pane open.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "tui"), str(HERE.parent / "tests")]

import swarm_lab  # noqa: E402
from lab import IMAGE  # noqa: E402

from dockyard.config.model import Config, HostConfig  # noqa: E402
from dockyard.fleet import Fleet  # noqa: E402
from dockyard.textfmt import rfc3339_seconds  # noqa: E402


def spec(name: str, replicas: int) -> dict:
    return {"Name": name, "Labels": {"bench": "swarm"},
            "TaskTemplate": {"ContainerSpec": {"Image": IMAGE, "Args": ["sleep", "100000"],
                                               "StopSignal": "SIGKILL", "StopGracePeriod": 1_000_000_000},
                             "RestartPolicy": {"Condition": "any", "Delay": 0}},
            "Mode": {"Replicated": {"Replicas": replicas}},
            "UpdateConfig": {"Parallelism": 1, "Delay": 0, "Monitor": 200_000_000, "FailureAction": "pause"}}


def populate(sw: swarm_lab.SwarmLab, services: int, replicas: int, batch: int = 10) -> float:
    """Create the services `batch` at a time, each batch running before the next: hundreds of task
    starts at once (runc storms) overwhelm a 2-core machine (measured: load average 225, stuck)."""
    start = time.perf_counter()
    in_a = services * 3 // 4
    jobs = [(sw.a1 if i < in_a else sw.b1, f"bench-{i:03d}") for i in range(services)]
    for first in range(0, len(jobs), batch):
        for manager, name in jobs[first:first + batch]:
            status, body = manager.api("POST", "/services/create", spec(name, replicas), 30)
            assert status == 201, body
        want = min(len(jobs), first + batch) * replicas
        while _running(sw) < want:
            time.sleep(1)
        print(f"  {want} tasks running after {time.perf_counter() - start:.0f} s", flush=True)
    return time.perf_counter() - start


def _running(sw: swarm_lab.SwarmLab) -> int:
    return sum(sum(1 for t in node.api("GET", "/tasks", timeout=60)[1]
                   if t["DesiredState"] == "running" and t["Status"]["State"] == "running")
               for node in (sw.a1, sw.b1))


def config(sw: swarm_lab.SwarmLab) -> Config:
    return Config(hosts=tuple(HostConfig(name=n, url=sw.nodes[n].daemon.url, request_timeout=60)
                              for n in swarm_lab.NODES))


async def bench_load(sw: swarm_lab.SwarmLab) -> None:
    cold, warm = [], []
    for _ in range(5):
        start = time.perf_counter()
        async with Fleet(config(sw), live=False) as fleet:
            await fleet.swarm.discover()
            snaps = await fleet.swarm.load_all()
            cold.append(time.perf_counter() - start)
            start = time.perf_counter()
            snaps = await fleet.swarm.load_all()
            warm.append(time.perf_counter() - start)
    counts = [(s.swarm.name, len(s.services), len(s.tasks)) for s in snaps]
    print(f"\n## load: {counts}")
    print(f"| cold (connect + discover + snapshot of both swarms) | {statistics.median(cold):.3f} s median "
          f"| {min(cold):.3f} s min |")
    print(f"| warm (snapshot of both swarms) | {statistics.median(warm):.3f} s median | {min(warm):.3f} s min |")


async def _until(predicate, timeout: float = 30) -> float:
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > timeout:
            raise TimeoutError
        await asyncio.sleep(0.005)
    return time.time()


def _cached_task(fleet: Fleet, task_id: str):
    for snap in fleet.swarm.snapshots():
        for t in snap.tasks:
            if t.id == task_id:
                return t
    return None


async def bench_events(sw: swarm_lab.SwarmLab) -> None:
    async with Fleet(config(sw), live=True) as fleet:
        fleet.swarm.watch("bench")
        await _until(lambda: len(fleet.swarm.snapshots()) == 2, 60)
        task_lags, scale_lags = [], []
        for i in range(5):
            service = f"bench-{i:03d}"
            tasks = sw.running_tasks(service)
            victim = tasks[0]
            node = next(n for n in sw.nodes.values() if n.api("GET", "/info")[1]["Swarm"]["NodeID"] == victim["NodeID"])
            node.api("POST", f"/containers/{victim['Status']['ContainerStatus']['ContainerID']}/kill")
            seen = await _until(lambda: (t := _cached_task(fleet, victim["ID"])) is not None and t.state != "running")
            changed = _cached_task(fleet, victim["ID"])
            task_lags.append(seen - rfc3339_seconds(changed.since))
            start = time.time()
            sw.a1.docker("service", "scale", "-d", f"{service}={len(tasks) + 1}")
            done = await _until(lambda: any(s.name == service and s.desired == len(tasks) + 1
                                            for snap in fleet.swarm.snapshots() for s in snap.services))
            scale_lags.append(done - start)
        print("\n## event → live cache")
        print(f"| task killed on its node → cache shows it (from the daemon's task timestamp) | "
              f"median {statistics.median(task_lags):.3f} s, max {max(task_lags):.3f} s |")
        print(f"| `docker service scale` returned → cache shows the new desired count | "
              f"median {statistics.median(scale_lags):.3f} s, max {max(scale_lags):.3f} s |")


async def bench_idle(sw: swarm_lab.SwarmLab, seconds: float) -> None:
    async with Fleet(config(sw), live=True) as fleet:
        fleet.swarm.watch("bench")
        await _until(lambda: len(fleet.swarm.snapshots()) == 2, 60)
        await asyncio.sleep(5)
        t0, c0 = time.perf_counter(), sum(os.times()[:2])
        await asyncio.sleep(seconds)
        cpu = (sum(os.times()[:2]) - c0) / (time.perf_counter() - t0) * 100
        print(f"\n## idle, live fleet, a pane watching (reload every {fleet.swarm.poll_every:g} s)")
        print(f"| this process's CPU over {seconds:g} s | {cpu:.2f} % of a core |")


async def bench_roll(sw: swarm_lab.SwarmLab) -> None:
    name = "bench-roll"
    status, body = sw.a1.api("POST", "/services/create", spec(name, 6))
    assert status == 201, body
    sw.wait_running(name, 6, timeout=120)
    for node in ("a1", "a2", "a3"):
        sw.nodes[node].docker("tag", IMAGE, "dockyard-test/busybox:roll")
    async with Fleet(config(sw), live=True) as fleet:
        await _until(lambda: len(fleet.swarm.snapshots()) == 2, 60)
        seen: dict[tuple[str, str], float] = {}

        def record(_change) -> None:
            now = time.time()
            for snap in fleet.swarm.snapshots():
                for t in snap.tasks:
                    if t.service == name:
                        seen.setdefault((t.id, t.state), now - (rfc3339_seconds(t.since) or now))

        fleet.subscribe(record)
        sw_a = fleet.swarm.find("a1")
        service = next(s for snap in fleet.swarm.snapshots() for s in snap.services if s.name == name)
        await fleet.swarm.update_image(sw_a, service.id, "dockyard-test/busybox:roll")
        start = time.perf_counter()
        await _until(lambda: any(s.name == name and s.update and s.update.state == "completed"
                                 for snap in fleet.swarm.snapshots() for s in snap.services), 180)
        took = time.perf_counter() - start
        lags = [lag for (_, state), lag in seen.items() if state in ("running", "shutdown", "ready", "starting")]
        print("\n## rolling update, 6 replicas, parallelism 1")
        print(f"| update took | {took:.1f} s; task transitions seen: {len(lags)} |")
        print(f"| transition → live cache (daemon timestamp → change) | median {statistics.median(lags):.3f} s, "
              f"max {max(lags):.3f} s |")


async def bench_pane(sw: swarm_lab.SwarmLab, seconds: float, services: int) -> None:
    from dockyard.ui.app import DockyardApp

    app = DockyardApp(config(sw))
    async with app.run_test(size=(170, 45)) as pilot:
        wanted = services
        await _until(lambda: sum(len(s.services) for s in app.fleet.swarm.snapshots()) >= wanted, 120)
        await pilot.pause(1)
        table = app.panes["services"].table
        start = time.perf_counter()
        await pilot.press("7")
        await _until(lambda: table.row_count > 0)
        first = time.perf_counter() - start
        await _until(lambda: table.row_count >= wanted)
        every = time.perf_counter() - start

        await pilot.press("1")
        start = time.perf_counter()
        app.show_pane("services")  # what the key runs: rows built and in the table, painted next frame
        direct = time.perf_counter() - start
        assert table.row_count >= wanted

        await pilot.press("8")
        tasks = app.panes["tasks"]
        lags = []
        for i in range(5, 10):  # in swarm A, untouched by `event`
            victim = sw.running_tasks(f"bench-{i:03d}")[0]
            key = next(k for k, _ in tasks._rendered if k.endswith(victim["ID"]))  # noqa: SLF001
            node = next(n for n in sw.nodes.values() if n.api("GET", "/info")[1]["Swarm"]["NodeID"] == victim["NodeID"])
            node.api("POST", f"/containers/{victim['Status']['ContainerStatus']['ContainerID']}/kill")

            def shown_changed() -> bool:
                row = dict(tasks._rendered).get(key)  # noqa: SLF001 - the cells on screen
                return row is None or not row[5].plain.startswith("running")

            seen = await _until(shown_changed)
            task = _cached_task(app.fleet, victim["ID"])
            lags.append(seen - (rfc3339_seconds(task.since) if task else seen))

        await pilot.press("7")
        await pilot.pause(5)
        t0, c0 = time.perf_counter(), sum(os.times()[:2])
        await asyncio.sleep(seconds)
        cpu = (sum(os.times()[:2]) - c0) / (time.perf_counter() - t0) * 100
    print(f"\n## the app, headless ({wanted} services)")
    print(f"| `7` → Services pane first rows / all {wanted} (Pilot's key press and wait included) | "
          f"{first:.3f} / {every:.3f} s |")
    print(f"| show_pane('services') itself: rows built and in the table | {direct:.3f} s |")
    print(f"| task killed → its Tasks row no longer running (from the daemon's timestamp) | "
          f"median {statistics.median(lags):.3f} s, max {max(lags):.3f} s |")
    print(f"| CPU with the Services pane open, {seconds:g} s | {cpu:.2f} % of a core |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--replicas", type=int, default=5)
    parser.add_argument("--idle", type=float, default=30)
    parser.add_argument("parts", nargs="*", default=["load", "event", "idle", "roll", "pane"])
    args = parser.parse_args()
    sw = swarm_lab.SwarmLab.start()
    try:
        print(f"swarm lab up in {sw.startup_seconds:.1f} s; creating {args.services} services × {args.replicas}")
        took = populate(sw, args.services, args.replicas)
        print(f"all tasks running after {took:.0f} s")
        if "load" in args.parts:
            asyncio.run(bench_load(sw))
        if "event" in args.parts:
            asyncio.run(bench_events(sw))
        if "idle" in args.parts:
            asyncio.run(bench_idle(sw, args.idle))
        if "roll" in args.parts:
            asyncio.run(bench_roll(sw))
        if "pane" in args.parts:
            asyncio.run(bench_pane(sw, args.idle, args.services + ("roll" in args.parts)))
    finally:
        sw.stop()


if __name__ == "__main__":
    main()
