"""Networks pane: every network of every host, its subnets and the containers attached."""

from __future__ import annotations

from collections import defaultdict

from textual import work

from dockyard.fleet import FleetError, Network
from dockyard.textfmt import natural_key
from dockyard.ui.dialogs.ask import AskDialog, Field, Flag
from dockyard.ui.dialogs.confirm import ConfirmDialog
from dockyard.ui.dialogs.info import InspectDialog
from dockyard.ui.panes.base import Column, Pane, Row, cell, host_order, key_table, mark_cell


def network_row(n: Network, members: list[str], marked: bool) -> Row:
    """One network's row with the names of the containers attached to it."""
    texts = [n.host, n.name, n.driver + (" (internal)" if n.internal else ""), n.scope,
             ", ".join(n.subnets) or "-", ", ".join(members) or "-"]
    return Row(f"{n.host}\x00{n.id}", (mark_cell(marked),) + tuple(cell(t) for t in texts), {
        "host": n.host, "name": n.name, "driver": n.driver, "scope": n.scope, "subnet": texts[4],
        "containers": len(members)}, n, texts, {"host": n.host, "name": n.name, "labels": n.labels})


class NetworksPane(Pane):
    pane_id = "networks"
    noun = "networks"
    kinds = frozenset({"networks", "containers", "host"})
    columns = (
        Column("mark", " ", 1), Column("host", "HOST"), Column("name", "NAME"), Column("driver", "DRIVER"),
        Column("scope", "SCOPE"), Column("subnet", "SUBNET"), Column("containers", "CONTAINERS"),
    )
    BINDINGS = key_table("network", """
        space   mark        Mark
        enter   inspect     Inspect
        n       create      Create
        ctrl+d  remove      Remove
        c       connect     Connect
        D       disconnect  Disconnect
        o       sort        Sort
    """)
    MUTATING = frozenset({"create", "remove", "connect", "disconnect"})

    def mark_key(self, row: Row) -> tuple[str, str] | None:
        return (row.data.host, row.data.id)

    def build_rows(self) -> list[Row]:
        attached: dict[tuple[str, str], list[str]] = defaultdict(list)
        for c in self.fleet.cached("containers", self.scope_hosts()):
            for name in c.networks:
                attached[(c.host, name)].append(c.name)
        networks = self.fleet.cached("networks", self.scope_hosts())
        self.keep_marks((n.host, n.id) for n in networks)
        rows = [network_row(n, sorted(attached.get((n.host, n.name), [])), (n.host, n.id) in self.marked)
                for n in networks]
        order = host_order(self.fleet)
        rows.sort(key=lambda r: (order.get(r.sort_values["host"], 0), natural_key(r.sort_values["name"])))
        return [row for row in rows if self.match(row.texts, row.fields)]

    def row_chosen(self) -> None:
        self.action_inspect()

    def action_inspect(self) -> None:
        chosen = self.selected()
        if chosen:
            self._inspect(chosen[0])

    @work(group="details")
    async def _inspect(self, network: Network) -> None:
        data = await self.fetch(self.fleet.networks.inspect(network.host, network.id), "inspect")
        if data is None:
            return
        self.app.push_screen(InspectDialog(f"Network {network.name} on {network.host}", data))

    def action_create(self) -> None:
        self.ask(AskDialog("Create a network", [Field("name", "Name", "", "backend")],
                           flags=[Flag("internal", "Internal (no route outside the host)", True)],
                           hosts=self.online_hosts(), selected=self.default_hosts()[:1], ok="Create"),
                 lambda values: self._create(values["name"], values["hosts"], values.get("internal", True)))

    @work(group="actions")
    async def _create(self, name: str, hosts: list[str], internal: bool) -> None:
        for host in hosts:
            try:
                await self.fleet.networks.create(host, name, internal=internal)
                self.flash(f"created network {name} on {host}")
            except FleetError as exc:
                self.flash(f"create network on {host}: {exc}", error=True)

    def action_remove(self) -> None:
        chosen = self.selected()
        if chosen:
            self.ask(ConfirmDialog(f"Remove {len(chosen)} network(s)?", [(n.host, n.name) for n in chosen], "Remove"),
                     lambda _: self._remove(chosen))

    @work(group="actions")
    async def _remove(self, chosen: list[Network]) -> None:
        for n in chosen:
            try:
                await self.fleet.networks.remove(n.host, n.id)
                self.flash(f"removed network {n.name} on {n.host}")
            except FleetError as exc:
                self.flash(f"remove network {n.name} on {n.host}: {exc}", error=True)

    def action_connect(self) -> None:
        self._ask_connect(True)

    def action_disconnect(self) -> None:
        self._ask_connect(False)

    def _ask_connect(self, connect: bool) -> None:
        chosen = self.selected()
        if not chosen:
            return
        network = chosen[0]
        names = sorted(c.name for c in self.fleet.cached("containers", [network.host]))
        verb = "Connect" if connect else "Disconnect"
        self.ask(AskDialog(f"{verb} a container {'to' if connect else 'from'} {network.name} on {network.host}",
                           [Field("container", "Container", "", ", ".join(names[:5]))], ok=verb),
                 lambda values: self._connect(network, values["container"], connect))

    @work(group="actions")
    async def _connect(self, network: Network, container: str, connect: bool) -> None:
        try:
            if connect:
                await self.fleet.networks.connect(network.host, network.id, container)
            else:
                await self.fleet.networks.disconnect(network.host, network.id, container)
            self.flash(f"{'connected' if connect else 'disconnected'} {container} "
                       f"{'to' if connect else 'from'} {network.name} on {network.host}")
        except FleetError as exc:
            self.flash(f"{network.name} on {network.host}: {exc}", error=True)
