"""Events pane: every host's daemon events in time order (`docker events` for the fleet).

The controller keeps the history (fleet/events.py: the last `[events] keep` events, health-probe
`exec_*` events folded into a count, gap rows where a host's stream broke). This pane builds each
event's row once (cached by its sequence number) and, when events only arrived at the end, adds
just those rows: with 5,000 events a new one costs one row, not a rebuild. The cursor follows new
events while it is on the last row, like `tail -f`. `enter` goes to the object.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual.message import Message

from dockyard.fleet.events import local_clock
from dockyard.ui import filtering
from dockyard.ui.panes.base import Column, Pane, Row, cell, key_table

if TYPE_CHECKING:
    from dockyard.fleet import Fleet
    from dockyard.fleet.events import FleetEvent
    from dockyard.registry import Registries

TYPE_STYLE = {"container": "cyan", "image": "magenta", "network": "blue", "volume": "green",
              "service": "bold cyan", "node": "bold blue", "daemon": "yellow"}
BAD_ACTIONS = ("die", "oom", "kill", "health_status: unhealthy", "destroy")


def event_row(e: FleetEvent) -> Row:
    when = local_clock(e.time_ns) + f".{e.time_ns % 1_000_000_000 // 1_000_000:03d}"
    if e.is_gap:
        texts = [when, e.host, "GAP", "missed", "", e.summary]
        style = "bold reverse yellow"
        cells = tuple(cell(t, style) for t in texts)
    else:
        texts = [when, e.host, e.type, e.action, e.name or e.id[:12], e.summary]
        cells = (cell(texts[0], "dim"), cell(texts[1]), cell(texts[2], TYPE_STYLE.get(e.type, "")),
                 cell(texts[3], "red" if e.action.startswith(BAD_ACTIONS) else ""), cell(texts[4]), cell(texts[5]))
    fields = {"host": e.host, "name": e.name, "state": e.action, "image": e.attributes.get("image", ""),
              "labels": e.attributes}
    return Row(f"e{e.seq}", cells, {"time": e.time_ns}, e, texts, fields)


def _remembered(memo: dict, key: tuple, make, keep: int):
    """`memo[key]`, made by `make()` the first time; past `keep` entries the oldest goes."""
    known = memo.get(key)
    if known is None:
        known = memo[key] = make()
        if len(memo) > keep:
            memo.pop(next(iter(memo)))
    return known


class EventsPane(Pane):
    pane_id = "events"
    kinds = frozenset({"events"})
    noun = "events"
    columns = (
        Column("time", "TIME", 12), Column("host", "HOST", min_width=8), Column("type", "TYPE", priority=2),
        Column("action", "ACTION", min_width=10), Column("name", "NAME", min_width=12),
        Column("detail", "DETAIL", min_width=10, flex=True),
    )
    BINDINGS = key_table("event", """
        enter   open    Go to
        l       logs    Logs
    """)

    class Open(Message):
        """Go to the object an event names (see ProblemsPane.Open)."""

        def __init__(self, object_kind: str, host: str, object_id: str, name: str, logs: bool = False) -> None:
            super().__init__()
            self.object_kind, self.host, self.object_id, self.name, self.logs = object_kind, host, object_id, name, logs

    def __init__(self, fleet: Fleet, registries: Registries) -> None:
        super().__init__(fleet, registries)
        # seq -> (its row, its texts lower-cased in one string for bare filter words, its auto
        # columns' widths): an event never changes, so none of it is made twice
        self._row_cache: dict[int, tuple[Row, tuple[str], tuple[int, ...]]] = {}
        self._widths_known: dict[tuple, dict[str, int]] = {}  # see _measure
        self._rows_known: dict[tuple, tuple[list[Row], list]] = {}  # see refresh_data

    def _cached(self, e: FleetEvent) -> tuple[Row, tuple[str], tuple[int, ...]]:
        row = event_row(e)
        # one haystack: a bare word is a substring of one of the columns, and none holds "\x00"
        haystack = ("\x00".join(row.texts).lower(),)
        entry = self._row_cache[e.seq] = (row, haystack, self._lengths(row.cells))
        return entry

    def build_rows(self) -> list[Row]:
        cache, cached = self._row_cache, self._cached
        entries = [cache.get(e.seq) or cached(e) for e in self.fleet.history.events(self.scope_hosts())]
        terms = filtering.parse(self.filter_text) if self.filter_text else []
        if not terms:
            rows = [entry[0] for entry in entries]
        elif len(terms) == 1 and terms[0].field is None and not terms[0].negate:  # one word (most filters)
            needle = terms[0].value.lower()
            rows = [entry[0] for entry in entries if needle in entry[1][0]]
        elif all(t.field is None and not t.negate for t in terms):  # words only: substrings
            needles = [t.value.lower() for t in terms]
            rows = [entry[0] for entry in entries if all(n in entry[1][0] for n in needles)]
        else:
            match = self.match
            rows = [entry[0] for entry in entries if match(entry[1], entry[0].fields)]
        if len(cache) > len(self.fleet.history) * 2 + 100:  # events the history dropped
            kept = {e.seq for e in self.fleet.history.events()}
            self._row_cache = {seq: entry for seq, entry in cache.items() if seq in kept}
        return rows

    def _lengths(self, cells) -> tuple[int, ...]:
        auto = [i for i, c in enumerate(self.active_columns) if c.width is None]
        return tuple(len(cells[i].plain) if cells[i].plain.isascii() else cell_len(cells[i].plain) for i in auto)

    def _measure(self, wanted) -> dict[str, int]:
        """Each auto column's widest cell, from the widths measured once per event (a filter that
        brings 5,000 rows back measures none of them again), and the same rows' widest cells
        are remembered: `esc` after a filter brings back the rows measured before it (~4 ms)."""
        if not wanted:
            return self._widest(wanted)
        mark = (self.fleet.history.seq, self.scope, len(wanted), wanted[0][0], wanted[-1][0], self.filter_text)
        return dict(_remembered(self._widths_known, mark, lambda: self._widest(wanted), keep=4))

    def _widest(self, wanted) -> dict[str, int]:
        columns = self.active_columns
        auto = [c.key for c in columns if c.width is None]
        cache = self._row_cache
        lengths = [cache[int(key[1:])][2] for key, _ in wanted]
        if not lengths:
            return {key: 0 for key in auto}
        return {key: max(column) for key, column in zip(auto, zip(*lengths))}

    def refresh_data(self, full: bool = True) -> None:
        # shown again with nothing new (same history, filter, scope): nothing to rebuild
        seen = (self.fleet.history.seq, self.match, self.scope)
        if seen == getattr(self, "_seen", None):
            self.stale = False
            return
        self._seen = seen
        self.stale = False
        self.stale_kinds = set()
        # the rows of a history, scope and filter seen lately: `esc` after a filter brings back the
        # 5,000 rows shown before it (built again: ~4 ms of the key)
        def built() -> tuple[list[Row], list]:
            rows = self.build_rows()
            return rows, [(r.key, r.cells) for r in rows]

        mark = (self.fleet.history.seq, self.scope, self.filter_text)
        rows, wanted = _remembered(self._rows_known, mark, built, keep=3)
        self.rows = rows
        old = self._rendered
        table = self.table
        following = not old or table.cursor_row >= len(old) - 1
        # events only came at the end: add those rows, nothing else is touched
        if old and len(rows) > len(old) and rows[len(old) - 1].key == old[-1][0] and rows[0].key == old[0][0]:
            added = [(r.key, r.cells) for r in rows[len(old):]]
            table.add_rows_at_once(added)
            self._rendered = old + added
            natural = self._natural
            for key, width in self._measure(added).items():
                if width > natural.get(key, 0):
                    natural[key] = width
            self.fit_columns()
        else:
            self.sync_table(wanted)
        if following and rows:
            last = len(rows) - 1
            if table._require_update_dimensions:  # noqa: SLF001 - not laid out: Textual scrolls once it is
                table.move_cursor(row=last, animate=False)
            else:  # the newest row in sight in this frame: a scroll after it drew the rows where the
                # cursor was, then again at the end (two fresh screenfuls for one filter key)
                if table.cursor_row != last:
                    table.move_cursor(row=last, animate=False, scroll=False)
                table.scroll_end(animate=False, immediate=True, x_axis=False)
        self.say_why_empty()
        self.show_cursor_detail()
        self.header_changed_if_needed()

    def on_show(self) -> None:
        self.fleet.read_back.start()  # each daemon's events from before Dockyard connected, once

    def none_here(self, where: str) -> str:
        back = self.fleet.read_back
        since = (f"since {local_clock(int(back.since * 1e9))} (what the daemons still hold) "
                 if back.started else "since Dockyard connected ")
        return f"No events {where} {since}(`dockyard events --since 2h` reads further back)."

    def header_changed_if_needed(self) -> None:
        folded = sum(self.fleet.history.folded.values())
        mark = (len(self.rows), folded)
        if mark != getattr(self, "_header_mark", None):
            self._header_mark = mark
            self.header_changed()

    def header_parts(self):
        history = self.fleet.history
        parts = [(f"{len(self.rows)} of {len(history)} events", "bold")]
        folded = sum(history.folded.values())
        if folded:
            parts += ["  ", (f"{folded} exec events (health probes) folded", "dim")]
        return parts

    def row_chosen(self) -> None:
        self.action_open()

    def action_open(self, logs: bool = False) -> None:
        row = self.cursor_row_data()
        if row is None:
            return
        e: FleetEvent = row.data
        if e.is_gap:
            self.flash(e.summary)
            return
        self.post_message(self.Open(e.type, e.host, e.id, e.name, logs))

    def action_logs(self) -> None:
        row = self.cursor_row_data()
        if row is not None and row.data.type != "container":
            self.flash("logs: only a container's event has logs", error=True)
            return
        self.action_open(logs=True)
