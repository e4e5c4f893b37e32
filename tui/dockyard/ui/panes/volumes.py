"""Volumes pane: every volume of every host, its size (system df) and the containers using it."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from textual import work

from dockyard.fleet import FleetError, Volume
from dockyard.textfmt import human_size, natural_key
from dockyard.ui.dialogs.ask import AskDialog, Field
from dockyard.ui.dialogs.confirm import ConfirmDialog, Option
from dockyard.ui.panes.base import Column, Pane, Row, cell, host_order, key_table, mark_cell

if TYPE_CHECKING:  # the controller and the registry client load after the first frame
    from dockyard.fleet import Fleet
    from dockyard.registry import Registries


def volume_row(v: Volume, size: int | None, used_by: list[str], marked: bool) -> Row:
    """One volume's row; its size shows … until `system df` has answered."""
    texts = [v.host, v.name, v.driver, v.mountpoint, human_size(size) if size is not None else "…",
             ", ".join(used_by) or "-"]
    return Row(f"{v.host}\x00{v.name}", (mark_cell(marked),) + tuple(cell(t) for t in texts), {
        "host": v.host, "name": v.name, "driver": v.driver, "mountpoint": v.mountpoint, "size": size,
        "used": len(used_by)}, (v, tuple(used_by)), texts, {"host": v.host, "name": v.name, "labels": v.labels})


class VolumesPane(Pane):
    pane_id = "volumes"
    noun = "volumes"
    kinds = frozenset({"volumes", "containers", "host"})
    columns = (
        Column("mark", " ", 1), Column("host", "HOST"), Column("name", "NAME"), Column("driver", "DRIVER"),
        Column("mountpoint", "MOUNTPOINT"), Column("size", "SIZE"), Column("used", "USED BY"),
    )
    BINDINGS = key_table("volume", """
        space   mark    Mark
        n       create  Create
        ctrl+d  remove  Remove
        x       prune   Prune
        ctrl+r  sizes   Refresh sizes
        o       sort    Sort
    """)
    MUTATING = frozenset({"create", "remove", "prune"})

    def mark_key(self, row: Row) -> tuple[str, str] | None:
        return (row.data[0].host, row.data[0].name)

    def __init__(self, fleet: Fleet, registries: Registries) -> None:
        super().__init__(fleet, registries)
        self.sizes: dict[tuple[str, str], int] = {}

    def on_show(self) -> None:
        self._load_sizes()

    def action_sizes(self) -> None:
        self._load_sizes()

    def build_rows(self) -> list[Row]:
        users: dict[tuple[str, str], list[str]] = defaultdict(list)
        for c in self.fleet.cached("containers", self.scope_hosts()):
            for name in c.volumes:
                users[(c.host, name)].append(c.name)
        volumes = self.fleet.cached("volumes", self.scope_hosts())
        self.keep_marks((v.host, v.name) for v in volumes)
        rows = [volume_row(v, self.sizes.get((v.host, v.name)), sorted(users.get((v.host, v.name), [])),
                           (v.host, v.name) in self.marked) for v in volumes]
        order = host_order(self.fleet)
        rows.sort(key=lambda r: (order.get(r.sort_values["host"], 0), natural_key(r.sort_values["name"])))
        return [row for row in rows if self.match(row.texts, row.fields)]

    @work(exclusive=True, group="volume-sizes")
    async def _load_sizes(self) -> None:
        async for result in self.fleet.volumes.usage_by_host(self.scope_hosts()):
            if result.ok:
                for usage in result.value:
                    if usage.size >= 0:
                        self.sizes[(usage.host, usage.name)] = usage.size
        self.refresh_data()

    # ------------------------------------------------------------------ create / remove / prune

    def action_create(self) -> None:
        self.ask(AskDialog("Create a volume", [Field("name", "Name", "", "data")],
                           hosts=self.online_hosts(), selected=self.default_hosts()[:1], ok="Create"),
                 lambda values: self._create(values["name"], values["hosts"]))

    @work(group="actions")
    async def _create(self, name: str, hosts: list[str]) -> None:
        for host in hosts:
            try:
                await self.fleet.volumes.create(host, name)
                self.flash(f"created volume {name} on {host}")
            except FleetError as exc:
                self.flash(f"create volume on {host}: {exc}", error=True)

    def action_remove(self) -> None:
        chosen: list[tuple[Volume, tuple[str, ...]]] = self.selected()
        if not chosen:
            return
        in_use = [v for v, used_by in chosen if used_by]
        title = f"Remove {len(chosen)} volume(s)?" + (
            f" {len(in_use)} in use: refused unless forced." if in_use else "")
        self.ask(ConfirmDialog(title, [(v.host, v.name + (f"  (used by {', '.join(used_by)})" if used_by else ""))
                                       for v, used_by in chosen],
                               "Remove", [Option("force", "Force (even if a container uses it)")]),
                 lambda result: self._remove([v for v, _ in chosen], result.get("force", False)))

    @work(group="actions")
    async def _remove(self, chosen: list[Volume], force: bool) -> None:
        for v in chosen:
            try:
                await self.fleet.volumes.remove(v.host, v.name, force=force)
                self.flash(f"removed volume {v.name} on {v.host}")
            except FleetError as exc:
                self.flash(f"remove volume {v.name} on {v.host}: {exc}", error=True)

    def action_prune(self) -> None:
        self._prune_dry_run(self.scope_hosts() or self.online_hosts())

    @work(group="actions")
    async def _prune_dry_run(self, hosts: list[str]) -> None:
        lines, total = [], 0
        for host in hosts:
            try:
                plan = await self.fleet.volumes.prune(host, dry_run=True)
            except FleetError as exc:
                lines.append((host, f"error: {exc}"))
                continue
            total += plan.space_reclaimed
            lines += [(host, name) for name in plan.volumes]
        if not lines:
            self.flash("no unused volumes to prune")
            return
        self.ask(ConfirmDialog(f"Prune {len(lines)} unused volume(s), about {human_size(total)}? "
                               "Their data is lost.", lines, "Prune"), lambda _: self._prune(hosts))

    @work(group="actions")
    async def _prune(self, hosts: list[str]) -> None:
        for host in hosts:
            try:
                done = await self.fleet.volumes.prune(host)
                self.flash(f"pruned {len(done.volumes)} volume(s) on {host}, {human_size(done.space_reclaimed)}")
            except FleetError as exc:
                self.flash(f"prune volumes on {host}: {exc}", error=True)
