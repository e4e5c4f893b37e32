"""Containers pane: every container of every host in scope, live, with bulk actions.

CPU% and MEM come from stats the controller samples only for the running containers
currently on screen (`Fleet.watch_stats`), never for the whole fleet — unless the rows are sorted
by one of them: a true top-N needs every running row the filter lets through, sampled in the same
bounded bursts per host (as the Hosts pane's totals are).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING

from rich.text import Text

from textual import work
from textual.message import Message

from dockyard.fleet import ActionResult, Container, ContainerStats, FleetError, HostStatus, RunSpec
from dockyard.imageref import split_tag
from dockyard.textfmt import clock, human_bytes_iec, natural_key, short_id, truncate
from dockyard.ui import freshness as freshness_ui
from dockyard.ui.panes.base import Column, Pane, Row, cell, host_order, key_table, mark_cell

if TYPE_CHECKING:  # the controller and the registry client load after the first frame
    from dockyard.fleet import Fleet
    from dockyard.fleet.freshness import Freshness
    from dockyard.registry import Registries

STATE_STYLE = {"running": "green", "paused": "yellow", "restarting": "yellow", "exited": "dim",
               "dead": "red", "created": "cyan", "removing": "dim"}
ACTIVE_STATES = ("running", "paused", "restarting")
# Widest NAME / IMAGE / PROJECT cells: one 200-character name must not push STATE and STATUS off
# every host's rows. The full value is in the details view, and the filter matches all of it.
NAME_WIDTH, IMAGE_WIDTH, PROJECT_WIDTH = 32, 32, 24
GROUPINGS = ("none", "host", "project")
LIVE_COLUMNS = ("status", "cpu", "mem", "update")  # what changes without the container changing (update: freshness)
STATS_SORTS = ("cpu", "mem")  # sorting by these samples every running container the filter lets through
RESORT_EVERY = 1.0  # s: a stats sort re-sorts at most this often (each host's burst lands on its own)
SCROLL_SETTLE = 0.3  # s the view rests after a scroll before its new rows' stats are asked for
# What a row's STATE says from the key press until the daemon's event ends the action.
PENDING_WORDS = {"stop": "stopping…", "start": "starting…", "restart": "restarting…", "pause": "pausing…",
                 "unpause": "unpausing…", "kill": "killing…", "remove": "removing…"}
CONFIRM_KEY = {"unpause": "pause"}  # the `[ui.confirm]` key of an action (one key toggles both)
PENDING_GRACE = 2.0  # s a row keeps its "…ing" after the call returned, waiting for the event's listing
_EXIT_CODE = re.compile(r"Exited \((-?\d+)\)")
PAST_TENSE = {"stop": "stopped", "start": "started", "restart": "restarted", "pause": "paused",
              "unpause": "unpaused", "kill": "killed", "remove": "removed"}
# Narrow terminals (see Column): NAME, STATE and STATUS stay (STATUS whole: "Exited (137) 2 hours
# ago", "Up 3 hours (Paused)"); PROJECT, then PORTS, then IMAGE, then the stats hide in that order;
# STATUS takes the width left over.
COLUMNS = (
    Column("mark", " ", 1), Column("host", "HOST", priority=1, min_width=8),
    Column("name", "NAME", min_width=20), Column("image", "IMAGE", priority=3, min_width=12),
    Column("update", "↑", 1), Column("state", "STATE"), Column("status", "STATUS", flex=True),
    Column("cpu", "CPU%", 6, descending=True, priority=2), Column("mem", "MEM", 9, descending=True, priority=2),
    Column("ports", "PORTS", priority=4, min_width=10), Column("project", "PROJECT", priority=5, min_width=8),
)


def exit_code(c: Container) -> int | None:
    """The exit code an exited container's STATUS names ("Exited (137) 5 minutes ago")."""
    match = _EXIT_CODE.match(c.status) if c.state == "exited" else None
    return int(match.group(1)) if match else None


def base_order(order: Mapping[str, int]):
    """The rows' order before any sort: running (and paused, restarting) first, then hosts in config
    order, then names — as lazydocker lists them, so that stopped ones never hide the running."""
    return lambda c: (c.state not in ACTIVE_STATES, order.get(c.host, 0), natural_key(c.name))


def container_row(c: Container, stats: ContainerStats | None, marked: bool, down: HostStatus | None = None,
                  status: str | None = None, pending: str | None = None, update: Freshness | None = None) -> Row:
    """One container's row: cells as shown, sort values, what the filter sees (whole values).
    `down`: its host is down and this is the container as last seen: dimmed, STATUS says since when.
    `status`: STATUS as it reads now (`Container.status_now`; default: as the daemon last listed it).
    `pending`: an action under way ("stopping…"), shown in STATE until the daemon's event ends it.
    Stopped rows are dimmed; a non-zero exit (or a dead container) reads red in STATE and STATUS.
    `update`: its image's freshness (fleet/freshness.py): the `↑` column, the `update:` filter term."""
    cpu = f"{stats.cpu_percent:.1f}" if stats and stats.cpu_percent is not None else "-"
    mem = human_bytes_iec(stats.mem_usage, digits=3) if stats and stats.mem_usage is not None else "-"
    ports = ", ".join(str(p) for p in c.ports)
    status = compact_status(status or c.status)
    if down is not None:
        status = f"? host {down.state.value}" + (f" since {clock(down.down_since)}" if down.down_since else "")
    texts = [c.host, c.name, c.image, c.state, status, cpu, mem, ports, c.project or ""]
    shown = [c.host, truncate(c.name, NAME_WIDTH), truncate(c.image, IMAGE_WIDTH), c.state, status, cpu, mem,
             truncate(ports, 30), truncate(c.project or "", PROJECT_WIDTH)]

    if pending is not None:
        shown[3] = pending
    code = exit_code(c)
    failed = c.state == "dead" or bool(code)
    stopped = c.state not in ACTIVE_STATES

    def style(i: int) -> str:
        if marked and i == 1:
            return "bold magenta"
        if down is not None:
            return "yellow" if i == 4 else "dim"
        if pending is not None and i == 3:
            return "bold yellow"
        if failed and i in (3, 4):
            return "red"
        if stopped:
            return "dim"
        return STATE_STYLE.get(c.state, "") if i == 3 else ""

    cells = (_shared(mark_cell, marked),) + tuple(_shared(cell, t, style(i)) for i, t in enumerate(shown))
    cells = cells[:4] + (_shared(freshness_ui.state_mark, update.state if update is not None else None),) + cells[4:]  # after IMAGE
    fields = {"host": c.host, "state": c.state, "image": c.image, "labels": c.labels,
              "project": c.project, "name": c.name, "update": update.state if update is not None else None}
    return Row(_row_key(c.host, c.id), cells, {
        "host": c.host, "name": c.name, "image": c.image, "state": c.state, "status": c.status,
        "cpu": stats.cpu_percent if stats else None, "mem": stats.mem_usage if stats else None,
        "ports": ports, "project": c.project or "", "mark": marked, "last_known": down is not None,
        "exit_code": code, "update": freshness_ui.SORT_RANK.get(update.state) if update is not None else None},
        c, texts, fields)


_CELLS: dict[tuple, Text] = {}


def _shared(make, *args) -> Text:
    """One cell object for every row that shows the same thing: a host's name on its containers'
    rows, "running", "-", the image. 5,000 rows made ~55,000 cells, which the collector then
    walked again and again while hundreds of hosts answered; cells are never changed in place
    (a change puts a new one in the table)."""
    key = (make, *args)
    made = _CELLS.get(key)
    if made is None:
        if len(_CELLS) > 50_000:
            _CELLS.clear()
        made = _CELLS[key] = make(*args)
    return made


def group_rows(rows: list[Row], grouping: str, order: Mapping[str, int]) -> list[Row]:
    """Rows under one header row per host or compose project ("▼ name   running/all")."""
    if grouping == "none":
        return rows
    field = "host" if grouping == "host" else "project"
    buckets: dict[str, list[Row]] = {}
    for r in rows:
        buckets.setdefault(r.sort_values[field] or "(no project)", []).append(r)
    out = []
    order = order if field == "host" else {}
    for name in sorted(buckets, key=lambda n: (order.get(n, 0), natural_key(n))):
        members = buckets[name]
        running = sum(1 for r in members if r.data.state == "running")
        header = (cell(""), cell(f"▼ {name}", "bold"), cell(f"{running}/{len(members)} running", "dim"),
                  *(cell("") for _ in range(len(COLUMNS) - 3)))
        out.append(Row(f"group:{name}", header, {}, None))
        out.extend(members)
    return out


class ContainersPane(Pane):
    pane_id = "containers"
    noun = "containers"
    kinds = frozenset({"containers", "stats", "host", "freshness"})
    default_sort = ""
    columns = COLUMNS
    BINDINGS = key_table("container", """
        space   mark            Mark
        a       toggle_all      Hide/show stopped
        s       act('stop')     Stop           stop
        S       act('start')    Start          start
        r       act('restart')  Restart        restart
        p       act('pause')    Pause/unpause  pause
        ctrl+k  act('kill')     Kill           kill
        ctrl+d  act('remove')   Remove         remove
        R       recreate        Recreate       recreate
        enter   details         Details
        l       logs            Logs
        v       preview         Preview        preview
        e       shell           Shell
        A       attach          Attach         hidden
        n       new             New
        o       sort            Sort
        O       sort(True)      Reverse sort   sort_reverse  hidden
        C       sort_by('cpu')  Sort by CPU%   sort_cpu      hidden
        M       sort_by('mem')  Sort by MEM    sort_mem      hidden
        z       group           Group
        U       check_updates   Check image updates  check_updates  hidden
        ctrl+a  mark_all        Mark all       hidden
    """)
    MUTATING = frozenset({"act", "shell", "attach", "new", "recreate"})

    class OpenDetails(Message):
        """Open the container view (stats, inspect, top) for `container`."""

        def __init__(self, container: Container) -> None:
            super().__init__()
            self.container = container

    class OpenLogs(Message):
        """Open the logs view on these containers (merged by time when several)."""

        def __init__(self, containers: list[Container]) -> None:
            super().__init__()
            self.containers = containers

    class OpenShell(Message):
        """Suspend the TUI for an interactive `cmd` (None: the configured shell) or an attach."""

        def __init__(self, container: Container, cmd: list[str] | None = None, *, attach: bool = False) -> None:
            super().__init__()
            self.container, self.cmd, self.attach = container, cmd, attach

    def mark_key(self, row: Row) -> tuple[str, str] | None:
        return (row.data.host, row.data.id) if row.data is not None else None

    def __init__(self, fleet: Fleet, registries: Registries) -> None:
        super().__init__(fleet, registries)
        self.show_all = True  # every container, as the daemons list them: a crashed one stays in sight
        self.grouping = "none"
        self._memo: dict[tuple[str, str], tuple[object, Row]] = {}  # (host, id) -> (signature, row)
        # Each host's rows that the filter lets through, as memo keys, running and stopped, by name;
        # the hosts whose rows the next live tick makes again (None: all, a full build), and what
        # the rows were last fully built for (scope, filter, stopped shown).
        self._host_rows: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {}
        self._host_keys: dict[str, list[tuple[str, str]]] = {}  # every memo key of each host
        self._changed_hosts: set[str] | None = None
        self._built_for: tuple | None = None
        self._natural_names: dict[str, tuple] = {}  # name -> natural_key(name)
        # (host, id) -> (what its STATE says meanwhile, the container when it began, when the call returned)
        self.pending: dict[tuple[str, str], tuple[str, Container, float | None]] = {}
        self._pending_timers: dict[str, object] = {}  # the repaints that end "…ing" rows (see _pending_soon)
        self.preview = None  # the `v` preview beside the table (ui/preview.py), made when first asked for
        self._sorted_at = 0.0  # monotonic time of the last (re-)sort
        self._resort_timer = None
        if fleet.freshness.registries is None:  # freshness checks use the app's registries and logins
            fleet.freshness.registries = registries

    # ------------------------------------------------------------------ rows

    def containers(self) -> list[Container]:
        items: list[Container] = self.fleet.cached("containers", self.scope_hosts())
        if not self.show_all:
            items = [c for c in items if c.state in ACTIVE_STATES]
        return items

    def last_known(self) -> list[tuple[Container, HostStatus]]:
        """Containers of hosts that are down, as last seen (an ops user must still see what ran there)."""
        out = []
        for status, items in self.fleet.last_known("containers", self.scope_hosts()):
            out += [(c, status) for c in items if self.show_all or c.state in ACTIVE_STATES]
        return out

    def _signature(self, c: Container, down: HostStatus | None, now: float) -> tuple:
        """What a row shows of `c` now: a row whose signature is unchanged is reused as is."""
        stats = self.fleet.container_stats(c.host, c.id) if c.state == "running" and down is None else None
        status = c.status_now(now) if down is None else c.status
        pending = self.pending.get((c.host, c.id))
        return (c, (c.host, c.id) in self.marked, stats, down and (down.state, down.down_since), status,
                pending[0] if pending and down is None else None, self.fleet.freshness.known(c.host, c.id))

    @staticmethod
    def _row(c: Container, down: HostStatus | None, signature: tuple) -> Row:
        _, marked, stats, _, status, pending, update = signature
        return container_row(c, stats, marked, down, status, pending, update)

    def _settle_pending(self, containers: list[tuple[Container, HostStatus | None]], now: float) -> None:
        """An action's "…ing" ends once its call returned and the daemon's listing shows the change
        (or, for one that changes nothing the listing shows, `PENDING_GRACE` s after it returned)."""
        if not self.pending:
            return
        current = {(c.host, c.id): c for c, down in containers if down is None}
        for key, (_, before, returned) in list(self.pending.items()):
            now_listed = current.get(key)
            if returned is None:
                continue  # the daemon is still at it (a stop waits for the container's grace period)
            if now_listed is None or not before.listed_again(now_listed) or now - returned > PENDING_GRACE:
                del self.pending[key]

    def build_rows(self) -> list[Row]:
        """Every row (a full build), or, on a live tick that knows which hosts changed, the rows of
        those hosts made again and the others' kept (`_changed_hosts`): 500 hosts answering one by
        one each made all 5,000 rows' signatures again (and their STATUS, which rows off screen do
        not show until they come into view: `refresh_live` brings them up to date then)."""
        changed, self._changed_hosts = self._changed_hosts, None
        built_for = (self.scope, self.match, self.show_all)
        if changed is None or self._built_for != built_for or self.marked or self.pending:
            self._built_for = built_for
            containers: list[tuple[Container, HostStatus | None]] = [(c, None) for c in self.containers()]
            containers += self.last_known()
            self.keep_marks((c.host, c.id) for c, _ in containers)
            now = time.time()
            self._settle_pending(containers, now)
            old, self._memo, self._host_keys, self._host_rows = self._memo, {}, {}, {}
            self._build_hosts(containers, now, old)
        else:
            scope = set(self.scope_hosts() or changed)
            for host in changed & scope:
                self._rebuild_host(host)
        return self._assemble()

    def _rebuild_host(self, host: str) -> None:
        """Make one host's rows again (its containers, or what it held when last seen)."""
        items = self.fleet.cached("containers", [host])
        containers: list[tuple[Container, HostStatus | None]] = [
            (c, None) for c in items if self.show_all or c.state in ACTIVE_STATES]
        for status, known in self.fleet.last_known("containers", [host]):
            containers += [(c, status) for c in known if self.show_all or c.state in ACTIVE_STATES]
        memo = self._memo
        old = {key: memo.pop(key) for key in self._host_keys.pop(host, ()) if key in memo}
        self._host_rows.pop(host, None)
        self._build_hosts(containers, time.time(), old)

    def _build_hosts(self, containers: list[tuple[Container, HostStatus | None]], now: float,
                     old: Mapping[tuple[str, str], tuple[object, Row]]) -> None:
        """Rows of these containers (every container of their hosts) into the memo and each host's
        list; a container whose signature is as in `old` keeps its row."""
        memo = self._memo
        host_keys: dict[str, list[tuple[str, str]]] = {}
        lists: dict[str, tuple[list, list]] = {}
        natural = self._natural_names
        for c, down in containers:
            key = (c.host, c.id)
            signature = self._signature(c, down, now)
            cached = old.get(key)
            if cached is not None and cached[0] == signature:
                row = cached[1]  # unchanged container: reuse its cells (2,000 rows stay cheap)
            else:
                row = self._row(c, down, signature)
            memo[key] = (signature, row)
            host_keys.setdefault(c.host, []).append(key)
            if self.match(row.texts, row.fields):
                name_key = natural.get(c.name)
                if name_key is None:
                    if len(natural) > 50_000:
                        natural.clear()
                    name_key = natural[c.name] = natural_key(c.name)
                lists.setdefault(c.host, ([], []))[c.state not in ACTIVE_STATES].append((name_key, key))
        for host, (active, stopped) in lists.items():  # (a stable sort: as the full list's sort)
            active.sort(key=lambda item: item[0])
            stopped.sort(key=lambda item: item[0])
            self._host_rows[host] = ([key for _, key in active], [key for _, key in stopped])
        self._host_keys.update(host_keys)

    def _assemble(self) -> list[Row]:
        """The rows in base order (see `base_order`): running first, hosts in config order, names."""
        order = host_order(self.fleet)
        hosts = sorted(self._host_rows, key=lambda h: order.get(h, 0))
        memo = self._memo
        rows = [memo[key][1] for host in hosts for key in self._host_rows[host][0]]
        rows += [memo[key][1] for host in hosts for key in self._host_rows[host][1]]
        return rows

    def refresh_data(self, full: bool = True) -> None:
        stats_only = not full and self.stale_kinds == {"stats"} and self._rendered
        if stats_only and self.sort_key in STATS_SORTS:
            wait = self._sorted_at + RESORT_EVERY - time.monotonic()
            if wait > 0:  # another host's burst just landed: its values show now, the order follows
                if self._resort_timer is None:
                    self._resort_timer = self.set_timer(wait, self._resort)
                stats_only = True
            else:
                stats_only = False
        if stats_only:
            self.stale = False
            self.stale_kinds = set()
            self.stale_hosts = set()
            self.refresh_live()
            return
        self._sorted_at = time.monotonic()
        self._follow_cursor = self.sort_key in STATS_SORTS  # a live re-sort: the cursor keeps its container
        self._changed_hosts = None if full or self.sort_key in STATS_SORTS else set(self.stale_hosts)
        try:
            super().refresh_data()
        finally:
            self._follow_cursor = False
            self._changed_hosts = None

    def _resort(self) -> None:
        self._resort_timer = None
        if self.display and not self.covered and self.is_mounted:
            self.refresh_data()

    def refresh_live(self) -> None:
        """Only what time and stats change (STATUS, CPU%, MEM): touch those cells of the visible rows.

        Called on a stats change and once a second ("Up 5 seconds" counts up, "Up 5 minutes" turns
        into "Up 6 minutes"); a row scrolled into view is brought up to date here too. Rows off
        screen are left as they are (their STATUS catches up when they show)."""
        positions = {col: [k.key for k in self.columns].index(col) for col in LIVE_COLUMNS}
        now = time.time()
        top = int(self.table.scroll_y)
        changes = []
        for index, row in enumerate(self.visible_rows(), start=top):  # (visible_rows: self.rows from `top`)
            c = row.data
            if c is None:
                continue
            key = (c.host, c.id)
            cached = self._memo.get(key)
            if cached is not None and cached[0][3]:
                continue  # a last-known row of a host that is down: nothing live about it
            signature = self._signature(c, None, now)
            if cached is not None and cached[0] == signature:
                continue
            fresh = self._row(c, None, signature)
            self._memo[key] = (signature, fresh)
            self.rows[index] = fresh
            changes += [(row.key, col, fresh.cells[position]) for col, position in positions.items()
                        if fresh.cells[position].plain != row.cells[position].plain]  # repaint only what shows a change
            if index < len(self._rendered):
                self._rendered[index] = (fresh.key, fresh.cells)
        self.set_cells(changes)  # (one repaint of those cells for all of them)
        self.watch_visible()

    def none_here(self, where: str) -> str:
        if self.show_all:
            return f"No containers {where}."
        stopped = sum(1 for c in self.fleet.cached("containers", self.scope_hosts()) if c.state not in ACTIVE_STATES)
        return f"No running containers {where}" + (f" ({stopped} stopped: a shows them)." if stopped else ".")

    def group(self, rows: list[Row]) -> list[Row]:
        return group_rows(rows, self.grouping, host_order(self.fleet))

    def after_refresh(self) -> None:
        self.watch_visible()
        self._preview_cursor()

    def header_parts(self) -> list:
        parts = [("  ", ""), ("all" if self.show_all else "running only (a: show stopped)", "dim")]
        if self.sort_key:
            parts += [("  sort: " + self.sort_label(), "dim")]
        if self.grouping != "none":
            parts += [(f"  grouped by {self.grouping}", "dim")]
        if self.preview is not None and self.preview.display:
            parts += [("  preview (v: off)", "dim")]
        return parts

    def watch_visible(self) -> None:
        """Sample stats for the running containers on screen — or, sorted by CPU% or MEM, for every
        running row (a top-N of the rows on screen would be no top-N). While the view scrolls, once
        it rests (see `_scrolled`)."""
        if not self.display or self.covered or self._settle_timer is not None:  # (the switcher shows only the active pane)
            return
        if not self.table.size.height:
            return  # not laid out yet: no rows "on screen" to speak of; the wish stated at start-up stands
        rows = self.rows if self.sort_key in STATS_SORTS else self.visible_rows()
        keys = [(r.data.host, r.data.id) for r in rows
                if r.data is not None and r.data.state == "running" and not r.sort_values.get("last_known")]
        self.fleet.watch_stats(keys, owner="containers")

    def on_data_table_row_highlighted(self, event) -> None:
        super().on_data_table_row_highlighted(event)
        self.watch_visible()
        self._preview_cursor()

    def _preview_cursor(self) -> None:
        """Tell the preview (if on) which container the cursor is on; it reads it once the cursor rests."""
        if self.preview is not None and self.preview.display:
            row = self.cursor_row_data()
            self.preview.show(row.data if row is not None else None)

    def action_preview(self) -> None:
        """`v`: the cursor's container beside the table (logs tail, stats, env, ports), as lazydocker has."""
        if self.preview is None:
            from dockyard.ui.preview import ContainerPreview  # not needed for the first frame

            self.preview = ContainerPreview(self.fleet)
            self.mount(self.preview)
        self.preview.display = not self.preview.display
        self._preview_cursor()
        self.call_after_refresh(self.fit_columns)  # the table is narrower (or wide again)
        self.header_changed()

    def on_mount(self) -> None:
        super().on_mount()
        self.watch(self.table, "scroll_y", lambda _: self._scrolled(), init=False)  # wheel, page keys
        self.set_interval(1.0, self._live_tick)

    _settle_timer = None

    def _scrolled(self) -> None:
        """Rows scrolled into view: their STATUS at once, their stats once the view rests
        (`SCROLL_SETTLE` s), not for every page a user flips past: each page was ~40 one-shot
        requests whose replies, landing a second later, repainted under the next keys."""
        if self._settle_timer is not None:
            self._settle_timer.stop()
        self._settle_timer = self.set_timer(SCROLL_SETTLE, self._settled)
        self._live_tick()

    def _settled(self) -> None:
        self._settle_timer = None
        self.watch_visible()

    def _live_tick(self) -> None:
        if self.display and self._rendered and not self.covered:  # the switcher shows only the active pane
            self.refresh_live()

    # ------------------------------------------------------------------ targets and actions

    def targets(self) -> list[Container]:
        """Marked containers (any hosts, in screen order: hosts in config order, then name), else the cursor's."""
        return self.selected()

    def action_sort_by(self, key: str) -> None:
        """k9s's shift+c / shift+m: highest first, again for lowest first."""
        self.set_sort(key)
        self.flash(f"sorted by {self.sort_label()}")
        self.header_changed()

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        self.flash("showing all containers" if self.show_all else "hiding stopped containers")
        self.refresh_data()
        self.header_changed()

    def action_group(self) -> None:
        self.grouping = GROUPINGS[(GROUPINGS.index(self.grouping) + 1) % len(GROUPINGS)]
        self.flash(f"grouping: {self.grouping}")
        self.refresh_data()
        self.header_changed()

    def action_act(self, action: str) -> None:
        targets = self.targets()
        if not targets:
            self.flash("no container selected", error=True)
            return
        if action == "pause":
            # one key toggles: pause running ones, unpause paused ones
            paused = [c for c in targets if c.state == "paused"]
            running = [c for c in targets if c.state != "paused"]
            if running:
                self.run_action(running, "pause")
            if paused:
                self.run_action(paused, "unpause")
            return
        self.run_action(targets, action)

    def run_action(self, targets: list[Container], action: str) -> None:
        """Stop/start/… containers across hosts. Removing, killing, several at once, and a single stop
        or restart (unless `[ui.confirm]` turns that off) ask first, naming each container and host."""
        targets = self.changeable(targets)  # read-only refused, offline hosts left out: said before asking
        if not targets:
            return
        confirm = self.fleet.config.ui.confirm
        if action in ("remove", "kill") or len(targets) > 1 or confirm.get(CONFIRM_KEY.get(action, action), False):
            from dockyard.ui.dialogs.confirm import ConfirmDialog, Option  # dialogs load when first asked

            hosts = Counter(c.host for c in targets)
            where = ", ".join(f"{n} on {h}" for h, n in sorted(hosts.items()))
            title = f"{action.capitalize()} {len(targets)} container(s): {where}?"
            options: list[Option] = []
            if action == "remove":
                running = [c for c in targets if c.state in ACTIVE_STATES]
                if running:  # the daemon refuses to remove a running container unless forced (HTTP 409)
                    title += (f"\n{len(running)} of them {'is' if len(running) == 1 else 'are'} running: "
                              "Force (ticked) kills {} first.".format("it" if len(running) == 1 else "them"))
                options = [Option("force", "Force (kill a running container first)", bool(running)),
                           Option("volumes", "Also remove its anonymous volumes")]
            self.ask(ConfirmDialog(title, [(c.host, f"{c.name}  ({c.image}, {c.state})") for c in targets],
                                   action.capitalize(), options),
                     lambda chosen: self._start_action(targets, action, chosen))
        else:
            self._start_action(targets, action, {})

    def _start_action(self, targets: list[Container], action: str, options: dict[str, bool]) -> None:
        """Rows say what is under way at once ("stopping…"): a stop takes the container's grace period."""
        word = PENDING_WORDS.get(action, f"{action}…")
        for c in targets:
            self.pending[(c.host, c.id)] = (word, c, None)
        self.refresh_data()
        self._run_action(targets, action, options)

    def action_recreate(self) -> None:
        """The newer image of each selected container's tag, safely (dockyard/ui/recreate.py)."""
        from dockyard.ui.recreate import ask_recreate  # dialogs load when first asked

        ask_recreate(self, self.targets())

    @work(group="actions")
    async def _run_action(self, targets: list[Container], action: str, options: dict[str, bool]) -> None:
        names = {(c.host, c.id): c.name for c in targets}

        async def one(c: Container) -> ActionResult:
            try:
                await self.fleet.containers.action(c.host, c.id, action, **options)
                result = ActionResult(c.host, c.id, action, True)
            except FleetError as exc:
                result = ActionResult(c.host, c.id, action, False, str(exc))
            key = (c.host, c.id)
            if key in self.pending:
                if result.ok:  # the row waits for the daemon's listing to show the change
                    self.pending[key] = (self.pending[key][0], self.pending[key][1], time.time())
                else:
                    del self.pending[key]
                self._pending_soon(0.05)  # (one repaint for a burst of results, not one each)
                self._pending_soon(PENDING_GRACE + 0.1, grace=True)
            return result

        results = await asyncio.gather(*(one(c) for c in targets))
        ok = [r for r in results if r.ok]
        failed = [r for r in results if not r.ok]
        if ok:
            per_host = Counter(r.host for r in ok)
            self.flash(f"{PAST_TENSE.get(action, action)} {len(ok)} container(s): "
                       + ", ".join(f"{n} on {h}" for h, n in sorted(per_host.items())))
        for r in failed:
            self.flash(f"{action} {names.get((r.host, r.target), short_id(r.target))} on {r.host} failed: {r.error}",
                       error=True)
        if action == "remove":
            self.marked -= {(r.host, r.target) for r in ok}

    def action_check_updates(self) -> None:
        """Ask the registries now (cached answers too) which images are outdated (fleet/freshness.py)."""
        self._check_updates()  # first: the notice's toast must not hold the check back
        self.flash("checking the registries for newer images…")

    @work(group="freshness", exclusive=True)
    async def _check_updates(self) -> None:
        report = await self.fleet.freshness.check(refresh=True, hosts=self.scope_hosts())
        counts = Counter(r.freshness.state for r in report.rows)
        self.flash(f"images: {counts['outdated']} container(s) outdated, {counts['unknown']} unknown, "
                   f"{counts['current']} current ({report.requests} registry request(s))")
        for err in report.errors[:3]:
            self.flash(f"{err.get('host') or err.get('reference')}: {err['error']}", error=True)

    def _pending_soon(self, delay: float, grace: bool = False) -> None:
        """Repaint once, `delay` s from now, unless such a repaint is already coming (the grace one
        is moved later, so it follows the last result)."""
        timers = self._pending_timers
        slot = "grace" if grace else "soon"
        if timers.get(slot) is not None:
            if not grace:
                return
            timers[slot].stop()
        timers[slot] = self.set_timer(delay, lambda: self._pending_tick(slot))

    def _pending_tick(self, slot: str) -> None:
        """Repaint the rows of actions that ended (their "…ing" goes), if the pane is in sight."""
        self._pending_timers[slot] = None
        if self.display and not self.covered and self.is_mounted:
            self.refresh_data()

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
            self.post_message(self.OpenLogs(targets))
        else:
            self.flash("no containers match", error=True)

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
            self.flash(f":{verb} needs a container under the cursor (Containers pane)", error=True)
            return
        if not args:
            self.flash({"rename": ":rename NEW-NAME", "commit": ":commit REPO[:TAG]",
                        "exec": ":exec COMMAND [ARGS…]"}[verb], error=True)
            return
        if verb == "exec":
            self.post_message(self.OpenShell(c, args))
            return
        try:
            if verb == "rename":
                await self.fleet.containers.rename(c.host, c.id, args[0])
                self.flash(f"renamed {c.name} on {c.host} to {args[0]}")
            else:
                repo, tag = split_tag(args[0])
                image_id = await self.fleet.containers.commit(c.host, c.id, repo, tag, " ".join(args[1:]))
                self.flash(f"committed {c.name} on {c.host} as {repo}:{tag} ({short_id(image_id)})")
        except FleetError as exc:
            self.flash(f"{verb} {c.name} on {c.host}: {exc}", error=True)

    # ------------------------------------------------------------------ views, shell, new container

    def row_chosen(self) -> None:
        self.action_details()

    def action_details(self) -> None:
        row = self.cursor_row_data()
        if row is not None and row.data is not None:
            self.post_message(self.OpenDetails(row.data))

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
            self.flash("no container selected", error=True)
            return
        self.post_message(self.OpenLogs(targets))

    def action_shell(self) -> None:
        row = self.cursor_row_data()
        if row is None or row.data is None:
            self.flash("no container selected", error=True)
            return
        self.post_message(self.OpenShell(row.data))

    def action_attach(self) -> None:
        row = self.cursor_row_data()
        if row is not None and row.data is not None:
            self.post_message(self.OpenShell(row.data, attach=True))

    def action_new(self) -> None:
        """The new-container form; hosts preselected from the scope, the marks, or the cursor row."""
        from dockyard.ui.dialogs.run import RunDialog  # this module draws the first frame's rows: dialogs load later

        row = self.cursor_row_data()
        near = row.data if row is not None else None
        online = self.online_hosts()
        marked_hosts = sorted({h for h, _ in self.marked})
        selected = [self.scope] if self.scope else marked_hosts or ([near.host] if near else online[:1])
        self.ask(RunDialog(online, selected, near.image if near else ""), lambda result: self._run_on_hosts(*result))

    @work(group="actions")
    async def _run_on_hosts(self, hosts: list[str], spec: RunSpec) -> None:
        self.flash(f"creating {spec.name or spec.image} on {', '.join(hosts)}…")
        try:
            results = await self.fleet.containers.run(hosts, spec)
        except FleetError as exc:
            self.flash(str(exc), error=True)
            return
        for r in results:
            if r.ok:
                self.flash(f"started {spec.name or spec.image} on {r.host} ({short_id(r.target)})")
            else:
                self.flash(f"run on {r.host} failed: {r.error}", error=True)


_STATUS_WORDS = (("Less than a second", "<1s"), ("About a minute", "~1 minute"), ("About an hour", "~1 hour"))


def compact_status(status: str) -> str:
    """Docker's STATUS with its longest phrases shortened, so narrow terminals keep every column."""
    for long, short in _STATUS_WORDS:
        status = status.replace(long, short)
    return status


def _row_key(host: str, cid: str) -> str:
    return f"{host}\x00{cid}"
