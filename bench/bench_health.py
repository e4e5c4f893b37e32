"""Fleet health benchmarks against the real lab, in a real terminal (tmux), run by hand as root.

    python3 bench/bench_health.py              # both
    python3 bench/bench_health.py idle         # idle | events | inproc

idle    2,000 containers over 3 hosts (300 running + 1,700 created), nothing happening: the app's
        CPU (utime+stime from /proc) over a 30 s window after a 10 s settle, in three runs —
        the checkout before the problems watch and event history existed (`--before REV`, default
        the parent of the first health commit, run from a temporary worktree) on the Containers
        pane; this checkout on the Containers pane; this checkout with the Problems pane open.
events  this checkout, 5,000 events in the history (volume create/remove pairs sent to the three
        daemons while the app runs), the Events pane open: key press → first screen change and →
        settled, for `j` (x60: 30 within the viewport, 30 scrolling), page down, `G`/`g`, `E`
        from the Containers pane, `enter` on an event (its object's pane; a removed object's: a notice), filter keystrokes (x30), `enter` closing
        the filter prompt and `esc` clearing the filter; median / p95 / max. The measurement floor (the
        same loop against `cat` echoing a key) is printed: on a loaded machine tmux dominates.
inproc  the same pane in the app's own process (Textual's Pilot, headless): show_pane, `j`, the
        `/` filter with 5,000 events — what the app itself spends.

Everything started here is stopped here (tmux sessions on bench_tui's own socket, the lab, the
temporary worktree).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent), str(HERE.parent / "tests"), str(HERE.parent / "tui")]  # this checkout's dockyard (inproc)

import bench_tui as bt  # noqa: E402
from installed import compile_checkout  # noqa: E402
from lab import unix_http  # noqa: E402

ROOT = HERE.parent


def app_command(cfg: Path, source: Path | None = None) -> str:
    """This checkout's dockyard, or another checkout's (`source`/tui first on the path)."""
    if source is None:
        return f"env PYTHONPATH={ROOT / 'tui'} {sys.executable} -m dockyard --config {cfg}"
    return f"env PYTHONPATH={source / 'tui'} {sys.executable} -m dockyard --config {cfg}"


def first_health_commit() -> str:
    out = subprocess.run(["git", "-C", str(ROOT), "log", "--format=%H", "--reverse", "--",
                          "tui/dockyard/fleet/problems.py"], capture_output=True, text=True, check=True)
    return out.stdout.split()[0]


def loaded_marker(lab) -> str:
    counts = [bt.fleet_counts(d) for d in lab.daemons]
    return f"containers {sum(c[0] for c in counts)}/{sum(c[1] for c in counts)} running"


def idle_run(lab, cfg: Path, name: str, command: str, keys: list[str], settle: float, window: float) -> float:
    want = loaded_marker(lab)
    bt.start_session(name, command)
    try:
        pid = bt.find_pid(name, str(cfg))
        t0 = time.monotonic()
        while want not in bt.capture(name):
            if time.monotonic() - t0 > 60:
                raise RuntimeError(f"{name}: fleet not loaded ({want!r}):\n" + bt.capture(name))
            time.sleep(0.1)
        for key in keys:
            bt.send(name, key)
            time.sleep(0.5)
        time.sleep(settle)
        return bt.sample_cpu(lambda: {}, window, extra={"app": pid})["app"]
    finally:
        bt.quit_app(name)
        time.sleep(2)


def bench_idle(lab, before: str | None, settle: float = 10, window: float = 30, rounds: int = 2) -> None:
    t = bt.populate(lab, running_per_daemon=100, created_total=1700)
    print(f"\n(fleet: 2,000 containers, 300 running; populated in {t:.1f} s)")
    cfg = bt.new_config(lab)
    rev = before or subprocess.run(["git", "-C", str(ROOT), "rev-parse", first_health_commit() + "^"],
                                   capture_output=True, text=True, check=True).stdout.strip()
    tree = Path(tempfile.mkdtemp(prefix="dyb-before-"))
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev], check=True,
                   capture_output=True)
    results: dict[str, list[float]] = {"before": [], "containers": [], "problems": []}
    try:
        for _ in range(rounds):  # interleaved: load drifts over minutes
            results["before"].append(idle_run(lab, cfg, "dyh-before", app_command(cfg, tree), [], settle, window))
            results["containers"].append(idle_run(lab, cfg, "dyh-cont", app_command(cfg), [], settle, window))
            results["problems"].append(idle_run(lab, cfg, "dyh-prob", app_command(cfg), ["!"], settle, window))
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], capture_output=True)
    rows = [[f"before ({rev[:7]}), Containers pane", *(f"{v:.2f} %" for v in results["before"])],
            ["this checkout, Containers pane", *(f"{v:.2f} %" for v in results["containers"])],
            ["this checkout, Problems pane open", *(f"{v:.2f} %" for v in results["problems"])]]
    bt.md_table(f"Idle app CPU, 2,000 containers over 3 hosts ({settle:.0f} s settle, {window:.0f} s window, "
                "% of one core)", ["run", *(f"round {i + 1}" for i in range(rounds))], rows)
    base = min(results["before"])
    print(f"\nrise, Problems pane open vs before: {min(results['problems']) - base:+.2f} % (best of each); "
          f"Containers pane vs before: {min(results['containers']) - base:+.2f} %. Target ≤ +0.5 %.")


def make_events(lab, count: int) -> float:
    """`count` events over the three daemons: volume create + remove pairs."""
    t0 = time.monotonic()

    def pair(i: int) -> None:
        d = lab.daemons[i % 3]
        name = f"ev-{os.getpid()}-{i}"
        body = ('{"Name": "%s"}' % name).encode()
        unix_http(d.socket, "POST", "/volumes/create", body=body, headers={"Content-Type": "application/json"})
        unix_http(d.socket, "DELETE", f"/volumes/{name}")

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(pair, range(count // 2)))
    return time.monotonic() - t0


KEPT_VOLUME = f"ev-kept-{os.getpid()}"


def keep_volume(lab) -> None:
    """One volume that stays (on the first daemon): the newest event is its create, and `enter`
    on it goes to the Volumes pane. (The lab's end removes it with the daemon.)"""
    body = ('{"Name": "%s"}' % KEPT_VOLUME).encode()
    unix_http(lab.daemons[0].socket, "POST", "/volumes/create", body=body, headers={"Content-Type": "application/json"})


def steal_ms() -> int:
    """CPU time the hypervisor gave to others while this VM wanted it (/proc/stat `steal`, both
    CPUs), in ms: a key's tail grows with it, whatever the code does."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return int(fields[8]) * 1000 // os.sysconf("SC_CLK_TCK")


def bench_events(lab, total: int = 5000) -> None:
    cfg = bt.new_config(lab)
    steal_at_start = steal_ms()
    bt.start_session("dyh-floor", "cat")
    floor = [bt.press("dyh-floor", "x", escapes=False, quiet=0.05)[0] for _ in range(20)]
    bt.kill_session("dyh-floor")
    name = "dyh-events"
    want = loaded_marker(lab)
    bt.start_session(name, app_command(cfg))
    rows: list[list[str]] = []
    try:
        pid = bt.find_pid(name, str(cfg))
        t0 = time.monotonic()
        while want not in bt.capture(name):
            if time.monotonic() - t0 > 60:
                raise RuntimeError("fleet not loaded:\n" + bt.capture(name))
            time.sleep(0.1)
        took = make_events(lab, total + 200)
        keep_volume(lab)
        bt.send(name, "E")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            held = re.search(r"\d+ of (\d+) events", bt.capture(name))
            if held and int(held.group(1)) >= total:
                break
            time.sleep(0.5)
        time.sleep(3)
        header = next((line for line in bt.capture(name).splitlines() if " events" in line), "")
        print(f"\n(sent {total + 200} volume events in {took:.1f} s; pane header: {header.strip()[:150]!r})")
        bt.send(name, "g")
        time.sleep(1)

        def timed(label: str, keys: list[str], between=None) -> None:
            results = []
            stolen = steal_ms()
            for i, key in enumerate(keys):
                if between is not None:
                    between(i)
                results.append(bt.press(name, key, escapes=key in ("j", "PageDown", "G", "g"), quiet=0.15))
            f, s = [p[0] for p in results], [p[1] for p in results]
            rows.append([label, str(len(results)), *bt.stats_ms(f), *bt.stats_ms(s), f"{steal_ms() - stolen} ms"])

        stolen = steal_ms()
        results = [bt.press(name, "j", escapes=True, quiet=0.1) for _ in range(60)]
        stolen = f"{steal_ms() - stolen} ms (both)"
        for label, part in (("`j` within the viewport", results[:30]), ("`j` scrolling", results[30:])):
            f, s = [p[0] for p in part], [p[1] for p in part]
            rows.append([label, str(len(part)), *bt.stats_ms(f), *bt.stats_ms(s), stolen])
        bt.send(name, "g")
        time.sleep(0.5)
        timed("page down", ["PageDown"] * 10)
        timed("`G` / `g` (bottom, top)", ["G", "g"] * 5)

        def to_containers(_: int) -> None:
            bt.send(name, "2")
            time.sleep(0.5)

        timed("`E` Containers → Events pane", ["E"] * 10, to_containers)

        def on_kept(_: int) -> None:  # the newest event: the kept volume's create
            bt.send(name, "E")
            time.sleep(0.5)
            bt.send(name, "G")
            time.sleep(0.5)

        def on_removed(_: int) -> None:  # the one before: a removed volume's destroy
            on_kept(0)
            bt.send(name, "k")
            time.sleep(0.5)

        timed("`enter` on an event → its object's pane (Volumes, cursor on it)", ["Enter"] * 8, on_kept)
        timed("`enter` on a removed object's event → notice, pane stays", ["Enter"] * 8, on_removed)
        bt.send(name, "E")
        time.sleep(0.5)
        bt.send(name, "/")
        time.sleep(0.5)
        word = "ev-"
        keys = ([*word, "1", "2"] + ["BSpace"] * 5) * 3
        timed(f"filter typing (`{word}12` then ⌫, x3)", keys)

        def type_filter(_: int) -> None:
            bt.send(name, "Escape")  # (the prompt closes, and esc on the pane clears the filter)
            time.sleep(0.5)
            bt.send(name, "Escape")
            time.sleep(0.5)
            bt.send(name, "/")
            time.sleep(0.3)
            for key in "ev-1":
                bt.send(name, key)
            time.sleep(0.8)

        timed("`enter`: filter kept, prompt closed", ["Enter"] * 10, type_filter)
        # narrowed to one host of three: esc brings the other two's rows (~2/3 of them) back
        timed("`esc` on the pane: filter cleared, all rows back", ["Escape"] * 12,
              lambda i: (bt.send(name, "/"), bt.send(name, "unix3"), time.sleep(0.8), bt.send(name, "Enter"),
                         time.sleep(0.8)))
        rss = bt.rss_mb(pid)
    finally:
        bt.quit_app(name)
    bt.md_table(f"Events pane with {total:,}+ events (tmux {bt.COLS}x{bt.ROWS}): key press → screen",
                ["key", "n", "first change median", "p95", "max", "settled median", "p95", "max",
                 "CPU stolen meanwhile"], rows)
    fl = bt.stats_ms(floor)
    print(f"\nRSS at the end: {rss:.0f} MB. Target: key → screen p95 ≤ 50 ms. Measurement floor (`cat` "
          f"echoing a key, same loop): median {fl[0]}, p95 {fl[1]}; load average {os.getloadavg()[0]:.1f}; "
          f"CPU stolen by the hypervisor during the run: {steal_ms() - steal_at_start} ms.")


def bench_events_inproc(lab, total: int = 5000) -> None:
    """The same pane in the app's own process (headless, Pilot): what the app spends per key,
    without tmux and the terminal, which the machine's load inflates."""
    import asyncio
    import statistics

    from dockyard.config.model import Config, HostConfig
    from dockyard.ui.app import DockyardApp

    async def run() -> list[list[str]]:
        cfg = Config(hosts=tuple(HostConfig(name=f"unix{i}", url=d.url) for i, d in enumerate(lab.daemons, 1)))
        app = DockyardApp(cfg)
        rows: list[list[str]] = []

        def ms(values: list[float]) -> list[str]:
            v = sorted(values)
            p95 = v[min(len(v) - 1, int(round(0.95 * (len(v) - 1))))]
            return [str(len(v)), f"{statistics.median(v) * 1000:.1f} ms", f"{p95 * 1000:.1f} ms", f"{v[-1] * 1000:.1f} ms"]

        async with app.run_test(size=(bt.COLS, bt.ROWS)) as pilot:
            while any(h.state.value != "online" for h in app.fleet.hosts()):
                await asyncio.sleep(0.2)
            await asyncio.get_running_loop().run_in_executor(None, make_events, lab, total + 200)
            keep_volume(lab)
            while len(app.fleet.history) < total:
                await asyncio.sleep(0.2)
            await pilot.press("E")
            await pilot.pause()

            async def timed(label: str, before, action, n: int) -> None:
                wall, cpu = [], []
                for i in range(n):
                    if before is not None:
                        await before(i)
                    t0, c0 = time.perf_counter(), time.process_time()
                    await action(i)
                    wall.append(time.perf_counter() - t0)
                    cpu.append(time.process_time() - c0)
                rows.append([label, *ms(wall), *ms(cpu)[1:]])

            async def to(pane: str) -> None:
                app.show_pane(pane)
                await pilot.pause()

            await timed("`E`: Images → Events pane, shown and painted", lambda i: to("images"),
                        lambda i: to("events"), 20)
            await timed("(the same to the empty Images pane, for comparison)", lambda i: to("events"),
                        lambda i: to("images"), 20)
            await to("events")
            await pilot.press("g")
            await timed("`j` (Pilot press: processed and painted)", None, lambda i: pilot.press("j"), 60)
            await pilot.press("g")
            await timed("page down", None, lambda i: pilot.press("pagedown"), 20)
            await timed("`G` / `g`", None, lambda i: pilot.press("G" if i % 2 == 0 else "g"), 20)

            async def back(i: int) -> None:
                await to("events")
                await pilot.press("G")

            async def back_to_removed(i: int) -> None:
                await back(i)
                await pilot.press("k")

            await timed("`enter` on an event → its object's pane (Volumes, cursor on it)", back,
                        lambda i: pilot.press("enter"), 10)
            await timed("`enter` on a removed object's event → notice, pane stays", back_to_removed,
                        lambda i: pilot.press("enter"), 10)
            await to("events")
            words = ("ev-1", "ev-12", "ev-123", "", "unix2", "") * 3

            async def filtered(i: int) -> None:
                app.set_filter(words[i])
                await pilot.pause()

            await timed("`/` filter applied (set_filter + paint)", None, filtered, len(words))
            app.set_filter("")
            await pilot.pause()
            await pilot.press("slash")
            keys = [*"ev-12", *["backspace"] * 5] * 2

            async def typed(i: int) -> None:  # the key, and the rebuild its pause in typing brings
                await pilot.press(keys[i])
                await asyncio.sleep(0.25)
                await pilot.pause()

            await timed("filter keystroke (`ev-12`, ⌫ x5) + the rebuild after 0.15 s (incl. 0.25 s idle)",
                        None, typed, len(keys))
            await pilot.press("1", "enter")
            await asyncio.sleep(0.3)

            async def narrowed(i: int) -> None:
                await pilot.press("slash", *"unix3", "enter")  # one host of three: esc brings ~2/3 back
                await asyncio.sleep(0.3)
                await pilot.pause()

            await timed("`esc` on the pane: filter cleared, every row back", narrowed,
                        lambda i: pilot.press("escape"), 10)
            print(f"\n(history: {len(app.fleet.history)} events; load average {os.getloadavg()[0]:.1f})")
        return rows

    rows = asyncio.run(run())
    bt.md_table(f"Events pane with {total:,}+ events, in the app's process (headless {bt.COLS}x{bt.ROWS})",
                ["what", "n", "wall median", "p95", "max", "CPU median", "p95", "max"], rows)


def main(argv: list[str]) -> int:
    modes = {"idle", "events", "inproc"}
    before = None
    if "--before" in argv:
        i = argv.index("--before")
        before = argv[i + 1]
        del argv[i:i + 2]
    wanted = set(argv or ["idle", "events", "inproc"])
    if wanted - modes:
        print(__doc__)
        return 2
    if os.geteuid() != 0:
        print("run as root (the lab starts dockerd)", file=sys.stderr)
        return 2
    compile_checkout()
    with bt.tmux_lab("health benchmarks", "dyh-keeper") as lab:
        if "inproc" in wanted:
            bench_events_inproc(lab)
        if "events" in wanted:
            bench_events(lab)
        if "idle" in wanted:
            bench_idle(lab, before)
    return 0


if __name__ == "__main__":
    from lab import owner
    owner.stop_on_signals()  # a SIGTERM or hang-up stops the labs this run started (tests/lab/owner.py)
    raise SystemExit(main(sys.argv[1:]))
