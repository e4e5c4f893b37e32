"""Volumes pane: every volume of every host, its size (system df) and the containers using it."""

from __future__ import annotations

from collections import defaultdict

from textual import work
from textual.binding import Binding

from dockyard.textfmt import human_size
from dockyard.ui.panes.base import Column, Pane, Row, cell


class VolumesPane(Pane):
    pane_id = "volumes"
    title = "Volumes"
    kinds = frozenset({"volumes", "containers", "host"})
    columns = (
        Column("mark", " ", 1), Column("host", "HOST"), Column("name", "NAME"), Column("driver", "DRIVER"),
        Column("mountpoint", "MOUNTPOINT"), Column("size", "SIZE"), Column("used", "USED BY"),
    )
    BINDINGS = [
        Binding("space", "mark", "Mark", id="volume.mark"),
        Binding("n", "create", "Create", id="volume.create"),
        Binding("ctrl+d", "remove", "Remove", id="volume.remove"),
        Binding("x", "prune", "Prune", id="volume.prune"),
        Binding("ctrl+r", "sizes", "Refresh sizes", id="volume.sizes"),
        Binding("o", "sort", "Sort", id="volume.sort"),
    ]
    MUTATING = frozenset({"create", "remove", "prune"})

    def mark_key(self, row: Row) -> tuple[str, str] | None:
        return (row.data[0].host, row.data[0].name)

    def __init__(self) -> None:
        super().__init__()
        self.marked: set[tuple[str, str]] = set()
        self.sizes: dict[tuple[str, str], int] = {}

    def on_show(self) -> None:
        self._load_sizes()

    def action_sizes(self) -> None:
        self._load_sizes()

    def build_rows(self) -> list[Row]:
        dock = self.dock
        match = dock.filter_matcher()
        users: dict[tuple[str, str], list[str]] = defaultdict(list)
        for c in dock.fleet.cached("containers", dock.scope_hosts()):
            for v in c.volumes:
                users[(c.host, v)].append(c.name)
        order = {name: i for i, name in enumerate(dock.fleet.sessions)}
        volumes = dock.fleet.cached("volumes", dock.scope_hosts())
        self.marked &= {(v.host, v.name) for v in volumes}
        rows = []
        for v in volumes:
            key = (v.host, v.name)
            used_by = sorted(users.get(key, []))
            size = self.sizes.get(key)
            texts = [v.host, v.name, v.driver, v.mountpoint, human_size(size) if size is not None else "…",
                     ", ".join(used_by) or "-"]
            if not match(texts, {"host": v.host, "name": v.name, "labels": v.labels}):
                continue
            marked = key in self.marked
            cells = (cell("●" if marked else " ", "bold magenta"),) + tuple(cell(t) for t in texts)
            rows.append(Row(f"{v.host}\x00{v.name}", cells, {
                "host": v.host, "name": v.name, "driver": v.driver, "mountpoint": v.mountpoint, "size": size,
                "used": len(used_by), "order": (order.get(v.host, 0), v.name)}, (v, tuple(used_by))))
        rows.sort(key=lambda r: r.sort_values["order"])
        return rows

    @work(exclusive=True, group="volume-sizes")
    async def _load_sizes(self) -> None:
        async for result in self.dock.fleet.volumes.usage_by_host(self.dock.scope_hosts()):
            if result.ok:
                for usage in result.value:
                    if usage.size >= 0:
                        self.sizes[(usage.host, usage.name)] = usage.size
        self.refresh_data()

    def selected(self) -> list:
        from types import SimpleNamespace

        picked = [r.data for r in self.rows if (r.data[0].host, r.data[0].name) in self.marked] if self.marked else (
            [self.cursor_row_data().data] if self.cursor_row_data() else [])
        return [SimpleNamespace(host=v.host, name=v.name, used_by=users) for v, users in picked]

    def action_create(self) -> None:
        self.dock.volumes_create()

    def action_remove(self) -> None:
        self.dock.volumes_remove(self.selected())

    def action_prune(self) -> None:
        hosts = self.dock.scope_hosts() or self.dock._online_hosts()
        self.dock.volumes_prune(hosts)

