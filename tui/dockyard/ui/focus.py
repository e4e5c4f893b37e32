"""Keys that open a text box must win the race against the keys typed right after them.

A paste, a fast typist or a burst over SSH puts several keys in the queue at once. Textual hands
each key to the focused widget's own queue as soon as the app reads it, so by the time a normal
binding for `/` runs, the next keys are already on their way to the table or log view: `/warn`
typed in one go toggled wrap in the logs view, and `/restart` on the Containers pane would have
restarted the marked containers.

So the keys that open a box are priority bindings (run while the app reads the key, before the
next one is handed on), they move focus with `focus_now` (`Widget.focus()` defers the change),
and they stand aside while a text box has focus (`typing`), so `/` can still be typed in it.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input


def focus_now(widget: Widget) -> None:
    """Give `widget` the focus now (it must be displayed, e.g. `display = True` just before)."""
    widget.screen.set_focus(widget)


def typing(screen: Screen) -> bool:
    """Is a text box focused on `screen` (so keys are text, not commands)?"""
    return isinstance(screen.focused, Input)
