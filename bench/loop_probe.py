"""Run `dockyard` with an event-loop probe: every callback that holds the loop ≥ 20 ms, and
every garbage collection ≥ 10 ms, is written (time, duration, what) to $DOCKYARD_PROBE_FILE.

    DOCKYARD_PROBE_FILE=/tmp/probe.txt python3 bench/loop_probe.py --config CFG

Used by `bench_logs.py tui --probe PATH` to find what makes a key press wait.
"""

from __future__ import annotations

import asyncio.events
import gc
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tui"))

OUT = open(os.environ.get("DOCKYARD_PROBE_FILE", "/tmp/dockyard-probe.txt"), "w", buffering=1)  # noqa: SIM115
_run = asyncio.events.Handle._run


def _timed_run(self: asyncio.events.Handle) -> None:
    start = time.perf_counter()
    _run(self)
    took = time.perf_counter() - start
    if took >= 0.02:
        OUT.write(f"{time.time():.3f} {took * 1000:6.1f} ms  {self._callback!r}"[:400] + "\n")


_gc_start = 0.0


def _gc(phase: str, info: dict) -> None:
    global _gc_start
    if phase == "start":
        _gc_start = time.perf_counter()
    elif (took := time.perf_counter() - _gc_start) >= 0.01:
        OUT.write(f"{time.time():.3f} {took * 1000:6.1f} ms  gc generation {info['generation']} "
                  f"collected {info['collected']}\n")


_started = time.monotonic()
_census_done = False


def _census() -> None:
    """Once, 40 s in: what the collector has to walk (object counts by type)."""
    global _census_done
    _census_done = True
    import collections

    objects = gc.get_objects()
    kinds = collections.Counter(type(o).__qualname__ for o in objects)
    OUT.write(f"census: {len(objects)} tracked objects, frozen {gc.get_freeze_count()}: "
              + ", ".join(f"{k} {n}" for k, n in kinds.most_common(25)) + "\n")


def _maybe_census(phase: str, info: dict) -> None:
    if phase == "stop" and not _census_done and time.monotonic() - _started > 40:
        asyncio.get_event_loop().call_soon(_census)


gc.callbacks.append(_maybe_census)
asyncio.events.Handle._run = _timed_run  # type: ignore[method-assign]
gc.callbacks.append(_gc)

from dockyard.cli.main import main  # noqa: E402

sys.exit(main())
