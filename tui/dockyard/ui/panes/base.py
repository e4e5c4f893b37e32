"""What every pane shares: a keyed DataTable kept in sync with minimal repaints, marks, host lists.

A pane is told "your data may have changed" at most `refresh_hz` times a second (by
the app's tick) and only while visible; it rebuilds its desired rows, then `sync_table`
touches only cells that differ, or rebuilds the table when membership or order changed
(cheaper than many `remove_row` calls, which are O(rows) each).

Attributes down, messages up: the app hands each pane the `Fleet` and sets `scope` and `match`
(the `/` filter); a pane runs its own actions and dialogs and posts a message for what only the
app can do (open a screen, change the scope or filter, repaint the tabs line).
"""

from __future__ import annotations

import inspect
import operator
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from itertools import count, zip_longest
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.cache import LRUCache
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.geometry import Region, Size
from textual.message import Message
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable, Static
from textual.widgets.data_table import Column as TableColumn
from textual.widgets.data_table import ColumnKey, DuplicateKey, RowKey
from textual.widgets.data_table import Row as TableRow

from dockyard.fleet import FleetError, HostState, ReadOnlyError
from dockyard.registry import RegistryError
from dockyard.textfmt import clock, natural_key, safe
from dockyard.ui.covered import CoveredContainer
from dockyard.ui.scrollbars import KeptScrollBar
from dockyard.ui import filtering

if TYPE_CHECKING:  # the controller and the registry client load after the first frame
    from dockyard.fleet import Fleet
    from dockyard.registry import Registries

T = TypeVar("T")
Matcher = Callable[[Sequence[str], Mapping[str, object]], bool]


def cell(value: object, style: str = "") -> Text:
    """A table cell for a string that may come from a daemon: never markup, never escapes."""
    return Text(safe("" if value is None else value), style=style, no_wrap=True, overflow="ellipsis")


def mark_cell(marked: bool) -> Text:
    return cell("●" if marked else " ", "bold magenta")


def flash(node: Widget, message: str, *, error: bool = False) -> None:
    """A short notice; daemon text inside it is shown literally."""
    node.notify(safe(message), severity="error" if error else "information", timeout=6 if error else 3, markup=False)


def key_table(resource: str, table: str) -> list[Binding]:
    """A pane's bindings from a table, one a line, columns two or more spaces apart:

        KEY  ACTION  DESCRIPTION  [ID]  [hidden]

    The binding id (what `[keys]` remaps) is `resource.ID`, ID defaulting to the action's name;
    `hidden` keeps it out of the footer (`?` still lists it).
    """
    bindings = []
    for line in table.strip().splitlines():
        key, action, description, *rest = re.split(r"\s{2,}", line.strip())
        hidden = "hidden" in rest
        name = next((r for r in rest if r != "hidden"), action)
        bindings.append(Binding(key, action, description, id=f"{resource}.{name}", show=not hidden))
    return bindings


def host_order(fleet: Fleet) -> dict[str, int]:
    """Hosts in config order: rows list host by host in the order the user wrote them."""
    return {name: i for i, name in enumerate(fleet.sessions)}


@dataclass(frozen=True)
class Column:
    """A pane's column. Widths fit the terminal (`fit_widths`), as k9s fits its own: a column takes
    its widest cell; when the columns do not fit, those with a `min_width` shrink down to it (their
    cells end in …), then the least important (highest `priority`; 0 = always shown) hide; width
    left over goes to the `flex` ones (STATUS, REASON: the text one most needs whole)."""

    key: str
    label: str
    width: int | None = None  # None: auto, from the text when the rows are (re)built
    grows: bool = False  # auto width that also follows a cell's later, longer text ("checking…" -> "logged in as …")
    descending: bool = False  # sorted highest first on the first press (CPU%, MEM: the top-N is what one looks for)
    priority: int = 0  # which hide first when the terminal is narrow: the highest number; 0 never hides
    # (1-3: shown whenever they fit; EXTRAS and up also give way to a cut flex column)
    min_width: int | None = None  # may shrink down to this when space is short (None: never shrinks)
    flex: bool = False  # takes the width left over once every column has its widest cell


EXTRAS = 4  # columns of this priority and up also hide to give a cut flex column (REASON) its whole text


def fit_widths(columns: Sequence[Column], natural: Mapping[str, int], width: int,
               padding: int = 1) -> dict[str, int | None]:
    """Each column's width for a table `width` cells wide (None: hidden), from each column's widest
    cell (`natural`, label included). See `Column` for the rules: a column hides rather than leave a
    more important one cut — for a cut `flex` one, only the extras (priority `EXTRAS` and up) hide;
    width left once every column is whole spreads over them all (the table spans the terminal)."""
    want = {c.key: c.width if c.width is not None else max(natural.get(c.key, 0), cell_len(c.label))
            for c in columns}
    least = {c.key: min(want[c.key], c.min_width) if c.min_width is not None else want[c.key] for c in columns}
    shown = list(columns)

    def used(widths: Mapping[str, int]) -> int:
        return sum(widths[c.key] + 2 * padding for c in shown)

    def hide_one(below: int) -> bool:
        """Hide the least important column (of priority > `below`; the rightmost of equals)."""
        hideable = [(c.priority, i, c) for i, c in enumerate(shown) if c.priority > below]
        if not hideable:
            return False
        shown.remove(max(hideable, key=lambda t: (t[0], t[1]))[2])
        return True

    while True:
        while used(least) > width and hide_one(0):  # even shrunk they do not fit
            pass
        widths = {c.key: least[c.key] for c in shown}
        spare = width - used(widths)
        for c in sorted(shown, key=lambda c: c.priority):  # shrunk ones grow back, most important first
            grow = max(0, min(spare, want[c.key] - widths[c.key]))
            widths[c.key] += grow
            spare -= grow
        cut = [max(c.priority, EXTRAS - 1) if c.flex else c.priority for c in shown if widths[c.key] < want[c.key]]
        if not cut or not hide_one(min(cut)):  # a column cut while a less important one shows: hide that
            break
    flexible = [c for c in shown if c.flex]
    for c in flexible:  # what is left goes to STATUS / REASON first (all of it while one is cut) …
        grow = max(0, min(spare, want[c.key] - widths[c.key]))
        widths[c.key] += grow
        spare -= grow
    if spare > 0 and flexible and any(widths[c.key] < want[c.key] for c in flexible):
        widths[flexible[0].key] += spare
        spare = 0
    auto = [c for c in shown if c.width is None] or flexible
    for i, c in enumerate(auto):  # … then spreads over the columns: the table spans the terminal
        widths[c.key] += max(0, spare // len(auto) + (1 if i < spare % len(auto) else 0))
    return {c.key: widths.get(c.key) for c in columns}


@dataclass
class FitColumn(TableColumn):
    """Textual's column, with a width the pane sets (`fit_widths`) and the means to hide it."""

    hidden: bool = False

    def get_render_width(self, data_table: DataTable[Any]) -> int:
        return 0 if self.hidden else super().get_render_width(data_table)


_ELSEWHERE = Coordinate(-2, -2)  # a cursor on no row this table draws (-1 is the header row)
AHEAD_AFTER = 0.05  # s the table rests after a move before it draws the pages a next key may show
AHEAD_WHILE = 5.0  # s after the last key, click or wheel turn: drawing ahead stops
_DRAW_NUMBERS = count(1)  # see PaneTable._update_count
_AWAY = "rows away from the cursor"  # the one pseudo-class state such rows are cached under
_AWAY_CLASSES = ("datatable--header", "datatable--even-row", "datatable--odd-row", "datatable--fixed")


@dataclass(frozen=True)
class _CellStyles:
    """What every body cell drawn in one frame shares (PaneTable._cell_styles)."""

    console: Any
    pad: int
    fixed_rows: int
    fixed_columns: int
    pre: Style  # the row's style and the component style (each cell adds its own meta)
    post: Style | None  # Styled's post style
    after: dict  # a segment's own style -> that style + post


class PaneTable(DataTable):
    """Textual's DataTable, made for thousands of one-line rows (the methods below say how).

    It also repaints the lines it painted before it measured its new rows: Textual 8 measures
    added rows' column widths when the table is next idle, but its line caches are keyed by
    `_update_count`, which measuring leaves alone: a frame painted between `add_row` and that
    idle moment kept its label-wide columns ("alp…") until the next change — for good on a pane
    where nothing changes (all containers stopped).
    """

    _looks: tuple | None = None  # see notify_style_update
    _last_size = None  # see _on_resize
    _rows_version = 0  # bumped when rows come, go, move or change height (see ordered_rows)
    _ordered: tuple[tuple[int, int], list[TableRow], list[tuple[RowKey, int]]] | None = None
    _framed: tuple[tuple, tuple[list[int], int, Style]] | None = None  # see _frame
    _frame_style: Style | None = None  # see render_lines
    _plain_new_rows = True  # every row not measured yet came from add_rows_at_once (see _measure_quickly)
    _spot: tuple | None = None  # the scroll offset, cursor and update count last painted (see _draw_ahead_soon)
    _ahead_timer = None
    _ahead: list[int] = []  # row indexes still to draw ahead
    _shown: list[tuple[str, tuple]] | None = None  # the (key, cells) the rows were made from (None: unknown)
    _kept: _KeptRows | None = None  # the rows a narrowing `set_rows` hid, as they were (see there)
    DEFAULT_CSS = """
    PaneTable:focus { background-tint: 0%; }
    PaneTable:focus > .datatable--header { background-tint: 0%; }
    """

    _drawn_as = 0  # see _update_count

    @property
    def _update_count(self) -> int:
        """Textual keys what it draws (lines, rows, cells) by `_update_count`, which it bumps on
        every change. Here each bump takes a number no table state had before, so rows taken back
        whole (`_take_back`) take back their own number, and the lines drawn for them: `esc` after
        a filter finds the screen it left drawn, instead of drawing a screenful of rows again."""
        return self._drawn_as

    @_update_count.setter
    def _update_count(self, _value: int) -> None:
        self._drawn_as = next(_DRAW_NUMBERS)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # rows and lines drawn before a filter stay cached through its keystrokes (Textual: 1,000)
        self._row_render_cache = LRUCache(2000)
        self._line_cache = LRUCache(2000)
        self._cell_frames: dict[tuple, _CellStyles] = {}  # see _cell_styles
        self._cell_meta: dict[tuple[int, int], Style] = {}  # each cell's (row, column) meta, made once
        self._made: dict[str, tuple] = {}  # see add_rows_at_once

    @property
    def vertical_scrollbar(self) -> KeptScrollBar:
        """Textual's own (Widget.vertical_scrollbar), made a KeptScrollBar (ui/scrollbars.py)."""
        if self._vertical_scrollbar is None:
            bar = self._vertical_scrollbar = KeptScrollBar(vertical=True, name="vertical",
                                                           thickness=self.scrollbar_size_vertical)
            bar.display = False
            self.app._start_widget(self, bar)
        return self._vertical_scrollbar

    def notify_style_update(self) -> None:
        """Textual drops every rendered cell when the table's styles update, and focus moving to
        the `/` prompt and back is such an update: ~40 ms of re-rendering each way. When rows away
        from the cursor look the same as before (no focus tint, see DEFAULT_CSS), only what the
        cursor row is drawn from is dropped. Their painted lines stay too (keyed without the focus,
        see `_render_line`; the header's and the cursor's are keyed with it): a pane switch, which
        moves the focus, assembled every line of the screen again (~6 ms)."""
        looks = self._away_looks()
        if looks is not None and looks == self._looks:
            super(DataTable, self).notify_style_update()
            self._get_styles_to_render_cell.cache_clear()
            self._styles_cache.clear()
            self.refresh()
            return
        self._looks = looks
        super().notify_style_update()

    def _away_looks(self) -> tuple | None:
        """What rows away from the cursor are drawn with (None before styles exist)."""
        try:
            return (self.rich_style, *(self.get_component_rich_style(name, partial=True) for name in _AWAY_CLASSES))
        except Exception:  # noqa: BLE001 - not mounted yet: nothing cached to keep
            return None

    def _on_resize(self, event) -> None:
        """Textual drops every rendered row on a resize, and a pane shown again (the switcher hid
        it) gets one at the size it had: with 5,000 rows that re-render and the row-offset table
        rebuilt cost ~50 ms per pane switch. Only a change of width drops them: a row is drawn the
        same however many rows fit (a filter that empties the table and fills it again changes its
        height twice; each drop re-rendered the screen's rows once more)."""
        last, self._last_size = self._last_size, event.size
        if last is not None and event.size.width == last.width:
            event.prevent_default()  # (Textual calls each class's own handler unless told not to)
        if last is not None and event.size != last:
            # The pane fits its columns to the table's width less the scrollbar when the rows
            # overflow: a table that grew taller inside a pane of the same size (its first rows:
            # no longer `-empty`) must be fitted again, or it keeps a scrollbar's gap it never shows.
            fit = getattr(self.parent, "fit_columns", None)
            if fit is not None:
                self.call_later(fit)

    @property
    def ordered_rows(self) -> list[TableRow]:
        """The rows in screen order. Textual rebuilds this list and `_y_offsets` (one entry per row)
        whenever `_update_count` changes — each cell update, width change or repaint of a change:
        ~5 ms each at 5,000 rows, several times a frame. Only rows coming, going, moving or
        changing height change them (the methods below bump `_rows_version`)."""
        return self._ordering()[0]

    @property
    def _y_offsets(self) -> list[tuple[RowKey, int]]:
        return self._ordering()[1]

    def _ordering(self) -> tuple[list[TableRow], list[tuple[RowKey, int]]]:
        key = (len(self.rows), self._rows_version)
        if self._ordered is None or self._ordered[0] != key:
            reverse, rows = self._row_locations._reverse, self.rows  # noqa: SLF001 - (get_key, inlined)
            ordered = [rows[reverse[index]] for index in range(len(rows))]
            if all(row.height == 1 for row in ordered):
                offsets = [(row.key, 0) for row in ordered]
            else:
                offsets = []
                for row in ordered:
                    offsets += [(row.key, y) for y in range(row.height)]
            self._ordered = (key, ordered, offsets)
        return self._ordered[1], self._ordered[2]

    def _get_row_region(self, row_index: int) -> Region:
        """Textual sums every row's height above the row for its place (5,000 events: ~0.5 ms
        each time the cursor is scrolled into view, several times a key); one-line rows: its index."""
        ordered, offsets = self._ordering()
        if len(ordered) != len(offsets) or not self.is_valid_row_index(row_index):
            return super()._get_row_region(row_index)
        row_width = (sum(column.get_render_width(self) for column in self.columns.values())
                     + self._row_label_column_width)
        y = row_index + (self.header_height if self.show_header else 0)
        return Region(0, y, max(self.size.width, row_width), 1)

    def add_row(self, *cells, **options) -> RowKey:
        key = super().add_row(*cells, **options)
        self._rows_version += 1
        self._plain_new_rows = False  # (it may have a label or an auto height: measured row by row)
        self._shown = None
        return key

    def remove_row(self, row_key) -> None:
        self._rows_version += 1
        super().remove_row(row_key)
        self._rows_version += 1
        self._shown = None

    def clear(self, columns: bool = False):
        super().clear(columns)
        self._rows_version += 1
        self._shown, self._kept = [], None
        return self

    def sort(self, *columns, **options):
        result = super().sort(*columns, **options)
        self._rows_version += 1
        self._shown = None  # (in another order now)
        return result

    def _update_dimensions(self, new_rows) -> None:
        widened = self._measure_quickly(new_rows)
        if widened is None:
            super()._update_dimensions(new_rows)
            self._rows_version += 1  # (auto-height rows may have changed height)
        if widened is not False:
            self._update_count += 1  # noqa: SLF001 - drops the lines painted with the old widths
            self.refresh()

    def set_cells(self, changes: Iterable[tuple[str, str, Text]]) -> None:
        """Put new values in cells (row key, column key, value) and repaint those cells that are on
        screen, nothing else. Textual's `update_cell` repaints the whole table for each one (a live
        CPU column made an idle screen write 25 KB/s); the caches are dropped once for them all."""
        changes = list(changes)
        if not changes:
            return
        top = int(self.scroll_y)
        bottom = top + self.size.height
        kept = self._kept
        for row_key, column_key, value in changes:
            row_data = self._data[RowKey(row_key)]
            if kept is not None and kept.data.get(row_key) is row_data:  # (the kept rows keep their cells)
                row_data = self._data[RowKey(row_key)] = row_data.copy()
            row_data[ColumnKey(column_key)] = value
        self._update_count += 1  # noqa: SLF001 - drops the rendered rows that showed the old values
        for row_key, column_key, _ in changes:
            row = self._row_locations.get(RowKey(row_key))
            if row is not None and top <= row <= bottom:  # (a row off screen is drawn anew when it shows)
                self.refresh_coordinate(Coordinate(row, self._column_locations.get(ColumnKey(column_key))))

    def set_widths(self, widths: Mapping[str, int | None]) -> bool:
        """Give each column its width (None: hidden), as `fit_widths` computed; False if none changed."""
        changed = False
        for key, column in self.columns.items():
            if key.value not in widths:
                continue
            width = widths[key.value]
            if not isinstance(column, FitColumn):
                column = self.columns[key] = FitColumn(column.key, column.label, column.width, column.content_width)
                changed = True
            hidden = width is None
            if column.hidden != hidden or column.auto_width or (not hidden and column.width != width):
                column.hidden, column.auto_width = hidden, False
                column.width = column.width if hidden else width
                changed = True
        if changed:
            header_height = self.header_height if self.show_header else 0
            self.virtual_size = Size(sum(column.get_render_width(self) for column in self.columns.values())
                                     + self._row_label_column_width, self._total_row_height + header_height)
            self._update_count += 1  # noqa: SLF001 - drops the lines painted with the old widths
            self.refresh()
        return changed

    def add_rows_at_once(self, rows: Sequence[tuple[str, tuple[Text, ...]]]) -> None:
        """`add_row` for many one-line rows, its bookkeeping done once instead of per row (Textual
        re-sorts its columns, re-validates the cursor and bumps its caches on every call: 2,000 rows
        ~50 ms here, paid when a `/` filter keystroke brings them back). A row added before with
        the same cells (the same tuple) gets a copy of the cell dict made then: Textual's keys hash
        in Python, six times a row (a filter bringing 5,000 unchanged rows back: ~100 -> ~30 ms)."""
        columns = [column.key for column in self.ordered_columns]
        start = len(self.rows)
        made, seen = self._made, {}
        forward, reverse = self._row_locations._forward, self._row_locations._reverse  # noqa: SLF001
        data, table_rows, new_rows = self._data, self.rows, self._new_rows
        for offset, (key, cells) in enumerate(rows):
            known = _known_row(made, key, cells, columns)
            _, row_key, row_data, _ = known
            if row_key in forward:
                raise DuplicateKey(f"The row key {row_key!r} already exists.")
            seen[key] = known
            forward[row_key] = start + offset
            reverse[start + offset] = row_key
            data[row_key] = row_data.copy()  # (a copy keeps the hashes: Textual may change its own)
            table_rows[row_key] = TableRow(row_key, 1, None, False)
        new_rows.update(forward if start == 0 else (known[1] for known in seen.values()))
        made.update(seen)  # the rows shown now and those a filter hid: what may come back
        self._made = made if len(made) <= 25_000 else seen
        if self._shown is not None:
            self._shown.extend(rows)
        if not rows:
            return
        self._rows_version += 1
        self._measure_new_rows()
        if start == 0 and self.columns and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()  # a cursor where there was none: Textual says which row it is on
        self._update_count += 1
        self.check_idle()

    def _measure_new_rows(self) -> None:
        """New rows measured now, not when the table is next idle: a cursor then moved to a new row
        (the newest event, the row a filter kept) scrolls to it before the next frame, instead of
        one frame later — two fresh screenfuls drawn for one key. (Not laid out yet: a cursor waits
        for the table's size, as Textual's does.)"""
        if self.size.height:
            self._require_update_dimensions = False
            added, self._new_rows = self._new_rows, set()
            self._update_dimensions(added)
        else:
            self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate

    def set_rows(self, rows: Sequence[tuple[str, tuple[Text, ...]]],
                 changes: Iterable[tuple[str, str, Text]] = ()) -> None:
        """Make the table's rows `rows` (key, cells), in that order, without clearing it: rows
        already there stay as they are (with `changes`, (row key, column key, value), put in their
        cells and measured), rows not in `rows` go, new ones are added as `add_rows_at_once` adds them. Hundreds
        of hosts answering one by one each bring a few rows into thousands: clearing and re-adding
        them all (and measuring them again) was most of a repaint (5,000 rows: ~25 ms -> ~5 ms).
        The cursor stays at its index (the caller moves it to its row).

        A set that hides rows (a `/` filter's first keystroke) keeps the rows it hides as they were
        (`_KeptRows`): the set that brings them all back (`esc`) takes them back whole when each
        row is made from the same cells (the same tuple), with any new rows after them, instead of
        making thousands of rows again (5,000 events: ~35 ms of `esc`)."""
        columns = [column.key for column in self.ordered_columns]
        changes = list(changes)
        if self._kept is not None and not changes and len(rows) >= len(self._kept.shown):
            if self._take_back(rows, columns):
                return
            self._kept = None  # (rows changed since: no longer what a filter's end brings back)
        shown, self._shown = self._shown, list(rows)
        if shown is not None and len(rows) < len(self.rows) and (self._kept is None or len(shown) > len(self._kept.shown)):
            self._kept = _KeptRows(shown, columns, self.rows, self._data, self._row_locations._forward,  # noqa: SLF001
                                   self._row_locations._reverse, set(self._new_rows),  # noqa: SLF001
                                   self._ordered if self._ordered and self._ordered[0] == (len(self.rows), self._rows_version) else None,
                                   self._drawn_as, self._drawn_with())
            self.rows, self._data = self.rows.copy(), self._data.copy()  # (the kept dicts stay as they are)
        made, seen = self._made, {}
        table_rows, data = self.rows, self._data
        order: list[RowKey] = []
        added: list[RowKey] = []
        for key, cells in rows:
            row = table_rows.get(key)
            if row is not None:
                order.append(row.key)
                continue
            known = _known_row(made, key, cells, columns)
            _, row_key, row_data, _ = known
            seen[key] = known
            data[row_key] = row_data.copy()
            table_rows[row_key] = TableRow(row_key, 1, None, False)
            order.append(row_key)
            added.append(row_key)
        forward = dict(zip(order, range(len(order))))
        if len(forward) != len(order):
            raise DuplicateKey("A row key appears twice.")
        if len(table_rows) > len(forward):
            for row_key in [row_key for row_key in table_rows if row_key not in forward]:
                del table_rows[row_key]
                del data[row_key]
                self._new_rows.discard(row_key)
        kept = self._kept
        for row_key, column_key, value in changes:
            if kept is not None and kept.data.get(row_key) is data[row_key]:  # (the kept rows keep their cells)
                data[row_key] = data[row_key].copy()
            data[row_key][column_key] = value
            added.append(table_rows[row_key].key)  # (measured as a new row's: it may be wider)
        locations = self._row_locations
        locations._forward, locations._reverse = forward, dict(enumerate(order))  # noqa: SLF001
        made.update(seen)
        self._made = made if len(made) <= 25_000 else seen
        self._rows_version += 1
        self._new_rows.update(added)
        self._measure_new_rows()  # (new widths, or only a new height)
        self._update_count += 1
        self.refresh()
        self.check_idle()

    def _drawn_with(self) -> tuple:
        """What a row is drawn with besides its cells and `_update_count`: the columns' widths."""
        return self.size.width, tuple((column.key, column.get_render_width(self)) for column in self.ordered_columns)

    def _take_back(self, rows: Sequence[tuple[str, tuple[Text, ...]]], columns: list) -> bool:
        """The kept rows made the table again, if `rows` begins with them, each made from the very
        cells it was (then the rows after them are added); False if not (nothing changed)."""
        kept = self._kept
        count = len(kept.shown)
        if kept.columns != columns or [key for key, _ in kept.shown] != [key for key, _ in rows[:count]]:
            return False
        if not all(map(operator.is_, (cells for _, cells in kept.shown), (cells for _, cells in rows[:count]))):
            return False
        extra = rows[count:]
        if any(key in kept.forward for key, _ in extra):
            return False
        self._kept = None
        self.rows, self._data = kept.rows, kept.data
        self._row_locations._forward, self._row_locations._reverse = kept.forward, kept.reverse  # noqa: SLF001
        self._shown = list(kept.shown)
        self._rows_version += 1
        if kept.ordered is not None:
            self._ordered = ((len(self.rows), self._rows_version), kept.ordered[1], kept.ordered[2])
        self._new_rows = kept.new_rows
        if kept.drawn_with == self._drawn_with():  # (what was drawn for these rows is theirs again)
            self._drawn_as = kept.drawn_as
        else:  # (columns of other widths since: drawn anew)
            self._update_count += 1
        self._measure_new_rows()
        self.refresh()
        self.check_idle()
        if extra:
            self.add_rows_at_once(extra)
        return True

    def _measure_quickly(self, new_rows) -> bool:
        """Widen the columns to the new rows' cells, as Textual does, when every cell is one line
        of Text: its width is its `cell_len`. Textual asks Rich to measure each cell (a word split
        and a console-options copy: 2,000 rows ~320 ms here, paid on every `/` filter keystroke
        that brings rows back); this takes ~10 ms. Anything else (labels, auto height, other
        renderables, several lines): None, and Textual's own measuring does it. True when a
        column's width changed (the lines painted before are redrawn), else False.
        Columns whose width the pane set (`set_widths`) are not measured at all: their content
        width is never used (5,000 rows brought back by a filter: ~50 ms less, and the screen
        painted with those rows is not painted again)."""
        columns = self.ordered_columns
        widths = [column.content_width for column in columns]
        measured = [(i, column) for i, column in enumerate(columns) if column.auto_width]
        plain, self._plain_new_rows = self._plain_new_rows, True
        for row_key in new_rows if measured or not plain else ():  # (nothing to measure, nor to check)
            row, data = self.rows.get(row_key), self._data.get(row_key)
            if row is None or data is None or row_key not in self._row_locations:
                continue  # removed before the table was idle
            if row.label is not None or row.auto_height:
                return None
            for i, column in measured:
                value = data.get(column.key)
                if type(value) is not Text or "\n" in value.plain:
                    return None
                width = value.cell_len
                if width > widths[i]:
                    widths[i] = width
        widened = False
        for column, width in zip(columns, widths):
            if column.content_width != width:
                column.content_width = width
                widened = widened or column.auto_width
        header_height = self.header_height if self.show_header else 0
        self.virtual_size = Size(sum(column.get_render_width(self) for column in self.columns.values())
                                 + self._row_label_column_width, self._total_row_height + header_height)
        return widened

    def _render_cell(self, row_index, column_index, base_style, width, cursor=False, hover=False):
        """A body cell holding one line of Text, drawn as Textual draws it, without the trip through
        Rich's renderers (a Padding in a Styled, each rendered to lines, options copied at each
        step): the first frame's 420 cells took 22-28 ms that way here, 6 ms this way, and so does
        every row a scroll brings in. The Text's own truncation and style make the segments; what
        Padding and Styled would add around them is added here. Anything else (the header, labels,
        fixed cells, taller rows, tabs): Textual's own. tests/test_table.py compares the two."""
        if width <= 0:
            return [[]]  # a hidden column (FitColumn): nothing to draw
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        cache_key = (row_key, column_key, base_style, cursor, hover, self._show_hover_cursor, self._update_count,
                     self._pseudo_class_state)  # Textual's own key: a hit is good whichever path drew it
        lines = self._cell_render_cache.get(cache_key)
        if lines is not None:
            return lines
        row = self.rows.get(row_key)
        data = self._data.get(row_key)
        value = data.get(column_key) if data is not None else None
        styles = self._cell_styles(base_style, cursor, hover)
        console, pad, fixed_rows, fixed_columns = styles.console, styles.pad, styles.fixed_rows, styles.fixed_columns
        inner = width - 2 * pad
        if (row is None or row.height != 1 or row.label is not None or type(value) is not Text or inner <= 0
                or row_index < fixed_rows or column_index < fixed_columns
                or "\n" in value.plain or "\t" in value.plain):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        blank = Style.null()
        plain = value.plain
        if value.spans or value.justify not in (None, "default") or not plain or value.overflow == "ignore":
            # Text.__rich_console__ with the options DataTable passes (no_wrap: the row is one line high)
            wrapped = value.wrap(console, inner, justify=value.justify or "default",
                                 overflow=value.overflow or "fold", tab_size=8, no_wrap=True)
            segments = list(Text("\n").join(wrapped).render(console, end=""))
            used = sum(segment.cell_length for segment in segments)
            if used > inner:  # what Rich's line cropping would do; truncate leaves none (checked in tests)
                return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        else:  # the usual cell, one style or none: what that comes to, without building it
            used = cell_len(plain)
            if used > inner:  # Text.truncate
                plain = set_cell_size(plain, inner - 1) + "…" if value.overflow == "ellipsis" else \
                    set_cell_size(plain, inner)
                used = inner
            if not value.style:  # no style of its own: padding, text and fill are one segment, one style
                segments = [Segment(f"{' ' * pad}{plain}{' ' * (inner - used + pad)}", None)]
                used, pad = inner, 0  # (nothing left to add around it)
            else:
                segments = [Segment(plain, console.get_style(value.style, default=blank))]
        if pad:
            segments.insert(0, Segment(" " * pad, blank))
        if used < inner:  # Padding's own line, padded to its width
            segments.append(Segment(" " * (inner - used), blank))
        if pad:
            segments.append(Segment(" " * pad, blank))
        # Segment.apply_style(segments, pre, post), as Styled does, where pre is the row's style,
        # the cell's meta and the component style, and post what Styled puts after the cell's own
        # style (the cursor's, by default): (pre + style) + post, added as pre + (style + post),
        # the part after pre shared by every cell of the frame (styles add associatively)
        meta = self._cell_meta.get((row_index, column_index))
        if meta is None:
            if len(self._cell_meta) > 4096:  # (a few screenfuls of cells)
                self._cell_meta.clear()
            meta = self._cell_meta[(row_index, column_index)] = \
                Style.from_meta({"row": row_index, "column": column_index})
        pre = styles.pre + meta
        after = styles.after
        line = []
        for text, style, control in segments:
            tail = after.get(style)
            if tail is None:
                tail = after[style] = (style + styles.post if style else styles.post) if styles.post else style
            line.append(Segment(text, pre + tail if tail is not None else pre, control))
        lines = self._cell_render_cache[cache_key] = [line]
        return lines

    def _cell_styles(self, base_style: Style, cursor: bool, hover: bool) -> _CellStyles:
        """What the cells of a frame share (see `_render_cell`), kept until the table changes."""
        key = (base_style, cursor, hover, self._update_count, self._pseudo_class_state, self.show_cursor,
               self._show_hover_cursor, self.cursor_foreground_priority, self.cursor_background_priority)
        styles = self._cell_frames.get(key)
        if styles is None:
            if len(self._cell_frames) > 64:
                self._cell_frames.clear()
            component_style, post_style = self._get_styles_to_render_cell(
                False, False, False, hover, cursor, self.show_cursor, self._show_hover_cursor,
                self.cursor_foreground_priority == "css", self.cursor_background_priority == "css")
            styles = self._cell_frames[key] = _CellStyles(
                self.app.console, self.cell_padding, self.fixed_rows, self.fixed_columns,
                base_style + component_style, post_style, {})
        return styles

    def render_lines(self, crop):
        """The table's style once a frame, not once a line (Textual asks the DOM for it on every
        line: ~0.1 ms each, a screenful's worth on every key that moves or scrolls)."""
        self._frame_style = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._frame_style = None
            self._draw_ahead_soon()

    def _draw_ahead_soon(self) -> None:
        """While the user moves through the table, the rows the next page key, `G` or `g` would show
        are drawn once it rests (`AHEAD_AFTER`), a page at a time between events: such a key then
        finds them drawn, as `j` finds the rows already on screen (a fresh screenful of 5,000
        containers' rows was most of a page key at 500 hosts). Only within `AHEAD_WHILE` s of a key,
        a click or a wheel turn (the app's `input_at`): hosts answering at start, an event flood the
        cursor follows or a live tick, with nobody at the keys, draw nothing ahead."""
        spot = (self.scroll_offset, self.cursor_coordinate, self._update_count)
        if spot == self._spot:
            return
        self._spot = spot
        input_at = getattr(self.app, "input_at", None)
        if (input_at is None or time.monotonic() - input_at > AHEAD_WHILE or self.cursor_type != "row"
                or self.fixed_rows or self.fixed_columns):
            return
        if self._ahead_timer is not None:
            self._ahead_timer.stop()
        self._ahead_timer = self.set_timer(AHEAD_AFTER, self._plan_ahead)

    def _plan_ahead(self) -> None:
        self._ahead_timer = None
        height = self.size.height - (self.header_height if self.show_header else 0)
        count = self.row_count
        if height <= 0 or not count or not self.display:
            return
        top = int(self.scroll_y)
        pages = [range(top + height, top + 2 * height), range(top - height, top),  # page down, page up
                 range(count - height, count), range(0, height)]  # `G`, `g`
        cursor = self.cursor_row
        self._ahead = [i for page in pages for i in page if 0 <= i < count and i != cursor]
        self._draw_ahead()

    def _draw_ahead(self) -> None:
        """Draw the next screenful of planned rows into the row cache (`_away_row`, as painting
        would), then yield to the event loop before the next."""
        ahead, self._ahead = self._ahead, []
        if not ahead or not self.display:
            return
        height = max(1, self.size.height)
        batch, rest = ahead[:height], ahead[height:]
        style = self.rich_style
        state = self._pseudo_class_state
        self._pseudo_class_state = _AWAY
        try:
            for index in batch:
                if index < self.row_count:
                    self._away_row(self._row_locations.get_key(index), index, 0, style)
        finally:
            self._pseudo_class_state = state
        if rest:
            self._ahead = rest
            self._ahead_timer = self.set_timer(0.01, self._draw_ahead)

    def render_line(self, y: int) -> Strip:
        style = self._frame_style
        if style is None or self.fixed_rows:
            return super().render_line(y)
        scroll_x, scroll_y = self.scroll_offset
        if y >= (self.header_height if self.show_header else 0):
            y += scroll_y
        return self._render_line(y, scroll_x, scroll_x + self.size.width, style)

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        """Textual keys each painted line by the cursor's coordinate and the focus: `j` re-assembled
        every line of the screen, and so did a pane switch. A body line away from the cursor (see
        `_render_line_in_row`) is the same wherever the cursor is: keyed without it, a cursor move
        assembles two lines, and a scroll by one row one."""
        if self.cursor_type != "row" or self.fixed_rows or self.fixed_columns:
            return super()._render_line(y, x1, x2, base_style)
        try:
            row_key, line_no = self._get_offsets(y)
        except LookupError:
            return super()._render_line(y, x1, x2, base_style)
        row = self._row_locations.get(row_key)  # noqa: SLF001 - (None: the header)
        if row is None or row == self.cursor_coordinate.row or row == self.hover_coordinate.row:
            return super()._render_line(y, x1, x2, base_style)
        width = self.size.width
        cache_key = (y, x1, x2, width, _AWAY, _AWAY, base_style, self.cursor_type, self._show_hover_cursor,
                     self.show_cursor, self._update_count, _AWAY)
        strip = self._line_cache.get(cache_key)
        if strip is None:
            strip = self._line_cache[cache_key] = super()._render_line(y, x1, x2, base_style)
        return strip

    def _render_line_in_row(self, row_key, line_no, base_style, cursor_location, hover_location):
        """Textual keys each rendered row by the cursor's coordinate, so a cursor that moves one
        row makes every row a cache miss, and a scroll repaints the whole screenful cell by cell
        (2,000 rows: `j` scrolling ~60 ms here). A row-cursor table draws a row the same wherever
        the cursor is unless it is on that row: rows away from it share one key, and stay cached."""
        if self.cursor_type != "row":
            return super()._render_line_in_row(row_key, line_no, base_style, cursor_location, hover_location)
        row = self._row_locations.get(row_key)  # noqa: SLF001
        if cursor_location.row == row or hover_location.row == row:
            return super()._render_line_in_row(row_key, line_no, base_style, cursor_location, hover_location)
        # Nor does focus change such a row (no focus tint, see DEFAULT_CSS): opening the `/` prompt
        # takes the focus away, and Textual would re-render every cell of the screen for it.
        state = self._pseudo_class_state
        self._pseudo_class_state = _AWAY
        try:
            return self._away_row(row_key, row, line_no, base_style)
        finally:
            self._pseudo_class_state = state

    def _away_row(self, row_key, row_index, line_no, base_style):
        """A row away from the cursor, drawn as Textual's `_render_line_in_row` draws it when the
        table has no row labels, fixed columns or zebra stripes, with what every row shares worked
        out once a frame: Textual asks the DOM for the header's style and each column's width
        again for each row (a fresh screenful, as page down or a filter brings: ~50 ms here, half
        of it that). Anything else: Textual's own. tests/test_table.py compares the two."""
        cache_key = (row_key, line_no, base_style, _ELSEWHERE, _ELSEWHERE, self.cursor_type, self.show_cursor,
                     self._show_hover_cursor, self._update_count, self._pseudo_class_state)  # Textual's key
        drawn = self._row_render_cache.get(cache_key)
        if drawn is not None:
            return drawn
        record = self.rows.get(row_key)
        if (row_index is None or record is None or record.height != 1 or line_no != 0 or self.fixed_columns
                or self.zebra_stripes or row_index < self.fixed_rows
                or (self._labelled_row_exists and self.show_row_labels)):
            return super()._render_line_in_row(row_key, line_no, base_style, _ELSEWHERE, _ELSEWHERE)
        widths, remaining, extend_style = self._frame(base_style)
        render_cell = self._render_cell
        scrollable = [render_cell(row_index, i, base_style, width)[0] for i, width in enumerate(widths)]
        # (the row's style, continued to the table's right edge, as Textual extends it)
        out_of_bounds = Style.from_meta({"row": row_index, "column": 0, "out_of_bounds": True})
        scrollable.append([Segment(" " * remaining, extend_style + out_of_bounds)])
        drawn = self._row_render_cache[cache_key] = ([], scrollable)
        return drawn

    def _frame(self, base_style: Style) -> tuple[list[int], int, Style]:
        """What every row away from the cursor shares in a frame: the columns' widths, the space
        right of the last column, the style that space takes."""
        key = (base_style, self._update_count, self._pseudo_class_state, self.show_cursor,
               self._show_hover_cursor, self.size.width)
        if self._framed is not None and self._framed[0] == key:
            return self._framed[1]
        widths = [column.get_render_width(self) for column in self.ordered_columns]
        remaining = max(0, self.size.width - sum(widths) - self._row_label_column_width)
        extend, _ = self._get_styles_to_render_cell(False, False, False, False, False, self.show_cursor,
                                                    self._show_hover_cursor, False, False)
        frame = (widths, remaining, base_style + extend)
        self._framed = (key, frame)
        return frame


@dataclass
class Row:
    """One table row as `render` functions build it: cells, sort values, what the `/` filter sees."""

    key: str
    cells: tuple[Text, ...]
    sort_values: dict[str, Any]
    data: Any = None
    texts: Sequence[str] = ()  # the visible columns' text, for bare filter words
    fields: Mapping[str, object] = field(default_factory=dict)  # host, state, labels, … for key:value terms


class Pane(CoveredContainer, Vertical):
    """Base for the fleet panes (Hosts, Containers, …)."""

    pane_id: ClassVar[str] = ""
    kinds: ClassVar[frozenset[str]] = frozenset()  # FleetChange kinds that make this pane stale
    columns: ClassVar[Sequence[Column]] = ()
    default_sort: ClassVar[str] = ""
    MUTATING: ClassVar[frozenset[str]] = frozenset()  # actions hidden (and refused) in read-only mode
    noun: ClassVar[str] = ""  # what its rows are ("volumes"): an empty table then says why it is empty

    DEFAULT_CSS = """
    Pane { height: 1fr; }
    Pane > DataTable { height: 1fr; }
    Pane > .empty-state { height: auto; margin: 1 2; padding: 1 2; border: round $warning; }
    Pane > .empty-why { display: none; height: auto; margin: 1 2; color: $text-muted; }
    Pane.-empty > DataTable { height: auto; }
    Pane.-empty > .empty-why { display: block; }
    Pane > .cursor-detail { display: none; height: auto; max-height: 4; padding: 0 1; background: $panel; }
    Pane.-detail > .cursor-detail { display: block; }
    """

    class HeaderChanged(Message):
        """The pane's part of the header changed (its view, sort, marks): repaint the summary and tabs."""

    class FilterAsked(Message):
        """Set the `/` filter (every pane's) to `text`."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, fleet: Fleet, registries: Registries) -> None:
        super().__init__(id=f"pane-{self.pane_id}")
        self.fleet = fleet
        self.registries = registries  # shared with the app: registry entries, clients, credentials
        self.scope: str | None = None  # set by the app: one host, or None for all
        self.covered = False  # set by the app: a full screen (logs, a detail view) is over this one
        self.match: Matcher = filtering.matcher("")  # set by the app: the `/` filter
        self.filter_text = ""  # set by the app: the `/` filter's words (an empty table names them)
        self.marked: set[tuple[str, str]] = set()  # `space` marks: mark_key of each marked row
        self.stale = True
        self.stale_kinds: set[str] = set()  # what changed since the last refresh
        self.stale_hosts: set[str] = set()  # the hosts those changes came from
        self.sort_key = self.default_sort
        self.sort_reverse = False
        self._follow_cursor = False  # the next sync keeps the cursor on its row even on the first row
        self._lines_shown: dict[str, str | None] = {}  # the text of the lines under the table (None: hidden)
        self._natural: dict[str, int] = {}  # each column's widest cell now (fit_widths)
        self._fitted: tuple | None = None  # what the widths were last fitted to
        self.rows: list[Row] = []
        self._rendered: list[tuple[str, tuple[Text, ...]]] = []

    def flash(self, message: str, *, error: bool = False) -> None:
        flash(self, message, error=error)

    def header_changed(self) -> None:
        self.post_message(self.HeaderChanged())

    def ask(self, dialog: Screen, then: Callable[[Any], object]) -> None:
        """Show a dialog; `then` gets its answer unless it was cancelled."""
        self.app.push_screen(dialog, lambda answer: None if answer is None else then(answer))

    # ------------------------------------------------------------------ hosts

    def scope_hosts(self) -> list[str] | None:
        return [self.scope] if self.scope else None

    def online_hosts(self, writable: bool = True) -> list[str]:
        """Hosts that answer now (and take changes, unless `writable` is False)."""
        return self.fleet.online_hosts(writable=writable)

    def changeable(self, targets: list[Any]) -> list[Any]:
        """The targets (objects with a `host`) a change may go to now, in the fleet's words: none in
        a read-only fleet; those on read-only hosts and on hosts that are not online left out. Each
        refusal is flashed before any dialog asks."""
        refused: dict[str, str] = {}
        for host in sorted({t.host for t in targets}):
            try:
                self.fleet.check_writable(host)
            except ReadOnlyError as exc:
                refused[host] = str(exc)
        if refused and self.fleet.readonly:
            self.flash(next(iter(refused.values())), error=True)
            return []
        skipped = [t for t in targets if t.host in refused]
        if skipped:
            self.flash(f"skipped {len(skipped)} container(s) on read-only hosts ({'; '.join(refused.values())})",
                       error=True)
        offline = [t for t in targets if t.host not in refused and not self.fleet.is_online(t.host)]
        if offline:
            self.flash(f"skipped {len(offline)} container(s) on hosts that are not online", error=True)
        return [t for t in targets if t.host not in refused and t not in offline]

    def default_hosts(self) -> list[str]:
        """The hosts a dialog preselects: the scope, else every online host."""
        return [self.scope] if self.scope else self.online_hosts()

    async def registry_auth(self, reference: str) -> dict[str, str] | None:
        """X-Registry-Auth for pulling/pushing `reference`; a failing credential source is flashed
        and the request goes anonymous."""
        try:
            return await self.registries.auth_for(reference)
        except RegistryError as exc:
            self.flash(f"{exc.registry or 'registry'}: {exc.message}", error=True)
            return None

    def compose(self):
        table: DataTable[Text] = PaneTable(id=f"table-{self.pane_id}", cursor_type="row",
                                           zebra_stripes=False, header_height=1)
        yield table
        yield Static("", classes="empty-why")
        yield Static("", classes="cursor-detail")

    @property
    def active_columns(self) -> Sequence[Column]:
        """The columns shown now (a pane with several views overrides this)."""
        return self.columns

    @property
    def table(self) -> DataTable:
        return self.query_one(DataTable)

    def on_mount(self) -> None:
        self.reset_columns()

    def reset_columns(self) -> None:
        """(Re)create the table's columns from `active_columns` (a pane switching views calls it)."""
        table = self.table
        table.clear(columns=True)
        self._rendered = []
        self._natural, self._fitted, self._measured = {}, None, {}
        for col in self.active_columns:
            table.add_column(Text(col.label), key=col.key, width=col.width)  # ours: no markup to parse
        self.fit_columns()

    def on_resize(self) -> None:
        self.fit_columns()

    def fit_columns(self) -> None:
        """Fit the columns to the table's width now (see `Column`): on a resize, and when the rows'
        widest cells change — widths shrink back too (after a regroup, a filter)."""
        table = self.table
        width = table.size.width
        if not width or not table.columns:
            return  # not laid out yet: on_resize comes
        if len(self._rendered) + (table.header_height if table.show_header else 0) > table.size.height:
            width -= table.styles.scrollbar_size_vertical  # the scrollbar takes its column
        fitted = (width, tuple(sorted(self._natural.items())), tuple(c.key for c in self.active_columns),
                  self.sort_key)
        if fitted == self._fitted:
            return
        self._fitted = fitted
        columns = [replace(c, priority=0) if c.key == self.sort_key else c for c in self.active_columns]
        table.set_widths(fit_widths(columns, self._natural, width, table.cell_padding))  # (the sort's column shows)

    def _measure(self, wanted: list[tuple[str, tuple[Text, ...]]]) -> dict[str, int]:
        """Each auto-width column's widest cell among `wanted` (one line of Text each). A row whose
        cells are the same objects as last time (panes reuse unchanged rows) is not measured again:
        a re-sort of 2,000 rows stays ~1 ms."""
        columns = self.active_columns
        auto = [i for i, c in enumerate(columns) if c.width is None]
        seen = getattr(self, "_measured", {})
        measured: dict[str, tuple[tuple[Text, ...], tuple[int, ...]]] = {}
        for key, cells in wanted:
            known = seen.get(key)
            if known is not None and known[0] is cells:
                measured[key] = known
                continue
            lengths = []
            for i in auto:
                plain = cells[i].plain if i < len(cells) else ""
                # (Rich's cell_len is ~10 µs a string here; printable ASCII is one cell a character,
                # and daemon strings reach a cell through `safe`: no control characters)
                lengths.append(len(plain) if plain.isascii() else cell_len(plain))
            measured[key] = (cells, tuple(lengths))
        self._measured = measured
        longest = [max(column) for column in zip(*(lengths for _, lengths in measured.values()))] if measured \
            else [0] * len(auto)
        return {columns[i].key: width for i, width in zip(auto, longest)}

    # ------------------------------------------------------------------ data

    def build_rows(self) -> list[Row]:
        """The rows this pane should show now (filtered, unsorted)."""
        raise NotImplementedError

    def refresh_data(self, full: bool = True) -> None:
        """Rebuild rows; `full=False` (the live tick) lets a pane take a cheaper path if it has one."""
        self.stale = False
        self.stale_kinds = set()
        self.stale_hosts = set()
        rows = self.build_rows()
        if self.sort_key:  # rows without a value (CPU% not sampled yet) go last, whichever the direction
            known = [r for r in rows if r.sort_values.get(self.sort_key) is not None]
            known.sort(key=lambda r: _sortable(r.sort_values.get(self.sort_key)), reverse=self.sort_reverse)
            rows = known + [r for r in rows if r.sort_values.get(self.sort_key) is None]
        self.rows = self.group(rows)
        self.sync_table([(r.key, r.cells) for r in self.rows], follow_cursor=self._follow_cursor)
        self.say_why_empty()
        self.show_cursor_detail()
        self.after_refresh()

    def group(self, rows: list[Row]) -> list[Row]:
        return rows

    async def run_command(self, verb: str, args: list[str]) -> None:
        """Run the `:` command `verb` (listed for this pane in the registry): its `command_<verb>` method."""
        result = getattr(self, f"command_{verb}")(args)
        if inspect.isawaitable(result):
            await result

    def header_parts(self) -> list[tuple[str, str] | str | Text]:
        """What the tabs line shows after the tabs while this pane is active (its view, sort, place)."""
        return []

    def after_refresh(self) -> None:
        """Hook: e.g. tell the controller which rows are visible."""

    def sync_table(self, wanted: list[tuple[str, tuple[Text, ...]]], follow_cursor: bool = False) -> None:
        table = self.table
        if len(wanted) == len(self._rendered) and [k for k, _ in wanted] == [k for k, _ in self._rendered]:
            columns = self.active_columns
            natural = self._natural
            changes = []
            for (key, cells), (_, old) in zip(wanted, self._rendered):
                if cells is not old:
                    for i, (new_cell, old_cell) in enumerate(zip(cells, old)):
                        if _differs(new_cell, old_cell):  # (a style alone: a marked container's NAME)
                            changes.append((key, columns[i].key, new_cell))
                            if columns[i].width is None and new_cell.cell_len > natural.get(columns[i].key, 0):
                                natural[columns[i].key] = new_cell.cell_len  # ("checking…" -> "logged in as …")
            table.set_cells(changes)
            self._rendered = wanted
            self.fit_columns()
            return
        # The cursor follows its row as rows come and go, except on the first row, where it stays:
        # at startup the hosts answer one by one, and the top of the list is where the user is.
        # (`follow_cursor`: a live re-sort, where the first row is a container like any other.)
        cursor_key = self.cursor_key() if table.cursor_row > 0 or follow_cursor else None
        if (isinstance(table, PaneTable) and table.row_count == len(self._rendered)
                and (self._rendered or table._kept is not None)):  # noqa: SLF001 - (a filter that matched nothing, ended)
            # Rows came, went or moved: the table keeps the rows it has (a host answering among
            # 500 adds its 10 rows to thousands), only new rows and changed cells are made. (A
            # cell whose style alone changed counts too: the table must read as one filled anew.)
            columns = self.active_columns
            before = dict(self._rendered)
            changes = []
            for key, cells in wanted:
                old = before.get(key)
                if old is not None and old is not cells:
                    changes += [(key, columns[i].key, new_cell) for i, (new_cell, old_cell)
                                in enumerate(zip(cells, old)) if _differs(new_cell, old_cell)]
            table.set_rows(wanted, changes)
            self._rendered = wanted
            self._natural = self._measure(wanted)
            self.fit_columns()
            index = self._index_of(cursor_key) if cursor_key is not None else 0
            if table.cursor_row != index:  # (its row gone: the first row, as a table cleared and filled again)
                table.move_cursor(row=index or 0, animate=False, scroll=False)
            return
        scroll_y = table.scroll_y
        table.clear()
        table.add_rows_at_once(wanted)
        self._rendered = wanted
        self._natural = self._measure(wanted)
        self.fit_columns()
        if cursor_key is not None:
            index = next((i for i, (k, _) in enumerate(wanted) if k == cursor_key), None)
            if index is not None:
                table.move_cursor(row=index, animate=False, scroll=False)
        table.scroll_to(y=scroll_y, animate=False, immediate=True)

    def _index_of(self, key: str) -> int | None:
        index = self.table._row_locations.get(key)  # noqa: SLF001 - the table's own key -> row (5,000 rows: no scan)
        if index is not None and index < len(self._rendered) and self._rendered[index][0] == key:
            return index
        return next((i for i, (k, _) in enumerate(self._rendered) if k == key), None)

    def say_why_empty(self) -> None:
        """Under an empty table's header, why it is empty (its filter, its scope's host, or none on the
        hosts); gone with the first row."""
        self._show_line(".empty-why", "-empty", self.why_empty() if not self.rows and self.noun else None)

    def cursor_detail(self) -> str | None:
        """Hook: a line under the table, wrapped whole, about the cursor's row (what a narrow column
        cuts and one needs to read: a host's reason for being down); None: no line."""
        return None

    def show_cursor_detail(self) -> None:
        self._show_line(".cursor-detail", "-detail", self.cursor_detail())

    def _show_line(self, selector: str, shown_class: str, text: str | None) -> None:
        """Put `text` (daemon text: literal) in the line `selector`, which the pane's class
        `shown_class` shows, or hide it (None). Nothing when unchanged: this runs on every sync
        and every cursor move."""
        if text == self._lines_shown.get(selector):
            return
        self._lines_shown[selector] = text
        if text is not None:
            self.query_one(selector, Static).update(Text(safe(text)))
        self.set_class(text is not None, shown_class)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_cursor_detail()

    def why_empty(self) -> str:
        """The sentence an empty table shows: filter first (it hides rows that exist), then a scoped
        host that does not answer (its state and reason), then hosts still connecting."""
        if self.filter_text:
            return f"No {self.noun} match the filter “{self.filter_text}” (esc clears it)."
        hosts = [self.fleet.host(self.scope)] if self.scope else self.fleet.hosts()
        online = [h for h in hosts if h.state == HostState.ONLINE]
        if self.scope and not online:
            host = hosts[0]
            since = f" since {clock(host.down_since)}" if host.down_since else ""
            return (f"{host.name} is {host.state.value}{since}" + (f": {host.reason}" if host.reason else "")
                    + f" — its {self.noun} are not known. c on the Hosts pane reconnects; :all shows every host.")
        if not online:
            waiting = [h for h in hosts if h.state == HostState.CONNECTING]
            if waiting:
                return f"Connecting to {len(waiting)} host(s)…"
            return f"No host answers: no {self.noun} to show (the Hosts pane says why)."
        where = f"on {self.scope}" if self.scope else "on these hosts"
        return self.none_here(where)

    def none_here(self, where: str) -> str:
        """The sentence for a table with no rows at all `where` (a pane with a view adds its hint)."""
        return f"No {self.noun} {where}."

    def show_empty_state(self, message: str) -> None:
        """Words instead of an empty table: why there are no rows and what to do about it."""
        self.table.display = False
        self.mount(Static(Text(safe(message)), classes="empty-state"), before=self.table)

    def set_cell(self, row_key: str, column_key: str, value: Text) -> None:
        """Change one cell and repaint just that cell.

        `DataTable.update_cell` repaints the whole table (measured: a live CPU column made an idle
        screen write 25 KB/s). This sets the cell and refreshes only its region; it relies on
        DataTable internals of Textual 8 (pinned in pyproject).
        """
        self.set_cells([(row_key, column_key, value)])

    def set_cells(self, changes: list[tuple[str, str, Text]]) -> None:
        """`set_cell` for several cells (row key, column key, value): the table's caches drop once."""
        if not changes:
            return
        self.table.set_cells(changes)
        natural, widened = self._natural, False
        for _, column_key, value in changes:
            if value.cell_len > natural.get(column_key, value.cell_len):  # "Up 9 seconds" -> "Up 10 seconds"
                natural[column_key] = value.cell_len
                widened = True
        if widened:
            self.fit_columns()

    def cursor_key(self) -> str | None:
        table = self.table
        if not table.row_count or table.cursor_row < 0 or table.cursor_row >= len(self._rendered):
            return None
        return self._rendered[table.cursor_row][0]

    def cursor_row_data(self) -> Row | None:
        key = self.cursor_key()
        return next((r for r in self.rows if r.key == key), None) if key else None

    def visible_rows(self) -> list[Row]:
        """Rows currently on screen (the table scrolls; rows are one line high)."""
        table = self.table
        top = int(table.scroll_y)
        height = max(0, table.size.height - 1)  # minus the header
        return self.rows[top: top + height]

    # ------------------------------------------------------------------ sorting

    def cycle_sort(self, reverse: bool = False) -> str:
        columns = {c.key: c for c in self.active_columns if c.key != "mark"}
        keys = list(columns)
        if reverse:
            self.sort_reverse = not self.sort_reverse
        else:
            index = keys.index(self.sort_key) if self.sort_key in keys else -1
            self.sort_key = keys[(index + 1) % len(keys)]
            self.sort_reverse = columns[self.sort_key].descending
        self.sorted_anew()
        return self.sort_label()

    def set_sort(self, key: str) -> bool:
        """Sort by a column (its key or label); again on the same column: the other direction.
        A column whose top values matter (CPU%, MEM) starts highest first."""
        keys = {c.key: c for c in self.active_columns}
        key = key.lower()
        for k, col in keys.items():
            if key in (k, col.label.lower().rstrip("%")):
                if self.sort_key == k:
                    self.sort_reverse = not self.sort_reverse
                else:
                    self.sort_key, self.sort_reverse = k, col.descending
                self.sorted_anew()
                return True
        return False

    def sorted_anew(self) -> None:
        """The user chose a sort: show its top (the cursor on the first row)."""
        self.refresh_data()
        if self.table.row_count:
            self.table.move_cursor(row=0, animate=False)
            self.table.scroll_to(y=0, animate=False, immediate=True)

    def sort_label(self) -> str:
        label = next((c.label for c in self.active_columns if c.key == self.sort_key), self.sort_key)
        return f"{label} {'↓' if self.sort_reverse else '↑'}"

    # ------------------------------------------------------------------ marks and selection

    def mark_key(self, row: Row) -> tuple[str, str] | None:
        """What `space` marks for this row (None: not markable, e.g. a group header)."""
        return None

    def keep_marks(self, present: Iterable[tuple[str, str]]) -> None:
        """Marks of objects that are gone go too."""
        self.marked &= set(present)

    def selection(self) -> list[Row]:
        """The marked rows (one per marked object, in screen order), else the cursor row if markable."""
        if self.marked:
            chosen: dict[tuple[str, str], Row] = {}
            for row in self.rows:
                key = self.mark_key(row)
                if key in self.marked:
                    chosen.setdefault(key, row)  # type: ignore[arg-type]
            return list(chosen.values())
        row = self.cursor_row_data()
        return [row] if row is not None and self.mark_key(row) is not None else []

    def selected(self) -> list:
        """What the selection's rows stand for (their data)."""
        return [row.data for row in self.selection()]

    def action_mark(self) -> None:
        row = self.cursor_row_data()
        key = self.mark_key(row) if row is not None else None
        if key is None:
            return
        self.marked.symmetric_difference_update({key})
        self.refresh_data()
        self.table.action_cursor_down()
        self.header_changed()

    def action_mark_all(self) -> None:
        keys = {key for key in map(self.mark_key, self.rows) if key is not None}
        self.marked = set() if keys <= self.marked else keys
        self.refresh_data()
        self.header_changed()

    def clear_marks(self) -> bool:
        """Unmark everything; False when nothing was marked (esc then does its next thing)."""
        if not self.marked:
            return False
        self.marked.clear()
        self.refresh_data()
        self.header_changed()
        return True

    def back(self) -> bool:
        """Hook for esc: go up a level inside the pane; False when there is none."""
        return False

    # ------------------------------------------------------------------ read-only, sort key

    def action_sort(self, reverse: bool = False) -> None:
        self.flash(f"sorted by {self.cycle_sort(reverse)}")
        self.header_changed()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.MUTATING and self.fleet.readonly:
            return False  # hidden in read-only mode; the controller refuses anyway
        return True

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.set_sort(str(event.column_key.value))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.row_chosen()

    def row_chosen(self) -> None:
        """Hook: enter (or a click) on the cursor row."""

    async def fetch(self, call: Awaitable[T], failure: str) -> T | None:
        """Await a controller call that reads something; on failure flash `failure: error`, return None."""
        try:
            return await call
        except FleetError as exc:
            self.flash(f"{failure}: {exc}", error=True)
            return None


class SwarmPane(Pane):
    """A pane over the swarm controller's cache: asks it for a reload every few seconds while shown
    (the swarm's task changes on unconfigured nodes send no event anywhere we listen)."""

    kinds = frozenset({"swarm"})

    def on_show(self) -> None:
        self.fleet.swarm.watch(self.pane_id, True)

    def on_hide(self) -> None:
        self.fleet.swarm.watch(self.pane_id, False)

    def header_parts(self) -> list[tuple[str, str] | str | Text]:
        """A fleet without a swarm says so; a swarm no manager answered for says why (its rows are gone)."""
        if not self.fleet.swarm.swarms():
            return [("no swarm manager among the hosts (yet)", "dim")]
        return [(safe(f"{snap.error}  "), "bold red") for snap in self.fleet.swarm.snapshots() if snap.error]


@dataclass
class _KeptRows:
    """A table's rows as they were before a `set_rows` hid some of them: the dicts themselves
    (the table works on copies from then on), to be taken back whole (see `PaneTable.set_rows`)."""

    shown: list[tuple[str, tuple]]  # (key, cells) in order
    columns: list[ColumnKey]
    rows: dict[RowKey, TableRow]
    data: dict[RowKey, dict]
    forward: dict[RowKey, int]
    reverse: dict[int, RowKey]
    new_rows: set[RowKey]  # not measured yet
    ordered: tuple | None  # PaneTable._ordered for them, if it was made
    drawn_as: int  # PaneTable._update_count for them
    drawn_with: tuple  # PaneTable._drawn_with() then


def _known_row(made: dict, key: str, cells: tuple, columns: list) -> tuple:
    """(cells, RowKey, cell dict, columns) for a row: the one made before for these very cells
    (Textual's keys hash in Python: a filter bringing 5,000 unchanged rows back), or made now."""
    known = made.get(key)
    if known is not None and known[0] is cells and known[3] == columns:
        return known
    if len(cells) > len(columns):
        raise ValueError("More values provided than there are columns.")
    return cells, RowKey(key), dict(zip_longest(columns, cells)), columns


def _differs(new: Text, old: Text) -> bool:
    """A cell that is not what it was: Rich's `Text ==` compares text and spans, not the Text's
    own style (a stopped container's NAME turns dim with the same text)."""
    return new is not old and (new.plain != old.plain or new.style != old.style or new.spans != old.spans)


def _sortable(value: Any) -> tuple[int, Any]:
    """Sort None last, numbers numerically, strings naturally (web-2 before web-10), case-insensitively."""
    if value is None:
        return (2, 0)
    if isinstance(value, (int, float)):
        return (0, value)
    return (1, natural_key(str(value)))
