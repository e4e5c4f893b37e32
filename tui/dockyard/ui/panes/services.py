"""Services pane: every swarm service of every swarm, once each; enter shows a service's tasks.

Rows come from the swarm controller's live cache (`fleet.swarm.snapshots()`): the pane asks it to
reload every few seconds while shown (`watch`), events and rolling updates reload it sooner.
A rolling update shows in the UPDATE column (UpdateStatus: updating, paused, rollback_…), and task
by task in the service's tasks (enter): new tasks starting, old ones shutting down.
"""

from __future__ import annotations

from textual import work
from textual.message import Message

from dockyard.fleet import FleetError
from dockyard.fleet.models import Swarm, SwarmService, SwarmTask
from dockyard.textfmt import ago, natural_key, rfc3339_seconds, short_id
from dockyard.ui.dialogs.ask import AskDialog, Field
from dockyard.ui.dialogs.confirm import ConfirmDialog
from dockyard.ui.panes.base import Column, Row, SwarmPane, cell, key_table
from dockyard.ui.panes.tasks import TASK_COLUMNS, task_row

UPDATE_STYLE = {"updating": "yellow", "rollback_started": "yellow", "paused": "bold red",
                "rollback_paused": "bold red", "rollback_completed": "magenta", "completed": "green"}


def replicas_cell(running: int, desired: int):
    return cell(f"{running}/{desired}", "green" if running == desired else "yellow")


def update_text(s: SwarmService, tasks: list[SwarmTask]) -> str:
    """UpdateStatus in words, with how many tasks already run the new spec while it rolls."""
    if s.update is None:
        return ""
    text = s.update.state
    if s.update.active:
        fresh = sum(1 for t in tasks if t.service_id == s.id and t.desired == "running" and t.state == "running"
                    and t.image == s.image)
        text += f" {fresh}/{s.desired}"
    return text


def service_row(s: SwarmService, tasks: list[SwarmTask]) -> Row:
    image = s.image + (f"@{short_id(s.digest)}" if s.digest else "")
    updated = ago(rfc3339_seconds(s.updated))
    progress = update_text(s, tasks)
    texts = [s.swarm, s.name, s.mode, f"{s.running}/{s.desired}", image, ", ".join(s.ports) or "-", updated,
             s.stack or "", progress]
    cells = (cell(s.swarm), cell(s.name), cell(s.mode), replicas_cell(s.running, s.desired), cell(image),
             cell(texts[5]), cell(updated), cell(texts[7]),
             cell(progress, UPDATE_STYLE.get(s.update.state, "") if s.update else ""))
    return Row(f"{s.swarm}\x00{s.id}", cells, {
        "swarm": s.swarm, "name": s.name, "mode": s.mode, "replicas": s.running, "image": image,
        "ports": texts[5], "updated": -(rfc3339_seconds(s.updated) or 0), "stack": s.stack or "",
        "update": progress}, s, texts, {"swarm": s.swarm, "name": s.name, "stack": s.stack or "",
                                         "labels": s.labels})


class ServicesPane(SwarmPane):
    pane_id = "services"
    columns = (
        Column("swarm", "SWARM"), Column("name", "NAME"), Column("mode", "MODE"), Column("replicas", "REPLICAS"),
        Column("image", "IMAGE"), Column("ports", "PORTS"), Column("updated", "UPDATED"), Column("stack", "STACK"),
        Column("update", "UPDATE"),
    )
    BINDINGS = key_table("service", """
        enter   tasks     Tasks
        s       scale     Scale
        u       update    Update image
        R       rollback  Rollback
        r       restart   Force restart
        ctrl+d  remove    Remove
        l       logs      Logs
        o       sort      Sort
    """)
    MUTATING = frozenset({"scale", "update", "rollback", "restart", "remove"})

    class OpenLogs(Message):
        """Open the logs view on a swarm service (its tasks' logs merged, through a manager)."""

        def __init__(self, swarm: Swarm, service: SwarmService) -> None:
            super().__init__()
            self.swarm, self.service = swarm, service

    def __init__(self, fleet, registries) -> None:
        super().__init__(fleet, registries)
        self.showing: SwarmService | None = None  # enter: that service's tasks instead of services

    @property
    def active_columns(self):
        return TASK_COLUMNS if self.showing is not None else self.columns

    def header_parts(self):
        view = [f"tasks of {self.showing.name} ({self.showing.swarm}) — esc: services"] if self.showing else []
        return super().header_parts() + view

    def build_rows(self) -> list[Row]:
        rows = []
        for snap in self.fleet.swarm.snapshots():
            tasks = list(snap.tasks)
            if self.showing is not None:
                if snap.swarm.name == self.showing.swarm:
                    rows += [task_row(t) for t in tasks if t.service_id == self.showing.id]
                continue
            rows += [service_row(s, tasks) for s in sorted(snap.services, key=lambda s: natural_key(s.name))]
        return [row for row in rows if self.match(row.texts, row.fields)]

    # ------------------------------------------------------------------ views

    def current(self) -> SwarmService | None:
        if self.showing is not None:
            return self.showing
        row = self.cursor_row_data()
        return row.data if row is not None and isinstance(row.data, SwarmService) else None

    def on_data_table_row_selected(self, event) -> None:
        event.stop()
        self.action_tasks()

    def action_tasks(self) -> None:
        if self.showing is None:
            service = self.current()
            if service is not None:
                self._switch(service)

    def back(self) -> bool:
        if self.showing is None:
            return False
        self._switch(None)
        return True

    def _switch(self, service: SwarmService | None) -> None:
        self.showing = service
        self.reset_columns()
        self.refresh_data()
        self.header_changed()

    def _swarm(self, service: SwarmService) -> Swarm | None:
        try:
            return self.fleet.swarm.find(service.swarm)
        except FleetError as exc:
            self.flash(str(exc), error=True)
            return None

    # ------------------------------------------------------------------ actions

    def action_scale(self) -> None:
        service = self.current()
        if service is None:
            return
        if service.mode != "replicated":
            self.flash(f"{service.name} is {service.mode}: it cannot be scaled", error=True)
            return
        self.ask(AskDialog(f"Scale {service.name} (swarm {service.swarm})",
                           [Field("replicas", "Replicas", str(service.desired))], ok="Scale"),
                 lambda values: self._scale(service, values["replicas"]))

    def _scale(self, service: SwarmService, text: str) -> None:
        if not text.strip().isdigit():
            self.flash(f"replicas must be a whole number, not {text!r}", error=True)
            return
        self._act(service, f"scaled to {int(text)}", lambda sw: self.fleet.swarm.scale(sw, service.id, int(text)))

    def action_update(self) -> None:
        service = self.current()
        if service is not None:
            self.ask(AskDialog(f"Rolling update of {service.name} (swarm {service.swarm})",
                               [Field("image", "Image", service.image)], ok="Update",
                               note="Tasks are replaced as the service's update config says; "
                                    "enter on the service shows them one by one."),
                     lambda values: self._act(service, f"updating to {values['image']}",
                                              lambda sw: self._update_image(sw, service, values["image"])))

    async def _update_image(self, swarm: Swarm, service: SwarmService, image: str) -> list[str]:
        """The rolling update, with the credentials of the image's registry for the nodes to pull
        with (`docker service update --with-registry-auth`)."""
        auth = await self.registry_auth(image.strip())
        return await self.fleet.swarm.update_image(swarm, service.id, image, auth=auth)

    def action_rollback(self) -> None:
        self._confirmed("Roll back {name} in swarm {swarm} to its previous spec?", "Roll back", "rolling back",
                        lambda swarm, service: self.fleet.swarm.rollback(swarm, service.id))

    def action_restart(self) -> None:
        self._confirmed("Restart every task of {name} in swarm {swarm}?", "Restart", "restarting its tasks",
                        lambda swarm, service: self.fleet.swarm.force_update(swarm, service.id))

    def action_remove(self) -> None:
        self._confirmed("Remove service {name} from swarm {swarm}?", "Remove", "removed",
                        lambda swarm, service: self.fleet.swarm.remove_service(swarm, service.id))

    def _confirmed(self, title: str, verb: str, done: str, call) -> None:
        """Ask first, naming the service and its swarm; then `call(swarm, service)`."""
        service = self.current()
        if service is not None:
            what = f"{service.name} ({service.running}/{service.desired} running)"
            self.ask(ConfirmDialog(title.format(name=service.name, swarm=service.swarm), [(service.swarm, what)], verb),
                     lambda _: self._act(service, done, lambda swarm: call(swarm, service)))

    @work(group="actions")
    async def _act(self, service: SwarmService, done: str, call) -> None:
        """Run `call(swarm)` and say how it went (with the manager's warnings)."""
        swarm = self._swarm(service)
        if swarm is None:
            return
        try:
            warnings = await call(swarm)
        except FleetError as exc:
            self.flash(f"{service.name} ({service.swarm}): {exc}", error=True)
            return
        self.flash(f"{service.name} ({service.swarm}): {done}"
                   + "".join(f"; warning: {w}" for w in warnings or ()))
        if done == "removed" and self.showing is not None and self.showing.id == service.id:
            self._switch(None)

    def action_logs(self) -> None:
        service = self.current()
        swarm = self._swarm(service) if service is not None else None
        if service is not None and swarm is not None:
            self.post_message(self.OpenLogs(swarm, service))
