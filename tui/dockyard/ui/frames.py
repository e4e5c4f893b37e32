"""When the main screen paints: as soon as something changed, and never twice within a frame.

Textual paints a screen from an interval timer on a fixed grid of 1/60 s that pauses while
nothing changes. Resumed after a pause, that timer paints at once, then skips ahead so that the
next paint lands on the grid again: 17-33 ms later. A key whose handling spans two paints waited
that long for the second: `enter` on the `/` prompt painted the prompt first (its own refresh),
and the prompt closing, the key bar and the table's cursor 25-30 ms later, on an idle machine.
`FramePacer` keeps Textual's limit (no two paints closer than 1/60 s) and drops the grid: the next
paint comes as soon as both something changed and that limit allow.
"""

from __future__ import annotations

import asyncio
from typing import Callable

from textual import constants

FRAME = 1 / constants.MAX_FPS  # s, Textual's own (TEXTUAL_FPS)


class FramePacer:
    """Stands in for a Screen's update timer: the screen calls `resume` when it has something to
    paint and `pause` when it paints; `paint` (the screen's `_on_timer_update`) runs then."""

    def __init__(self, paint: Callable[[], None], on_error: Callable[[BaseException], None],
                 frame: float = FRAME) -> None:
        self._paint = paint
        self._on_error = on_error
        self._frame = frame
        self._last = float("-inf")  # loop time of the last paint
        self._pending: asyncio.TimerHandle | None = None

    def resume(self) -> None:
        if self._pending is not None:
            return
        loop = asyncio.get_running_loop()
        self._pending = loop.call_at(max(loop.time(), self._last + self._frame), self._fire)

    def pause(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

    def _fire(self) -> None:
        self._pending = None
        self._last = asyncio.get_running_loop().time()
        try:
            self._paint()
        except Exception as error:  # noqa: BLE001 - as Textual's timer: the app reports it
            self._on_error(error)
