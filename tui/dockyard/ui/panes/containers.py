"""Containers pane: every container of every host in scope, live, with bulk actions.

CPU% and MEM come from stats the controller samples only for the running containers
currently on screen (`Fleet.watch_stats`), never for the whole fleet.
"""

from __future__ import annotations

from textual.binding import Binding

from dockyard.fleet import Container, FleetError
from dockyard.textfmt import human_bytes_iec, truncate
from dockyard.ui.panes.base import Column, Pane, Row, cell

STATE_STYLE = {"running": "green", "paused": "yellow", "restarting": "yellow", "exited": "dim",
               "dead": "red", "created": "cyan", "removing": "dim"}
ACTIVE_STATES = ("running", "paused", "restarting")
GROUPINGS = ("none", "host", "project")


class ContainersPane(Pane):
    pane_id = "containers"
    title = "Containers"
    kinds = frozenset({"containers", "stats", "host"})
    default_sort = ""
    columns = (
        Column("mark", " ", 1), Column("host", "HOST"), Column("name", "NAME"), Column("image", "IMAGE"),
        Column("state", "STATE"), Column("status", "STATUS"), Column("cpu", "CPU%", 6), Column("mem", "MEM", 9),
        Column("ports", "PORTS"), Column("project", "PROJECT"),
    )
    BINDINGS = [
        Binding("space", "mark", "Mark", id="container.mark"),
        Binding("a", "toggle_all", "All/running", id="container.toggle_all"),
        Binding("s", "act('stop')", "Stop", id="container.stop"),
        Binding("S", "act('start')", "Start", id="container.start"),
        Binding("r", "act('restart')", "Restart", id="container.restart"),
        Binding("p", "act('pause')", "Pause/unpause", id="container.pause"),
        Binding("ctrl+k", "act('kill')", "Kill", id="container.kill"),
        Binding("ctrl+d", "act('remove')", "Remove", id="container.remove"),
        Binding("enter", "details", "Details", id="container.details"),
        Binding("l", "logs", "Logs", id="container.logs"),
        Binding("e", "shell", "Shell", id="container.shell"),
        Binding("A", "attach", "Attach", id="container.attach", show=False),
        Binding("n", "new", "New", id="container.new"),
        Binding("o", "sort", "Sort", id="container.sort"),
        Binding("O", "sort(True)", "Reverse sort", id="container.sort_reverse", show=False),
        Binding("z", "group", "Group", id="container.group"),
        Binding("ctrl+a", "mark_all", "Mark all", id="container.mark_all", show=False),
    ]
    MUTATING = frozenset({"act", "shell", "attach", "new"})

    def mark_key(self, row: Row) -> tuple[str, str] | None:
        return (row.data.host, row.data.id) if row.data is not None else None

    def __init__(self) -> None:
        super().__init__()
        self.show_all = False
        self.grouping = "none"
        self.marked: set[tuple[str, str]] = set()
        self._memo: dict[tuple[str, str], tuple[object, Row]] = {}

    # ------------------------------------------------------------------ rows

    def containers(self) -> list[Container]:
        dock = self.dock
        items: list[Container] = dock.fleet.cached("containers", dock.scope_hosts())
        if not self.show_all:
            items = [c for c in items if c.state in ACTIVE_STATES]
        return items

    def build_rows(self) -> list[Row]:
        dock = self.dock
        match = dock.filter_matcher()
        rows = []
        containers = self.containers()
        self.marked &= {(c.host, c.id) for c in containers}  # marks of vanished containers go
        memo: dict[tuple[str, str], tuple[object, Row]] = {}
        for c in containers:
            key = (c.host, c.id)
            stats = dock.fleet.container_stats(c.host, c.id) if c.state == "running" else None
            marked = key in self.marked
            signature = (c, marked, stats)
            cached = self._memo.get(key)
            if cached is not None and cached[0] == signature:
                row = cached[1]  # unchanged container: reuse its cells (2,000 rows stay cheap)
            else:
                row = self._make_row(c, stats, marked)
            memo[key] = (signature, row)
            if match(row.sort_values["texts"], row.sort_values["fields"]):
                rows.append(row)
        self._memo = memo
        order = {name: i for i, name in enumerate(dock.fleet.sessions)}
        rows.sort(key=lambda r: (order.get(r.data.host, 0), r.data.name))  # stable base order
        return rows

    def _make_row(self, c: Container, stats, marked: bool) -> Row:
        cpu = f"{stats.cpu_percent:.1f}" if stats and stats.cpu_percent is not None else "-"
        mem = human_bytes_iec(stats.mem_usage, digits=3) if stats and stats.mem_usage is not None else "-"
        ports = ", ".join(str(p) for p in c.ports)
        texts = [c.host, c.name, truncate(c.image, 36), c.state, compact_status(c.status), cpu, mem,
                 truncate(ports, 30), c.project or ""]
        cells = (cell("●" if marked else " ", "bold magenta"),) + tuple(
            cell(t, STATE_STYLE.get(c.state, "") if i == 3 else ("bold magenta" if marked and i == 1 else ""))
            for i, t in enumerate(texts))
        fields = {"host": c.host, "state": c.state, "image": c.image, "labels": c.labels,
                  "project": c.project, "name": c.name}
        return Row(_row_key(c.host, c.id), cells, {
            "host": c.host, "name": c.name, "image": c.image, "state": c.state, "status": c.status,
            "cpu": stats.cpu_percent if stats else None, "mem": stats.mem_usage if stats else None,
            "ports": ports, "project": c.project or "", "mark": marked, "texts": texts, "fields": fields}, c)

    def refresh_data(self, full: bool = True) -> None:
        if not full and self.stale_kinds == {"stats"} and self.sort_key not in ("cpu", "mem") and self._rendered:
            self.stale = False
            self.stale_kinds = set()
            self.refresh_stats()
            return
        super().refresh_data()

    def refresh_stats(self) -> None:
        """Only CPU/MEM changed: touch the visible rows' two cells, not the whole table."""
        fleet = self.dock.fleet
        by_key = {r.key: i for i, r in enumerate(self.rows)}
        for row in self.visible_rows():
            c = row.data
            if c is None or c.state != "running":
                continue
            key = (c.host, c.id)
            stats = fleet.container_stats(c.host, c.id)
            marked = key in self.marked
            cached = self._memo.get(key)
            if cached is not None and cached[0] == (c, marked, stats):
                continue
            fresh = self._make_row(c, stats, marked)
            self._memo[key] = ((c, marked, stats), fresh)
            index = by_key[row.key]
            self.rows[index] = fresh
            for col in ("cpu", "mem"):
                position = [k.key for k in self.columns].index(col)
                if fresh.cells[position].plain != row.cells[position].plain:  # repaint only what shows a change
                    self.set_cell(row.key, col, fresh.cells[position])
            if index < len(self._rendered):
                self._rendered[index] = (fresh.key, fresh.cells)
        self.watch_visible()

    def group(self, rows: list[Row]) -> list[Row]:
        if self.grouping == "none":
            return rows
        field = "host" if self.grouping == "host" else "project"
        buckets: dict[str, list[Row]] = {}
        for r in rows:
            buckets.setdefault(r.sort_values[field] or "(no project)", []).append(r)
        out = []
        order = {name: i for i, name in enumerate(self.dock.fleet.sessions)} if field == "host" else {}
        for name in sorted(buckets, key=lambda n: (order.get(n, 0), n.lower())):
            members = buckets[name]
            running = sum(1 for r in members if r.data.state == "running")
            header = (cell(""), cell(f"▼ {name}", "bold"), cell(f"{running}/{len(members)} running", "dim"),
                      *(cell("") for _ in range(len(self.columns) - 3)))
            out.append(Row(f"group:{name}", header, {}, None))
            out.extend(members)
        return out

    def after_refresh(self) -> None:
        self.watch_visible()

    def header_parts(self) -> list:
        parts = [("  ", ""), ("all" if self.show_all else "running only", "dim")]
        if self.sort_key:
            parts += [("  sort: " + self.sort_label(), "dim")]
        if self.grouping != "none":
            parts += [(f"  grouped by {self.grouping}", "dim")]
        return parts

    def watch_visible(self) -> None:
        """Stream stats for the running containers on screen, nothing else."""
        if not self.display or self.dock.active_pane is not self:
            return
        keys = [(r.data.host, r.data.id) for r in self.visible_rows()
                if r.data is not None and r.data.state == "running"]
        self.dock.fleet.watch_stats(keys, owner="containers")

    def on_data_table_row_highlighted(self, event) -> None:
        self.watch_visible()

    def on_mount(self) -> None:
        super().on_mount()
        self.watch(self.table, "scroll_y", lambda _: self.watch_visible(), init=False)  # wheel, page keys

    # ------------------------------------------------------------------ targets and actions

    def targets(self) -> list[Container]:
        """Marked containers (any hosts), else the one under the cursor."""
        if self.marked:  # in screen order (hosts in config order, then name), as the user sees them
            return [r.data for r in self.rows if r.data is not None and (r.data.host, r.data.id) in self.marked]
        row = self.cursor_row_data()
        return [row.data] if row is not None and row.data is not None else []

    def action_mark_all(self) -> None:
        keys = {(r.data.host, r.data.id) for r in self.rows if r.data is not None}
        self.marked = set() if keys <= self.marked else keys
        self.refresh_data()
        self.dock.update_summary()

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        self.dock.flash("showing all containers" if self.show_all else "showing running containers")
        self.refresh_data()
        self.dock.update_summary()

    def action_sort(self, reverse: bool = False) -> None:
        self.dock.flash(f"sorted by {self.cycle_sort(reverse)}")
        self.dock.update_summary()

    def action_group(self) -> None:
        self.grouping = GROUPINGS[(GROUPINGS.index(self.grouping) + 1) % len(GROUPINGS)]
        self.dock.flash(f"grouping: {self.grouping}")
        self.refresh_data()
        self.dock.update_summary()

    def action_act(self, action: str) -> None:
        targets = self.targets()
        if not targets:
            self.dock.flash("no container selected", error=True)
            return
        if action == "pause":
            # one key toggles: pause running ones, unpause paused ones
            paused = [c for c in targets if c.state == "paused"]
            running = [c for c in targets if c.state != "paused"]
            if running:
                self.dock.run_container_action(running, "pause")
            if paused:
                self.dock.run_container_action(paused, "unpause")
            return
        self.dock.run_container_action(targets, action)

    # ------------------------------------------------------------------ `:` commands (see the registry)

    def command_group(self, args: list[str]) -> None:
        if args and args[0] in GROUPINGS:
            self.grouping = args[0]
            self.refresh_data()
        else:
            self.action_group()

    def command_logs(self, args: list[str]) -> None:
        """Logs of every container the filter (set from the words after `:logs`) lets through."""
        self.refresh_data()
        targets = [r.data for r in self.rows if r.data is not None]
        if targets:
            self.dock.open_logs(targets)
        else:
            self.dock.flash("no containers match", error=True)

    async def command_rename(self, args: list[str]) -> None:
        await self._cursor_command("rename", args)

    async def command_commit(self, args: list[str]) -> None:
        await self._cursor_command("commit", args)

    async def command_exec(self, args: list[str]) -> None:
        await self._cursor_command("exec", args)

    async def _cursor_command(self, verb: str, args: list[str]) -> None:
        row = self.cursor_row_data()
        c = row.data if row is not None else None
        if c is None:
            self.dock.flash(f":{verb} needs a container under the cursor (Containers pane)", error=True)
            return
        if not args:
            self.dock.flash({"rename": ":rename NEW-NAME", "commit": ":commit REPO[:TAG]",
                             "exec": ":exec COMMAND [ARGS…]"}[verb], error=True)
            return
        fleet = self.dock.fleet
        try:
            if verb == "rename":
                await fleet.containers.rename(c.host, c.id, args[0])
                self.dock.flash(f"renamed {c.name} on {c.host} to {args[0]}")
            elif verb == "commit":
                repo, _, tag = args[0].rpartition(":") if ":" in args[0].split("/")[-1] else (args[0], "", "latest")
                image_id = await fleet.containers.commit(c.host, c.id, repo, tag or "latest", " ".join(args[1:]))
                self.dock.flash(f"committed {c.name} on {c.host} as {repo}:{tag or 'latest'} ({image_id[7:19]})")
            else:
                await self.dock.open_shell(c, args)
        except FleetError as exc:
            self.dock.flash(f"{verb} {c.name} on {c.host}: {exc}", error=True)

    def on_data_table_row_selected(self, event) -> None:
        event.stop()
        self.action_details()

    def action_details(self) -> None:
        row = self.cursor_row_data()
        if row is not None and row.data is not None:
            self.dock.open_container(row.data)

    def action_logs(self) -> None:
        """Logs of the marked containers (merged across hosts), a whole group, or the cursor row."""
        row = self.cursor_row_data()
        if not self.marked and row is not None and row.data is None and row.key.startswith("group:"):
            name = row.key.removeprefix("group:")
            field = "host" if self.grouping == "host" else "project"
            targets = [r.data for r in self.rows if r.data is not None and (r.sort_values[field] or "(no project)") == name]
        else:
            targets = self.targets()
        if not targets:
            self.dock.flash("no container selected", error=True)
            return
        self.dock.open_logs(targets)

    async def action_shell(self) -> None:
        row = self.cursor_row_data()
        if row is None or row.data is None:
            self.dock.flash("no container selected", error=True)
            return
        await self.dock.open_shell(row.data)

    def action_new(self) -> None:
        row = self.cursor_row_data()
        self.dock.open_run_form(row.data if row is not None else None)

    async def action_attach(self) -> None:
        row = self.cursor_row_data()
        if row is not None and row.data is not None:
            await self.dock.open_shell(row.data, attach=True)

_STATUS_WORDS = (("Less than a second", "<1s"), ("About a minute", "~1 minute"), ("About an hour", "~1 hour"))


def compact_status(status: str) -> str:
    """Docker's STATUS with its longest phrases shortened, so narrow terminals keep every column."""
    for long, short in _STATUS_WORDS:
        status = status.replace(long, short)
    return status


def _row_key(host: str, cid: str) -> str:
    return f"{host}\x00{cid}"
