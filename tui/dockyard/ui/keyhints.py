"""The key bar at the bottom of every screen: one line of text, rebuilt when the bindings change.

Textual's Footer mounts a widget per key (~25 on the Containers pane) and restyles each of them
whenever focus moves: measured ~60-80 ms of the first screen after start-up, and again on every
pane switch. Dockyard is driven from the keyboard; one Text says the same for a fraction of it.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from rich.color import Color as RichColor
from textual.color import Color, ColorParseError
from textual.screen import Screen
from textual.widgets import Static


class KeyHints(Static):
    DEFAULT_CSS = """
    KeyHints {
        dock: bottom;
        height: 1;
        width: 1fr;
        background: $footer-background;
        color: $footer-foreground;
    }
    """

    def __init__(self) -> None:
        super().__init__("", id="keyhints")
        self._queued = False
        self._built = False
        self.text = Text()  # what the bar shows now (tests read it)

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def _bindings_changed(self, screen: Screen) -> None:
        if screen is self.screen and not self._queued:
            self._queued = True  # one rebuild for a burst of changes (a pane switch moves focus twice)
            self.call_after_refresh(self._rebuild)

    def on_resize(self) -> None:
        self._bindings_changed(self.screen)  # what fits changed

    def _rebuild(self) -> None:
        """One line of the keys that work here; when they do not all fit, the last ones give way
        (`…`), never `?` (help lists them all) nor the palette."""
        self._queued = False
        if not self.is_attached:
            return
        key_style = Style(color=_rich_colour(self.app.theme_variables.get("footer-key-foreground")), bold=True)
        off_style = Style(dim=True)
        entries: list[tuple[Text, bool]] = []  # (the hint, whether it must stay)
        shown: set[str] = set()
        palette = None
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if binding.action == "command_palette":
                palette = binding
                continue
            if not binding.show or binding.action in shown:
                continue
            shown.add(binding.action)
            hint = Text.assemble((f" {self.app.get_key_display(binding)} ", off_style if not enabled else key_style),
                                 (f"{binding.description} ", off_style if not enabled else ""))
            entries.append((hint, binding.action == "help"))
        if palette is not None and self.app.ENABLE_COMMAND_PALETTE:
            entries.append((Text.assemble((f" {self.app.get_key_display(palette)} ", key_style), "palette "), True))
        width = self.size.width
        hints = [hint for hint, _ in entries]
        if width and sum(hint.cell_len for hint in hints) > width:
            room = width - 2 - sum(hint.cell_len for hint, keep in entries if keep)  # 2: " …"
            hints, dropped, marked = [], False, False
            for hint, keep in entries:
                if keep:
                    if dropped and not marked:
                        hints.append(Text(" …", off_style))
                        marked = True
                    hints.append(hint)
                elif not dropped and hint.cell_len <= room:
                    hints.append(hint)
                    room -= hint.cell_len
                else:
                    dropped = True  # in order: once one gives way, the rest do too
            if dropped and not marked:
                hints.append(Text(" …", off_style))
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        for hint in hints:
            text.append_text(hint)
        if self._built and text == self.text:
            return  # the same keys (focus moved within a pane, back from the prompt): no repaint
        self._built = True
        self.text = text
        self.update(text, layout=False)  # (one line, docked: no layout of the screen for new keys)


def _rich_colour(value: str | None) -> RichColor | None:
    """A theme's colour (Textual's syntax: "#FFA62B", "ansi_magenta") as Rich's."""
    try:
        return Color.parse(value).rich_color if value else None
    except ColorParseError:
        return None
