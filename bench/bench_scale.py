"""Scale benchmark: N hosts (each a socket of ONE extra dockerd), 10 containers each, in one TUI.

    python3 bench/bench_scale.py --hosts 200                   # N unix hosts
    python3 bench/bench_scale.py --hosts 500
    python3 bench/bench_scale.py --hosts 200 --ssh jump        # N SSH hosts behind one bastion
    python3 bench/bench_scale.py --hosts 200 --ssh direct      # N SSH hosts, each its own connection
    python3 bench/bench_scale.py --hosts 200 --cli             # + `dockyard ps --json` vs `docker ps`
    python3 bench/bench_scale.py --hosts 500 --no-tui --cli --cli-repeat 10   # ps --json 10 times in a row
    python3 bench/bench_scale.py --hosts 500 --quick --hangup  # launch → online, q, and a hang-up (SIGHUP)
    python3 bench/bench_scale.py --hosts 200 --ssh jump --quick --repeat 10   # 10 launches in a row
    python3 bench/bench_scale.py --hosts 500 --no-tui --soak 600   # RSS every 30 s for 10 minutes

The scale lab (tests/lab/scale.py): one dockerd listening on N unix sockets `-H unix:///…/hN.sock`
(`--bridge=none --iptables=false --ip-masq=false --ip-forward=false --ip6tables=false`), 10 running
containers with network none: every socket is a distinct host to Dockyard, with the same 10
containers. SSH: the hosts reach their sockets through an sshd on loopback, either behind a bastion
sshd with OpenSSH's default `MaxStartups 10:30:100` (`--ssh jump`) or straight to an sshd with a high
MaxStartups (`--ssh direct`).

Dockyard runs as a user runs it, in tmux (160x45), under `ulimit -n 1024` (soft AND hard: the
process cannot raise it, the strictest case). Measured, in this order:

- launch → first rows, and → all online (the header says `hosts N/N online`, every host's rows loaded)
- app CPU over 30 s right after all online (the connect's background listings still run), and
  again from `--settle` s after it (90: the first image-freshness check is over): the idle proper
  (Containers pane: its visible rows' CPU/MEM sampled), % of one core
- descriptors (/proc/PID/fd) at all-online, after the 30 s idle, after 20 s on the Hosts pane and
  back on the Containers pane 10 s later (it must not keep what the Hosts pane opened)
- `j` ×40 then `G`, `pageup`, `pagedown`, `g`, `j`, `k` in the Hosts and Containers panes: key → first screen change,
  p95 and max
- RSS at the end
- `q` → process gone
- `--hangup`: a second launch, its terminal killed (SIGHUP) once all online → process gone
- `--soak S`: a launch left alone on the Containers pane S s; RSS (and descriptors) every 30 s

The docker CLI has no fleet view; where it applies (`--cli`): `docker ps` over the N sockets in 16
parallel processes against `dockyard ps --json`, with its peak descriptors, under the same limit.

Everything started here is stopped here: tmux sessions by name on their own socket, the daemon and
sshds by pid.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests")]

from bench_tui import (  # noqa: E402
    CLK_TCK, DOCKYARD, capture, cpu_ticks, find_pid, kill_session, md_table, press, rss_mb, send,
    session_alive, start_session, stats_ms,
)
from installed import compile_checkout  # noqa: E402
from lab import Sshd, _keygen, owner  # noqa: E402
from lab.scale import ScaleDaemon  # noqa: E402

CONTAINERS = 10
NOFILE = 1024


def fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def toml(entries: list[dict]) -> str:
    out = []
    for e in entries:
        out.append("[[hosts]]")
        for k, v in e.items():
            out.append(f"{k} = {json.dumps(v)}")
        out.append("")
    return "\n".join(out)


class ScaleLab:
    def __init__(self, n: int, ssh: str | None):
        self.root = tempfile.mkdtemp(prefix="dys", dir="/tmp")
        owner.claim(self.root)  # a SIGTERM/SIGHUP stops it (owner.stop_on_signals); a SIGKILLed run's is reaped next time
        self.n, self.ssh = n, ssh
        self.daemon = ScaleDaemon(self.root, n)
        self.sshds: list[Sshd] = []

    def start(self) -> Path:
        t0 = time.monotonic()
        self.daemon.start(timeout=120)
        self.daemon.ensure_image()
        self.daemon.run_containers(CONTAINERS)
        # dockerd's own start-up with hundreds of listeners keeps a core busy for seconds (9 s at
        # 200 sockets, 30 s at 500): measured before it settles, the figures were the daemon's
        quiet = self.daemon.wait_quiet()
        entries = self.daemon.host_entries()
        if self.ssh:
            ssh_dir = Path(self.root) / "ssh"
            ssh_dir.mkdir()
            key = _keygen(ssh_dir / "client_key", "dockyard-scale-client")
            authorized = ssh_dir / "authorized_keys"
            authorized.write_text(Path(key + ".pub").read_text())
            target = Sshd(self.root, "target", str(authorized), max_startups=1000)
            self.sshds.append(target.start())
            known = ssh_dir / "known_hosts"
            lines = [target.known_hosts_line()]
            jump_port = None
            if self.ssh == "jump":
                bastion = Sshd(self.root, "bastion", str(authorized), max_startups=None)  # OpenSSH's default
                self.sshds.append(bastion.start())
                lines.append(bastion.known_hosts_line())
                jump_port = bastion.port
            known.write_text("\n".join(lines) + "\n")
            entries = self.daemon.ssh_host_entries(target.port, identity_file=key, known_hosts=str(known),
                                                   jump_port=jump_port)
        cfg = Path(self.root) / "scale.toml"
        cfg.write_text(toml(entries))
        print(f"scale lab: {self.n} hosts ({self.ssh or 'unix'}), {CONTAINERS} containers, "
              f"ready in {time.monotonic() - t0:.1f} s (of which {quiet:.0f} s waiting for dockerd to settle)",
              flush=True)
        return cfg

    def stop(self) -> None:
        for s in self.sshds:
            s.stop()
        self.daemon.stop()
        subprocess.run(["rm", "-rf", self.root], check=False)
        owner.release(self.root)


def header_online(screen: str, n: int) -> bool:
    return f"hosts {n}/{n} online" in screen


def launch(lab: ScaleLab, cfg: Path, name: str) -> tuple[int, float | None, float | None]:
    """Start Dockyard in tmux under the descriptor limit: (pid, s to first rows, s to all online)."""
    n = lab.n
    t0 = time.perf_counter()
    start_session(name, f"bash -c 'ulimit -n {NOFILE}; exec {DOCKYARD} --config {cfg}'")
    pid = find_pid(name, str(cfg))
    first = online = None
    total = n * CONTAINERS
    while time.perf_counter() - t0 < 120:
        screen = capture(name)
        now = time.perf_counter() - t0
        if first is None and "sc0" in screen:
            first = now
        if header_online(screen, n) and f"containers {total}/{total} running" in screen:
            online = now
            break
        time.sleep(0.02)
    return pid, first, online


def gone_after(pid: int, t0: float, limit: float = 15) -> float:
    """Seconds from `t0` until `pid` has exited (or is a zombie)."""
    while os.path.exists(f"/proc/{pid}") and time.perf_counter() - t0 < limit:
        try:
            if Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z"):
                break
        except OSError:
            break
        time.sleep(0.005)
    return time.perf_counter() - t0


def bench_hangup(lab: ScaleLab, cfg: Path) -> dict[str, str]:
    """The terminal goes away (tmux session killed: SIGHUP) once every host is online."""
    name = f"dys-hup-{lab.n}-{lab.ssh or 'unix'}"
    try:
        pid, _, online = launch(lab, cfg, name)
        time.sleep(3)
        t0 = time.perf_counter()
        kill_session(name)
        return {"hang-up (SIGHUP) → process gone": f"{gone_after(pid, t0):.2f} s"
                + ("" if online else " (not all hosts were online)")}
    finally:
        kill_session(name)


def bench_soak(lab: ScaleLab, cfg: Path, seconds: float, every: float = 30.0) -> dict[str, str]:
    """RSS every `every` s for `seconds` s after all hosts are online (Containers pane, left alone)."""
    name = f"dys-soak-{lab.n}-{lab.ssh or 'unix'}"
    try:
        pid, _, online = launch(lab, cfg, name)
        samples = []
        t0 = time.monotonic()
        while True:
            samples.append(rss_mb(pid))
            print(f"  soak {time.monotonic() - t0:4.0f} s: RSS {samples[-1]:.0f} MB, {fds(pid)} descriptors",
                  flush=True)
            if time.monotonic() - t0 >= seconds:
                break
            time.sleep(every)
        screen = capture(name)
        header = next((line.strip() for line in screen.splitlines() if "hosts " in line and "online" in line), "")
        return {f"RSS over {seconds / 60:.0f} min (every {every:.0f} s)":
                f"first {samples[0]:.0f} MB, max {max(samples):.0f} MB, last {samples[-1]:.0f} MB "
                f"({len(samples)} samples)" + ("" if online else ", not all hosts online at start"),
                "header at the end of the soak": header[:60]}
    finally:
        kill_session(name)


def bench_quick(lab: ScaleLab, cfg: Path) -> dict[str, str]:
    """Launch → first rows → all online, descriptors and RSS 5 s later, `q` → process gone."""
    name = f"dys-q-{lab.n}-{lab.ssh or 'unix'}"
    try:
        pid, first, online = launch(lab, cfg, name)
        results = {"first rows": f"{first:.2f} s" if first else "never",
                   "launch → all online": f"{online:.2f} s" if online else "not in 120 s"}
        time.sleep(5)
        results["descriptors, RSS 5 s after"] = f"{fds(pid)}, {rss_mb(pid):.0f} MB"
        t_q = time.perf_counter()
        send(name, "q")
        results["q → process gone"] = f"{gone_after(pid, t_q):.2f} s"
        return results
    finally:
        kill_session(name)


def bench_quick_repeat(lab: ScaleLab, cfg: Path, repeat: int) -> list[list[str]]:
    """`--quick` `repeat` times in one lab, one launch after the other: each run's figures and the load
    as it started ("every time", not a best run)."""
    rows, online = [], []
    for i in range(repeat):
        load = os.getloadavg()[0]
        r = bench_quick(lab, cfg)
        rows.append([str(i + 1), f"{load:.1f}", r["first rows"], r["launch → all online"],
                     r["descriptors, RSS 5 s after"], r["q → process gone"]])
        online.append(float(r["launch → all online"].split()[0]) if r["launch → all online"][0].isdigit() else 1e9)
        time.sleep(2)
    online.sort()
    rows.append([f"{repeat} runs", "", "", f"median {online[len(online) // 2]:.2f} s, max {online[-1]:.2f} s", "", ""])
    return rows


def bench_tui(lab: ScaleLab, cfg: Path, idle: float, settle: float = 0.0) -> dict[str, str]:
    n = lab.n
    name = f"dys-{n}-{lab.ssh or 'unix'}"
    results: dict[str, str] = {}
    # the lab's one dockerd answers every host: its CPU with nothing attached, for the idle window's
    # "extra per host" below (the "each daemon's extra idle CPU")
    d0, w0 = lab.daemon.cpu_seconds(), time.monotonic()
    time.sleep(idle if settle else 0)
    daemon_alone = (lab.daemon.cpu_seconds() - d0) / max(1e-9, time.monotonic() - w0) * 100 if settle else None
    try:
        pid, first, online = launch(lab, cfg, name)
        results["first rows"] = f"{first:.2f} s" if first else "never"
        if online is None:
            last = [line for line in capture(name).splitlines() if "hosts" in line][:1]
            results["launch → all online"] = f"not in 120 s ({last[0].strip() if last else '?'})"
        else:
            results["launch → all online"] = f"{online:.2f} s"
        fd_online = fds(pid)
        time.sleep(5)
        c0, w0 = cpu_ticks(pid), time.monotonic()
        time.sleep(idle)
        cpu = (cpu_ticks(pid) - c0) / CLK_TCK / (time.monotonic() - w0) * 100
        results[f"app CPU, {idle:.0f} s from 5 s after all online (Containers pane)"] = f"{cpu:.1f} %"
        if settle:  # idle proper: the connect's background listings and the first freshness check are over
            time.sleep(max(0.0, settle - (time.monotonic() - w0) - 5))
            c0, d0, w0 = cpu_ticks(pid), lab.daemon.cpu_seconds(), time.monotonic()
            time.sleep(idle)
            cpu = (cpu_ticks(pid) - c0) / CLK_TCK / (time.monotonic() - w0) * 100
            daemon = (lab.daemon.cpu_seconds() - d0) / (time.monotonic() - w0) * 100
            results[f"idle app CPU, {idle:.0f} s from {settle:.0f} s after all online"] = f"{cpu:.1f} %"
            results["dockerd CPU: alone / same window / extra per host"] = (
                f"{daemon_alone:.2f} % / {daemon:.2f} % / {(daemon - daemon_alone) / n:+.4f} %")
        fd_idle = fds(pid)
        send(name, "1")  # the Hosts pane: its CPU/MEM columns sample the visible hosts' containers
        time.sleep(20)
        fd_hosts = fds(pid)
        c0, w0 = cpu_ticks(pid), time.monotonic()
        time.sleep(10)
        cpu_hosts = (cpu_ticks(pid) - c0) / CLK_TCK / (time.monotonic() - w0) * 100
        results["Hosts pane CPU (10 s)"] = f"{cpu_hosts:.1f} %"
        for pane, key in (("Hosts", None), ("Containers", "2")):
            if key:
                send(name, key)
                time.sleep(1.5)
            times = [press(name, "j", escapes=True, quiet=0.05)[0] for _ in range(40)]
            # (`j` before `k`: a `k` on the first row, where `g` leaves the cursor, moves nothing,
            # and its "time" was that of whatever repainted next: up to a second, or none)
            for k in ("G", "PageUp", "PageDown", "g", "j", "k"):
                times.append(press(name, k, escapes=True, quiet=0.05)[0])
            times = [t for t in times if t == t]
            med, p95, worst = stats_ms(times)
            results[f"{pane}: j/k/G/pgdn p95 (max)"] = f"{p95} ({worst}), median {med}"
        time.sleep(10)
        fd_back = fds(pid)
        results["descriptors: online / idle / Hosts pane / back"] = f"{fd_online} / {fd_idle} / {fd_hosts} / {fd_back}"
        status = capture(name)
        online_line = next((line.strip() for line in status.splitlines() if "hosts " in line and "online" in line), "")
        results["header at the end"] = online_line[:60]
        results["RSS"] = f"{rss_mb(pid):.0f} MB"
        t_q = time.perf_counter()
        send(name, "q")
        results["q → process gone"] = f"{gone_after(pid, t_q):.2f} s"
    finally:
        kill_session(name)
    return results


def peak_fds(proc: subprocess.Popen, out: list[int]) -> None:
    while proc.poll() is None:
        out.append(fds(proc.pid))
        time.sleep(0.01)


def run_ps(cfg: Path, env: dict[str, str]) -> tuple[float, float, list[int], bytes]:
    """One `dockyard ps --json` under the descriptor limit: (wall s, its CPU s, descriptor samples, stdout)."""
    peak: list[int] = []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(["bash", "-c", f"ulimit -n {NOFILE}; exec {DOCKYARD} --config {cfg} ps --json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    watcher = threading.Thread(target=peak_fds, args=(proc, peak))
    watcher.start()
    out, _ = proc.communicate()
    wall = time.perf_counter() - t0
    watcher.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu, peak, out


def bench_cli(lab: ScaleLab, cfg: Path, repeat: int = 1) -> list[list[str]]:
    """`dockyard ps --json` after one warm-up run (page cache), `repeat` times in a row: each run's wall,
    its own CPU and the load average as it started ("every time", not a best run)."""
    rows = []
    env = {**os.environ, "PYTHONPATH": str(HERE.parent / "tui")}
    run_ps(cfg, env)  # warms the page cache
    walls = []
    for i in range(repeat):
        load = os.getloadavg()[0]
        wall, cpu, peak, out = run_ps(cfg, env)
        walls.append(wall)
        data = json.loads(out)
        rows.append([f"`dockyard ps --json` ({lab.n} hosts)" + (f", run {i + 1}" if repeat > 1 else ""),
                     f"{wall:.2f} s", f"{cpu:.2f} s", f"{load:.1f}", str(len(data["containers"])),
                     str(len(data["errors"])), str(max(peak or [0]))])
        time.sleep(0.5)
    if repeat > 1:
        walls.sort()
        rows.append([f"`dockyard ps --json`, {repeat} runs", f"median {walls[len(walls) // 2]:.2f} s, max {walls[-1]:.2f} s",
                     "", "", "", "", ""])
    if not lab.ssh:
        sockets = lab.daemon.sockets
        env_docker = {**os.environ, "DOCKER_CONFIG": str(Path(lab.root) / "docker-config")}

        def one(path: str) -> int:
            r = subprocess.run(["docker", "-H", f"unix://{path}", "ps", "--format", "{{json .}}"],
                               capture_output=True, text=True, env=env_docker)
            return len(r.stdout.splitlines()) if r.returncode == 0 else -1

        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            counts = list(pool.map(one, sockets))
        wall = time.perf_counter() - t0
        rows.append([f"`docker ps` × {lab.n}, 16 processes at a time", f"{wall:.2f} s", "-", f"{load:.1f}",
                     str(sum(c for c in counts if c > 0)), str(sum(1 for c in counts if c < 0)), "-"])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hosts", type=int, default=200)
    ap.add_argument("--ssh", choices=("jump", "direct"))
    ap.add_argument("--cli", action="store_true", help="also dockyard ps --json vs docker ps")
    ap.add_argument("--cli-repeat", type=int, default=1, metavar="N",
                    help="with --cli: dockyard ps --json N times in a row, each run's wall, CPU and load")
    ap.add_argument("--idle", type=float, default=30.0)
    ap.add_argument("--settle", type=float, default=90.0,
                    help="s after all online before the steady idle window (0: none)")
    ap.add_argument("--no-tui", action="store_true")
    ap.add_argument("--quick", action="store_true", help="the TUI run: only launch → online, RSS and q")
    ap.add_argument("--repeat", type=int, default=1, metavar="N",
                    help="with --quick: N launches in a row in one lab, each run's figures and load")
    ap.add_argument("--hangup", action="store_true", help="also a launch ended by a terminal hang-up (SIGHUP)")
    ap.add_argument("--soak", type=float, metavar="S", help="also a launch left alone S s, RSS every 30 s")
    args = ap.parse_args()
    if subprocess.run(["tmux", "-V"], capture_output=True).returncode != 0:
        sys.exit("tmux is needed")
    compile_checkout()  # launches then read .pyc as an installed dockyard does (installed.py)
    lab = ScaleLab(args.hosts, args.ssh)
    try:
        cfg = lab.start()
        load = os.getloadavg()[0]
        if not args.no_tui and args.quick and args.repeat > 1:
            md_table(f"{args.hosts} {args.ssh + ' SSH' if args.ssh else 'unix'} hosts × {CONTAINERS} containers, "
                     f"ulimit -n {NOFILE}, {args.repeat} launches in a row",
                     ["run", "load at start", "first rows", "launch → all online", "descriptors, RSS 5 s after",
                      "q → process gone"], bench_quick_repeat(lab, cfg, args.repeat))
        elif not args.no_tui:
            results = bench_quick(lab, cfg) if args.quick else bench_tui(lab, cfg, args.idle, args.settle)
            md_table(f"{args.hosts} {args.ssh + ' SSH' if args.ssh else 'unix'} hosts × {CONTAINERS} containers, "
                     f"ulimit -n {NOFILE} (load average {load:.1f} at start)",
                     ["measure", "value"], [[k, v] for k, v in results.items()])
        extra: dict[str, str] = {}
        if args.hangup:
            extra |= bench_hangup(lab, cfg)
        if args.soak:
            extra |= bench_soak(lab, cfg, args.soak)
        if extra:
            md_table(f"{args.hosts} {args.ssh + ' SSH' if args.ssh else 'unix'} hosts, ulimit -n {NOFILE} "
                     f"(load average {os.getloadavg()[0]:.1f})", ["measure", "value"], [[k, v] for k, v in extra.items()])
        if args.cli:
            md_table(f"CLI over {args.hosts} hosts, ulimit -n {NOFILE}",
                     ["command", "wall", "its CPU", "load", "containers", "errors", "peak descriptors"],
                     bench_cli(lab, cfg, args.cli_repeat))
    finally:
        lab.stop()


if __name__ == "__main__":
    from lab import owner
    owner.stop_on_signals()  # a SIGTERM or hang-up stops the labs this run started (tests/lab/owner.py)
    main()
