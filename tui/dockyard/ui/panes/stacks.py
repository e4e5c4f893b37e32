"""Stacks pane: services grouped by their `com.docker.stack.namespace` label, with replica health;
`v` lists the swarms' secrets and configs instead (names, dates, labels — never their content)."""

from __future__ import annotations

from textual import work

from dockyard.fleet import FleetError
from dockyard.fleet.models import Stack, SwarmObject
from dockyard.textfmt import ago, rfc3339_seconds
from dockyard.ui.dialogs.confirm import ConfirmDialog
from dockyard.ui.panes.base import Column, Row, SwarmPane, cell, key_table

STACK_COLUMNS = (
    Column("swarm", "SWARM"), Column("name", "STACK"), Column("services", "SERVICES"),
    Column("replicas", "REPLICAS"), Column("health", "HEALTH"), Column("secrets", "SECRETS"),
    Column("configs", "CONFIGS"), Column("networks", "NETWORKS"),
)
OBJECT_COLUMNS = (
    Column("swarm", "SWARM"), Column("kind", "KIND"), Column("name", "NAME"), Column("created", "CREATED"),
    Column("updated", "UPDATED"), Column("labels", "LABELS"),
)


def stack_row(st: Stack) -> Row:
    unhealthy = [s.name for s in st.services if s.running < s.desired]
    health = "ok" if not unhealthy else "degraded: " + ", ".join(unhealthy)
    texts = [st.swarm, st.name, str(len(st.services)), f"{st.running}/{st.desired}", health,
             ", ".join(st.secrets), ", ".join(st.configs), ", ".join(st.networks)]
    cells = tuple(cell(t, ("green" if not unhealthy else "yellow") if i in (3, 4) else "") for i, t in enumerate(texts))
    return Row(f"{st.swarm}\x00{st.name}", cells, {
        "swarm": st.swarm, "name": st.name, "services": len(st.services), "replicas": st.running,
        "health": health, "secrets": texts[5], "configs": texts[6], "networks": texts[7]}, st, texts,
        {"swarm": st.swarm, "name": st.name})


def object_row(o: SwarmObject) -> Row:
    labels = ", ".join(f"{k}={v}" for k, v in sorted(o.labels.items()))
    texts = [o.swarm, o.kind, o.name, ago(rfc3339_seconds(o.created)), ago(rfc3339_seconds(o.updated)), labels]
    return Row(f"{o.swarm}\x00{o.kind}\x00{o.id}", tuple(cell(t) for t in texts), {
        "swarm": o.swarm, "kind": o.kind, "name": o.name, "created": -(rfc3339_seconds(o.created) or 0),
        "updated": -(rfc3339_seconds(o.updated) or 0), "labels": labels}, o, texts,
        {"swarm": o.swarm, "name": o.name, "labels": o.labels})


class StacksPane(SwarmPane):
    pane_id = "stacks"
    columns = STACK_COLUMNS
    BINDINGS = key_table("stack", """
        v       view    Secrets/configs
        ctrl+d  remove  Remove stack
        o       sort    Sort
    """)
    MUTATING = frozenset({"remove"})

    def __init__(self, fleet, registries) -> None:
        super().__init__(fleet, registries)
        self.objects = False  # `v`: secrets and configs instead of stacks

    @property
    def active_columns(self):
        return OBJECT_COLUMNS if self.objects else STACK_COLUMNS

    def header_parts(self):
        view = "secrets and configs (v: stacks)" if self.objects else "stacks (v: secrets and configs)"
        return super().header_parts() + [view]

    def build_rows(self) -> list[Row]:
        from dockyard.fleet.swarm import stacks  # with the fleet layer, after the first frame

        rows = []
        for snap in self.fleet.swarm.snapshots():
            if self.objects:
                rows += [object_row(o) for o in sorted((*snap.secrets, *snap.configs), key=lambda o: (o.kind, o.name))]
            else:
                rows += [stack_row(st) for st in stacks(snap)]
        return [row for row in rows if self.match(row.texts, row.fields)]

    def action_view(self) -> None:
        self.objects = not self.objects
        self.reset_columns()
        self.refresh_data()
        self.header_changed()

    def back(self) -> bool:
        if not self.objects:
            return False
        self.action_view()
        return True

    def action_remove(self) -> None:
        row = self.cursor_row_data()
        if row is None or not isinstance(row.data, Stack):
            return
        st: Stack = row.data
        parts = ([(st.swarm, f"service {s.name}") for s in st.services]
                 + [(st.swarm, f"network {n}") for n in st.networks]
                 + [(st.swarm, f"secret {n}") for n in st.secrets] + [(st.swarm, f"config {n}") for n in st.configs])
        self.ask(ConfirmDialog(f"Remove stack {st.name} from swarm {st.swarm}: all of these?", parts, "Remove"),
                 lambda _: self._remove(st))

    @work(group="actions")
    async def _remove(self, st: Stack) -> None:
        try:
            results = await self.fleet.swarm.remove_stack(self.fleet.swarm.find(st.swarm), st.name)
        except FleetError as exc:
            self.flash(f"stack {st.name} ({st.swarm}): {exc}", error=True)
            return
        failed = [r for r in results if not r.ok]
        for r in failed:
            self.flash(f"stack {st.name}: {r.action} {r.target}: {r.error}", error=True)
        if not failed:
            self.flash(f"removed stack {st.name} from swarm {st.swarm} ({len(results)} objects)")
