"""One container up close: live stats with graphs, inspect as a foldable JSON tree, top, env, ports.

Stats are sampled every second only while this view is open (its own owner in `Fleet.watch_stats`).
Copying (`c` a value, `C` the whole document) uses OSC 52, which works over SSH.
"""

from __future__ import annotations

import collections
import math
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Static, TabbedContent, TabPane, Tree
from textual.widgets.tree import TreeNode

from dockyard.fleet import Container, ContainerStats, FleetError
from dockyard.textfmt import human_bytes_iec, safe, short_id
from dockyard.ui import freshness as freshness_ui
from dockyard.ui.json_tree import copy_document, copy_value, fill as _fill, walk as _walk
from dockyard.ui.guard import notice
from dockyard.ui.focus import focus_now, typing
from dockyard.ui.keyhints import KeyHints
from dockyard.ui.panes.containers import ContainersPane

HISTORY = 180  # samples (one a second): three minutes of graphs


def _rate(now: ContainerStats, before: ContainerStats | None, field: str) -> float:
    if before is None or now.at <= before.at:
        return 0.0
    return max(0.0, (getattr(now, field) - getattr(before, field)) / (now.at - before.at))


BLOCKS = " ▁▂▃▄▅▆▇█"


def bar_lines(values: list[float], width: int, height: int, floor: float = 0.0) -> list[str]:
    """A sparkline scaled from 0, one column per sample, newest at the right.

    Textual's Sparkline scales from the series' minimum: an idle container's 0.0 % samples
    (or a single sample) drew full-height bars. Here 0 is no bar and any value above 0 at
    least the lowest one. The top is the largest value or `floor`, whichever is more: CPU%
    passes one whole CPU (100), so an idle 0.1 % stays a sliver instead of filling the box.
    """
    shown = values[-width:] if width > 0 else []
    top = max(max(shown, default=0.0), floor)
    levels = [math.ceil(v / top * height * 8) if top > 0 and v > 0 else 0 for v in shown]
    return ["".join(BLOCKS[max(0, min(8, level - row * 8))] for level in levels).rjust(width)
            for row in reversed(range(height))]


class Bars(Widget):
    """`bar_lines` as a widget."""

    DEFAULT_CSS = "Bars { height: 3; color: $success; }"

    def __init__(self) -> None:
        super().__init__()
        self.data: list[float] = []
        self.floor = 0.0

    def show(self, data: list[float], floor: float = 0.0) -> None:
        self.data = data
        self.floor = floor
        self.refresh()

    def render(self) -> Text:
        return Text("\n".join(bar_lines(self.data, self.size.width, self.size.height, self.floor)), no_wrap=True)


class StatBox(Vertical):
    DEFAULT_CSS = """
    StatBox { border: round $primary-darken-2; height: 7; padding: 0 1; }
    StatBox Label { width: 1fr; }
    StatBox Bars { height: 3; margin-top: 1; }
    """

    def __init__(self, title: str, key: str):
        super().__init__(id=f"stat-{key}")
        self.title_text = title

    def compose(self) -> ComposeResult:
        yield Label(self.title_text, classes="value")
        yield Bars()

    def show(self, value: str, series: list[float], floor: float = 0.0) -> None:
        self.query_one(Label).update(Text.assemble((self.title_text + "  ", "bold"), value))
        self.query_one(Bars).show(series, floor)


class ContainerScreen(Screen[None]):
    HELP_TITLE = "Container view"
    HELP_EXTRA = [("← / →", "Previous / next tab: Stats, Inspect, Top, Env, Ports (on the tab bar)"),
                  ("tab / shift+tab", "Move between the tab bar and the tab's content"),
                  ("enter / space", "Fold or unfold an inspect branch")]
    BINDINGS = [
        Binding("escape", "back", "Back", id="detail.back"),
        Binding("slash", "search", "Search inspect", id="detail.search", priority=True),  # see dockyard/ui/focus.py
        Binding("n", "next_match", "Next match", id="detail.next"),
        Binding("c", "copy_value", "Copy value", id="detail.copy"),
        Binding("C", "copy_all", "Copy JSON", id="detail.copy_all"),
        Binding("l", "logs", "Logs", id="detail.logs"),
    ]
    DEFAULT_CSS = """
    ContainerScreen #detail-title { height: auto; max-height: 4; padding: 0 1; background: $panel; }
    ContainerScreen #detail-image { height: auto; max-height: 6; padding: 0 1; background: $panel; }
    ContainerScreen Grid { grid-size: 3; grid-gutter: 0 1; height: auto; }
    ContainerScreen #detail-search { dock: bottom; height: 1; border: none; margin-bottom: 1; display: none; }
    ContainerScreen Tree { height: 1fr; }
    ContainerScreen DataTable { height: 1fr; }
    """

    def __init__(self, container: Container):
        super().__init__()
        self.container = container
        self.key = (container.host, container.id)
        self.inspect: dict[str, Any] = {}
        self.samples: collections.deque[ContainerStats] = collections.deque(maxlen=HISTORY)
        self.series: dict[str, collections.deque[float]] = {
            k: collections.deque(maxlen=HISTORY) for k in ("cpu", "mem", "rx", "tx", "blk", "pids")}
        self.search = ""
        self._top_error = ""
        self._matches: list[TreeNode] = []
        self._match_index = -1

    def compose(self) -> ComposeResult:
        c = self.container
        yield Static(Text.assemble(("Container ", "bold"), (safe(c.name), "bold cyan"), " on ",
                                   (safe(c.host), "bold"), f"  {safe(c.image)}  {short_id(c.id)}  ", (safe(c.state), "green")),
                     id="detail-title")
        yield Static(id="detail-image")  # image freshness: running and registry digests, checked when, why
        with TabbedContent(initial="tab-stats"):
            with TabPane("Stats", id="tab-stats"):
                with Grid():
                    yield StatBox("CPU", "cpu")
                    yield StatBox("Memory", "mem")
                    yield StatBox("PIDs", "pids")
                    yield StatBox("Net rx", "rx")
                    yield StatBox("Net tx", "tx")
                    yield StatBox("Block I/O", "blk")
            with TabPane("Inspect", id="tab-inspect"):
                yield Tree("inspect", id="inspect-tree")
            with TabPane("Top", id="tab-top"):
                yield DataTable(id="top-table", cursor_type="row")
            with TabPane("Env", id="tab-env"):
                yield DataTable(id="env-table", cursor_type="row")
            with TabPane("Ports, mounts, networks", id="tab-net"):
                yield DataTable(id="net-table", cursor_type="row")
        yield Input(id="detail-search", placeholder="search keys and values in inspect")
        yield KeyHints()

    def on_mount(self) -> None:
        fleet = self.app.fleet  # type: ignore[attr-defined]
        if self.container.state == "running":
            fleet.watch_stats([self.key], owner="detail", interval=1.0)
        self._load_inspect()
        self._load_top()
        self._show_freshness()
        self.set_interval(5.0, self._show_freshness)
        self.set_interval(1.0, self._sample)
        self.set_interval(3.0, self._load_top)

    def on_unmount(self) -> None:
        self.app.fleet.watch_stats([], owner="detail")  # type: ignore[attr-defined]

    def _show_freshness(self) -> None:
        """Whether its image is outdated (fleet/freshness.py), with the digests and why."""
        state = self.app.fleet.freshness.state_of(*self.key)  # type: ignore[attr-defined]
        self.query_one("#detail-image", Static).update(freshness_ui.describe(state))

    # ------------------------------------------------------------------ stats

    def _sample(self) -> None:
        stats = self.app.fleet.container_stats(*self.key)  # type: ignore[attr-defined]
        if stats is None or (self.samples and self.samples[-1].at == stats.at):
            return
        before = self.samples[-1] if self.samples else None
        self.samples.append(stats)
        s = self.series
        s["cpu"].append(stats.cpu_percent or 0.0)
        s["mem"].append(float(stats.mem_usage or 0))
        s["pids"].append(float(stats.pids or 0))
        s["rx"].append(_rate(stats, before, "net_rx"))
        s["tx"].append(_rate(stats, before, "net_tx"))
        s["blk"].append(_rate(stats, before, "blk_read") + _rate(stats, before, "blk_write"))
        limit = f" / {human_bytes_iec(stats.mem_limit)}" if stats.mem_limit else ""
        pct = f" ({stats.mem_percent:.1f}%)" if stats.mem_percent is not None else ""
        # the graph's top: one whole CPU (100 %, as docker stats counts), or more when it uses more
        top = max(100.0, max(s["cpu"]))
        self._box("cpu", f"{stats.cpu_percent or 0:.1f}%  (max {max(s['cpu']):.1f}%)", top)
        self.query_one("#stat-cpu", StatBox).border_subtitle = f"graph 0–{top:.0f}%"
        self._box("mem", f"{human_bytes_iec(stats.mem_usage)}{limit}{pct}")
        self._box("pids", str(stats.pids if stats.pids is not None else "-"))
        self._box("rx", f"{human_bytes_iec(int(s['rx'][-1]))}/s  total {human_bytes_iec(stats.net_rx)}")
        self._box("tx", f"{human_bytes_iec(int(s['tx'][-1]))}/s  total {human_bytes_iec(stats.net_tx)}")
        self._box("blk", f"{human_bytes_iec(int(s['blk'][-1]))}/s  read {human_bytes_iec(stats.blk_read)} "
                         f"write {human_bytes_iec(stats.blk_write)}")

    def _box(self, key: str, value: str, floor: float = 0.0) -> None:
        self.query_one(f"#stat-{key}", StatBox).show(value, list(self.series[key]), floor)

    # ------------------------------------------------------------------ inspect, top, env, ports

    @work(group="detail-inspect")
    async def _load_inspect(self) -> None:
        try:
            self.inspect = await self.app.fleet.containers.inspect(*self.key)  # type: ignore[attr-defined]
        except FleetError as exc:
            self.app.notify(notice(self.container.host, "inspect", exc), severity="error", markup=False)
            return
        if not self.is_attached:  # closed while inspect was on its way
            return
        tree = self.query_one("#inspect-tree", Tree)
        tree.clear()
        tree.root.set_label(Text(f"{self.container.name} ({self.container.host})"))
        _fill(tree.root, self.inspect)
        tree.root.expand()
        self._fill_env()
        self._fill_net()

    @work(group="detail-top", exclusive=True)
    async def _load_top(self) -> None:
        if self.container.state != "running":
            return
        try:
            titles, rows = await self.app.fleet.containers.top(*self.key)  # type: ignore[attr-defined]
        except FleetError as exc:
            if str(exc) != self._top_error:  # asked every 3 s: said once
                self._top_error = str(exc)
                self.app.notify(notice(self.container.host, "top", exc), severity="error", markup=False)
            return
        self._top_error = ""
        if not self.is_attached:  # the view was closed while top was on its way
            return
        table = self.query_one("#top-table", DataTable)
        cursor = table.cursor_row
        table.clear(columns=True)
        table.add_columns(*titles)
        for row in rows:
            table.add_row(*(Text(safe(v)) for v in row))
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1))

    def _fill_env(self) -> None:
        table = self.query_one("#env-table", DataTable)
        table.clear(columns=True)
        table.add_columns("NAME", "VALUE")
        for entry in (self.inspect.get("Config") or {}).get("Env") or []:
            name, _, value = entry.partition("=")
            table.add_row(Text(safe(name)), Text(safe(value)))

    def _fill_net(self) -> None:
        table = self.query_one("#net-table", DataTable)
        table.clear(columns=True)
        table.add_columns("KIND", "WHAT", "DETAIL")
        ports = (self.inspect.get("NetworkSettings") or {}).get("Ports") or {}
        for port, bindings in ports.items():
            detail = ", ".join(f"{b.get('HostIp', '')}:{b.get('HostPort', '')}" for b in bindings or []) or "not published"
            table.add_row(Text("port"), Text(safe(port)), Text(safe(detail)))
        for m in self.inspect.get("Mounts") or []:
            table.add_row(Text("mount"), Text(safe(m.get("Destination", ""))),
                          Text(safe(f"{m.get('Type')} {m.get('Name') or m.get('Source', '')} "
                                    f"{'rw' if m.get('RW') else 'ro'}")))
        networks = (self.inspect.get("NetworkSettings") or {}).get("Networks") or {}
        for name, net in networks.items():
            table.add_row(Text("network"), Text(safe(name)), Text(safe(net.get("IPAddress") or "-")))
        mode = (self.inspect.get("HostConfig") or {}).get("NetworkMode")
        if mode:
            table.add_row(Text("network mode"), Text(safe(mode)), Text(""))

    # ------------------------------------------------------------------ search and copy

    def action_search(self) -> None:
        box = self.query_one("#detail-search", Input)
        box.value = self.search
        box.display = True
        focus_now(box)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        box = self.query_one("#detail-search", Input)
        box.display = False
        self.search = event.value.strip()
        self.query_one(TabbedContent).active = "tab-inspect"
        tree = self.query_one("#inspect-tree", Tree)
        needle = self.search.lower()
        self._matches = [n for n in _walk(tree.root) if needle and needle in str(n.label).lower()]
        self._match_index = -1
        focus_now(tree)
        self.action_next_match()

    def action_next_match(self) -> None:
        if not self._matches:
            if self.search:
                self.app.notify(f"no match for {self.search!r}", markup=False, timeout=2)
            return
        self._match_index = (self._match_index + 1) % len(self._matches)
        node = self._matches[self._match_index]
        parent = node.parent
        while parent is not None:
            parent.expand()
            parent = parent.parent
        tree = self.query_one("#inspect-tree", Tree)

        def show() -> None:
            tree.move_cursor(node)
            tree.scroll_to_node(node, animate=False)

        self.call_after_refresh(show)

    def action_copy_value(self) -> None:
        copy_value(self.app, self.query_one("#inspect-tree", Tree).cursor_node)

    def action_copy_all(self) -> None:
        copy_document(self.app, self.inspect)

    def action_logs(self) -> None:
        self.post_message(ContainersPane.OpenLogs([self.container]))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "search" and typing(self))  # a priority key stands aside while typing

    def action_back(self) -> None:
        box = self.query_one("#detail-search", Input)
        if box.display:
            box.display = False
            self.query_one("#inspect-tree", Tree).focus()
        else:
            self.dismiss(None)
