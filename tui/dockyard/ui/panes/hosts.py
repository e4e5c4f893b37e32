"""Hosts pane: one row per daemon with its connection state and facts."""

from __future__ import annotations

from textual.binding import Binding

from dockyard.fleet import HostState, HostStatus
from dockyard.textfmt import human_bytes_iec
from dockyard.ui.panes.base import Column, Pane, Row, cell

STATE_STYLE = {
    HostState.ONLINE: "green",
    HostState.CONNECTING: "yellow",
    HostState.DISABLED: "dim",
    HostState.HOST_KEY_UNKNOWN: "bold yellow",
    HostState.HOST_KEY_CHANGED: "bold red",
    HostState.AUTH_FAILED: "red",
    HostState.UNREACHABLE: "red",
}


def reason_text(s: HostStatus) -> str:
    """Why a host is not online (the fingerprint for host-key states); empty when online."""
    if s.state in (HostState.HOST_KEY_UNKNOWN, HostState.HOST_KEY_CHANGED) and s.host_key:
        return f"{s.host_key.key_type} {s.host_key.fingerprint} ({s.host_key.hop})"
    return "" if s.state == HostState.ONLINE else (s.reason or "")


class HostsPane(Pane):
    pane_id = "hosts"
    title = "Hosts"
    kinds = frozenset({"host", "containers", "images", "stats", "ping"})  # ping: LATENCY
    default_sort = ""
    columns = (
        Column("name", "NAME"), Column("transport", "TRANSPORT"), Column("state", "STATE"),
        Column("version", "VERSION"), Column("containers", "CONTAINERS"), Column("images", "IMAGES"),
        Column("cpus", "CPUS"), Column("memory", "MEMORY"), Column("cpu_used", "CPU%"),
        Column("mem_used", "MEM USED"), Column("latency", "LATENCY"), Column("reason", "REASON"),
    )
    BINDINGS = [
        Binding("enter", "scope", "Scope to host", id="host.scope"),
        Binding("c", "reconnect", "Reconnect", id="host.reconnect"),
        Binding("i", "details", "Details", id="host.details"),
    ]

    def build_rows(self) -> list[Row]:
        dock = self.dock
        match = dock.filter_matcher()
        totals = self._totals()
        rows = []
        for s in dock.fleet.hosts():
            running_total = f"{s.containers_running}/{s.containers}" if s.containers is not None else "-"
            cpu, mem, sampled, running = totals.get(s.name, (0.0, 0, 0, 0))
            partial = "~" if sampled < running else ""  # not every running container sampled yet
            texts = [s.name, s.transport, s.state.value, s.server_version or "-", running_total,
                     "-" if s.images is None else str(s.images), "-" if s.cpus is None else str(s.cpus),
                     human_bytes_iec(s.memory) if s.memory else "-",
                     f"{partial}{cpu:.1f}" if sampled else "-", f"{partial}{human_bytes_iec(mem)}" if sampled else "-",
                     f"{s.latency_ms:.1f} ms" if s.latency_ms is not None else "-", reason_text(s)]
            if not match(texts, {"host": s.name, "state": s.state.value, "labels": s.labels, "name": s.name}):
                continue
            cells = tuple(cell(t, STATE_STYLE.get(s.state, "") if i in (2, 11) else "") for i, t in enumerate(texts))
            if s.readonly:
                cells = (cell(s.name + " (ro)"),) + cells[1:]
            rows.append(Row(s.name, cells, {
                "name": s.name, "transport": s.transport, "state": s.state.value, "version": s.server_version,
                "containers": s.containers_running, "images": s.images, "cpus": s.cpus, "memory": s.memory,
                "cpu_used": cpu if sampled else None, "mem_used": mem if sampled else None,
                "latency": s.latency_ms, "reason": texts[11]}, s))
        return rows

    def _totals(self) -> dict[str, tuple[float, int, int, int]]:
        """Per host: summed CPU% and memory of its running containers, how many sampled, how many running."""
        fleet = self.dock.fleet
        out: dict[str, tuple[float, int, int, int]] = {}
        for c in fleet.cached("containers"):
            if c.state != "running":
                continue
            cpu, mem, sampled, running = out.get(c.host, (0.0, 0, 0, 0))
            stats = fleet.container_stats(c.host, c.id)
            if stats is not None and stats.cpu_percent is not None:
                cpu, mem, sampled = cpu + stats.cpu_percent, mem + (stats.mem_usage or 0), sampled + 1
            out[c.host] = (cpu, mem, sampled, running + 1)
        return out

    def after_refresh(self) -> None:
        """Per-host totals need every running container sampled: slowly, within each host's budget."""
        if self.dock.active_pane is self:
            keys = [(c.host, c.id) for c in self.dock.fleet.cached("containers") if c.state == "running"]
            self.dock.fleet.watch_stats(keys, owner=self.pane_id)

    def selected_host(self) -> HostStatus | None:
        row = self.cursor_row_data()
        return row.data if row else None

    def on_data_table_row_selected(self, event) -> None:
        event.stop()
        self.action_scope()

    def action_scope(self) -> None:
        host = self.selected_host()
        if host is not None and host.host_key is not None:
            self.dock.ask_host_key(host.name, force=True)  # decide on the key first
        elif host is not None:
            self.dock.set_scope(host.name)
            self.dock.show_pane("containers")

    async def action_reconnect(self) -> None:
        host = self.selected_host()
        if host is not None:
            self.dock.flash(f"reconnecting {host.name}…")
            await self.dock.fleet.reconnect(host.name)

    def action_details(self) -> None:
        host = self.selected_host()
        if host is not None:
            self.dock.show_host_details(host.name)
