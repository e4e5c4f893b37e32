"""Read-only screens: help (every key of the current pane), host details, inspect documents."""

from __future__ import annotations

import json

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from dockyard.textfmt import safe


class InspectDialog(ModalScreen[None]):
    """An inspect document as a foldable tree, as the container view shows one: enter or space
    folds, `c` copies the value under the cursor and `C` the whole document (OSC 52)."""

    BINDINGS = [
        Binding("escape", "dismiss_dialog", "Close", id="inspect.close"),
        Binding("q", "dismiss_dialog", "Close", show=False, id="inspect.close_q"),
        Binding("c", "copy_value", "Copy value", id="inspect.copy"),
        Binding("C", "copy_all", "Copy JSON", id="inspect.copy_all"),
    ]
    DEFAULT_CSS = """
    InspectDialog { align: center middle; }
    InspectDialog > Vertical { width: 90%; max-width: 120; height: 90%; border: thick $primary;
        background: $surface; padding: 0 1; }
    InspectDialog Tree { height: 1fr; }
    """

    def __init__(self, title: str, data: dict | list):
        super().__init__()
        self.title_text = title
        self.data = data

    def compose(self) -> ComposeResult:
        from textual.widgets import Tree

        with Vertical():
            yield Label(Text(self.title_text + "   (esc to close, c / C copy)", style="bold"))
            yield Tree(Text(safe(self.title_text)), id="inspect-tree")

    def on_mount(self) -> None:
        from textual.widgets import Tree

        from dockyard.ui.json_tree import fill

        tree = self.query_one(Tree)
        fill(tree.root, self.data)
        tree.root.expand()
        for child in tree.root.children:  # the first level open, as `docker inspect` reads top-down
            child.expand()
        tree.focus()

    def action_copy_value(self) -> None:
        from textual.widgets import Tree

        node = self.query_one(Tree).cursor_node
        if node is None or node.data is None:
            return
        text = node.data if isinstance(node.data, str) else json.dumps(node.data, indent=2)
        self.app.copy_to_clipboard(text)
        self.app.notify(f"copied {len(text)} characters", markup=False, timeout=2)

    def action_copy_all(self) -> None:
        text = json.dumps(self.data, indent=2)
        self.app.copy_to_clipboard(text)
        self.app.notify(f"copied the whole inspect document ({len(text)} characters)", markup=False, timeout=2)

    def action_dismiss_dialog(self) -> None:
        self.dismiss(None)


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
