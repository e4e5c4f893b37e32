"""Placeholder for panes that later work fills (images, volumes, networks, registries)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from dockyard.ui.panes.base import Pane, Row


class ComingPane(Pane):
    kinds = frozenset()

    def __init__(self, name: str):
        self.pane_id = name
        self.title = name.capitalize()
        super().__init__()

    def compose(self):
        yield from super().compose()
        yield Static(Text(f"The {self.title} pane is coming: it will list {self.pane_id} across the whole "
                          "fleet with a HOST column.", style="dim"), classes="coming")

    def on_mount(self) -> None:
        self.table.display = False

    def build_rows(self) -> list[Row]:
        return []
