"""Image benchmarks against a real lab (run by hand, as root): transfer and multi-host pull.

    python3 bench/bench_images.py                  # ~200 MB image, 3 runs each
    python3 bench/bench_images.py --size-mb 1024   # the issue's 1 GB RSS check
    python3 bench/bench_images.py transfer         # a selection: transfer, pull

transfer  Dockyard's host→host transfer (streamed `GET /images/get` → `POST /images/load`, in this
          process) beside `docker save | docker load` between the same two lab daemons (d1 → d2),
          alternating, in one run; plus one transfer to two targets at once (d2 + d3). While
          Dockyard transfers, its own RSS is sampled from /proc/self/status (VmRSS) every 20 ms.
          Targets: throughput ≥ 0.8× save|load; peak RSS ≤ 100 MB.
pull      The same image pushed to the lab registry, then pulled onto 3 hosts at once through
          `Fleet.pull` beside a pull onto one host. Targets: 3 hosts ≤ 1.3× one host.

The test image is made offline: `docker import` of a tarball holding one file of random bytes
(incompressible, so nothing gets faster by compression), FROM-scratch style, one layer.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests")]

from lab import Daemon, Lab, _clean_env

from tui.config.model import Config, HostConfig
from tui.fleet import Fleet

REF = "dockyard-bench/big:1"


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


def docker_save_load(src: Daemon, dst: Daemon) -> float:
    env = _clean_env(DOCKER_CONFIG=src.docker_config)
    start = time.perf_counter()
    subprocess.run(f"docker -H {src.url} save {REF} | docker -H {dst.url} load -q", shell=True, check=True,
                   env=env, capture_output=True)
    return time.perf_counter() - start


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


async def dockyard_transfer(src: Daemon, targets: list[Daemon]) -> tuple[float, float, float, float]:
    """(seconds, baseline RSS MB, peak RSS MB, Dockyard CPU seconds) of one transfer src → targets."""
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
        cpu = cpu_seconds()
        start = time.perf_counter()
        results = [ev async for ev in fleet.transfer([REF], "src", [f"t{i}" for i in range(len(targets))])
                   if ev.done]
        elapsed = time.perf_counter() - start
        cpu = cpu_seconds() - cpu
        running = False
        await sampler
    bad = [r for r in results if not r.ok]
    if bad:
        raise RuntimeError(f"transfer failed: {bad}")
    return elapsed, baseline, peak, cpu


def bench_transfer(lab: Lab, size: int, runs: int) -> None:
    src, dst = lab.d1, lab.d2
    docker_times, our_times, peaks, baselines, cpus = [], [], [], [], []
    for _ in range(runs):
        rmi(dst, REF)
        docker_times.append(docker_save_load(src, dst))
        rmi(dst, REF)
        elapsed, baseline, peak, cpu = asyncio.run(dockyard_transfer(src, [dst]))
        cpus.append(cpu)
        our_times.append(elapsed)
        baselines.append(baseline)
        peaks.append(peak)
    rmi(dst, REF)
    rmi(lab.d3, REF)
    two, _, two_peak, _ = asyncio.run(dockyard_transfer(src, [dst, lab.d3]))
    rmi(dst, REF)
    rmi(lab.d3, REF)

    mb = size / 1e6
    d_med, o_med = statistics.median(docker_times), statistics.median(our_times)
    print(f"\n## Transfer of a {mb:.0f} MB image, d1 → d2 (unix sockets), median of {runs}, alternating\n")
    print("| method | seconds (runs) | MB/s |")
    print("|---|---|---|")
    print(f"| `docker save \\| docker load` | {d_med:.2f} ({', '.join(f'{t:.2f}' for t in docker_times)}) "
          f"| {mb / d_med:.0f} |")
    print(f"| Dockyard `transfer` | {o_med:.2f} ({', '.join(f'{t:.2f}' for t in our_times)}) | {mb / o_med:.0f} |")
    print(f"\nDockyard's own CPU time per transfer: {statistics.median(cpus):.2f} s "
          f"(the rest is the daemons: save reads, load hashes and writes)\n")
    print("| method | seconds | MB/s |\n|---|---|---|")
    print(f"| Dockyard `transfer` to d2 + d3 at once | {two:.2f} | {mb / two:.0f} per target |")
    ratio = d_med / o_med
    print(f"\nThroughput ratio Dockyard / docker save|load: **{ratio:.2f}×** (target ≥ 0.8×: "
          f"{'met' if ratio >= 0.8 else 'NOT met'})")
    peak = max(peaks + [two_peak])
    print(f"\n| Dockyard RSS | MB |\n|---|---|\n| before the transfer | {statistics.median(baselines):.1f} |\n"
          f"| peak during (1 target) | {max(peaks):.1f} |\n| peak during (2 targets) | {two_peak:.1f} |")
    print(f"\nPeak RSS {peak:.1f} MB while moving {mb:.0f} MB (target ≤ 100 MB: {'met' if peak <= 100 else 'NOT met'})")


async def fleet_pull(daemons: list[Daemon], ref: str) -> float:
    cfg = Config(hosts=tuple(host(d, f"h{i}") for i, d in enumerate(daemons)))
    async with Fleet(cfg, live=False) as fleet:
        await fleet.wait_settled(10)
        start = time.perf_counter()
        results = [ev async for ev in fleet.pull(ref, None) if ev.done]
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
    singles, triples, clis = [], [], []
    try:
        for _ in range(runs):
            for d in hosts:
                rmi(d, ref)
            singles.append(asyncio.run(fleet_pull([lab.d2], ref)))
            for d in hosts:
                rmi(d, ref)
            triples.append(asyncio.run(fleet_pull(hosts, ref)))
            for d in hosts:
                rmi(d, ref)
            clis.append(docker_pull_parallel(hosts, ref))
        for d in hosts:
            rmi(d, ref)
    finally:
        extra.stop()
    mb = size / 1e6
    s_med, t_med = statistics.median(singles), statistics.median(triples)
    print(f"\n## Pull of a {mb:.0f} MB image from the lab registry, median of {runs}, alternating "
          f"(push took {push_time:.1f} s)\n")
    print("| pull onto | seconds (runs) |")
    print("|---|---|")
    print(f"| 1 host (d2) | {s_med:.2f} ({', '.join(f'{t:.2f}' for t in singles)}) |")
    print(f"| 3 hosts at once (d2, d3, fresh daemon) | {t_med:.2f} ({', '.join(f'{t:.2f}' for t in triples)}) |")
    c_med = statistics.median(clis)
    print(f"| baseline: 3 × `docker pull` run in parallel, same hosts | {c_med:.2f} "
          f"({', '.join(f'{t:.2f}' for t in clis)}) |")
    ratio = t_med / s_med
    print(f"\n3 hosts / 1 host: **{ratio:.2f}×** (target ≤ 1.3×: {'met' if ratio <= 1.3 else 'NOT met'}; "
          f"{os.cpu_count()} CPUs shared by 3 daemons and the registry)")
    print(f"Dockyard 3-host / parallel docker CLI: **{t_med / c_med:.2f}×** (the machine's own limit)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", nargs="*", metavar="BENCH", help="transfer and/or pull (default: both)")
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    args.which = args.which or ["transfer", "pull"]
    if set(args.which) - {"transfer", "pull"}:
        parser.error("choose from: transfer, pull")
    with Lab.start() as lab:
        start = time.perf_counter()
        size = make_image(lab.d1, args.size_mb)
        print(f"lab up in {lab.startup_seconds:.1f} s; test image {REF}: {size / 1e6:.0f} MB "
              f"(made in {time.perf_counter() - start:.1f} s); python {sys.version.split()[0]}, "
              f"{os.cpu_count()} CPUs")
        if "transfer" in args.which:
            bench_transfer(lab, size, args.runs)
        if "pull" in args.which:
            bench_pull(lab, size, args.runs)


if __name__ == "__main__":
    main()
