"""Read-only screens: help (every key of the current pane), host details, inspect documents."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from dockyard.textfmt import safe


class ReadingDialog(ModalScreen[None]):
    """A framed read-only screen: a bold title with its keys' hint, a body; esc or q closes it.
    Subclasses give `hint`, `compose_body` and their BINDINGS (each keeps its own binding ids)."""

    hint = "esc to close"
    DEFAULT_CSS = """
    ReadingDialog { align: center middle; }
    ReadingDialog > Vertical { width: 90%; max-width: 110; height: 90%; border: thick $primary;
        background: $surface; padding: 0 1; }
    """

    def __init__(self, title: str):
        super().__init__()
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(f"{self.title_text}   ({self.hint})", style="bold"))
            yield from self.compose_body()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def action_dismiss_dialog(self) -> None:
        self.dismiss(None)


class InspectDialog(ReadingDialog):
    """An inspect document as a foldable tree, as the container view shows one: enter or space
    folds, `c` copies the value under the cursor and `C` the whole document (OSC 52)."""

    BINDINGS = [
        Binding("escape", "dismiss_dialog", "Close", id="inspect.close"),
        Binding("q", "dismiss_dialog", "Close", show=False, id="inspect.close_q"),
        Binding("c", "copy_value", "Copy value", id="inspect.copy"),
        Binding("C", "copy_all", "Copy JSON", id="inspect.copy_all"),
    ]
    DEFAULT_CSS = """
    InspectDialog > Vertical { max-width: 120; }
    InspectDialog Tree { height: 1fr; }
    """
    hint = "esc to close, c / C copy"

    def __init__(self, title: str, data: dict | list):
        super().__init__(title)
        self.data = data

    def compose_body(self) -> ComposeResult:
        from textual.widgets import Tree

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

        from dockyard.ui.json_tree import copy_value

        copy_value(self.app, self.query_one(Tree).cursor_node)

    def action_copy_all(self) -> None:
        from dockyard.ui.json_tree import copy_document

        copy_document(self.app, self.data)


class TextDialog(ReadingDialog):
    BINDINGS = [
        Binding("escape", "dismiss_dialog", "Close", id="dialog.close"),
        Binding("q", "dismiss_dialog", "Close", show=False, id="dialog.close_q"),
    ]
    DEFAULT_CSS = """
    TextDialog VerticalScroll { height: 1fr; }
    """

    def __init__(self, title: str, body: Text | Table):
        super().__init__(title)
        self.body = body

    def compose_body(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(self.body, id="body")


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
