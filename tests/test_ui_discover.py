"""Finding one's way as a lazydocker or k9s user: `?` lists enter and the details view's tab keys,
a key that does nothing says so, `:` completion cycles on tab, a bad `:sort` column lists the
columns, and the command palette holds Dockyard's entries only. Real lab, the app headless."""

from __future__ import annotations

import io
import uuid

from rich.console import Console
from textual.command import CommandPalette
from textual.widgets import Static

from fleet_hosts import config, unix_host
from helpers import make_app, showing, svg_text, until
from dockyard.ui.container_view import ContainerScreen
from dockyard.ui.dialogs.info import TextDialog

SIZE = (140, 40)


def help_body(app) -> str:
    console = Console(width=140, record=True, file=io.StringIO())
    console.print(app.screen.query_one("#body", Static).content)
    return console.export_text()


async def test_help_lists_enter_and_the_details_view_s_tab_keys(lab):
    name = "disc-" + uuid.uuid4().hex[:6]
    lab.d1.run_container(name, "sleep", "300")
    app, _ = make_app(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=SIZE) as pilot:
        pane = app.panes["containers"]
        await until(lambda: any(r.data and r.data.name == name for r in pane.rows), 15, "the container's row")
        await pilot.press("question_mark")
        await until(lambda: showing(app, TextDialog), 5, "help")
        assert any(line.split()[:2] in (["enter", "Details"], ["⏎", "Details"])  # as the footer shows enter
                   for line in help_body(app).splitlines()), help_body(app)
        await pilot.press("escape")
        await until(lambda: not showing(app, TextDialog), 5, "help closed")
        pane.table.move_cursor(row=next(i for i, r in enumerate(pane.rows) if r.data and r.data.name == name))
        await pilot.press("enter")
        await until(lambda: showing(app, ContainerScreen), 10, "details")
        await pilot.press("question_mark")
        await until(lambda: showing(app, TextDialog), 5, "the details view's help")
        body = help_body(app)
        assert "← / →" in body and "Previous / next tab" in body, body
        await pilot.press("escape")
        await until(lambda: showing(app, ContainerScreen), 5, "back on the details")
        tabs = app.screen.query_one("TabbedContent")
        order = ["tab-stats", "tab-inspect", "tab-top", "tab-env", "tab-net"]
        before = tabs.active
        await pilot.press("right")  # what help says: the next tab
        await until(lambda: tabs.active == order[order.index(before) + 1], 5,
                    f"the tab after {before} (now {tabs.active}, focus {app.focused})")
    lab.d1.docker("rm", "-f", name)


async def test_a_key_that_does_nothing_says_so(lab):
    app, notes = make_app(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.panes, 10, "panes")
        await pilot.press("3")  # Images: `y` means nothing there
        await pilot.press("y")
        await until(lambda: any("'y' does nothing here" in m and "?" in m for m, _ in notes), 5, f"a hint: {notes}")
        count = len(notes)
        await pilot.press("j")  # a key that works: no hint
        await pilot.pause(0.2)
        assert not any("does nothing" in m for m, _ in notes[count:])


async def test_colon_completion_cycles_and_a_bad_sort_column_lists_the_columns(lab):
    app, notes = make_app(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.panes, 10, "panes")
        prompt = app.query_one("#prompt")
        await pilot.press("colon", "h", "tab")
        assert prompt.value == "hosts"
        await pilot.press("tab")
        assert prompt.value == "host"
        await pilot.press("tab")
        assert prompt.value == "help"
        await pilot.press("tab")
        assert prompt.value == "hosts"  # round again
        await pilot.press("escape", "colon", *"sort c", "tab")
        assert prompt.value in ("sort cpu", "sort created")  # a column of the Containers pane
        await pilot.press("escape", "colon", *"sort zz", "enter")
        await until(lambda: any("no column 'zz'" in m for m, _ in notes), 5, "the error")
        message = next(m for m, _ in notes if "no column 'zz'" in m)
        assert "columns:" in message and "name" in message and "cpu" in message and "mem" in message, message


async def test_the_command_palette_holds_dockyard_s_entries_only(lab):
    app, _ = make_app(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.panes, 10, "panes")
        await pilot.press("ctrl+p")
        await until(lambda: isinstance(app.screen, CommandPalette), 5, "palette")
        await pilot.press(*"pane")
        await until(lambda: "pane: images" in svg_text(app), 5, "Dockyard's entries", pilot=pilot)
        for _ in range(4):
            await pilot.press("backspace")
        await pilot.press(*"screenshot")
        await pilot.pause(0.5)
        assert "Screenshot" not in svg_text(app) and "Save an SVG" not in svg_text(app)
        for _ in range(10):
            await pilot.press("backspace")
        await pilot.press(*"maximize")
        await pilot.pause(0.5)
        assert "Maximize" not in svg_text(app)
