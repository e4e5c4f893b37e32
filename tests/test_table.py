"""PaneTable (ui/panes/base.py): Textual's DataTable with faster paths for thousands of rows.

Each fast path replaces Textual bookkeeping, so each is checked against what Textual's own does:
the same widths, the same rows, the same painted screen (no lab: a table of made-up rows).
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import App
from textual.widgets import DataTable, Input

from dockyard.ui.panes.base import PaneTable


def rows(n: int, salt: str = "") -> list[tuple[str, tuple[Text, ...]]]:
    return [(f"k{r}", tuple(Text(f"{salt}{'x' * ((r * 7 + c * 3) % 23)}{'日本' * (r % 3 == c)}", no_wrap=True)
                            for c in range(4))) for r in range(n)]


class Tables(App):
    """A PaneTable and a plain DataTable side by side, and an input to take the focus."""

    def compose(self):
        yield PaneTable(id="fast", cursor_type="row")
        yield DataTable(id="plain", cursor_type="row")
        yield Input()

    def filled(self, data):
        for table in (self.query_one("#fast"), self.query_one("#plain")):
            table.clear(columns=True)
            for c in range(4):
                table.add_column(f"C{c}", key=f"c{c}")
        fast: PaneTable = self.query_one("#fast")  # type: ignore[assignment]
        fast.add_rows_at_once(data)
        plain: DataTable = self.query_one("#plain")  # type: ignore[assignment]
        for key, cells in data:
            plain.add_row(*cells, key=key)
        return fast, plain


def painted(table: DataTable) -> list[str]:
    return ["".join(seg.text for seg in table.render_line(y)) for y in range(table.size.height)]


def looks(table: DataTable, y: int) -> set[tuple[str, str, bool]]:
    """How line `y` is drawn: its colours and boldness (not Textual's per-cell meta)."""
    return {(str(seg.style.color), str(seg.style.bgcolor), bool(seg.style.bold))
            for seg in table.render_line(y) if seg.text.strip() and seg.style}


async def test_rows_added_at_once_are_the_rows_add_row_makes_with_the_same_widths():
    app = Tables()
    async with app.run_test(size=(120, 40)) as pilot:
        fast, plain = app.filled(rows(60))
        await pilot.pause(0.2)
        assert fast.row_count == plain.row_count == 60
        assert [fast.get_row_at(i) for i in range(60)] == [plain.get_row_at(i) for i in range(60)]
        assert [c.content_width for c in fast.ordered_columns] == [c.content_width for c in plain.ordered_columns]
        assert fast.virtual_size == plain.virtual_size
        assert fast.cursor_coordinate == plain.cursor_coordinate
        fast, plain = app.filled(rows(5, salt="wide-" * 5))  # cleared and refilled: wider cells widen
        await pilot.pause(0.2)
        assert [c.content_width for c in fast.ordered_columns] == [c.content_width for c in plain.ordered_columns]


async def test_moving_the_cursor_and_the_focus_paints_what_textual_paints():
    """Rows away from the cursor stay cached across cursor moves and focus changes; what is painted
    must still match a plain DataTable's rows (the cursor row highlighted, no other)."""
    app = Tables()
    async with app.run_test(size=(120, 40)) as pilot:
        fast, plain = app.filled(rows(60))
        fast.styles.height = plain.styles.height = 12
        await pilot.pause(0.2)
        for table in (fast, plain):
            table.focus()
            await pilot.pause(0.05)
            for _ in range(15):  # down past the bottom: the table scrolls
                table.action_cursor_down()
            for _ in range(3):  # and back up a little: the cursor mid-screen
                table.action_cursor_up()
            await pilot.pause(0.1)
        app.query_one(Input).focus()  # the focus goes away (the `/` prompt)
        await pilot.pause(0.1)
        assert painted(fast) == painted(plain)
        lines = painted(fast)
        cursor_row = fast.cursor_row - int(fast.scroll_y) + 1  # + the header
        styles = [looks(fast, y) for y in range(len(lines))]
        assert styles[cursor_row] != styles[cursor_row - 1] and styles[cursor_row - 1] == styles[cursor_row + 1]
        fast.focus()
        fast.action_cursor_up()
        await pilot.pause(0.1)
        styles = [looks(fast, y) for y in range(len(lines))]
        assert styles[cursor_row - 1] != styles[cursor_row]  # the cursor moved up a row, its old row is plain
        assert styles[cursor_row] == styles[cursor_row + 1]


async def twelve_lines_high(app: Tables, pilot, count: int) -> tuple[PaneTable, DataTable]:
    """Both tables filled with `count` rows and twelve lines high (a header and 11 rows)."""
    fast, plain = app.filled(rows(count))
    fast.styles.height = plain.styles.height = 12
    await pilot.pause(0.2)
    return fast, plain


async def test_a_focus_change_keeps_the_lines_painted_away_from_the_cursor():
    """A pane switch moves the focus from one table to another: lines away from the cursor are
    kept, not assembled again, and still match what Textual paints."""
    app = Tables()
    async with app.run_test(size=(120, 40)) as pilot:
        fast, plain = await twelve_lines_high(app, pilot, 60)
        fast.focus()
        fast.action_cursor_down()
        await pilot.pause(0.1)
        cursor_y = fast.cursor_row - int(fast.scroll_y) + 1  # + the header
        away = [y for y in range(1, 12) if y != cursor_y]
        before = [fast.render_line(y) for y in range(12)]
        app.query_one(Input).focus()
        await pilot.pause(0.1)
        fast.focus()
        await pilot.pause(0.1)
        after = [fast.render_line(y) for y in range(12)]
        assert [y for y in away if after[y] is before[y]] == away
        app.query_one(Input).focus()  # neither table has the focus: they look alike
        plain.move_cursor(row=fast.cursor_row)
        await pilot.pause(0.1)
        assert painted(fast) == painted(plain)
        assert [looks(fast, y) for y in range(12)] == [looks(plain, y) for y in range(12)]


def cells_drawn(table: PaneTable) -> list[int]:
    """From now on, the row index of each cell the table renders (not taken from its caches)."""
    drawn: list[int] = []
    render_cell = table._render_cell

    def counted(row_index, *args, **kwargs):
        drawn.append(row_index)
        return render_cell(row_index, *args, **kwargs)

    table._render_cell = counted  # type: ignore[method-assign]
    return drawn


async def test_the_pages_a_next_key_shows_are_drawn_while_the_table_rests():
    """After a move, the rows page down / page up / `G` / `g` would bring are drawn once the table
    rests: the next page key draws none of them cell by cell, and paints what Textual paints."""
    app = Tables()
    async with app.run_test(size=(120, 40)) as pilot:
        fast, plain = await twelve_lines_high(app, pilot, 300)
        fast.focus()
        app.input_at = time.monotonic()  # as DockyardApp marks each key: someone is at the keys
        fast.action_page_down()
        await pilot.pause(0.5)  # rested: the pages around are drawn ahead
        drawn = cells_drawn(fast)
        for key, move in (("page down", fast.action_page_down), ("G", lambda: fast.move_cursor(row=299))):
            app.input_at = time.monotonic()
            drawn.clear()
            move()
            await pilot.pause(0.05)
            assert set(drawn) <= {fast.cursor_row}, (key, sorted(set(drawn)))  # only the cursor's row
            await pilot.pause(0.5)
        plain.focus()
        plain.action_page_down()
        plain.action_page_down()
        plain.move_cursor(row=299)
        app.query_one(Input).focus()  # neither table has the focus: they look alike
        await pilot.pause(0.2)
        assert painted(fast) == painted(plain)


async def test_a_table_nobody_moves_through_draws_nothing_ahead():
    """Rows arriving, a cursor following them, live ticks: with no key for `AHEAD_WHILE` s (or
    none yet), only what is on screen is drawn."""
    app = Tables()
    async with app.run_test(size=(120, 40)) as pilot:
        fast, _ = app.filled(rows(300))
        fast.styles.height = 12
        await pilot.pause(0.2)
        drawn = cells_drawn(fast)
        for input_at in (None, time.monotonic() - 60):  # no key yet; the last one a minute ago
            if input_at is not None:
                app.input_at = input_at
            drawn.clear()
            fast.action_page_down()  # (the program moves it: the cursor following new rows)
            await pilot.pause(0.5)
            top = int(fast.scroll_y)
            assert set(drawn) <= {-1, *range(top, top + 12)}, sorted(set(drawn))  # (-1: the header)


async def test_a_new_theme_repaints_every_row():
    app = Tables()
    async with app.run_test(size=(120, 40)) as pilot:
        fast, plain = app.filled(rows(30))
        fast.styles.height = plain.styles.height = 12
        await pilot.pause(0.2)
        app.query_one(Input).focus()  # neither table has the focus: they look alike
        await pilot.pause(0.1)
        before = [looks(fast, y) for y in range(12)]
        app.theme = "textual-light"
        await pilot.pause(0.2)
        assert painted(fast) == painted(plain)
        assert [looks(fast, y) for y in range(12)] == [looks(plain, y) for y in range(12)] != before


def varied_cells() -> list[Text]:
    """One-line cells of every shape the panes make: styled, with spans, cut with an ellipsis,
    aligned right or centred, wide characters, empty, plus ones Textual must draw itself."""
    spans = Text.assemble(("web", "bold"), "-", ("1", "red on blue"), no_wrap=True)
    return [
        Text("running", style="green", no_wrap=True, overflow="ellipsis"),
        Text("a-very-long-container-name-that-is-cut", no_wrap=True, overflow="ellipsis"),
        Text("cut without an ellipsis, folded", no_wrap=True),
        Text("12.5%", justify="right", no_wrap=True),
        Text("  spaced  ", justify="right", no_wrap=True),
        Text("mid", justify="center", style="italic", no_wrap=True),
        Text("日本語のコンテナ名", no_wrap=True, overflow="ellipsis"),
        Text("", no_wrap=True),
        Text("exact", no_wrap=True),
        spans,
        Text("two\nlines", no_wrap=True),  # not one line: Textual's own path
        Text("tab\there", no_wrap=True),
    ]


async def test_one_line_cells_are_drawn_as_textual_draws_them():
    """PaneTable draws one-line Text cells itself (faster than Rich's renderer chain); for every
    kind of cell, width, cursor and hover state the segments must be Textual's, style for style
    (adjacent segments of one style drawn as one: the terminal shows the same)."""
    from rich.segment import Segment
    from rich.style import Style

    app = Tables()
    async with app.run_test(size=(120, 40)) as pilot:
        fast, _ = app.filled([])
        cells = varied_cells()
        fast.clear(columns=True)
        for c in range(len(cells)):
            fast.add_column(f"C{c}", key=f"c{c}")
        fast.add_rows_at_once([("r0", tuple(cells)), ("r1", tuple(reversed(cells)))])
        await pilot.pause(0.1)
        base = Style(color="white", bgcolor="black") + Style.from_meta({"x": 1})
        compared = 0
        for row in range(2):
            for column in range(len(cells)):
                for width in (1, 2, 3, 5, 8, 12, 40):
                    for cursor, hover in ((False, False), (True, False), (False, True)):
                        fast._cell_render_cache.clear()
                        ours = fast._render_cell(row, column, base, width, cursor, hover)
                        fast._cell_render_cache.clear()
                        theirs = DataTable._render_cell(fast, row, column, base, width, cursor, hover)
                        assert [[(s.text, s.style, s.control) for s in Segment.simplify(line)] for line in ours] == \
                               [[(s.text, s.style, s.control) for s in Segment.simplify(line)] for line in theirs], \
                               (cells[column if row == 0 else -1 - column], width, cursor, hover)
                        compared += 1
        assert compared == 2 * len(cells) * 7 * 3


async def test_rows_in_screen_order_follow_every_change_of_rows_as_textual_does():
    """PaneTable keeps its screen order (and line offsets) until rows come, go or move, instead of
    rebuilding them on every cell or width change: each change of rows must show as Textual's own."""
    app = Tables()
    async with app.run_test(size=(120, 40)) as pilot:
        fast, plain = app.filled(rows(30))
        await pilot.pause(0.1)

        def same() -> None:
            assert [r.key for r in fast.ordered_rows] == [r.key for r in plain.ordered_rows]
            assert fast._y_offsets == plain._y_offsets
            assert painted(fast) == painted(plain)

        same()
        for table in (fast, plain):
            table.update_cell("k3", "c0", Text("changed"))
        await pilot.pause(0.1)
        same()
        for table in (fast, plain):
            table.remove_row("k0")
            table.remove_row("k17")
        await pilot.pause(0.1)
        same()
        for table in (fast, plain):
            table.sort("c1", key=lambda cell: cell.plain, reverse=True)
        await pilot.pause(0.1)
        same()
        for table in (fast, plain):
            table.add_row(Text("added"), Text(""), Text(""), Text(""), key="new")
            table.move_cursor(row=table.row_count - 1)
        await pilot.pause(0.1)
        same()
        assert "added" in "".join(painted(fast))
        fast.clear()
        fast.add_rows_at_once(rows(8, salt="z"))
        plain.clear()
        for key, cells in rows(8, salt="z"):
            plain.add_row(*cells, key=key)
        await pilot.pause(0.1)
        same()


async def test_a_table_that_only_grows_taller_keeps_drawing_its_rows_right():
    """A change of height alone (a filter that empties the table, then fills it) keeps the rows
    already drawn; a change of width draws them again."""
    app = Tables()
    async with app.run_test(size=(120, 40)) as pilot:
        fast, plain = app.filled(rows(60))
        for table in (fast, plain):
            table.styles.height = 5
        await pilot.pause(0.1)
        assert painted(fast) == painted(plain) and len(painted(fast)) == 5
        for table in (fast, plain):
            table.styles.height = 12
        await pilot.pause(0.1)
        assert painted(fast) == painted(plain) and len(painted(fast)) == 12
        for table in (fast, plain):
            table.styles.width = 30
        await pilot.pause(0.1)
        assert painted(fast) == painted(plain)


async def test_rows_away_from_the_cursor_are_drawn_as_textual_draws_them():
    """PaneTable draws a row away from the cursor with what every row shares worked out once a
    frame: each such line of the screen must be Textual's, segment for segment, style for style
    (the focus on the input: a focused PaneTable has no focus tint, by design)."""
    app = Tables()
    async with app.run_test(size=(120, 40)) as pilot:
        fast, plain = app.filled(rows(60))
        for table in (fast, plain):
            table.move_cursor(row=5)
        app.query_one(Input).focus()
        await pilot.pause(0.1)

        def drawn(table: DataTable) -> list[list[tuple[str, object]]]:
            cursor_line = table.cursor_row + 1 - int(table.scroll_y)  # (the header is line 0)
            return [[(seg.text, seg.style) for seg in table.render_line(y)] for y in range(table.size.height)
                    if y != cursor_line]

        assert drawn(fast) == drawn(plain)
        for table in (fast, plain):  # scrolled: other rows, other row numbers in each cell's meta
            table.scroll_to(y=20, animate=False, immediate=True)
        await pilot.pause(0.1)
        assert fast.scroll_y == plain.scroll_y == 20
        assert drawn(fast) == drawn(plain)


async def test_rows_added_again_show_their_own_cells():
    """add_rows_at_once reuses what it made for a row it saw before with the same cells: the
    cells shown must be those given now, whatever the table changed in between."""
    app = Tables()
    async with app.run_test(size=(120, 40)) as pilot:
        data = rows(20)
        fast, _ = app.filled(data)
        fast.update_cell("k3", "c0", Text("changed in the table"))
        await pilot.pause(0.05)
        fast.clear()
        fast.add_rows_at_once(data[:5])  # (a filter: fewer rows) ...
        fast.clear()
        changed = [(key, (Text("new"), *cells[1:])) if key == "k4" else (key, cells) for key, cells in data]
        fast.add_rows_at_once(changed)  # ... and all of them back, one with new cells
        await pilot.pause(0.05)
        assert [fast.get_row_at(i) for i in range(20)] == [list(cells) for _, cells in changed]
        assert "changed in the table" not in "".join(painted(fast))
        assert fast.virtual_size.height == 21  # (the header and 20 rows)


async def test_changed_cells_rows_that_come_and_go_and_a_sort_paint_what_textual_paints():
    """Cells changed in place (`set_cells`), rows removed, added and sorted: the row list and the
    line -> row table are kept per layout, not per changed cell, and must still follow every move."""
    app = Tables()
    async with app.run_test(size=(120, 40)) as pilot:
        fast, plain = app.filled(rows(80))
        await pilot.pause(0.1)
        fast.move_cursor(row=5)
        plain.move_cursor(row=5)
        for step in range(3):
            changes = [(f"k{r}", "c1", Text(f"changed {step} {r}", no_wrap=True)) for r in (0, 3, 5, 60)]
            fast.set_cells(changes)
            for key, column, value in changes:
                plain.update_cell(key, column, value)
            await pilot.pause(0.05)
            assert painted(fast) == painted(plain)
        for table in (fast, plain):
            table.remove_row("k2")
            table.add_row(Text("zz"), Text("new"), Text("row"), Text("!"), key="k-new")
            table.sort("c0", key=lambda v: v.plain)
        await pilot.pause(0.1)
        assert [fast.get_row_at(i) for i in range(fast.row_count)] == \
            [plain.get_row_at(i) for i in range(plain.row_count)]
        assert fast.get_row_index("k-new") == plain.get_row_index("k-new")
        for y in (0, 10, 40, 79):
            fast.move_cursor(row=y)
            plain.move_cursor(row=y)
            await pilot.pause(0.05)
            assert painted(fast) == painted(plain)


async def eighty_rows_cursor_on_30(app: Tables, pilot) -> tuple[list, PaneTable, DataTable]:
    """Both tables filled with the same 80 rows, the fast one's cursor on row 30."""
    data = rows(80)
    fast, plain = app.filled(data)
    await pilot.pause(0.1)
    fast.move_cursor(row=30)
    return data, fast, plain


async def test_rows_set_in_place_are_the_rows_a_table_filled_anew_shows():
    """`set_rows` keeps the rows it has and adds, removes, moves and changes the others: rows,
    widths, height, cursor and the painted screen must be a table cleared and filled with them."""
    app = Tables()
    async with app.run_test(size=(120, 40)) as pilot:
        data, fast, plain = await eighty_rows_cursor_on_30(app, pilot)
        by_key = dict(data)
        changed = {"k7": (Text("a much wider cell than any before it", no_wrap=True), *by_key["k7"][1:]),
                   "k9": (Text("changed", style="bold"), *by_key["k9"][1:])}
        steps = [
            data[:10] + [("new-1", rows(1, salt="n")[0][1])] + data[10:],  # a row comes between others
            [(k, changed.get(k, c)) for k, c in data if k not in ("k2", "k50")],  # rows go, cells change
            list(reversed(data[:40])) + [(f"m{k}", c) for k, c in rows(3, salt="m")],  # rows move, others come
            data[:5],  # most go: the cursor's index is past the end
        ]
        on_table = dict(data)
        for wanted in steps:
            changes = [(key, f"c{i}", value) for key, cells in wanted if key in on_table
                       for i, value in enumerate(cells) if value is not on_table[key][i]]
            fast.set_rows(wanted, changes)
            on_table = dict(wanted)
            plain.clear()
            for key, cells in wanted:
                plain.add_row(*cells, key=key)
            plain.move_cursor(row=min(fast.cursor_row, len(wanted) - 1))
            await pilot.pause(0.1)
            assert [fast.get_row_at(i) for i in range(fast.row_count)] == [list(c) for _, c in wanted]
            assert [r.key.value for r in fast.ordered_rows] == [k for k, _ in wanted]
            assert [c.content_width for c in fast.ordered_columns] == [c.content_width for c in plain.ordered_columns]
            assert fast.virtual_size == plain.virtual_size
            assert fast.cursor_row == plain.cursor_row < len(wanted)
            assert painted(fast) == painted(plain)


async def test_rows_a_filter_hid_come_back_as_a_table_filled_anew_shows():
    """A `set_rows` that hides rows keeps them, and the set that brings them back (with new rows
    after them, or after a filter that matched nothing) takes them back whole: rows, widths,
    height, cursor, row places and the painted screen must be a table filled anew with them.
    A row whose cells changed meanwhile is not taken back stale."""
    app = Tables()
    async with app.run_test(size=(120, 40)) as pilot:
        data, fast, plain = await eighty_rows_cursor_on_30(app, pilot)
        whole = fast.rows
        more = data + [(f"new{k}", c) for k, c in rows(4, salt="n")]
        changed = [(k, (Text("changed", style="bold"), *c[1:]) if k == "k3" else c) for k, c in more]
        steps = [
            (data[::3], False),  # a filter hides rows: kept
            (data, True),  # and brings them back
            (data[10:20], False),
            (more, True),  # back, with new rows after them
            ([r for r in more if r[0].startswith("k1")], False),
            ([], False),  # matches nothing
            (more, True),  # back from nothing
            (more[:6], False),
            (changed, False),  # a row changed while hidden: made again, not taken back
        ]
        on_table = dict(data)
        for wanted, taken_back in steps:
            kept = fast._kept  # noqa: SLF001
            changes = [(key, f"c{i}", value) for key, cells in wanted if key in on_table
                       for i, value in enumerate(cells) if value is not on_table[key][i]]
            fast.set_rows(wanted, changes)
            on_table = dict(wanted)
            assert (kept is not None and fast.rows is kept.rows) == taken_back, [k for k, _ in wanted][:3]
            plain.clear()
            for key, cells in wanted:
                plain.add_row(*cells, key=key)
            plain.move_cursor(row=min(fast.cursor_row, max(0, len(wanted) - 1)))
            await pilot.pause(0.1)
            assert [fast.get_row_at(i) for i in range(fast.row_count)] == [list(c) for _, c in wanted]
            assert [r.key.value for r in fast.ordered_rows] == [k for k, _ in wanted]
            assert [fast.get_row_index(k) for k, _ in wanted] == list(range(len(wanted)))
            assert fast.virtual_size == plain.virtual_size
            assert fast.cursor_row == plain.cursor_row
            assert painted(fast) == painted(plain)
        assert whole is not fast.rows


async def test_a_rows_place_is_where_textual_puts_it():
    """The cursor is scrolled into view by its row's region: one-line rows' regions are worked out
    from their index, and must be Textual's (which sums the rows above)."""
    app = Tables()
    async with app.run_test(size=(120, 40)) as pilot:
        fast, _ = app.filled(rows(300))
        await pilot.pause(0.1)
        for index in (0, 1, 17, 150, 299, 300, -1):
            assert fast._get_row_region(index) == DataTable._get_row_region(fast, index), index  # noqa: SLF001


async def test_lines_kept_across_cursor_moves_and_scrolls_are_the_lines_textual_draws_now():
    """PaneTable keeps a painted line away from the cursor whatever the cursor does (Textual keys
    it by the cursor's place): after moves and scrolls, each frame's lines (drawn through
    `render_lines`, as the compositor draws them) must be a plain DataTable's, the cursor's too
    (the focus on the input: a focused PaneTable has no focus tint, by design)."""
    from textual.geometry import Region

    app = Tables()
    async with app.run_test(size=(120, 40)) as pilot:
        fast, plain = app.filled(rows(80))
        fast.styles.height = plain.styles.height = 14
        await pilot.pause(0.2)

        def frame(table: DataTable) -> list[list[tuple[str, object]]]:
            strips = table.render_lines(Region(0, 0, table.size.width, table.size.height))
            return [[(seg.text, seg.style) for seg in strip] for strip in strips]

        app.query_one(Input).focus()
        await pilot.pause(0.05)
        for moves in (["down"] * 3, ["down"] * 12, ["up"] * 2, ["page_down"], ["up"], ["scroll_bottom"], ["scroll_top"]):
            for table in (fast, plain):
                frame(table)  # the lines before the move, cached
                for move in moves:
                    getattr(table, f"action_{move}" if move.startswith(("scroll", "page")) else f"action_cursor_{move}")()
            await pilot.pause(0.05)
            assert fast.cursor_coordinate == plain.cursor_coordinate and fast.scroll_y == plain.scroll_y
            assert frame(fast) == frame(plain), moves


def _drawn(strips) -> list[list[tuple]]:
    return [[(seg.text, seg.style) for seg in strip] for strip in strips]


async def test_the_scrollbar_draws_each_thumb_place_as_textual_does_and_once():
    """The table's vertical scrollbar keeps the lines drawn for each place of its thumb
    (ui/scrollbars.py): at every scroll position, going down row by row, by pages and back up,
    they are the lines Textual's own ScrollBar draws there; a place seen before is not drawn again."""
    from textual.scrollbar import ScrollBar

    app = Tables()
    async with app.run_test(size=(120, 40)) as pilot:
        fast, _ = app.filled(rows(3000))
        await pilot.pause(0.2)
        bar = fast.vertical_scrollbar
        whole = bar.size.region
        drawn_by_textual = []
        original = bar._styles_cache.render_widget

        def counted(*args, **kwargs):
            drawn_by_textual.append(1)
            return original(*args, **kwargs)

        bar._styles_cache.render_widget = counted
        places = set()
        for y in [*range(0, 60), *range(60, 3000, 37), 2999, *range(2999, 0, -411), 0, 5, 1500]:
            fast.scroll_to(y=y, animate=False, immediate=True)
            await pilot.pause()
            kept = bar.render_lines(whole)
            places.add(bar._place())
            assert bar.position == fast.scroll_y or y > fast.max_scroll_y
            drawn_by_textual.clear()
            bar._styles_cache.clear()
            assert _drawn(kept) == _drawn(ScrollBar.render_lines(bar, whole)), y
            assert _drawn(bar.render_lines(whole)) == _drawn(kept)
        assert len(places) < 120  # 230 positions
        drawn_by_textual.clear()
        for y in (0, 1500, 2999, 5):  # places seen before: given back, not drawn again
            fast.scroll_to(y=y, animate=False, immediate=True)
            await pilot.pause()
            bar.render_lines(whole)
        assert drawn_by_textual == []
