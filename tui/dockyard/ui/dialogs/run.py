"""The "new container" form (`n`): one spec, run on one or several hosts at once.

Fields are checked by `RunSpec.validate()` (the controller's rules); a bad field is
marked in place with its message, nothing is sent until every field is right.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, SelectionList, Static

from dockyard.fleet import RESTART_POLICIES, RunSpec

FIELDS = (
    ("image", "Image", "e.g. nginx:1.27 or 127.0.0.1:5000/app:2"),
    ("name", "Name", "optional"),
    ("command", "Command", "optional, e.g. sleep 3600"),
    ("env", "Environment", "KEY=VALUE KEY2=VALUE2"),
    ("ports", "Ports", "8080:80 127.0.0.1:9000:9000/udp"),
    ("volumes", "Binds / volumes", "/host/path:/in/container:ro data:/var/lib/data"),
    ("labels", "Labels", "app=web team=blue"),
    ("network", "Network mode", "default, none, host, or a network name"),
)


class RunDialog(ModalScreen[tuple[list[str], RunSpec] | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="run.cancel"),
        Binding("ctrl+r", "submit", "Run", id="run.submit"),
    ]
    DEFAULT_CSS = """
    RunDialog { align: center middle; }
    RunDialog > Vertical { width: 90%; max-width: 110; height: 90%; border: thick $primary;
        background: $surface; padding: 0 1; }
    RunDialog VerticalScroll { height: 1fr; }
    RunDialog .row { height: auto; }
    RunDialog .row Label { width: 16; }
    RunDialog .row Input { width: 1fr; border: none; height: 1; padding: 0 1; background: $boost; }
    RunDialog .row Input:focus { background: $primary 30%; }
    RunDialog .row Input.-invalid { background: $error 30%; }
    RunDialog .row Select { width: 1fr; }
    RunDialog .error { color: $error; padding-left: 16; height: auto; display: none; }
    RunDialog .error.-shown { display: block; }
    RunDialog SelectionList { height: auto; max-height: 8; }
    RunDialog #run-buttons { height: auto; align-horizontal: right; }
    RunDialog Button { margin-left: 2; }
    """

    def __init__(self, hosts: list[str], selected: list[str], image: str = ""):
        super().__init__()
        self.hosts = hosts
        self.selected = selected
        self.image = image

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text("New container — runs on every selected host (ctrl+r to run, esc to cancel)",
                             style="bold"))
            with VerticalScroll(can_focus=False):  # its fields take the focus; it scrolls to them
                for key, label, placeholder in FIELDS:
                    with Horizontal(classes="row"):
                        yield Label(label)
                        value = self.image if key == "image" else ("default" if key == "network" else "")
                        yield Input(value=value, placeholder=placeholder, id=f"run-{key}")
                    yield Static("", classes="error", id=f"err-{key}")
                with Horizontal(classes="row"):
                    yield Label("Restart")
                    yield Select([(p, p) for p in RESTART_POLICIES], value="no", allow_blank=False,
                                 id="run-restart")
                yield Label(Text("Hosts", style="bold"))
                yield SelectionList[str](*((h, h, h in self.selected) for h in self.hosts), id="run-hosts")
                yield Static("", classes="error", id="err-hosts")
            with Horizontal(id="run-buttons"):
                yield Button("Cancel", id="cancel", action="screen.cancel")
                yield Button("Run (ctrl+r)", id="run", variant="success", action="screen.submit")

    def on_mount(self) -> None:
        self.query_one("#run-image", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def spec(self) -> RunSpec:
        values = {key: self.query_one(f"#run-{key}", Input).value for key, _, _ in FIELDS}
        return RunSpec(restart=str(self.query_one("#run-restart", Select).value), **values)

    def action_submit(self) -> None:
        spec = self.spec()
        errors = spec.validate()
        hosts = list(self.query_one("#run-hosts", SelectionList).selected)
        if not hosts:
            errors["hosts"] = "select at least one host (space toggles)"
        for key in [k for k, _, _ in FIELDS] + ["hosts"]:
            box = self.query_one(f"#err-{key}", Static)
            box.update(Text(errors.get(key, "")))
            box.set_class(key in errors, "-shown")
            if key != "hosts":
                self.query_one(f"#run-{key}", Input).set_class(key in errors, "-invalid")
        if errors:
            first = next(iter(errors))
            (self.query_one("#run-hosts") if first == "hosts" else self.query_one(f"#run-{first}", Input)).focus()
            return
        self.dismiss((hosts, spec))

    def action_cancel(self) -> None:
        self.dismiss(None)
