"""Containers whose children cover every cell of them: none of their own lines is ever seen.

Textual's compositor draws each widget's every line through its styles cache, then keeps the
topmost widget's cells. A container's lines under its children are drawn, cut at every widget's
edge and thrown away. A pane switch lays the screen out anew and draws all of it: the Screen, the
pane switcher and the pane were ~130 of the ~215 lines drawn for one switch. A container that is
covered hands back blank lines instead (never shown); one with a gap (a child shorter than it, a
hidden one) draws itself as Textual does.
"""

from __future__ import annotations

from textual.geometry import Region
from textual.reactive import Reactive
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import ContentSwitcher

from dockyard.ui.frames import FramePacer


def covered_by_children(widget, region: Region) -> bool:
    """Whether `widget`'s displayed, visible children together cover `region` (screen coordinates):
    each line of it by a child as wide as it (how these containers stack their children)."""
    if not region:
        return False
    spans = []
    for child in widget.displayed_children:
        if not child.visible:
            continue
        box = child.region
        if box and box.x <= region.x and box.right >= region.right:
            spans.append((box.y, box.bottom))
    reached = region.y
    for top, bottom in sorted(spans):
        if top > reached:
            return False  # a gap: the container shows there
        reached = max(reached, bottom)
    return reached >= region.bottom


_blanks: dict[int, Strip] = {}


def blank_lines(width: int, height: int) -> list[Strip]:
    """The same blank strip for every width asked before: the compositor caches how it cut a
    strip on the strip itself, so a fresh one on every frame would be cut again each time."""
    strip = _blanks.get(width)
    if strip is None:
        strip = _blanks[width] = Strip.blank(width)
    return [strip] * height


class CoveredContainer:
    """Mixin for a container widget: blank lines where its children cover it (see the module)."""

    def render_lines(self, crop):
        if covered_by_children(self, self.region):
            return blank_lines(crop.width, crop.height)
        return super().render_lines(crop)  # type: ignore[misc]


class PaneSwitcher(CoveredContainer, ContentSwitcher):
    """The switcher that shows one pane at a time."""


class MainScreen(CoveredContainer, Screen):
    """The app's screen: the summary, the tabs, the pane and the key bar cover it.

    Textual repaints the whole screen whenever the focus moves (`Screen.focused` repaints), though
    what focus changes repaints itself: the widgets it leaves and reaches restyle and refresh, and
    so do those with `:focus-within` rules. Closing the `/` prompt (its `enter`) wrote the whole
    screen to the terminal for that, ~20 KB, after the table's own refresh. Here it does not.
    """

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
    _pacer: FramePacer | None = None

    @property
    def _update_timer(self) -> FramePacer:  # type: ignore[override]
        """Textual's paint timer, as a FramePacer (ui/frames.py)."""
        if self._pacer is None:
            self._pacer = FramePacer(self._on_timer_update, self._paint_failed)
        return self._pacer

    def _paint_failed(self, error: BaseException) -> None:
        self.app._handle_exception(error)

    def _on_unmount(self) -> None:  # (Textual calls Widget's own too)
        if self._pacer is not None:
            self._pacer.pause()
