"""The Textual application. For now a single Hosts table fed by the live fleet.

The UI talks only to `tui.fleet.Fleet` (never aiodocker/asyncssh): it subscribes to
batched `FleetChange` notifications and repaints at most `refresh_hz` times a second.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from tui.cli.format import human_bytes_iec
from tui.config.model import Config
from tui.fleet import Fleet, FleetChange, HostState

STATE_STYLE = {
    HostState.ONLINE: "green",
    HostState.CONNECTING: "yellow",
    HostState.DISABLED: "dim",
    HostState.HOST_KEY_CHANGED: "bold red",
}


class DockyardApp(App[int]):
    TITLE = "Dockyard"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("c", "reconnect", "Reconnect", id="host.reconnect"),
    ]
    CSS = "#notice { height: auto; color: $text-muted; padding: 0 1; }"

    def __init__(self, config: Config, readonly: bool | None = None):
        super().__init__()
        self.config = config
        self.fleet = Fleet(config, live=True, readonly=readonly)
        self._dirty = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="hosts", cursor_type="row")
        yield Static("Containers, images, volumes, networks and registries panes are coming.", id="notice")
        yield Footer()

    async def on_mount(self) -> None:
        table = self.query_one("#hosts", DataTable)
        for column in ("NAME", "TRANSPORT", "STATE", "VERSION", "CONTAINERS", "IMAGES", "CPUS", "MEMORY",
                       "LATENCY"):
            table.add_column(column, key=column)
        self.fleet.subscribe(self._on_fleet_change)
        self.fleet.start()
        self._repaint()
        self.set_interval(1 / max(self.config.ui.refresh_hz, 0.1), self._tick)

    async def on_unmount(self) -> None:
        await self.fleet.close()

    def _on_fleet_change(self, change: FleetChange) -> None:
        self._dirty = True

    def _tick(self) -> None:
        if self._dirty:
            self._dirty = False
            self._repaint()

    def _repaint(self) -> None:
        table = self.query_one("#hosts", DataTable)
        cursor = table.cursor_row
        table.clear()
        for s in self.fleet.hosts():
            state = s.state.value + (f": {s.reason}" if s.reason and s.state != HostState.ONLINE else "")
            table.add_row(
                Text(s.name), Text(s.transport), Text(state, style=STATE_STYLE.get(s.state, "red")),
                Text(s.server_version or "-"),
                Text(f"{s.containers_running}/{s.containers}" if s.containers is not None else "-"),
                Text(str(s.images) if s.images is not None else "-"),
                Text(str(s.cpus) if s.cpus else "-"), Text(human_bytes_iec(s.memory)),
                Text(f"{s.latency_ms:.1f} ms" if s.latency_ms is not None else "-"),
                key=s.name,
            )
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1))

    async def action_reconnect(self) -> None:
        table = self.query_one("#hosts", DataTable)
        if table.row_count:
            name = self.fleet.hosts()[table.cursor_row].name
            await self.fleet.reconnect(name)


def run_app(config: Config, readonly: bool | None = None) -> int:
    return DockyardApp(config, readonly).run() or 0
