"""A small form: a few text fields and, optionally, a choice of hosts. Returns the values or None."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, SelectionList, Static

from dockyard.textfmt import safe
from dockyard.ui.dialogs.confirm import TickBox


@dataclass(frozen=True)
class Field:
    id: str
    label: str
    value: str = ""
    placeholder: str = ""
    required: bool = True


@dataclass(frozen=True)
class Flag:
    id: str
    label: str
    value: bool = False


class AskDialog(ModalScreen[dict | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="ask.cancel"),
                Binding("ctrl+r", "submit", "OK", id="ask.submit", show=False)]
    DEFAULT_CSS = """
    AskDialog { align: center middle; }
    AskDialog > Vertical { width: 90%; max-width: 100; height: auto; max-height: 90%; border: thick $primary;
        background: $surface; padding: 0 1; }
    AskDialog .row { height: 1; margin-top: 1; }
    AskDialog .row Label { width: 18; }
    AskDialog .row Input { width: 1fr; border: none; height: 1; padding: 0 1; background: $boost; }
    AskDialog .row Input:focus { background: $primary 30%; }
    AskDialog SelectionList { height: auto; max-height: 10; }
    AskDialog #ask-error { color: $error; height: auto; }
    AskDialog #ask-buttons { height: auto; align-horizontal: right; }
    AskDialog Button { margin-left: 2; }
    """

    def __init__(self, title: str, fields: list[Field], *, hosts: list[str] | None = None,
                 selected: list[str] | None = None, flags: list[Flag] | None = None, ok: str = "OK",
                 note: str = ""):
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.hosts = hosts
        self.selected = selected or []
        self.flags = flags or []
        self.ok = ok
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.title_text, style="bold"))
            if self.note:
                yield Static(Text(safe(self.note), style="dim"))
            for f in self.fields:
                with Horizontal(classes="row"):
                    yield Label(f.label)
                    yield Input(value=f.value, placeholder=f.placeholder, id=f"ask-{f.id}")
            for flag in self.flags:
                yield TickBox(flag.label, flag.value, id=f"flag-{flag.id}")
            if self.hosts is not None:
                yield Label(Text("Hosts (space toggles)", style="bold"))
                yield SelectionList[str](*((h, h, h in self.selected) for h in self.hosts), id="ask-hosts")
            yield Static("", id="ask-error")
            with Horizontal(id="ask-buttons"):
                yield Button("Cancel", id="cancel", action="screen.cancel")
                yield Button(self.ok, id="ok", variant="primary", action="screen.submit")

    def on_mount(self) -> None:
        if self.fields:
            self.query_one(f"#ask-{self.fields[0].id}", Input).focus()
        elif self.hosts is not None:
            self.query_one("#ask-hosts").focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        values: dict = {f.id: self.query_one(f"#ask-{f.id}", Input).value.strip() for f in self.fields}
        missing = [f.label for f in self.fields if f.required and not values[f.id]]
        for flag in self.flags:
            values[flag.id] = self.query_one(f"#flag-{flag.id}", Checkbox).value
        if self.hosts is not None:
            values["hosts"] = list(self.query_one("#ask-hosts", SelectionList).selected)
            if not values["hosts"]:
                missing.append("at least one host")
        if missing:
            self.query_one("#ask-error", Static).update(Text("required: " + ", ".join(missing)))
            return
        self.dismiss(values)

    def action_cancel(self) -> None:
        self.dismiss(None)
