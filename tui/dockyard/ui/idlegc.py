"""The garbage collector's full passes, run while nobody types instead of inside a key.

CPython collects its oldest generation once enough objects have survived into it. Textual's
render caches leave reference cycles behind (a `Strip` caches itself), so every repaint feeds
that generation, and with 5,000 events' rows held a full pass took 60-235 ms here: it landed
on whichever key was being handled, and set the Events pane's p95 for most keys. So the
automatic full pass is made ten times rarer (a safety net) and the app runs it itself once no
key or click has come for `quiet` seconds, spending at most `share` of the time on it.
Cycles are still collected, only at a moment nobody waits for one.
"""

from __future__ import annotations

import gc
import time

DEFAULT_FULL_EVERY = 10  # CPython's own: a full pass after this many middle-generation passes
SAFETY_NET = 100  # the automatic full pass, when keys never stop long enough for ours


class IdleCollector:
    """Call `input_seen` on each key or click and `maybe_collect` every second or so."""

    def __init__(self, quiet: float = 1.0, share: float = 0.05, clock=time.monotonic) -> None:
        self.quiet = quiet
        self.share = share
        self.clock = clock
        self.last_input = clock()
        self._not_before = 0.0
        self._installed: tuple[int, int, int] | None = None

    def install(self) -> None:
        """Push CPython's own full pass out to the safety net (process-wide: the app's process only)."""
        if self._installed is None:
            self._installed = gc.get_threshold()
            young, middle, _ = self._installed
            gc.set_threshold(young, middle, SAFETY_NET)

    def uninstall(self) -> None:
        if self._installed is not None:
            gc.set_threshold(*self._installed)
            self._installed = None

    def input_seen(self) -> None:
        self.last_input = self.clock()

    def due(self) -> bool:
        """A full pass is owed (as CPython would count it), nobody typed lately, and the last
        pass's cost has been paid off (`share`)."""
        now = self.clock()
        return (gc.get_count()[2] >= DEFAULT_FULL_EVERY and now - self.last_input >= self.quiet
                and now >= self._not_before)

    def maybe_collect(self) -> float | None:
        """Run the full pass if it is `due`: how long it took, else None."""
        if not self.due():
            return None
        started = time.perf_counter()
        gc.collect()
        took = time.perf_counter() - started
        self._not_before = self.clock() + took / self.share
        return took
