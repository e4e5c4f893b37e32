"""The logs view's rows (no lab, no daemon): what each line shows, how long lines wrap, the bounded buffer.

A LogView alone in a small headless app, fed LogLine/LogNotice items as the controller sends them;
the assertions read the rows as painted (`render_line`), i.e. what the terminal would show.
"""

from __future__ import annotations

from textual.app import App, ComposeResult

from dockyard.fleet import LogLine, LogNotice, LogSource
from dockyard.ui.logs import LogView

WEB = LogSource("web1", "c1" * 32, "shop-web")
DB = LogSource("db-tls", "c2" * 32, "shop-db")
STAMP = "2026-01-02T03:04:05.000000000Z"
WIDTH = 30  # the view's width in cells (no scrollbar: overflow is set off below)


class Host(App[None]):
    CSS = "LogView { overflow-y: hidden; overflow-x: hidden; }"

    def __init__(self, *, multi: bool = False, max_items: int = 100) -> None:
        super().__init__()
        self.view = LogView(max_items=max_items, multi=multi)

    def compose(self) -> ComposeResult:
        yield self.view


def line(text: str, source: LogSource = WEB, stream: str = "stdout") -> LogLine:
    return LogLine(source, stream, STAMP, text)


def screen_rows(view: LogView) -> list[str]:
    """Every row of the view as painted, trailing padding removed."""
    return [view.render_line(y).text.rstrip() for y in range(view.size.height)]


async def test_each_line_shows_a_stream_marker_and_optionally_its_timestamp():
    app = Host()
    async with app.run_test(size=(WIDTH, 8)) as pilot:
        view = app.view
        view.append([line("hello"), line("oops", stream="stderr")])
        await pilot.pause()
        assert view.plain_lines() == [" hello", "▌oops"]
        view.reformat(timestamps=True)
        assert view.plain_lines() == [f" {STAMP} hello", f"▌{STAMP} oops"]
        assert view.item_count == 2 and view.row_count == 2


async def test_merged_logs_lead_each_line_with_its_source_and_show_notices_inline():
    app = Host(multi=True)
    async with app.run_test(size=(60, 8)) as pilot:
        view = app.view
        view.append([line("GET /", WEB), line("ready", DB),
                     LogNotice(DB, "stream broke, reconnecting", True), LogNotice(WEB, "container stopped", False)])
        await pilot.pause()
        assert view.plain_lines() == ["web1/shop-web  GET /", "db-tls/shop-db  ready",
                                      "db-tls/shop-db [stream broke, reconnecting]",
                                      "web1/shop-web [container stopped]"]
        assert screen_rows(view)[:4] == view.plain_lines()


async def test_control_sequences_are_shown_not_sent_and_colours_stay_colours():
    app = Host()
    async with app.run_test(size=(60, 8)) as pilot:
        view = app.view
        view.append([line("\x1b]0;pwned\x07title"), line("\x1b[31mred\x1b[0m plain")])
        await pilot.pause()
        assert view.plain(0) == " \\x1b]0;pwned\\x07title"
        assert view.plain(1) == " red plain"
        segments = list(view.render_item(1))
        red = next(s for s in segments if s.text == "red")
        assert red.style is not None and red.style.color is not None and red.style.color.name == "color(1)"
        assert "\x1b" not in "".join(s.text for s in view.render_item(0))


async def test_wrap_splits_long_lines_by_cells_and_counts_their_rows():
    app = Host()
    async with app.run_test(size=(WIDTH, 10)) as pilot:
        view = app.view
        long = "".join(str(i % 10) for i in range(70))  # 71 cells with the marker: 3 rows of 30
        view.append([line("short"), line(long), line("end")])
        await pilot.pause()
        assert view.row_count == 3  # not wrapped: one row per line, scrolled sideways
        view.reformat(wrap=True)
        await pilot.pause()
        assert view.row_count == 1 + 3 + 1
        assert [view.row_of(n) for n in range(3)] == [0, 1, 4]
        rows = screen_rows(view)
        assert rows[:5] == [" short", (" " + long)[:30], (" " + long)[30:60], (" " + long)[60:], " end"]
        view.reformat(wrap=False)
        assert view.row_count == 3


async def test_wide_characters_wrap_by_cells_not_characters():
    app = Host()
    async with app.run_test(size=(10, 6)) as pilot:
        view = app.view
        view.reformat(wrap=True)
        view.append([line("日本語のログ"), line("x" * 9 + "日本"), line("end")])
        await pilot.pause()
        # ロ would straddle the edge (cells 9-10): it starts the next row, as in `less`; none is cut
        assert view.row_count == 2 + 2 + 1
        assert screen_rows(view)[:5] == [" 日本語の", "ログ", " xxxxxxxxx", "日本", " end"]
        assert [view.row_of(n) for n in range(3)] == [0, 2, 4]
        view.reformat(wrap=False)
        assert view.row_count == 3


async def test_past_its_bound_the_buffer_drops_the_oldest_lines():
    app = Host(max_items=5)
    async with app.run_test(size=(WIDTH, 8)) as pilot:
        view = app.view
        for start in range(0, 12, 3):
            view.append([line(f"line {i}") for i in range(start, start + 3)])
        await pilot.pause()
        assert view.item_count == 5
        assert view.plain_lines() == [f" line {i}" for i in range(7, 12)]
        view.reformat(wrap=True)
        assert view.row_count == 5 and view.row_of(view.top_item()) == 0


async def test_search_steps_through_matching_lines_and_stops_at_the_ends():
    app = Host()
    async with app.run_test(size=(WIDTH, 4)) as pilot:
        view = app.view
        view.append([line(t) for t in ("warn: a", "ok", "WARN: b", "ok", "warn: c")])
        await pilot.pause()
        view.reformat(search="warn")
        found = []
        while view.find(+1):
            found.append(view.plain(view.current_match))
        assert found == [" warn: a", " WARN: b", " warn: c"]
        assert view.find(-1) and view.plain(view.current_match) == " WARN: b"
        assert not view.auto_scroll  # a search step stops following
