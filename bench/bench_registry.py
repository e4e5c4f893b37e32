"""Registry browsing benchmarks against a real docker-registry on loopback, run by hand as root.

    python3 bench/bench_registry.py              # both
    python3 bench/bench_registry.py controller   # or: ui

The lab's registry (`tests/lab/`, docker-registry 2.8, filesystem storage) is seeded cheaply
with `tests/registry_lab.py`'s RegistryAPI: one tiny synthetic image pushed once as
`bench/a-tags:t0000`, its manifest PUT again under 999 more tags (`t0001`…`t0999`, one thread),
and under 999 more repositories `bench/r-0000`…`bench/r-0998` (cross-repo blob mounts + manifest
PUT, 8 threads) — 1,000 repositories, one of them with 1,000 tags.

controller  `RegistryClient.catalog_pages()` and `tag_pages("bench/a-tags")` (100 a page, as the
            UI asks): a new client per run (connection + /v2/ included), time to the first page
            and to the full list; median of 5 after one warm-up.
ui          `dockyard --config CFG` in tmux (160x45, own tmux socket `-L dockyard-bench-reg`),
            `DOCKYARD_NO_DOCKER_HUB=1`, an empty DOCKER_CONFIG and XDG_STATE_HOME: `6` (Registries),
            enter "lab" → first repository row on screen and breadcrumb "1000 repositories";
            enter `bench/a-tags` → first tag row and "1000 tags". 5 runs each (esc back, enter
            again: a new level reloads the list). Responsiveness while loading: as soon as the
            first page is on screen, `j` presses (cursor down, seen in `capture-pane -e` as the
            row's colours changing) — latency of the presses sent while "loading…" was shown.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests"), str(HERE)]

import bench_tui as bt  # noqa: E402
from lab import Lab  # noqa: E402
from registry_lab import RegistryAPI  # noqa: E402

from dockyard.config.model import RegistryConfig  # noqa: E402
from dockyard.registry import RegistryClient  # noqa: E402

bt.TMUX = ["tmux", "-L", "dockyard-bench-reg"]  # our own tmux server; bench_tui's helpers use it
TAG_REPO = "bench/a-tags"  # sorts first in the catalog
N_REPOS, N_TAGS = 1000, 1000


def seed(lab: Lab) -> float:
    t0 = time.monotonic()
    api = RegistryAPI(lab.registry.url)
    api.push_image(TAG_REPO, "t0000")
    tags = [(TAG_REPO, f"t{i:04d}") for i in range(1, N_TAGS)]
    repos = [(f"bench/r-{i:04d}", "latest") for i in range(N_REPOS - 1)]
    api.replicate(TAG_REPO, "t0000", tags)  # one writer per repository (concurrent tag PUTs to one repo can 500)
    jobs = [repos[i::8] for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda targets: api.replicate(TAG_REPO, "t0000", targets), jobs))
    return time.monotonic() - t0


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]


def ms(v: float) -> str:
    return f"{v * 1000:.1f} ms" if v < 0.1 else f"{v * 1000:.0f} ms"


# --------------------------------------------------------------------------- (a) controller


async def _one(url: str, what: str) -> tuple[float, float, int, int]:
    async with RegistryClient(RegistryConfig(name="lab", url=url)) as client:
        pages = client.catalog_pages() if what == "catalog" else client.tag_pages(TAG_REPO)
        t0 = time.perf_counter()
        first = None
        count = npages = 0
        async for page in pages:
            if first is None:
                first = time.perf_counter() - t0
            count += len(page)
            npages += 1
        return first or 0.0, time.perf_counter() - t0, count, npages


def bench_controller(lab: Lab, runs: int = 5) -> None:
    rows = []
    for what, label in (("catalog", "`catalog_pages()` — 1,000 repositories"),
                        ("tags", f"`tag_pages({TAG_REPO!r})` — 1,000 tags")):
        asyncio.run(_one(lab.registry.url, what))  # warm-up
        res = [asyncio.run(_one(lab.registry.url, what)) for _ in range(runs)]
        rows.append([label, f"{res[0][2]:,} in {res[0][3]} pages",
                     f"**{ms(statistics.median(r[0] for r in res))}**", f"**{ms(statistics.median(r[1] for r in res))}**",
                     f"{ms(min(r[1] for r in res))} / {ms(max(r[1] for r in res))}"])
    bt.md_table(f"a. Controller: registry listing over loopback (new client per run, median of {runs})",
                ["call", "items", "first page", "full list", "full list min / max"], rows)


# --------------------------------------------------------------------------- (b) UI


def line_with(screen: str, text: str) -> str:
    for line in screen.splitlines():
        if text in line:
            return line
    return ""


def open_level(name: str, first: str, full: str, row_names: list[str]) -> tuple[float, float, list[float]]:
    """Enter on the cursor row; (s to `first` on screen, s to `full` on screen, latencies of `j`
    presses sent while the breadcrumb still said "loading…")."""
    t0 = time.perf_counter()
    bt.send(name, "Enter")
    t_first = t_full = None
    during: list[float] = []
    k = 0
    while t_full is None:
        screen = bt.capture(name)
        now = time.perf_counter() - t0
        if t_first is None and first in screen:
            t_first = now
        if full in screen:
            t_full = now
            break
        if t_first is not None and "loading…" in screen and k + 1 < len(row_names):
            # cursor down while loading: the next row's colours change when the app handles it
            target = row_names[k + 1]
            before = line_with(bt.capture(name, escapes=True), target)
            tk = time.perf_counter()
            bt.send(name, "j")
            while True:
                after = line_with(bt.capture(name, escapes=True), target)
                if after and after != before:
                    during.append(time.perf_counter() - tk)
                    break
                if time.perf_counter() - tk > 5:
                    during.append(float("nan"))
                    break
                time.sleep(0.002)
            k += 1
            continue
        if now > 30:
            raise RuntimeError(f"{full!r} not on screen after 30 s:\n{screen}")
        time.sleep(0.005)
    if k:  # cursor back to the first row
        for _ in range(k):
            bt.send(name, "k")
        time.sleep(0.3)
    return t_first if t_first is not None else t_full, t_full, during


def bench_ui(lab: Lab, runs: int = 5) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="dybr-", dir="/tmp"))
    (tmp / "docker").mkdir()
    cfg = Path(lab.root) / "bench-registry.toml"
    lab.write_config(cfg, hosts=("unix1",))
    env = {"DOCKYARD_NO_DOCKER_HUB": "1", "DOCKER_CONFIG": str(tmp / "docker"), "XDG_STATE_HOME": str(tmp / "state")}
    name = "dybr-ui"
    bt.start_session(name, bt.dockyard_cmd(cfg), env=env)
    results: dict[str, list[tuple[float, float, list[float]]]] = {"repos": [], "tags": []}
    try:
        bt.find_pid(name, str(cfg))
        time.sleep(1.5)
        bt.send(name, "6")
        bt.wait_screen(name, lambda s: "127.0.0.1:" in s and "checking…" not in s, 20, "registry lab row, pinged")
        time.sleep(0.5)
        repo_rows = [TAG_REPO] + [f"bench/r-{i:04d}" for i in range(30)]
        tag_rows = [f"t{i:04d}" for i in range(30)]
        for _ in range(runs):
            results["repos"].append(open_level(name, "bench/r-0000", f"{N_REPOS} repositories", repo_rows))
            results["tags"].append(open_level(name, "t0000", f"{N_TAGS} tags", tag_rows))
            bt.send(name, "Escape")
            bt.wait_screen(name, lambda s: f"{N_REPOS} repositories" in s and f"{N_TAGS} tags" not in s, 10,
                           "back to repos")
            time.sleep(0.3)
            bt.send(name, "Escape")
            bt.wait_screen(name, lambda s: "1000 repositories" not in s and "127.0.0.1:" in s, 10, "back to registries")
            time.sleep(0.5)
        screen = bt.capture(name)
    finally:
        bt.quit_app(name)
        subprocess.run(["rm", "-rf", str(tmp)])
    rows = []
    for kind, label in (("repos", "enter `lab` → 1,000 repositories (first row: `bench/r-0000`, row 2)"), ("tags", f"enter `{TAG_REPO}` → 1,000 tags")):
        r = results[kind]
        firsts, fulls = [x[0] for x in r], [x[1] for x in r]
        during = [d for x in r for d in x[2]]
        ok = [d for d in during if d == d]
        rows.append([label, f"{ms(firsts[0])} / {ms(fulls[0])}", f"**{ms(statistics.median(firsts))}**",
                     f"**{ms(statistics.median(fulls))}**", f"{ms(max(fulls))}",
                     (f"{len(during)}: median {ms(statistics.median(ok))}, max {ms(max(ok))}" if ok else "none (loaded first)")
                     + (f", {len(during) - len(ok)} timed out" if len(ok) < len(during) else ""),
                     "ok" if statistics.median(firsts) <= 0.5 and statistics.median(fulls) <= 2 else "**over**"])
    bt.md_table(f"b. UI: Registries pane in tmux 160x45 ({runs} runs; first run = first use of the client)",
                ["step", "1st run: first row / full count", "first row on screen (median)", "full count in breadcrumb (median)",
                 "full max", "`j` presses while loading: n, latency", "targets ≤ 0.5 s / ≤ 2 s"], rows)
    print("\nlast screen (top 6 lines):\n```\n" + "\n".join(screen.splitlines()[:6]) + "\n```")


BENCHES = {"controller": bench_controller, "ui": bench_ui}  # by name, in the order they run


def main(argv: list[str]) -> int:
    wanted = bt.chosen_benches(argv, BENCHES, __doc__)
    if wanted is None:
        return 2
    with bt.tmux_lab("registry benchmarks", "dybr-keeper") as lab:
        print(f"seeded {N_REPOS} repositories, one with {N_TAGS} tags, in {seed(lab):.1f} s")
        bt.run_benches(BENCHES, wanted, lab)
    return 0


if __name__ == "__main__":
    from lab import owner
    owner.stop_on_signals()  # a SIGTERM or hang-up stops the labs this run started (tests/lab/owner.py)
    raise SystemExit(main(sys.argv[1:]))
