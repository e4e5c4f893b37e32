"""Hosts pane: one row per daemon with its connection state and facts."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.text import Text
from textual import work
from textual.message import Message

from dockyard.fleet import Container, ContainerStats, HostState, HostStatus
from dockyard.textfmt import clock, human_bytes_iec, safe
from dockyard.ui.dialogs.info import TextDialog
from dockyard.ui.panes.base import Column, Pane, Row, cell, key_table

STATE_STYLE = {
    HostState.ONLINE: "green",
    HostState.CONNECTING: "yellow",
    HostState.DISABLED: "dim",
    HostState.HOST_KEY_UNKNOWN: "bold yellow",
    HostState.HOST_KEY_CHANGED: "bold red",
    HostState.AUTH_FAILED: "red",
    HostState.UNREACHABLE: "red",
    HostState.UNSUPPORTED: "bold magenta",
}


def reason_text(s: HostStatus) -> str:
    """Why a host is not online (the fingerprint for host-key states); online, its swarm role."""
    if s.state in (HostState.HOST_KEY_UNKNOWN, HostState.HOST_KEY_CHANGED) and s.host_key:
        return f"{s.host_key.key_type} {s.host_key.fingerprint} ({s.host_key.hop})"
    return swarm_text(s) if s.state == HostState.ONLINE else (s.reason or "")


def swarm_text(s: HostStatus) -> str:
    """"swarm manager a1" / "swarm worker a1 (swarm 8f3k2l1x9q0w)"; a worker of no configured manager's
    swarm has no ID to show (its /info carries none)."""
    if s.swarm_role is None:
        return ""
    name = f" {s.swarm_name}" if s.swarm_name else ""
    swarm_id = f" (swarm {s.swarm_id[:12]})" if s.swarm_id else " (swarm unknown: no manager configured)"
    return f"swarm {s.swarm_role}{name}{swarm_id if s.swarm_role == 'worker' else ''}"


# Seconds between samples of the containers behind a host's CPU% / MEM USED: ~40 hosts on screen
# are ~400 containers, sampled at the Containers pane's pace that was 80 requests a second.
TOTALS_EVERY = 15.0

SCROLL_SETTLE = 0.5

Totals = tuple[float, int, int, int]  # summed CPU%, summed memory, containers sampled, containers running


def host_totals(containers: Iterable[Container],
                stats_of: Callable[[str, str], ContainerStats | None]) -> dict[str, Totals]:
    """Per host: summed CPU% and memory of its running containers, how many sampled, how many running."""
    out: dict[str, Totals] = {}
    for c in containers:
        if c.state != "running":
            continue
        cpu, mem, sampled, running = out.get(c.host, (0.0, 0, 0, 0))
        stats = stats_of(c.host, c.id)
        if stats is not None and stats.cpu_percent is not None:
            cpu, mem, sampled = cpu + stats.cpu_percent, mem + (stats.mem_usage or 0), sampled + 1
        out[c.host] = (cpu, mem, sampled, running + 1)
    return out


def host_row(s: HostStatus, totals: Totals = (0.0, 0, 0, 0)) -> Row:
    """One daemon's row: connection state, facts, container totals (~ while not all are sampled)."""
    running_total = f"{s.containers_running}/{s.containers}" if s.containers is not None else "-"
    cpu, mem, sampled, running = totals
    partial = "~" if sampled < running else ""  # not every running container sampled yet
    state = s.state.value + (f" since {clock(s.down_since)}" if s.down_since else "")
    texts = [s.name, s.transport, state, s.server_version or "-", running_total,
             "-" if s.images is None else str(s.images), "-" if s.cpus is None else str(s.cpus),
             human_bytes_iec(s.memory) if s.memory else "-",
             f"{partial}{cpu:.1f}" if sampled else "-", f"{partial}{human_bytes_iec(mem)}" if sampled else "-",
             f"{s.latency_ms:.1f} ms" if s.latency_ms is not None else "-", reason_text(s)]
    cells = tuple(cell(t, STATE_STYLE.get(s.state, "") if i in (2, 11) else "") for i, t in enumerate(texts))
    if s.readonly:
        cells = (cell(s.name + " (ro)"),) + cells[1:]
    return Row(s.name, cells, {
        "name": s.name, "transport": s.transport, "state": s.state.value, "version": s.server_version,
        "containers": s.containers_running, "images": s.images, "cpus": s.cpus, "memory": s.memory,
        "cpu_used": cpu if sampled else None, "mem_used": mem if sampled else None,
        "latency": s.latency_ms, "reason": texts[11]}, s, texts,
        {"host": s.name, "state": s.state.value, "labels": s.labels, "name": s.name})


LIVE_KINDS = frozenset({"host", "containers", "images", "stats", "ping"})  # each about its own host's row


class HostsPane(Pane):
    pane_id = "hosts"
    kinds = LIVE_KINDS | {"swarm"}  # ping: LATENCY; swarm: a node's role in REASON
    default_sort = ""
    # Narrow terminals (see Column): the REASON a host is down is what one needs most: it always shows,
    # takes the width left over, and the extras (VERSION, then TRANSPORT and IMAGES, then the machine's
    # CPUS and MEMORY) hide to give it its whole text; the live figures hide only when nothing else can.
    columns = (
        Column("name", "NAME", min_width=10), Column("transport", "TRANSPORT", priority=5),
        Column("state", "STATE", min_width=12), Column("version", "VERSION", priority=4),
        Column("containers", "CONTAINERS", priority=1), Column("images", "IMAGES", priority=5),
        Column("cpus", "CPUS", priority=6), Column("memory", "MEMORY", priority=6),
        Column("cpu_used", "CPU%", priority=2, descending=True),
        Column("mem_used", "MEM USED", priority=2, descending=True), Column("latency", "LATENCY", priority=3),
        Column("reason", "REASON", min_width=20, flex=True),
    )
    BINDINGS = key_table("host", """
        enter  scope      Scope to host
        c      reconnect  Reconnect
        i      details    Details
    """)

    class ScopeChosen(Message):
        """Show only this host's objects, starting with its containers."""

        def __init__(self, host: str) -> None:
            super().__init__()
            self.host = host

    class HostKeyAsked(Message):
        """Ask the user again about the host key this host offered."""

        def __init__(self, host: str) -> None:
            super().__init__()
            self.host = host

    _memo: dict[str, tuple[HostStatus, Totals, Row]] = {}
    _changed_hosts: set[str] | None = None  # a live tick's changed hosts (None: every host, a full build)
    _built_for = None  # the filter the rows were last fully built for

    def refresh_data(self, full: bool = True) -> None:
        """A live tick that knows which hosts changed (and no swarm change: a role shows on every
        node's row) makes only their rows again: 500 hosts made 500 statuses and summed 5,000
        containers' stats twice a second while their stats trickled in (~15 ms a tick)."""
        self._changed_hosts = None if full or not self.stale_kinds <= LIVE_KINDS else set(self.stale_hosts)
        try:
            super().refresh_data()
        finally:
            self._changed_hosts = None

    def build_rows(self) -> list[Row]:
        """Every host's row; a host whose status and totals are as before keeps its row as it was
        (500 hosts: the cells of the one whose latency changed are made, not 6,000)."""
        changed, self._changed_hosts = self._changed_hosts, None
        if changed is None or self._built_for is not self.match or set(self._memo) != set(self.fleet.sessions):
            self._built_for = self.match
            totals = host_totals(self.fleet.cached("containers"), self.fleet.container_stats)
            statuses = self.fleet.hosts()
        else:
            names = [name for name in changed if name in self._memo]
            totals = host_totals(self.fleet.cached("containers", names), self.fleet.container_stats) if names else {}
            statuses = [self.fleet.host(name) for name in names]
        memo = dict(self._memo) if changed is not None else {}
        for status in statuses:
            total = totals.get(status.name, (0.0, 0, 0, 0))
            cached = self._memo.get(status.name)
            if cached is not None and cached[0] == status and cached[1] == total:
                row = cached[2]
            else:
                row = host_row(status, total)
            memo[status.name] = (status, total, row)
        self._memo = memo
        return [entry[2] for name in self.fleet.sessions if (entry := memo.get(name)) is not None
                and self.match(entry[2].texts, entry[2].fields)]

    def on_mount(self) -> None:
        super().on_mount()
        self.watch(self.table, "scroll_y", lambda _: self._scrolled(), init=False)  # other hosts in view

    _settle_timer = None

    def _scrolled(self) -> None:
        """Other hosts in view: sample theirs once the view rests (`SCROLL_SETTLE` s), not for every
        page a user flips past (each page is ~400 containers to sample)."""
        if self._settle_timer is not None:
            self._settle_timer.stop()
        self._settle_timer = self.set_timer(SCROLL_SETTLE, self.after_refresh)

    def after_refresh(self) -> None:
        """Per-host totals need every running container sampled: those of the hosts on screen only
        (500 hosts × 10 containers would be 1,000 requests a second, each a connection)."""
        if self.display and not self.covered and self.table.size.height:  # the switcher shows only the active pane
            on_screen = [row.key for row in self.visible_rows()]
            running = self.fleet.cached("containers", on_screen) if on_screen else []
            self.fleet.watch_stats([(c.host, c.id) for c in running if c.state == "running"], owner=self.pane_id,
                                   interval=TOTALS_EVERY)

    def cursor_detail(self) -> str | None:
        """A host that is not online: its state and whole reason under the table (REASON is cut on
        a narrow terminal, and the reason is what one needs)."""
        host = self.selected_host()
        if host is None or host.state == HostState.ONLINE or not reason_text(host):
            return None
        since = f" since {clock(host.down_since)}" if host.down_since else ""
        return f"{host.name}: {host.state.value}{since} — {reason_text(host)}"

    def selected_host(self) -> HostStatus | None:
        row = self.cursor_row_data()
        return row.data if row else None

    def row_chosen(self) -> None:
        self.action_scope()

    def action_scope(self) -> None:
        host = self.selected_host()
        if host is not None and host.host_key is not None:
            self.post_message(self.HostKeyAsked(host.name))  # decide on the key first
        elif host is not None:
            self.post_message(self.ScopeChosen(host.name))

    async def action_reconnect(self) -> None:
        host = self.selected_host()
        if host is not None:
            self.flash(f"reconnecting {host.name}…")
            await self.fleet.reconnect(host.name)

    def action_details(self) -> None:
        host = self.selected_host()
        if host is not None:
            self._details(host.name)

    @work(exclusive=True, group="details")
    async def _details(self, name: str) -> None:
        details = await self.fetch(self.fleet.host_details(name), name)
        if details is None:
            return
        body = Text()
        for section, rows in details:
            body.append(f"{section}\n", style="bold underline")
            for key, value in rows:
                body.append(f"  {safe(key):<22}", style="bold")
                body.append(f"{safe(value)}\n")
            body.append("\n")
        self.app.push_screen(TextDialog(f"Host {name}", body))
