"""Cost of the logs view's `f` filter (only lines holding a text), headless, no lab needed.

    python3 bench/bench_log_filter.py

Applying it walks the whole buffer once (20,000 lines); while it is on, each 10 Hz batch of new
lines is also matched and copied into the filtered view.
"""

import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tui"))

from textual.app import App  # noqa: E402

from dockyard.fleet import LogLine, LogSource  # noqa: E402
from dockyard.ui.logs import LogsScreen, LogView  # noqa: E402

class A(App):
    pass

async def main():
    app = A()
    async with app.run_test(size=(160, 45)) as pilot:
        srcs = [LogSource(f"h{i%3}", f"c{i}", f"web-{i}") for i in range(10)]
        scr = LogsScreen(srcs, tail=0, buffer=20000)
        scr._start = lambda: None  # no stream: lines are fed below
        await app.push_screen(scr)
        await pilot.pause()
        lines = [LogLine(srcs[i % 10], "stderr" if i % 7 == 0 else "stdout", f"2026-11-27T10:00:{i%60:02d}.{i:09d}Z",
                         f"GET /item/{i} 200 {'warn slow' if i % 50 == 0 else 'ok'} in {i%97} ms") for i in range(20000)]
        scr._all = scr.query_one("#logs", LogView); scr._matching = scr.query_one("#logs-only", LogView)
        scr._all.append(lines); await pilot.pause()
        times = []
        for _ in range(7):
            t = time.perf_counter(); scr._set_only("warn"); times.append((time.perf_counter() - t) * 1000)
            scr._set_only(""); await pilot.pause()
        print(f"filter on, 20,000 lines (400 match): median {statistics.median(times):.1f} ms, max {max(times):.1f} ms")
        scr._set_only("warn")
        t = time.perf_counter()
        for _ in range(100):
            scr._pending = lines[:55]; scr._flush()
        print(f"flush of 55 lines (10 Hz batch at 5,500 lines/s) with the filter on: {(time.perf_counter()-t)*10:.2f} ms")
        scr._set_only("")
        t = time.perf_counter()
        for _ in range(100):
            scr._pending = lines[:55]; scr._flush()
        print(f"same flush, filter off: {(time.perf_counter()-t)*10:.2f} ms")

asyncio.run(main())
