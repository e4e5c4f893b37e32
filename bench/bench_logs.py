"""Log-flood and exec benchmarks against the real lab, run by hand as root.

    python3 bench/bench_logs.py                       # all: controller, tui (10 min), exec
    python3 bench/bench_logs.py tui --minutes 2       # a selection, shorter RSS run (smoke)
    python3 bench/bench_logs.py controller exec

The flood: 10 containers over 3 hosts (4 on d1 = `unix1`, 3 on d3 = `unix3`, 3 on d2 = `ssh`,
i.e. d2 through the SSH transport), each a busybox loop printing numbered lines
(`$HOSTNAME $i`) and sleeping `--sleep-us` every `--batch` lines — ~500 lines/s each, ~5,000/s
in total. The rate actually produced is measured from the counters and reported.

controller  in-process `Fleet(...).containers.logs(sources, tail=0)` for 30 s: lines/s received; per
            container the counters must go up by exactly 1 (no line lost, none reordered);
            global timestamp order; delivery lag = arrival (wall clock) - the daemon's timestamp
            (same machine clock), which includes the merge's 0.25 s reorder window.
tui         `dockyard --config CFG` in tmux (160x45, own tmux socket `-L dockyard-bench-logs`),
            `:logs flood-` opens the merged view of the 10 containers; after the 20,000-line
            buffer is full: key -> screen change for `t` (timestamps on/off, detected by the
            status line's "timestamps"), `w` (wrap) and space (FOLLOWING <-> PAUSED), 30 presses
            each (`--profile PATH`: py-spy stacks meanwhile; `--probe PATH`: the app runs under
            loop_probe.py, which logs event-loop callbacks >= 20 ms and collections >= 10 ms); then
            with timestamps on, every 10 s for `--minutes` (default 10): RSS, CPU, and the
            display lag (now - newest timestamp on screen).
exec        `fleet.containers.exec(host, cid, ["sh"])` (TTY): write one byte, time until it is echoed
            back; 200 keystrokes over SSH (d2) and over unix (d1); with the flood stopped, and
            again during the flood.

Everything started here is stopped here (tmux sessions by name on our own socket, lab.stop()).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests"), str(HERE)]

import bench_tui as bt  # noqa: E402
from lab import Lab  # noqa: E402

from dockyard.config.loader import load_config  # noqa: E402
from dockyard.fleet import Fleet, LogLine, LogNotice, LogSource  # noqa: E402
from dockyard.fleet.logs import timestamp_key  # noqa: E402

bt.TMUX = ["tmux", "-L", "dockyard-bench-logs"]  # our own tmux server; bench_tui's helpers use it
ENV = {"DOCKYARD_NO_DOCKER_HUB": "1"}
PER_DAEMON = (("d1", "unix1", 4), ("d3", "unix3", 3), ("d2", "ssh", 3))
LOOP = 'i=0; while :; do echo "$HOSTNAME $i"; i=$((i+1)); [ $((i % {batch})) = 0 ] && usleep {us}; done'
TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")


def ts_epoch(ts: str) -> float:
    """RFC 3339 with up to 9 fraction digits -> epoch seconds."""
    head, _, frac = ts.rstrip("Z").partition(".")
    base = datetime.fromisoformat(head).replace(tzinfo=timezone.utc).timestamp()
    return base + (float("0." + frac) if frac else 0.0)


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]


def ms(v: float) -> str:
    return f"{v * 1000:.1f} ms" if v < 0.1 else f"{v * 1000:.0f} ms"


class Flood:
    def __init__(self, lab: Lab, batch: int, sleep_us: int):
        self.lab = lab
        self.batch, self.sleep_us = batch, sleep_us
        self.containers: list[tuple[str, str, str, str]] = []  # (daemon, host, id, name)

    def start(self) -> None:
        cmd = LOOP.format(batch=self.batch, us=self.sleep_us)
        for dname, host, n in PER_DAEMON:
            d = getattr(self.lab, dname)
            for k in range(n):
                name = f"flood-{dname}-{k}"
                cid = d.run_container(name, "sh", "-c", cmd)
                self.containers.append((dname, host, cid, name))

    def sources(self) -> list[LogSource]:
        return [LogSource(host, cid, name) for _, host, cid, name in self.containers]

    def stop(self) -> None:
        for dname, _, cid, _ in self.containers:
            getattr(self.lab, dname).docker("rm", "-f", cid, check=False)
        self.containers.clear()


# --------------------------------------------------------------------------- (a) controller


async def _controller(cfg: Path, sources: list[LogSource], seconds: float) -> dict:
    last: dict[str, int] = {}
    first_seen: dict[str, tuple[int, float]] = {}  # cid -> (counter, daemon ts)
    last_seen: dict[str, tuple[int, float]] = {}
    gaps = reorders = dup = 0
    gap_examples: list[str] = []
    lags: list[float] = []
    notices: list[str] = []
    lines = 0
    prev_key = ""
    order_violations = 0
    async with Fleet(load_config(str(cfg)), live=False) as fleet:
        await fleet.wait_settled(15)
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.monotonic()
        t_first = None
        stream = fleet.containers.logs(sources, tail=0)
        try:
            async for item in stream:
                now = time.time()
                if isinstance(item, LogNotice):
                    notices.append(f"{item.source.label}: {item.message}")
                    continue
                assert isinstance(item, LogLine)
                if t_first is None:
                    t_first = time.monotonic()
                lines += 1
                cid = item.source.container_id
                n = int(item.text.rsplit(" ", 1)[-1])
                ts = ts_epoch(item.timestamp)
                lags.append(now - ts)
                k = timestamp_key(item.timestamp)
                if k < prev_key:
                    order_violations += 1
                prev_key = max(prev_key, k)
                if cid in last:
                    if n == last[cid] + 1:
                        pass
                    elif n > last[cid] + 1:
                        gaps += 1
                        if len(gap_examples) < 5:
                            gap_examples.append(f"{item.source.label}: {last[cid]} -> {n}")
                    elif n == last[cid]:
                        dup += 1
                    else:
                        reorders += 1
                else:
                    first_seen[cid] = (n, ts)
                last[cid] = n
                last_seen[cid] = (n, ts)
                if time.monotonic() - t0 >= seconds:
                    break
        finally:
            await stream.aclose()
        elapsed = time.monotonic() - (t_first or t0)
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (ru1.ru_utime - ru0.ru_utime + ru1.ru_stime - ru0.ru_stime) / (time.monotonic() - t0) * 100
    produced = {cid: (last_seen[cid][0] - first_seen[cid][0]) / max(1e-9, last_seen[cid][1] - first_seen[cid][1])
                for cid in first_seen}
    return {"lines": lines, "elapsed": elapsed, "gaps": gaps, "reorders": reorders, "dup": dup,
            "gap_examples": gap_examples, "lags": lags, "notices": notices, "order_violations": order_violations,
            "produced": produced, "cpu": cpu, "containers_seen": len(first_seen)}


def bench_controller(lab: Lab, cfg: Path, flood: Flood, seconds: float = 30) -> None:
    r = asyncio.run(_controller(cfg, flood.sources(), seconds))
    by_host: dict[str, float] = {}
    for _, host, cid, _ in flood.containers:
        by_host[host] = by_host.get(host, 0.0) + r["produced"].get(cid, 0.0)
    produced = sum(r["produced"].values())
    lags = r["lags"]
    rows = [[f"{len(flood.containers)} ({r['containers_seen']} seen)",
             f"{produced:,.0f}/s (" + ", ".join(f"{h} {v:,.0f}" for h, v in by_host.items()) + ")",
             f"**{r['lines'] / r['elapsed']:,.0f}/s** ({r['lines']:,} in {r['elapsed']:.1f} s)",
             f"{r['gaps']} / {r['reorders']} / {r['dup']}", str(r["order_violations"]),
             f"{ms(statistics.median(lags))} / {ms(pct(lags, 0.95))} / **{ms(max(lags))}**",
             f"{r['cpu']:.0f} %"]]
    bt.md_table(f"a. Controller: merged follow, 10 containers over 3 hosts, {seconds:.0f} s (in-process Fleet.logs, tail=0)",
                ["containers", "produced (from counters)", "received", "per-container gaps / reorders / dups",
                 "global ts order violations", "delivery lag median / p95 / max", "bench process CPU"], rows)
    if r["gap_examples"]:
        print("\ngap examples: " + "; ".join(r["gap_examples"]))
    if r["notices"]:
        print("\nnotices: " + "; ".join(r["notices"][:10]))


# --------------------------------------------------------------------------- (b) TUI


def status_line(screen: str) -> str:
    for line in screen.splitlines():
        if "FOLLOWING" in line or "PAUSED" in line:
            return line
    return ""


def press_until(name: str, key: str, done, timeout: float = 10) -> float:
    """Seconds from sending `key` until `done(screen)` (nan after `timeout`)."""
    t0 = time.perf_counter()
    bt.send(name, key)
    return bt.wait_screen(name, done, timeout, t0=t0, poll=0.002)[0]


def newest_ts_lag(screen: str) -> float:
    stamps = TS.findall(screen)
    return time.time() - max(ts_epoch(s) for s in stamps) if stamps else float("nan")


def bench_tui(lab: Lab, cfg: Path, flood: Flood, minutes: float, presses: int = 30,
              profile: str | None = None, probe: str | None = None) -> None:
    name = "dybl-tui"
    if probe:  # the same app under bench/loop_probe.py: what holds the event loop ≥ 20 ms
        bt.start_session(name, f"{sys.executable} {HERE / 'loop_probe.py'} --config {cfg}",
                         env={**ENV, "DOCKYARD_PROBE_FILE": probe})
    else:
        bt.start_session(name, bt.dockyard_cmd(cfg), env=ENV)
    rows: list[list[str]] = []
    samples: list[tuple[float, float, float, str, float]] = []
    try:
        pid = bt.find_pid(name, str(cfg))
        bt.wait_screen(name, lambda s: all(c[3] in s for c in flood.containers[:1]) and "flood-d2-0" in s, 30,
                       "flood containers")
        bt.send(name, ":")
        time.sleep(0.3)
        subprocess.run([*bt.TMUX, "send-keys", "-t", name, "-l", "logs flood-"], check=True)
        t_open = time.perf_counter()
        bt.send(name, "Enter")
        _, screen = bt.wait_screen(name, lambda s: "FOLLOWING" in status_line(s)
                                   and "flood-" in s.split(status_line(s), 1)[1], 20, "merged logs view")
        opened = time.perf_counter() - t_open
        print(f"\n`:logs flood-` → first flood lines on screen: {opened:.2f} s; status: "
              f"`{status_line(screen).strip()}`")
        labels = {c[3] for c in flood.containers}
        deadline = time.monotonic() + 30
        while "20000 lines" not in status_line(bt.capture(name)) and time.monotonic() < deadline:
            time.sleep(0.5)
        screen = bt.capture(name)
        print(f"status before the key presses: `{status_line(screen).strip()}`; sources in the view: "
              f"{sum(1 for lab_ in labels if lab_ in screen)} of 10 visible on one screen")
        rss_start = bt.rss_mb(pid)
        spy = None
        if profile:  # collapsed stacks of the app while the keys are pressed (py-spy must be installed)
            spy = subprocess.Popen(["py-spy", "record", "--format", "raw", "-r", "200", "-o", profile,
                                    "-p", str(pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        for key, label, on, off in (("t", "`t` timestamps on/off (re-formats the rows on screen)",
                                     lambda s: "timestamps" in status_line(s),
                                     lambda s: "timestamps" not in status_line(s)),
                                    ("w", "`w` wrap on/off (row counts of the 20,000 lines)",
                                     lambda s: "wrap" in status_line(s),
                                     lambda s: "wrap" not in status_line(s)),
                                    ("space", "space pause/follow",
                                     lambda s: "PAUSED" in status_line(s),
                                     lambda s: "FOLLOWING" in status_line(s))):
            times = []
            for i in range(presses):
                times.append(press_until(name, key, on if i % 2 == 0 else off))
                time.sleep(0.2)
            ok = [t for t in times if t == t]
            rows.append([label, str(len(times)), f"**{ms(statistics.median(ok))}**", ms(pct(ok, 0.95)),
                         ms(max(ok)), str(len(times) - len(ok)),
                         "ok" if pct(ok, 0.95) <= 0.1 else "**over**"])
        if spy:
            spy.send_signal(2)
            spy.wait(30)
            print(f"py-spy profile of the key presses: {profile}")
        # floor: same loop against `cat`
        bt.start_session("dybl-floor", "cat")
        floor = [bt.press("dybl-floor", "x", escapes=False, quiet=0.03)[0] for _ in range(20)]
        bt.kill_session("dybl-floor")

        # RSS / lag run, timestamps on, following
        if "timestamps" not in status_line(bt.capture(name)):
            press_until(name, "t", lambda s: "timestamps" in status_line(s))
        if "FOLLOWING" not in status_line(bt.capture(name)):
            press_until(name, "space", lambda s: "FOLLOWING" in status_line(s))
        t_end = time.monotonic() + minutes * 60
        t_run0 = time.monotonic()
        while True:
            c0, w0 = bt.cpu_ticks(pid), time.monotonic()
            time.sleep(10)
            cpu = (bt.cpu_ticks(pid) - c0) / bt.CLK_TCK / (time.monotonic() - w0) * 100
            screen = bt.capture(name)
            m = re.search(r"(?:FOLLOWING|PAUSED)\s+(\d+) lines", status_line(screen))
            samples.append((time.monotonic() - t_run0, bt.rss_mb(pid), cpu, m.group(1) if m else "?",
                            newest_ts_lag(screen)))
            if time.monotonic() >= t_end:
                break
        alive = bt.session_alive(name)
    finally:
        bt.quit_app(name)

    bt.md_table("b1. TUI: key press → screen change while 10 containers flood (tmux 160x45, buffer full)",
                ["key", "n", "median", "p95", "max", "timeouts", "target p95 ≤ 100 ms"], rows)
    fl = bt.stats_ms(floor)
    print(f"\nmeasurement floor (`cat` echo through the same tmux loop): median {fl[0]}, p95 {fl[1]}. "
          "Change detected on the status line (FOLLOWING/PAUSED, \"timestamps\"), polled with capture-pane.")
    rss = [s[1] for s in samples]
    bt.md_table(f"b2. TUI: RSS / CPU / display lag every 10 s over {minutes:g} min (timestamps on, following)",
                ["t", "RSS", "CPU (one core)", "buffer", "display lag (now − newest ts on screen)"],
                [[f"{s[0]:.0f} s", f"{s[1]:.0f} MB", f"{s[2]:.0f} %", s[3], ms(s[4])] for s in samples])
    n = len(rss)
    first_half = statistics.mean(rss[: max(1, n // 2)])
    second_half = statistics.mean(rss[n // 2:])
    print(f"\nRSS at buffer full (before keys): {rss_start:.0f} MB; during the run min {min(rss):.0f} / "
          f"max {max(rss):.0f} MB; mean of 1st half {first_half:.0f} MB vs 2nd half {second_half:.0f} MB "
          f"(drift {second_half - first_half:+.0f} MB); "
          f"CPU median {statistics.median(s[2] for s in samples):.0f} %; "
          f"display lag median {ms(statistics.median(s[4] for s in samples))}, max {ms(max(s[4] for s in samples))}; "
          f"app alive at the end: {alive}.")


# --------------------------------------------------------------------------- (c) exec


async def _echo_rtt(fleet: Fleet, host: str, cid: str, n: int) -> list[float]:
    session = await fleet.containers.exec(host, cid, ["sh"], rows=45, cols=160)
    buf = bytearray()
    got = asyncio.Event()

    async def reader() -> None:
        while True:
            data = await session.read()
            if data is None:
                return
            buf.extend(data)
            got.set()

    task = asyncio.create_task(reader())

    async def wait_for_bytes(needle: bytes, start: int, timeout: float = 5) -> None:
        async def loop() -> None:
            while needle not in buf[start:]:
                got.clear()
                await got.wait()
        await asyncio.wait_for(loop(), timeout)

    times: list[float] = []
    try:
        await wait_for_bytes(b"# ", 0)  # the prompt
        await asyncio.sleep(0.1)
        for i in range(n):
            if i and i % 20 == 0:  # ctrl-U: clear the line, not measured
                await session.write(b"\x15")
                await asyncio.sleep(0.03)
            start = len(buf)
            ch = b"x"
            t0 = time.perf_counter()
            await session.write(ch)
            await wait_for_bytes(ch, start)
            times.append(time.perf_counter() - t0)
            await asyncio.sleep(0.005)
        await session.write(b"\x15exit\r")
        await asyncio.sleep(0.2)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await session.close()
    return times


async def _exec_all(cfg: Path, targets: list[tuple[str, str, str]], n: int) -> dict[str, list[float]]:
    out = {}
    async with Fleet(load_config(str(cfg)), live=False) as fleet:
        await fleet.wait_settled(15)
        for label, host, cid in targets:
            await _echo_rtt(fleet, host, cid, 20)  # warm-up
            out[label] = await _echo_rtt(fleet, host, cid, n)
    return out


def bench_exec(lab: Lab, cfg: Path, flood: Flood, n: int = 200) -> None:
    ids = {"d2": lab.d2.run_container("exec-d2", "sleep", "3600"),
           "d1": lab.d1.run_container("exec-d1", "sleep", "3600")}
    targets = [("ssh (d2 over SSH)", "ssh", ids["d2"]), ("unix1 (d1, unix socket)", "unix1", ids["d1"])]
    rows = []
    for cond in ("quiet (no flood)", "during the 5,000 lines/s flood"):
        if "during" in cond:
            flood.start()
            time.sleep(3)
        res = asyncio.run(_exec_all(cfg, targets, n))
        for label, times in res.items():
            rows.append([label, cond, str(len(times)), f"**{ms(statistics.median(times))}**",
                         ms(pct(times, 0.95)), ms(max(times)),
                         "ok" if pct(times, 0.95) <= 0.02 else "**over**"])
    bt.md_table(f"c. Exec shell (TTY, busybox sh): one byte written → echoed back, {n} keystrokes",
                ["host", "condition", "n", "median", "p95", "max", "target p95 ≤ 20 ms"], rows)


# --------------------------------------------------------------------------- main


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("modes", nargs="*", default=["all"])
    ap.add_argument("--minutes", type=float, default=10, help="RSS run of the tui mode (default 10)")
    ap.add_argument("--seconds", type=float, default=30, help="controller run (default 30)")
    ap.add_argument("--batch", type=int, default=6, help="lines per sleep in each flood container")
    ap.add_argument("--sleep-us", type=int, default=9500, help="sleep after each batch (µs)")
    ap.add_argument("--profile", metavar="PATH", help="tui: py-spy collapsed stacks during the key presses")
    ap.add_argument("--probe", metavar="PATH", help="tui: run the app under loop_probe.py, slow callbacks to PATH")
    args = ap.parse_args(argv)
    wanted = set(args.modes)
    if "all" in wanted:
        wanted = {"controller", "tui", "exec"}
    if wanted - {"controller", "tui", "exec"}:
        ap.error(f"unknown mode(s): {', '.join(sorted(wanted - {'controller', 'tui', 'exec'}))}")
    if os.geteuid() != 0:
        print("run as root (the lab starts dockerd)", file=sys.stderr)
        return 2
    with bt.tmux_lab("log/exec benchmarks", "dybl-keeper") as lab:
        flood = Flood(lab, args.batch, args.sleep_us)
        cfg = Path(lab.root) / "bench-logs.toml"
        lab.write_config(cfg, hosts=("unix1", "unix3", "ssh"))
        print(f"flood loop per container: `{LOOP.format(batch=args.batch, us=args.sleep_us)}`")
        if wanted & {"controller", "tui"}:
            flood.start()
            time.sleep(2)
        if "controller" in wanted:
            bench_controller(lab, cfg, flood, args.seconds)
        if "tui" in wanted:
            bench_tui(lab, cfg, flood, args.minutes, profile=args.profile, probe=args.probe)
        flood.stop()
        if "exec" in wanted:
            bench_exec(lab, cfg, flood)
    return 0


if __name__ == "__main__":
    from lab import owner
    owner.stop_on_signals()  # a SIGTERM or hang-up stops the labs this run started (tests/lab/owner.py)
    raise SystemExit(main(sys.argv[1:]))
