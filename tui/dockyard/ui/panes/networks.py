"""Networks pane: every network of every host, its subnets and the containers attached."""

from __future__ import annotations

from collections import defaultdict

from textual.binding import Binding

from dockyard.ui.panes.base import Column, Pane, Row, cell


class NetworksPane(Pane):
    pane_id = "networks"
    title = "Networks"
    kinds = frozenset({"networks", "containers", "host"})
    columns = (
        Column("mark", " ", 1), Column("host", "HOST"), Column("name", "NAME"), Column("driver", "DRIVER"),
        Column("scope", "SCOPE"), Column("subnet", "SUBNET"), Column("containers", "CONTAINERS"),
    )
    BINDINGS = [
        Binding("space", "mark", "Mark", id="network.mark"),
        Binding("enter", "inspect", "Inspect", id="network.inspect"),
        Binding("n", "create", "Create", id="network.create"),
        Binding("ctrl+d", "remove", "Remove", id="network.remove"),
        Binding("c", "connect", "Connect", id="network.connect"),
        Binding("D", "disconnect", "Disconnect", id="network.disconnect"),
        Binding("o", "sort", "Sort", id="network.sort"),
    ]
    MUTATING = frozenset({"create", "remove", "connect", "disconnect"})

    def mark_key(self, row: Row) -> tuple[str, str] | None:
        return (row.data.host, row.data.id)

    def __init__(self) -> None:
        super().__init__()
        self.marked: set[tuple[str, str]] = set()

    def build_rows(self) -> list[Row]:
        dock = self.dock
        match = dock.filter_matcher()
        attached: dict[tuple[str, str], list[str]] = defaultdict(list)
        for c in dock.fleet.cached("containers", dock.scope_hosts()):
            for name in c.networks:
                attached[(c.host, name)].append(c.name)
        order = {name: i for i, name in enumerate(dock.fleet.sessions)}
        networks = dock.fleet.cached("networks", dock.scope_hosts())
        self.marked &= {(n.host, n.id) for n in networks}
        rows = []
        for n in networks:
            members = sorted(attached.get((n.host, n.name), []))
            texts = [n.host, n.name, n.driver + (" (internal)" if n.internal else ""), n.scope,
                     ", ".join(n.subnets) or "-", ", ".join(members) or "-"]
            if not match(texts, {"host": n.host, "name": n.name, "labels": n.labels}):
                continue
            marked = (n.host, n.id) in self.marked
            cells = (cell("●" if marked else " ", "bold magenta"),) + tuple(cell(t) for t in texts)
            rows.append(Row(f"{n.host}\x00{n.id}", cells, {
                "host": n.host, "name": n.name, "driver": n.driver, "scope": n.scope, "subnet": texts[4],
                "containers": len(members), "order": (order.get(n.host, 0), n.name)}, n))
        rows.sort(key=lambda r: r.sort_values["order"])
        return rows

    def selected(self) -> list:
        if self.marked:
            return [r.data for r in self.rows if (r.data.host, r.data.id) in self.marked]
        row = self.cursor_row_data()
        return [row.data] if row is not None else []

    def on_data_table_row_selected(self, event) -> None:
        event.stop()
        self.action_inspect()

    def action_inspect(self) -> None:
        chosen = self.selected()
        if chosen:
            self.dock.networks_inspect(chosen[0])

    def action_create(self) -> None:
        self.dock.networks_create()

    def action_remove(self) -> None:
        self.dock.networks_remove(self.selected())

    def action_connect(self) -> None:
        chosen = self.selected()
        if chosen:
            self.dock.networks_connect(chosen[0], True)

    def action_disconnect(self) -> None:
        chosen = self.selected()
        if chosen:
            self.dock.networks_connect(chosen[0], False)

