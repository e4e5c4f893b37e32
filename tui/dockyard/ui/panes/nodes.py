"""Nodes pane: every node of every swarm; drain/activate/pause, promote/demote, labels."""

from __future__ import annotations

from textual import work

from dockyard.fleet import FleetError
from dockyard.fleet.models import SwarmNode
from dockyard.textfmt import natural_key, short_id
from dockyard.ui.dialogs.ask import AskDialog, Field
from dockyard.ui.dialogs.confirm import ConfirmDialog
from dockyard.ui.panes.base import Column, Row, SwarmPane, cell, key_table

STATE_STYLE = {"ready": "green", "down": "red", "disconnected": "red", "unknown": "yellow"}
AVAILABILITY_STYLE = {"active": "", "drain": "bold yellow", "pause": "yellow"}


def node_row(n: SwarmNode) -> Row:
    labels = ", ".join(f"{k}={v}" for k, v in sorted(n.labels.items()))
    texts = [n.swarm, n.hostname, short_id(n.id), n.role, n.availability, n.state, n.manager_status, n.engine,
             labels, str(n.tasks)]
    styles = {4: AVAILABILITY_STYLE.get(n.availability, ""), 5: STATE_STYLE.get(n.state, ""),
              6: "bold" if n.manager_status == "leader" else ("red" if n.manager_status == "unreachable" else "")}
    cells = tuple(cell(t, styles.get(i, "")) for i, t in enumerate(texts))
    return Row(f"{n.swarm}\x00{n.id}", cells, {
        "swarm": n.swarm, "hostname": n.hostname, "id": n.id, "role": n.role, "availability": n.availability,
        "state": n.state, "manager": n.manager_status, "engine": n.engine, "labels": labels, "tasks": n.tasks},
        n, texts, {"swarm": n.swarm, "name": n.hostname, "state": n.state, "labels": n.labels})


class NodesPane(SwarmPane):
    pane_id = "nodes"
    columns = (
        Column("swarm", "SWARM"), Column("hostname", "HOSTNAME"), Column("id", "ID"), Column("role", "ROLE"),
        Column("availability", "AVAILABILITY"), Column("state", "STATUS"), Column("manager", "MANAGER"),
        Column("engine", "ENGINE"), Column("labels", "LABELS"), Column("tasks", "TASKS"),
    )
    BINDINGS = key_table("node", """
        d      availability('drain')   Drain     drain
        a      availability('active')  Activate  activate
        p      availability('pause')   Pause     pause
        P      role('manager')         Promote   promote
        D      role('worker')          Demote    demote
        plus   label_add               Label +
        minus  label_remove            Label −
        o      sort                    Sort
    """)
    MUTATING = frozenset({"availability", "role", "label_add", "label_remove"})

    def build_rows(self) -> list[Row]:
        rows = [node_row(n) for snap in self.fleet.swarm.snapshots()
                for n in sorted(snap.nodes, key=lambda n: (natural_key(n.hostname), n.id))]
        return [row for row in rows if self.match(row.texts, row.fields)]

    def current(self) -> SwarmNode | None:
        row = self.cursor_row_data()
        return row.data if row is not None else None

    def action_availability(self, availability: str) -> None:
        node = self.current()
        if node is None:
            return
        if availability == "drain":  # moves every task off the node: confirmed
            self.ask(ConfirmDialog(f"Drain node {node.hostname} of swarm {node.swarm}? Its {node.tasks} task(s) "
                                   "move to other nodes.", [(node.swarm, f"{node.hostname} ({short_id(node.id)})")],
                                   "Drain"),
                     lambda _: self._update(node, f"availability {availability}", availability=availability))
        else:
            self._update(node, f"availability {availability}", availability=availability)

    def action_role(self, role: str) -> None:
        node = self.current()
        if node is not None:
            verb = "Promote" if role == "manager" else "Demote"
            self.ask(ConfirmDialog(f"{verb} node {node.hostname} of swarm {node.swarm} to {role}?",
                                   [(node.swarm, f"{node.hostname} ({short_id(node.id)})")], verb),
                     lambda _: self._update(node, f"role {role}", role=role))

    def action_label_add(self) -> None:
        node = self.current()
        if node is not None:
            self.ask(AskDialog(f"Add a label to node {node.hostname} (swarm {node.swarm})",
                               [Field("label", "KEY=VALUE", "", "zone=east")], ok="Add"),
                     lambda values: self._label(node, values["label"]))

    def _label(self, node: SwarmNode, text: str) -> None:
        key, _, value = text.strip().partition("=")
        if not key:
            self.flash("a label needs a key: KEY=VALUE", error=True)
            return
        self._update(node, f"label {key}={value}", add_labels={key: value})

    def action_label_remove(self) -> None:
        node = self.current()
        if node is not None:
            keys = ", ".join(sorted(node.labels)) or "none"
            self.ask(AskDialog(f"Remove a label from node {node.hostname} (swarm {node.swarm})",
                               [Field("key", "KEY", "", keys)], ok="Remove"),
                     lambda values: self._update(node, f"label -{values['key']}", remove_labels=[values["key"]]))

    @work(group="actions")
    async def _update(self, node: SwarmNode, what: str, **change) -> None:
        try:
            await self.fleet.swarm.update_node(self.fleet.swarm.find(node.swarm), node.id, **change)
        except FleetError as exc:
            self.flash(f"node {node.hostname} ({node.swarm}): {exc}", error=True)
            return
        self.flash(f"node {node.hostname} ({node.swarm}): {what}")
