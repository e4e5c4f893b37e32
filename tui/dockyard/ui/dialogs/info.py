"""Read-only text screens: help (every key of the current pane), host details, inspect JSON."""

from __future__ import annotations

import json

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


def json_dialog(title: str, data: object) -> TextDialog:
    """An inspect document, highlighted; its strings can't carry control characters to the terminal."""
    from rich.syntax import Syntax  # pygments: only when asked (start-up time)

    return TextDialog(title, Syntax(json.dumps(data, indent=2, ensure_ascii=True), "json", word_wrap=True))


class TextDialog(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss_dialog", "Close", id="dialog.close"),
        Binding("q", "dismiss_dialog", "Close", show=False, id="dialog.close_q"),
    ]
    DEFAULT_CSS = """
    TextDialog { align: center middle; }
    TextDialog > Vertical { width: 90%; max-width: 110; height: 90%; border: thick $primary;
        background: $surface; padding: 0 1; }
    TextDialog VerticalScroll { height: 1fr; }
    """

    def __init__(self, title: str, body: Text | Table):
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.title_text + "   (esc to close)", style="bold"))
            with VerticalScroll():
                yield Static(self.body, id="body")

    def action_dismiss_dialog(self) -> None:
        self.dismiss(None)


def keys_table(sections: list[tuple[str, list[tuple[str, str]]]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for title, rows in sections:
        table.add_row(Text(title, style="bold underline"), "")
        for keys, description in rows:
            table.add_row(keys, description)
        table.add_row("", "")
    return table
