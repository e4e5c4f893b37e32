"""The SSH host-key decision: accept once, accept and save, or reject. A changed key is only shown."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from dockyard.fleet import HostKeyOffer
from dockyard.textfmt import safe


class HostKeyDialog(ModalScreen[str | None]):
    """Dismisses with "once", "save" or None (rejected / closed)."""

    BINDINGS = [
        Binding("escape", "reject", "Reject", id="hostkey.reject"),
        Binding("o", "choose('once')", "Accept once", id="hostkey.once", show=False),
        Binding("s", "choose('save')", "Accept and save", id="hostkey.save", show=False),
    ]
    DEFAULT_CSS = """
    HostKeyDialog { align: center middle; }
    HostKeyDialog > Vertical { width: 90%; max-width: 100; height: auto; border: thick $warning;
        background: $surface; padding: 1 2; }
    HostKeyDialog.changed > Vertical { border: thick $error; }
    HostKeyDialog Static { margin-bottom: 1; }
    HostKeyDialog Horizontal { height: auto; align-horizontal: right; }
    HostKeyDialog Button { margin-left: 2; }
    """

    def __init__(self, host: str, offer: HostKeyOffer, known_hosts: str):
        super().__init__(classes="changed" if offer.changed else "")
        self.host = host
        self.offer = offer
        self.known_hosts = known_hosts

    def compose(self) -> ComposeResult:
        o = self.offer
        endpoint = o.host if o.port == 22 else f"[{o.host}]:{o.port}"
        facts = Text.assemble(
            ("Host: ", "bold"), safe(self.host), "\n",
            ("Endpoint: ", "bold"), safe(endpoint), "\n",
            ("Hop: ", "bold"), safe(o.hop), "\n",
            ("Key type: ", "bold"), safe(o.key_type), "\n",
            ("Fingerprint: ", "bold"), (safe(o.fingerprint), "bold"),
        )
        with Vertical():
            if o.changed:
                yield Label(Text("WARNING: REMOTE HOST KEY HAS CHANGED", style="bold red"))
                yield Static(Text(
                    "The server offers a different key than the one in known_hosts. Someone may be "
                    "intercepting the connection (man-in-the-middle), or the host was reinstalled. "
                    f"Dockyard refuses to connect. If the change is legitimate, remove the old line for "
                    f"{endpoint} from {self.known_hosts} and reconnect.", style="red"))
                yield Static(facts)
                with Horizontal():
                    yield Button("Close", id="reject", variant="primary", action="screen.reject")
            else:
                yield Label(Text("Unknown SSH host key", style="bold"))
                yield Static(Text("This host's key is not in known_hosts. Compare the fingerprint with "
                                  "one obtained from the host's owner before trusting it."))
                yield Static(facts)
                with Horizontal():
                    yield Button("Reject (esc)", id="reject", action="screen.reject")
                    yield Button("Accept once (o)", id="once", variant="warning", action="screen.choose('once')")
                    yield Button("Accept and save (s)", id="save", variant="success",
                                 action="screen.choose('save')")

    def on_mount(self) -> None:
        self.query_one("#reject", Button).focus()

    def action_choose(self, choice: str) -> None:
        if not self.offer.changed:  # a changed key is never accepted
            self.dismiss(choice)

    def action_reject(self) -> None:
        self.dismiss(None)
