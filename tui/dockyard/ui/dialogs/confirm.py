"""Confirmation for destructive actions: lists exactly what (on which host) will be touched."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Label, Static

from dockyard.textfmt import safe


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    value: bool = False


class TickBox(Checkbox):
    """A checkbox whose state reads at a glance: `[X]` ticked, `[ ]` not (Textual's draws `▐X▌` both
    ways and tells them apart by a shade of colour only)."""

    @property
    def _button(self) -> Content:
        style = self.get_visual_style("toggle--button")
        return Content.assemble(("[", ""), ("X" if self.value else " ", style if self.value else ""), ("]", ""))


class ConfirmDialog(ModalScreen[dict[str, bool] | None]):
    """Returns the options' values on confirm, None on cancel."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("y", "confirm", "Yes", id="dialog.confirm", show=False),
        Binding("n", "cancel", "No", id="dialog.no", show=False),
    ]
    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    ConfirmDialog > Vertical { width: 80%; max-width: 100; height: auto; max-height: 90%;
        border: thick $error; background: $surface; padding: 1 2; }
    ConfirmDialog #targets { height: auto; max-height: 12; margin: 1 0; }
    ConfirmDialog #targets:focus { background: $boost; }
    ConfirmDialog Horizontal { height: auto; align-horizontal: right; }
    ConfirmDialog Button { margin-left: 2; }
    """

    def __init__(self, title: str, targets: list[tuple[str, str]], verb: str,
                 options: list[Option] | None = None):
        super().__init__()
        self.title_text = title
        self.targets = targets  # (host, what)
        self.verb = verb
        self.options = options or []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.title_text, style="bold"))
            # a focus stop only when there is something to scroll (else tab lands on nothing visible)
            with VerticalScroll(id="targets", can_focus=len(self.targets) > 10):
                for host, what in self.targets:
                    yield Static(Text.assemble(("  " + safe(host), "bold"), "  ", safe(what)))
            for opt in self.options:
                yield TickBox(opt.label, opt.value, id=f"opt-{opt.id}")
            with Horizontal():
                yield Button("Cancel (n)", id="cancel", action="screen.cancel")
                yield Button(f"{self.verb} (y)", id="confirm", variant="error", action="screen.confirm")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()  # the safe choice is the default

    def action_confirm(self) -> None:
        self.dismiss({o.id: self.query_one(f"#opt-{o.id}", Checkbox).value for o in self.options})

    def action_cancel(self) -> None:
        self.dismiss(None)
