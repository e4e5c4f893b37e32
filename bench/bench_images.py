"""Image benchmarks against a real lab (run by hand, as root): transfer and multi-host pull.

    python3 bench/bench_images.py                  # ~200 MB image, 3 runs each
    python3 bench/bench_images.py --size-mb 1024   # the issue's 1 GB RSS check
    python3 bench/bench_images.py transfer         # a selection: transfer, pull

transfer  Dockyard's host→host transfer (streamed `GET /images/get` → `POST /images/load`, in this
          process) beside `docker save | docker load` between the same two lab daemons (d1 → d2),
          in one run, alternating which goes first; plus one transfer to two targets at once
          (d2 + d3). While Dockyard transfers, its own RSS is sampled from /proc/self/status (VmRSS)
          every 20 ms. Targets: throughput ≥ 0.8× save|load; peak RSS ≤ 100 MB.
pull      The same image pushed to the lab registry, then pulled onto 3 hosts at once through
          `Fleet.pull` beside a pull onto one host, and beside one and three parallel `docker pull`s.
          Target: 3 hosts ≤ 1.3× one host.

Every timed run starts with `sync` (outside the timing) so that no run pays for writing back the
page cache the previous one dirtied (a 1 GB transfer dirties ~2 GB: the save's and the load's temp
copies and the new layer; past `vm.dirty_background_ratio` the kernel starts writing it out, and
whichever run crosses that line is slower). Each run also records CPU seconds per process: the
daemons (dockerd with its containerd and the children it reaped — `docker-untar` and friends),
the registry, the docker CLI (this process's reaped children) and Dockyard (this process), and
the machine's busy time from /proc/stat, so a CPU-bound result shows as such.

The test image is made offline: `docker import` of a tarball holding one file of random bytes
(incompressible, so nothing gets faster by compression), FROM-scratch style, one layer.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Self

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests")]

from lab import Daemon, Lab, _clean_env

from dockyard.config.model import Config, HostConfig
from dockyard.fleet import Fleet

REF = "dockyard-bench/big:1"
CLK = os.sysconf("SC_CLK_TCK")
CPUS = os.cpu_count() or 1


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def make_image(daemon: Daemon, size_mb: int) -> int:
    """A one-layer image with `size_mb` MB of random bytes, via `docker import` (no network)."""
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        blob = Path(tmp) / "blob"
        with open(blob, "wb") as f:
            f.writelines(os.urandom(1 << 20) for _ in range(size_mb))
        tar_path = Path(tmp) / "layer.tar"
        with tarfile.open(tar_path, "w") as tar:
            tar.add(blob, arcname="data/blob")
        blob.unlink()
        daemon.docker("import", str(tar_path), REF, timeout=600)
    out = daemon.docker("image", "inspect", "--format", "{{.Size}}", REF).stdout.strip()
    return int(out)


def rmi(daemon: Daemon, ref: str) -> None:
    daemon.docker("rmi", "-f", ref, check=False, timeout=120)


def host(daemon: Daemon, name: str) -> HostConfig:
    return HostConfig(name=name, url=f"unix://{daemon.socket}", request_timeout=600)


def med(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def runs_text(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


# ---------------------------------------------------------------------- CPU accounting


def _proc_table() -> dict[int, tuple[int, int, int]]:
    """pid -> (ppid, own utime+stime, reaped children's utime+stime), in clock ticks."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(name)] = (int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14]))
    return out


def _tree_ticks(table: dict[int, tuple[int, int, int]], root: int) -> dict[int, int]:
    """CPU ticks of `root` and its live descendants; the root's own entry includes what it reaped."""
    members, frontier = {root}, [root]
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    while frontier:
        for child in children.get(frontier.pop(), ()):
            if child not in members:
                members.add(child)
                frontier.append(child)
    return {pid: table[pid][1] + (table[pid][2] if pid == root else 0) for pid in members if pid in table}


def _machine() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    idle = v[3] + v[4]  # idle + iowait
    return sum(v) - idle, sum(v)


class Meter:
    """Wall time and CPU seconds per process tree over a `with` block.

    `trees`: name -> root pid (dockerd, registry). "cli" is what this process reaped meanwhile
    (the docker CLI), "dockyard" this process itself; "machine" all CPUs' busy seconds."""

    def __init__(self, trees: dict[str, int]):
        self.trees = trees
        self.wall = 0.0
        self.cpu: dict[str, float] = {}

    def __enter__(self) -> Self:
        table = _proc_table()
        self._trees = {name: _tree_ticks(table, pid) for name, pid in self.trees.items()}
        c = resource.getrusage(resource.RUSAGE_CHILDREN)
        self._cli = c.ru_utime + c.ru_stime
        t = os.times()
        self._self = t.user + t.system
        self._machine = _machine()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._start
        busy = _machine()[0] - self._machine[0]
        table = _proc_table()
        for name, pid in self.trees.items():
            before, after = self._trees[name], _tree_ticks(table, pid)
            self.cpu[name] = sum(ticks - before.get(p, 0) for p, ticks in after.items()) / CLK
        c = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu["cli"] = c.ru_utime + c.ru_stime - self._cli
        t = os.times()
        self.cpu["dockyard"] = t.user + t.system - self._self
        self.cpu["machine"] = busy / CLK

    @property
    def cores(self) -> float:
        """Average number of cores busy (whole machine)."""
        return self.cpu["machine"] / self.wall if self.wall else 0.0


def settle() -> None:
    """Write back what earlier runs left dirty, so the next timed run starts from the same state."""
    os.sync()


def timed(trees: dict[str, int], fn: Callable[[], object]) -> tuple[Meter, object]:
    settle()
    with Meter(trees) as m:
        value = fn()
    return m, value


def cpu_table(title: str, rows: list[tuple[str, list[Meter]]], names: list[str]) -> None:
    """Median CPU seconds per process (and machine cores busy) of several measured methods."""
    print(f"\n{title}\n")
    print("| method | wall s | " + " | ".join(f"{n} CPU s" for n in names) + " | machine CPU s | cores busy |")
    print("|---|---|" + "---|" * len(names) + "---|---|")
    for label, meters in rows:
        cells = [f"{med([m.cpu[n] for m in meters]):.2f}" for n in names]
        print(f"| {label} | {med([m.wall for m in meters]):.2f} | " + " | ".join(cells) +
              f" | {med([m.cpu['machine'] for m in meters]):.2f} | {med([m.cores for m in meters]):.2f} of {CPUS} |")


# ---------------------------------------------------------------------- transfer


def docker_save_load(src: Daemon, dst: Daemon) -> None:
    env = _clean_env(DOCKER_CONFIG=src.docker_config)
    subprocess.run(f"docker -H {src.url} save {REF} | docker -H {dst.url} load -q", shell=True, check=True,
                   env=env, capture_output=True)


async def dockyard_transfer(src: Daemon, targets: list[Daemon]) -> tuple[float, float, float]:
    """(seconds, baseline RSS MB, peak RSS MB) of one transfer src → targets."""
    cfg = Config(hosts=(host(src, "src"), *(host(t, f"t{i}") for i, t in enumerate(targets))))
    async with Fleet(cfg, live=False) as fleet:
        await fleet.wait_settled(10)
        baseline = rss_mb()
        peak = baseline
        running = True

        async def sample() -> None:
            nonlocal peak
            while running:
                peak = max(peak, rss_mb())
                await asyncio.sleep(0.02)

        sampler = asyncio.ensure_future(sample())
        start = time.perf_counter()
        results = [ev async for ev in fleet.images.transfer([REF], "src", [f"t{i}" for i in range(len(targets))])
                   if ev.done]
        elapsed = time.perf_counter() - start
        running = False
        await sampler
    bad = [r for r in results if not r.ok]
    if bad:
        raise RuntimeError(f"transfer failed: {bad}")
    return elapsed, baseline, peak


def bench_transfer(lab: Lab, size: int, runs: int) -> None:
    src, dst = lab.d1, lab.d2
    trees = {"d1 (save)": src.pid, "d2 (load)": dst.pid}
    docker_m: list[Meter] = []
    our_m: list[Meter] = []
    our_times, peaks, baselines = [], [], []

    def docker_run() -> None:
        rmi(dst, REF)
        docker_m.append(timed(trees, lambda: docker_save_load(src, dst))[0])

    def our_run() -> None:
        rmi(dst, REF)
        m, (elapsed, baseline, peak) = timed(trees, lambda: asyncio.run(dockyard_transfer(src, [dst])))
        our_m.append(m)
        our_times.append(elapsed)
        baselines.append(baseline)
        peaks.append(peak)

    for i in range(runs):
        for run in ((docker_run, our_run) if i % 2 == 0 else (our_run, docker_run)):
            run()
    rmi(dst, REF)
    rmi(lab.d3, REF)
    settle()
    two, _, two_peak = asyncio.run(dockyard_transfer(src, [dst, lab.d3]))
    rmi(dst, REF)
    rmi(lab.d3, REF)

    mb = size / 1e6
    docker_times = [m.wall for m in docker_m]
    d_med, o_med = med(docker_times), med(our_times)
    print(f"\n## Transfer of a {mb:.0f} MB image, d1 → d2 (unix sockets), median of {runs}, alternating "
          f"(order flips every run)\n")
    print("| method | seconds (runs) | MB/s |")
    print("|---|---|---|")
    print(f"| `docker save \\| docker load` | {d_med:.2f} ({runs_text(docker_times)}) | {mb / d_med:.0f} |")
    print(f"| Dockyard `transfer` | {o_med:.2f} ({runs_text(our_times)}) | {mb / o_med:.0f} |")
    print("\n| method | seconds | MB/s |\n|---|---|---|")
    print(f"| Dockyard `transfer` to d2 + d3 at once | {two:.2f} | {mb / two:.0f} per target |")
    cpu_table("CPU seconds per transfer (median; \"cli\" = both docker CLI processes, \"dockyard\" = this "
              "process, including the Fleet's connect)",
              [("`docker save \\| docker load`", docker_m), ("Dockyard `transfer`", our_m)],
              [*trees, "cli", "dockyard"])
    ratio = d_med / o_med
    print(f"\nThroughput ratio Dockyard / docker save|load: **{ratio:.2f}×** (per run: "
          f"{runs_text([d / o for d, o in zip(docker_times, our_times)])}; target ≥ 0.8×: "
          f"{'met' if ratio >= 0.8 else 'NOT met'})")
    peak = max(peaks + [two_peak])
    print(f"\n| Dockyard RSS | MB |\n|---|---|\n| before the transfer | {med(baselines):.1f} |\n"
          f"| peak during (1 target) | {max(peaks):.1f} |\n| peak during (2 targets) | {two_peak:.1f} |")
    print(f"\nPeak RSS {peak:.1f} MB while moving {mb:.0f} MB (target ≤ 100 MB: {'met' if peak <= 100 else 'NOT met'})")


# ---------------------------------------------------------------------- pull


async def fleet_pull(daemons: list[Daemon], ref: str) -> float:
    cfg = Config(hosts=tuple(host(d, f"h{i}") for i, d in enumerate(daemons)))
    async with Fleet(cfg, live=False) as fleet:
        await fleet.wait_settled(10)
        start = time.perf_counter()
        results = [ev async for ev in fleet.images.pull(ref, None) if ev.done]
        elapsed = time.perf_counter() - start
    bad = [r for r in results if not r.ok]
    if bad:
        raise RuntimeError(f"pull failed: {bad}")
    return elapsed


def docker_pull_parallel(daemons: list[Daemon], ref: str) -> float:
    env = _clean_env(DOCKER_CONFIG=daemons[0].docker_config)
    start = time.perf_counter()
    procs = [subprocess.Popen(["docker", "-H", d.url, "pull", "-q", ref], env=env, stdout=subprocess.DEVNULL)
             for d in daemons]
    if any(p.wait() != 0 for p in procs):
        raise RuntimeError("docker pull failed")
    return time.perf_counter() - start


def bench_pull(lab: Lab, size: int, runs: int) -> None:
    ref = f"{lab.registry.host}/bench/big:1"
    lab.d1.docker("tag", REF, ref)
    start = time.perf_counter()
    lab.d1.docker("push", ref, timeout=900)
    push_time = time.perf_counter() - start
    extra = lab.new_daemon(image=False)
    hosts = [lab.d2, lab.d3, extra]
    trees = {"registry": lab.registry.pid, "d2": lab.d2.pid, "d3": lab.d3.pid, "x (fresh)": extra.pid}
    methods: dict[str, Callable[[], object]] = {
        "Dockyard, 1 host (d2)": lambda: asyncio.run(fleet_pull([lab.d2], ref)),
        "Dockyard, 3 hosts at once (d2, d3, x)": lambda: asyncio.run(fleet_pull(hosts, ref)),
        "`docker pull`, 1 host (d2)": lambda: docker_pull_parallel([lab.d2], ref),
        "3 × `docker pull` in parallel, same hosts": lambda: docker_pull_parallel(hosts, ref),
    }
    meters: dict[str, list[Meter]] = {label: [] for label in methods}
    times: dict[str, list[float]] = {label: [] for label in methods}
    try:
        for _ in range(runs):
            for label, fn in methods.items():
                for d in hosts:
                    rmi(d, ref)
                m, elapsed = timed(trees, fn)
                meters[label].append(m)
                times[label].append(float(elapsed))  # type: ignore[arg-type]
        for d in hosts:
            rmi(d, ref)
    finally:
        extra.stop()
    mb = size / 1e6
    labels = list(methods)
    print(f"\n## Pull of a {mb:.0f} MB image from the lab registry, median of {runs}, alternating "
          f"(push took {push_time:.1f} s)\n")
    print("| pull | seconds (runs) |")
    print("|---|---|")
    for label in labels:
        print(f"| {label} | {med(times[label]):.2f} ({runs_text(times[label])}) |")
    cpu_table("CPU seconds per pull (median; \"dockyard\" = this process)", [(lab_, meters[lab_]) for lab_ in labels],
              [*trees, "cli", "dockyard"])
    single, triple = med(times[labels[0]]), med(times[labels[1]])
    ratio = triple / single
    one_cpu = med([m.cpu["machine"] for m in meters[labels[0]]])
    three_cpu = med([m.cpu["machine"] for m in meters[labels[1]]])
    floor = three_cpu / CPUS
    print(f"\n3 hosts / 1 host: **{ratio:.2f}×** (target ≤ 1.3×: {'met' if ratio <= 1.3 else 'NOT met'}); "
          f"docker CLI, 3 / 1: {med(times[labels[3]]) / med(times[labels[2]]):.2f}×; "
          f"Dockyard 3-host / 3 parallel `docker pull`: {triple / med(times[labels[3]]):.2f}×")
    print(f"CPU bound: one pull keeps {med([m.cores for m in meters[labels[0]]]):.2f} cores busy "
          f"({one_cpu:.2f} CPU s, Dockyard's share {med([m.cpu['dockyard'] for m in meters[labels[0]]]):.2f} s); "
          f"three took {three_cpu:.2f} CPU s (3 × one = {3 * one_cpu:.2f}), which {CPUS} cores cannot do in less "
          f"than {floor:.2f} s ({3 * one_cpu / CPUS:.2f} s) = **{floor / single:.2f}× "
          f"({3 * one_cpu / CPUS / single:.2f}×) the single pull**; 1.3× would take "
          f"{three_cpu / (1.3 * single):.1f} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", nargs="*", metavar="BENCH", help="transfer and/or pull (default: both)")
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    args.which = args.which or ["transfer", "pull"]
    if set(args.which) - {"transfer", "pull"}:
        parser.error("choose from: transfer, pull")
    load = os.getloadavg()
    with Lab.start() as lab:
        start = time.perf_counter()
        size = make_image(lab.d1, args.size_mb)
        driver = lab.d1.docker("info", "--format", "{{.Driver}}").stdout.strip()
        print(f"lab up in {lab.startup_seconds:.1f} s; test image {REF}: {size / 1e6:.0f} MB "
              f"(made in {time.perf_counter() - start:.1f} s); python {sys.version.split()[0]}, "
              f"{CPUS} CPUs; storage driver {driver}; load average before the lab "
              f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        if "transfer" in args.which:
            bench_transfer(lab, size, args.runs)
        if "pull" in args.which:
            bench_pull(lab, size, args.runs)


if __name__ == "__main__":
    from lab import owner
    owner.stop_on_signals()  # a SIGTERM or hang-up stops the labs this run started (tests/lab/owner.py)
    main()
