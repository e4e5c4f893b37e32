"""Swarm benchmarks against real swarms on loopback (tests/swarm_lab.py; run by hand, as root).

    python3 bench/bench_swarm.py [--services 200] [--replicas 5] [--batch 10] [--idle 30] [--refresh-hz 2] [parts]
    python3 bench/bench_swarm.py big       # the issue's fleet: 200 services × 5 = 1,000 tasks; load roll pane
    python3 bench/bench_swarm.py --services 10 --replicas 2 pane roll    # the on-screen lags, quickly

Swarm A (a1, a2 managers, a3 worker) gets 3/4 of the services, swarm B (b1) the rest; every
service runs `--replicas` busybox tasks that sleep for ever, created `--batch` services at a time.
Then:

load    cold: new Fleet → connect, discover, one snapshot per swarm (what the Services pane's
        first rows wait for); warm: a snapshot of both swarms on a connected fleet. Median of 5.
event   live Fleet: a task's container is killed on its node → the cache shows that task failed
        (and its replacement), timed from the daemon's own task timestamp; a `service scale`
        → the cache shows the new desired count. 5 each.
idle    live Fleet with a pane watching (reload every 5 s): this process's CPU over `--idle` s.
roll    the app, headless, Tasks pane open (all tasks): a rolling update of a 6-replica service
        (parallelism 1); every task state that reaches the pane's rows, timed from that state's
        daemon timestamp (`Status.Timestamp`) to the rows holding it; the same for the cache.
pane    the app, headless (Textual's run_test, 170×45; no terminal, so no output cost): `7` →
        the Services pane's first rows and all rows; 5 times a task's container killed on its
        node → its row in the Tasks pane (`8`) shows the new state, from that state's daemon
        timestamp; the process's CPU over `--idle` s with the Services pane open.

"Rows show" is when the pane hands the row to its table (it paints in the next frame).
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

from dockyard.config.model import Config, HostConfig, UIConfig  # noqa: E402
from dockyard.fleet import Fleet  # noqa: E402
from dockyard.textfmt import rfc3339_seconds  # noqa: E402


def spec(name: str, replicas: int) -> dict:
    return {"Name": name, "Labels": {"bench": "swarm"},
            "TaskTemplate": {"ContainerSpec": {"Image": IMAGE, "Args": ["sleep", "100000"],
                                               "StopSignal": "SIGKILL", "StopGracePeriod": 1_000_000_000},
                             "RestartPolicy": {"Condition": "any", "Delay": 0}},
            "Mode": {"Replicated": {"Replicas": replicas}},
            "UpdateConfig": {"Parallelism": 1, "Delay": 0, "Monitor": 200_000_000, "FailureAction": "pause"}}


def populate(sw: swarm_lab.SwarmLab, services: int, replicas: int, batch: int = 10, timeout: float = 1800) -> float:
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
        while (running := _running(sw)) < want:
            if time.perf_counter() - start > timeout:
                raise TimeoutError(f"{running} of {want} tasks running after {timeout:g} s (load {os.getloadavg()})")
            time.sleep(1)
        print(f"  {want} tasks running after {time.perf_counter() - start:.0f} s, load {os.getloadavg()[0]:.1f}",
              flush=True)
    return time.perf_counter() - start


def _running(sw: swarm_lab.SwarmLab) -> int:
    return sum(sum(1 for t in node.api("GET", "/tasks", timeout=60)[1]
                   if t["DesiredState"] == "running" and t["Status"]["State"] == "running")
               for node in (sw.a1, sw.b1))


REFRESH_HZ = UIConfig.refresh_hz  # the app's paint cap (`--refresh-hz`)


def config(sw: swarm_lab.SwarmLab) -> Config:
    return Config(hosts=tuple(HostConfig(name=n, url=sw.nodes[n].daemon.url, request_timeout=60)
                              for n in swarm_lab.NODES), ui=UIConfig(refresh_hz=REFRESH_HZ))


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


def _first_task(sw: swarm_lab.SwarmLab, service: str) -> dict:
    """A running task of `service`, in whichever swarm holds it."""
    in_a = sw.a1.api("GET", f"/services/{service}")[0] == 200
    return sw.running_tasks(service, "A" if in_a else "B")[0]


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


class ShownStates:
    """When each (task, state) first reached a tasks table's rows, and that state's daemon
    timestamp: wraps the pane's `sync_table` (what hands rows to the table)."""

    def __init__(self, app, pane) -> None:
        self.first: dict[tuple[str, str], float] = {}  # (task id, state) -> lag, s
        original = pane.sync_table
        column = [c.label for c in pane.active_columns].index("CURRENT")

        def sync(wanted) -> None:
            original(wanted)
            now = time.time()
            tasks = {t.id: t for snap in app.fleet.swarm.snapshots() for t in snap.tasks}
            for key, cells in wanted:
                task_id = key.split("\x00")[1]
                state = cells[column].plain.split(" ", 1)[0]
                task = tasks.get(task_id)
                if (task_id, state) not in self.first and task is not None and task.state == state:
                    self.first[(task_id, state)] = now - (rfc3339_seconds(task.since) or now)

        pane.sync_table = sync

    def lags(self, task_ids: set[str], before: set[tuple[str, str]] = frozenset()) -> list[float]:
        return [lag for key, lag in self.first.items() if key[0] in task_ids and key not in before]

    def worst(self, task_ids: set[str], before: set[tuple[str, str]] = frozenset(), n: int = 4) -> str:
        """The slowest states, for finding where the time goes."""
        found = sorted(((lag, state) for (task_id, state), lag in self.first.items()
                        if task_id in task_ids and (task_id, state) not in before), reverse=True)[:n]
        return ", ".join(f"{state} {lag:.2f} s" for lag, state in found)


def _lag_line(what: str, lags: list[float]) -> str:
    if not lags:
        return f"| {what} | none seen |"
    return (f"| {what} | median {statistics.median(lags):.3f} s, max {max(lags):.3f} s, "
            f"{sum(lag > 1 for lag in lags)}/{len(lags)} over 1 s |")


async def bench_roll(sw: swarm_lab.SwarmLab) -> None:
    from dockyard.ui.app import DockyardApp

    name = "bench-roll"
    status, body = sw.a1.api("POST", "/services/create", spec(name, 6))
    assert status == 201, body
    sw.wait_running(name, 6, timeout=300)
    for node in ("a1", "a2", "a3"):
        sw.nodes[node].docker("tag", IMAGE, "dockyard-test/busybox:roll")
    app = DockyardApp(config(sw))
    async with app.run_test(size=(170, 45)) as pilot:
        fleet = app.fleet
        await _until(lambda: any(s.name == name for snap in fleet.swarm.snapshots() for s in snap.services), 120)
        await pilot.press("8", "a")  # the Tasks pane, every task (the replaced ones too)
        tasks = app.panes["tasks"]
        await _until(lambda: tasks.show_all)
        shown = ShownStates(app, tasks)
        cached: dict[tuple[str, str], float] = {}

        def record(_change) -> None:
            now = time.time()
            for snap in fleet.swarm.snapshots():
                for t in snap.tasks:
                    if t.service == name:
                        cached.setdefault((t.id, t.state), now - (rfc3339_seconds(t.since) or now))

        fleet.subscribe(record)
        await pilot.pause(1)
        before = set(shown.first) | set(cached)
        sw_a = fleet.swarm.find("a1")
        service = next(s for snap in fleet.swarm.snapshots() for s in snap.services if s.name == name)
        start = time.perf_counter()
        await fleet.swarm.update_image(sw_a, service.id, "dockyard-test/busybox:roll")
        await _until(lambda: any(s.name == name and s.update and s.update.state == "completed"
                                 for snap in fleet.swarm.snapshots() for s in snap.services), 300)
        took = time.perf_counter() - start
        await pilot.pause(1.5)  # the last shutdowns reach the screen
        ids = {t.id for snap in fleet.swarm.snapshots() for t in snap.tasks if t.service == name}
        on_screen = shown.lags(ids, before)
        in_cache = [lag for key, lag in cached.items() if key not in before]
        slowest = shown.worst(ids, before)
    print(f"\n## rolling update, 6 replicas, parallelism 1, the app's Tasks pane open (all tasks), "
          f"ui.refresh_hz {REFRESH_HZ:g}")
    print(f"| update took | {took:.1f} s |")
    print(_lag_line("task state (daemon timestamp) → the pane's rows", on_screen))
    print(f"| slowest on the pane | {slowest} |")
    print(_lag_line("task state (daemon timestamp) → live cache", in_cache))


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

        await pilot.press("8", "a")  # every task: a failed one is no longer meant to run
        tasks = app.panes["tasks"]
        await _until(lambda: tasks.show_all)
        shown = ShownStates(app, tasks)
        lags = []
        for i in range(5, 10):  # untouched by `event`
            victim = _first_task(sw, f"bench-{i:03d}")
            node = next(n for n in sw.nodes.values() if n.api("GET", "/info")[1]["Swarm"]["NodeID"] == victim["NodeID"])
            node.api("POST", f"/containers/{victim['Status']['ContainerStatus']['ContainerID']}/kill")
            await _until(lambda: any(k[0] == victim["ID"] and k[1] != "running" for k in shown.first))
            lags += [lag for (task_id, state), lag in shown.first.items() if task_id == victim["ID"] and state != "running"]
            await asyncio.sleep(1)

        await pilot.press("7")
        await pilot.pause(5)
        t0, c0 = time.perf_counter(), sum(os.times()[:2])
        await asyncio.sleep(seconds)
        cpu = (sum(os.times()[:2]) - c0) / (time.perf_counter() - t0) * 100
    print(f"\n## the app, headless ({wanted} services)")
    print(f"| `7` → Services pane first rows / all {wanted} (Pilot's key press and wait included) | "
          f"{first:.3f} / {every:.3f} s |")
    print(f"| show_pane('services') itself: rows built and in the table | {direct:.3f} s |")
    print(_lag_line("task killed → its Tasks row's new state (from the daemon's timestamp of that state)", lags))
    print(f"| CPU with the Services pane open, {seconds:g} s | {cpu:.2f} % of a core |")


def main() -> None:
    global REFRESH_HZ
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--replicas", type=int, default=5)
    parser.add_argument("--batch", type=int, default=10, help="services created at a time (each batch running first)")
    parser.add_argument("--idle", type=float, default=30)
    parser.add_argument("--refresh-hz", type=float, default=REFRESH_HZ, help="the app's ui.refresh_hz (paint cap)")
    parser.add_argument("parts", nargs="*", default=["load", "event", "idle", "roll", "pane"],
                        help="load event idle roll (or rolling) pane; big: 200 × 5 tasks, load roll pane")
    args = parser.parse_args()
    REFRESH_HZ = args.refresh_hz
    parts = {"rolling": "roll"}
    wanted = [parts.get(p, p) for p in args.parts]
    if "big" in wanted:
        args.services, args.replicas = 200, 5
        wanted = [p for p in wanted if p != "big"] or ["load", "roll", "pane"]
    if args.services < 10 and {"event", "pane"} & set(wanted):
        parser.error("event and pane need --services 10 or more")
    sw = swarm_lab.SwarmLab.start()
    try:
        print(f"swarm lab up in {sw.startup_seconds:.1f} s; creating {args.services} services × {args.replicas}, "
              f"{args.batch} at a time; load {os.getloadavg()[0]:.1f}", flush=True)
        took = populate(sw, args.services, args.replicas, args.batch)
        print(f"all tasks running after {took:.0f} s")
        if "load" in wanted:
            asyncio.run(bench_load(sw))
        if "event" in wanted:
            asyncio.run(bench_events(sw))
        if "idle" in wanted:
            asyncio.run(bench_idle(sw, args.idle))
        if "roll" in wanted:
            asyncio.run(bench_roll(sw))
        if "pane" in wanted:
            asyncio.run(bench_pane(sw, args.idle, args.services + ("roll" in wanted)))
    finally:
        sw.stop()


if __name__ == "__main__":
    from lab import owner
    owner.stop_on_signals()  # a SIGTERM or hang-up stops the labs this run started (tests/lab/owner.py)
    main()
