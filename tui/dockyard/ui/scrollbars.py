"""A table's vertical scrollbar that draws each place of its thumb once.

Textual draws a scrollbar through Rich (a renderable, its segments split into lines, each line
styled again) whenever its position changes: ~6 ms for a 42-line bar here, as much as the
table's own lines, on every `esc` that brings the rows back, every page key and every `j` that
scrolls. What it draws depends only on the bar's size and colours and on where the thumb starts
and ends (in eighths of a cell, Textual's own arithmetic, repeated in `_thumb`), which a scroll
by a row seldom changes. So the lines drawn for each such place are kept (`KEPT_PLACES`), and
given back while the thumb is there. tests/test_table.py compares them with Textual's.
"""

from __future__ import annotations

from math import ceil

from textual.cache import LRUCache
from textual.geometry import Region
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip

KEPT_PLACES = 64


def _thumb(size: int, virtual_size: float, window_size: float, position: float) -> tuple[int, int] | None:
    """Where ScrollBarRender.render_bar puts the thumb: (start, end) in eighths of a cell; None
    for a bar with no thumb."""
    if not (window_size and size and virtual_size and size != virtual_size):
        return None
    bars = len(ScrollBarRender.VERTICAL_BARS)
    thumb_size = max(1, window_size / (virtual_size / size))
    place = (size - thumb_size) * (position / (virtual_size - window_size))
    start = int(place * bars)
    return start, start + ceil(thumb_size * bars)


class KeptScrollBar(ScrollBar):
    """ScrollBar whose drawn lines are kept per thumb place (vertical bars of the default renderer)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._kept: LRUCache[tuple, list[Strip]] = LRUCache(KEPT_PLACES)

    def _place(self) -> tuple | None:
        """What the drawn lines depend on (None: draw as Textual does, keep nothing)."""
        if not self.vertical or self.renderer is not ScrollBarRender or self.grabbed or self.mouse_over:
            return None
        renderable = self.render()
        if not isinstance(renderable, ScrollBarRender):
            return None
        width, height = self.size
        thumb = _thumb(height, renderable.virtual_size, renderable.window_size, renderable.position)
        return width, height, renderable.thickness, renderable.style, thumb

    def render_lines(self, crop: Region) -> list[Strip]:
        place = self._place()
        if place is None:
            return super().render_lines(crop)
        strips = self._kept.get(place)
        if strips is None:
            self._styles_cache.clear()  # (lines it holds may be of another place)
            strips = self._kept[place] = super().render_lines(self.size.region)
        if crop == self.size.region:
            return strips
        x1, x2 = crop.column_span
        return [strip.crop(x1, x2) for strip in strips[crop.y:crop.bottom]]
