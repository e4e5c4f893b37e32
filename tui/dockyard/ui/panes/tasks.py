"""Tasks pane: every swarm task (the Services pane shows one service's with enter); enter shows a
task's error and message in full."""

from __future__ import annotations

from rich.text import Text

from dockyard.fleet.models import SwarmTask
from dockyard.textfmt import ago, rfc3339_seconds, safe, short_id
from dockyard.ui.dialogs.info import TextDialog
from dockyard.ui.panes.base import Column, Row, SwarmPane, cell, key_table

STATE_STYLE = {"running": "green", "failed": "red", "rejected": "red", "shutdown": "dim", "complete": "dim",
               "orphaned": "red", "remove": "dim"}
TASK_COLUMNS = (
    Column("swarm", "SWARM"), Column("id", "ID"), Column("name", "SERVICE.SLOT"), Column("node", "NODE"),
    Column("desired", "DESIRED"), Column("current", "CURRENT"), Column("image", "IMAGE"), Column("error", "ERROR"),
)


def task_row(t: SwarmTask) -> Row:
    since = rfc3339_seconds(t.since)
    current = f"{t.state} {ago(since)}" if since else t.state
    texts = [t.swarm, short_id(t.id), t.name, t.node or short_id(t.node_id) or "-", t.desired, current, t.image,
             t.error]
    style = STATE_STYLE.get(t.state, "yellow")  # in between: new, pending, assigned, preparing, starting…
    cells = tuple(cell(text, style if i == 5 else ("red" if i == 7 else "")) for i, text in enumerate(texts))
    return Row(f"{t.swarm}\x00{t.id}", cells, {
        "swarm": t.swarm, "id": t.id, "name": (t.service, t.slot or 0, t.node_id), "node": texts[3],
        "desired": t.desired, "current": t.state, "image": t.image, "error": t.error}, t, texts,
        {"swarm": t.swarm, "state": t.state, "name": t.service, "node": texts[3]})


class TasksPane(SwarmPane):
    pane_id = "tasks"
    columns = TASK_COLUMNS
    BINDINGS = key_table("task", """
        enter  details     Details
        a      toggle_all  All/running  all
        o      sort        Sort
    """)

    def __init__(self, fleet, registries) -> None:
        super().__init__(fleet, registries)
        self.show_all = False  # also tasks no longer meant to run (shut down, failed, replaced)

    def header_parts(self):
        return super().header_parts() + ["all tasks" if self.show_all else "tasks meant to run (a: all)"]

    def build_rows(self) -> list[Row]:
        rows = [task_row(t) for snap in self.fleet.swarm.snapshots() for t in snap.tasks
                if self.show_all or t.desired in ("running", "ready")]
        rows.sort(key=lambda r: (r.data.swarm, r.data.service, r.data.slot or 0, r.data.node))
        return [row for row in rows if self.match(row.texts, row.fields)]

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        self.refresh_data()
        self.header_changed()

    def on_data_table_row_selected(self, event) -> None:
        event.stop()
        self.action_details()

    def action_details(self) -> None:
        row = self.cursor_row_data()
        if row is not None:
            self.app.push_screen(TextDialog(f"Task {row.data.name} ({row.data.swarm})", task_details(row.data)))


def task_details(t: SwarmTask) -> Text:
    body = Text()
    for key, value in (("Task", t.id), ("Service", f"{t.service} ({t.service_id})"), ("Slot", t.slot or "-"),
                       ("Node", f"{t.node} ({t.node_id})"), ("Desired", t.desired), ("Current", t.state),
                       ("Since", t.since), ("Image", t.image), ("Container", t.container_id or "-"),
                       ("Message", t.message or "-"), ("Error", t.error or "-")):
        body.append(f"{key:<11}", style="bold")
        body.append(f"{safe(value)}\n")
    return body
