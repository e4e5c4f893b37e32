"""What every pane shares: a keyed DataTable kept in sync with minimal repaints.

A pane is told "your data may have changed" at most `refresh_hz` times a second (by
the app's tick) and only while visible; it rebuilds its desired rows, then `sync_table`
touches only cells that differ, or rebuilds the table when membership or order changed
(cheaper than many `remove_row` calls, which are O(rows) each).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from dockyard.textfmt import safe

if TYPE_CHECKING:
    from dockyard.ui.app import DockyardApp


def cell(value: object, style: str = "") -> Text:
    """A table cell for a string that may come from a daemon: never markup, never escapes."""
    return Text(safe("" if value is None else value), style=style, no_wrap=True, overflow="ellipsis")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int | None = None  # None: auto


@dataclass
class Row:
    key: str
    cells: tuple[Text, ...]
    sort_values: dict[str, Any]
    data: Any = None


class Pane(Vertical):
    """Base for the fleet panes (Hosts, Containers, …)."""

    pane_id: ClassVar[str] = ""
    title: ClassVar[str] = ""
    kinds: ClassVar[frozenset[str]] = frozenset()  # FleetChange kinds that make this pane stale
    columns: ClassVar[Sequence[Column]] = ()
    default_sort: ClassVar[str] = ""
    MUTATING: ClassVar[frozenset[str]] = frozenset()  # actions hidden (and refused) in read-only mode

    DEFAULT_CSS = """
    Pane { height: 1fr; }
    Pane > DataTable { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__(id=f"pane-{self.pane_id}")
        self.stale = True
        self.stale_kinds: set[str] = set()  # what changed since the last refresh
        self.sort_key = self.default_sort
        self.sort_reverse = False
        self.rows: list[Row] = []
        self._rendered: list[tuple[str, tuple[Text, ...]]] = []

    @property
    def dock(self) -> DockyardApp:  # typed access to the app
        return self.app  # type: ignore[return-value]

    def compose(self):
        table: DataTable[Text] = DataTable(id=f"table-{self.pane_id}", cursor_type="row",
                                           zebra_stripes=False, header_height=1)
        yield table

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
        for col in self.active_columns:
            table.add_column(col.label, key=col.key, width=col.width)

    # ------------------------------------------------------------------ data

    def build_rows(self) -> list[Row]:
        """The rows this pane should show now (filtered, unsorted)."""
        raise NotImplementedError

    def refresh_data(self, full: bool = True) -> None:
        """Rebuild rows; `full=False` (the live tick) lets a pane take a cheaper path if it has one."""
        self.stale = False
        self.stale_kinds = set()
        rows = self.build_rows()
        if self.sort_key:
            rows.sort(key=lambda r: _sortable(r.sort_values.get(self.sort_key)), reverse=self.sort_reverse)
        self.rows = self.group(rows)
        self.sync_table([(r.key, r.cells) for r in self.rows])
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

    def sync_table(self, wanted: list[tuple[str, tuple[Text, ...]]]) -> None:
        table = self.table
        if [k for k, _ in wanted] == [k for k, _ in self._rendered]:
            col_keys = [c.key for c in self.active_columns]
            for (key, cells), (_, old) in zip(wanted, self._rendered):
                if cells != old:
                    for i, (new_cell, old_cell) in enumerate(zip(cells, old)):
                        if new_cell != old_cell:
                            table.update_cell(key, col_keys[i], new_cell)
            self._rendered = wanted
            return
        # The cursor follows its row as rows come and go, except on the first row, where it stays:
        # at startup the hosts answer one by one, and the top of the list is where the user is.
        cursor_key = self.cursor_key() if table.cursor_row > 0 else None
        scroll_y = table.scroll_y
        table.clear()
        for key, cells in wanted:
            table.add_row(*cells, key=key)
        self._rendered = wanted
        if cursor_key is not None:
            index = next((i for i, (k, _) in enumerate(wanted) if k == cursor_key), None)
            if index is not None:
                table.move_cursor(row=index, animate=False, scroll=False)
        table.scroll_to(y=scroll_y, animate=False, immediate=True)

    def set_cell(self, row_key: str, column_key: str, value: Text) -> None:
        """Change one cell and repaint just that cell.

        `DataTable.update_cell` repaints the whole table (measured: a live CPU column made an idle
        screen write 25 KB/s). This sets the cell and refreshes only its region; it relies on
        DataTable internals of Textual 8 (pinned in pyproject).
        """
        table = self.table
        row_index = table.get_row_index(row_key)
        column_index = table.get_column_index(column_key)
        table._data[RowKey(row_key)][ColumnKey(column_key)] = value  # noqa: SLF001 - as update_cell does
        table._update_count += 1  # noqa: SLF001 - invalidates the rendered-row caches
        table.refresh_coordinate(Coordinate(row_index, column_index))

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
        keys = [c.key for c in self.active_columns if c.key != "mark"]
        if reverse:
            self.sort_reverse = not self.sort_reverse
        else:
            index = keys.index(self.sort_key) if self.sort_key in keys else -1
            self.sort_key = keys[(index + 1) % len(keys)]
            self.sort_reverse = False
        self.refresh_data()
        return self.sort_label()

    def set_sort(self, key: str) -> bool:
        keys = {c.key: c for c in self.active_columns}
        key = key.lower()
        for k, col in keys.items():
            if key in (k, col.label.lower().rstrip("%")):
                if self.sort_key == k:
                    self.sort_reverse = not self.sort_reverse
                else:
                    self.sort_key, self.sort_reverse = k, False
                self.refresh_data()
                return True
        return False

    def sort_label(self) -> str:
        label = next((c.label for c in self.active_columns if c.key == self.sort_key), self.sort_key)
        return f"{label} {'↓' if self.sort_reverse else '↑'}"

    # ------------------------------------------------------------------ marks, read-only, sort key

    def mark_key(self, row: Row) -> tuple[str, str] | None:
        """What `space` marks for this row (None: not markable, e.g. a group header)."""
        return None

    def action_mark(self) -> None:
        row = self.cursor_row_data()
        key = self.mark_key(row) if row is not None else None
        if key is None:
            return
        marked: set = self.marked  # type: ignore[attr-defined]
        marked.symmetric_difference_update({key})
        self.refresh_data()
        self.table.action_cursor_down()
        self.dock.update_summary()

    def action_sort(self) -> None:
        self.dock.flash(f"sorted by {self.cycle_sort()}")
        self.dock.update_summary()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.MUTATING and self.dock.readonly:
            return False  # hidden in read-only mode; the controller refuses anyway
        return True

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.set_sort(str(event.column_key.value))


def _sortable(value: Any) -> tuple[int, Any]:
    """Sort None last, numbers numerically, strings case-insensitively."""
    if value is None:
        return (2, 0)
    if isinstance(value, (int, float)):
        return (0, value)
    return (1, str(value).lower())
