"""The first hour of a lazydocker or k9s user, against the real lab: crashed containers in sight,
keys that ask before they stop anything, a remove dialog that works on a running container, empty
tables that say why, stats sorting that gives a true top-N, a layout that fits the terminal, and a
preview of the container under the cursor.

Each test drives `DockyardApp.run_test` with a Pilot and asserts on what the user sees (cells and
their colours, dialogs, the painted screen) and, for actions, on the daemons (`docker inspect`).
"""

from __future__ import annotations

import re
import uuid

from rich.style import Style
from textual.widgets import Button, Checkbox

from fleet_hosts import config, unix_host
from helpers import make_app, names_on_screen, plain, screen_text, showing, svg_text, table_rows, tabs, until
from dockyard.config.model import HostConfig, UIConfig
from dockyard.ui.dialogs.confirm import ConfirmDialog

SIZE = (120, 36)


def uniq(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def run(made, daemon, name: str, *cmd: str, **kw) -> str:
    """A container the test cleans up; running `sleep 300` unless `cmd` says otherwise."""
    made.append((daemon, name))
    return daemon.run_container(name, *(cmd or ("sleep", "300")), **kw)


def exited(made, daemon, name: str, code: int) -> None:
    """A container that ran and exited with `code`."""
    run(made, daemon, name, "sh", "-c", f"exit {code}")
    daemon.docker("wait", name)


def docker_state(daemon, name: str) -> str | None:
    proc = daemon.docker("inspect", "-f", "{{.State.Status}}", name, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


async def set_filter(pilot, text: str) -> None:
    await pilot.press("slash", *text, "enter")


async def filtered_to(pilot, name: str) -> None:
    """Wait for unix1's container `name`, then filter by its name until its row is the only one."""
    await until(lambda: ("unix1", name) in names_on_screen(pilot.app), 8, "row")
    await set_filter(pilot, name)
    await until(lambda: len(table_rows(pilot.app)) == 1, 3, "one row")


def row_of(app, name: str, pane: str = "containers") -> dict[str, str] | None:
    return next((r for r in table_rows(app, pane) if r.get("NAME") == name), None)


def cell_style(app, name: str, column: str) -> Style:
    """The colour a cell of `name`'s row is drawn in (as the terminal shows it)."""
    table = app.panes["containers"].table
    labels = [plain(c.label) for c in table.ordered_columns]
    index = next(i for i in range(table.row_count) if plain(table.get_row_at(i)[labels.index("NAME")]) == name)
    return app.console.get_style(table.get_row_at(index)[labels.index(column)].style or "none")


# --------------------------------------------------------------------------- item 4: crashed in sight


async def test_every_container_shows_by_default_running_first_and_a_crash_in_red(lab, made):
    token = uuid.uuid4().hex[:8]
    crashed, clean, up = f"a-crash-{token}", f"b-clean-{token}", f"z-up-{token}"
    exited(made, lab.d1, crashed, 3)
    exited(made, lab.d1, clean, 0)
    run(made, lab.d1, up)
    app, _ = make_app(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: {("unix1", n) for n in (crashed, clean, up)} <= names_on_screen(app), 8, "all three")
        assert "running only" not in tabs(app)
        await set_filter(pilot, token)
        await until(lambda: len(table_rows(app)) == 3, 3, "three rows")
        # running first, although its name sorts last
        assert [r["NAME"] for r in table_rows(app)] == [up, crashed, clean]
        assert row_of(app, crashed)["STATUS"].startswith("Exited (3)")
        # a non-zero exit reads red; a clean exit is dimmed; the running one is neither
        assert cell_style(app, crashed, "STATE").color.name == "red"
        assert cell_style(app, crashed, "STATUS").color.name == "red"
        assert cell_style(app, clean, "STATUS").dim and cell_style(app, clean, "NAME").dim
        assert not cell_style(app, up, "NAME").dim
        # `a` hides the stopped ones, and says how to bring them back
        await pilot.press("a")
        await until(lambda: [r["NAME"] for r in table_rows(app)] == [up], 3, "running only")
        assert "running only (a: show stopped)" in tabs(app)
        await pilot.press("a")
        await until(lambda: len(table_rows(app)) == 3, 3, "all again")


async def test_empty_tables_say_why(lab, made):
    """A filter that matches nothing, a scope whose host is down, a pane with nothing on its hosts."""
    name = uniq("why")
    run(made, lab.d1, name)
    empty = lab.new_daemon()  # holds no volume: the Volumes pane scoped to it has nothing to list
    try:
        cfg = config(unix_host(lab.d1, "unix1"), unix_host(empty, "bare"),
                     HostConfig(name="dead", url="tcp://127.0.0.1:9", connect_timeout=1))
        app, _ = make_app(cfg)
        async with app.run_test(size=SIZE) as pilot:
            await until(lambda: ("unix1", name) in names_on_screen(app), 8, "rows")
            await set_filter(pilot, "no-such-thing-anywhere")
            await until(lambda: "No containers match the filter “no-such-thing-anywhere” (esc clears it)."
                        in svg_text(app), 3, "why: the filter", pilot=pilot)
            await pilot.press("escape")
            await until(lambda: ("unix1", name) in names_on_screen(app), 3, "rows back")
            assert "No containers match" not in svg_text(app)

            await pilot.press("colon", *"host dead", "enter")
            await until(lambda: "dead is unreachable" in svg_text(app), 8, "why: the host is down", pilot=pilot)
            shown = " ".join(svg_text(app).split())  # the sentence wraps at the pane's width
            assert "its containers are not known" in shown, shown
            assert app.fleet.host("dead").reason.split()[0] in shown  # the reason the daemon gave

            await pilot.press("colon", *"host bare", "enter", "4")
            await until(lambda: "No volumes on bare." in svg_text(app), 8, "why: nothing there", pilot=pilot)
    finally:
        empty.stop()
        lab.extra_daemons.remove(empty)


# --------------------------------------------------------------------------- item 2: safe keys


async def test_single_stop_asks_and_the_row_says_stopping_until_the_daemon_is_done(lab, made):
    name = uniq("stopme")
    run(made, lab.d1, name, stop_timeout=2)  # `sleep` ignores SIGTERM: the stop takes the 2 s grace
    app, notes = make_app(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=SIZE) as pilot:
        await filtered_to(pilot, name)
        await pilot.press("s")
        await until(lambda: showing(app, ConfirmDialog), 3, "a stop asks first")
        assert f"Stop 1 container(s): 1 on unix1?" in screen_text(app.screen)
        assert docker_state(lab.d1, name) == "running"
        await pilot.press("y")
        await until(lambda: row_of(app, name)["STATE"] == "stopping…", 1, "stopping… at once")
        assert docker_state(lab.d1, name) == "running"  # the daemon is still waiting for the grace period
        await until(lambda: row_of(app, name)["STATE"] == "exited", 10, "exited once the daemon is done")
        assert docker_state(lab.d1, name) == "exited"
        assert any(m.startswith("stopped 1 container(s)") for m, _ in notes)

        # starting does not ask (by default), and says so on the row too
        await pilot.press("S")
        await until(lambda: row_of(app, name)["STATE"] in ("starting…", "running"), 2, "start at once")
        assert not isinstance(app.screen, ConfirmDialog)
        await until(lambda: row_of(app, name)["STATE"] == "running", 10, "running again")


async def test_confirmation_of_a_single_restart_can_be_turned_off(lab, made):
    name = uniq("restartme")
    run(made, lab.d1, name)
    cfg = config(unix_host(lab.d1, "unix1"), ui=UIConfig(confirm={**UIConfig().confirm, "restart": False}))
    app, _ = make_app(cfg)
    async with app.run_test(size=SIZE) as pilot:
        await filtered_to(pilot, name)
        started = lab.d1.docker("inspect", "-f", "{{.State.StartedAt}}", name).stdout
        await pilot.press("r")
        await until(lambda: row_of(app, name)["STATE"] == "restarting…", 1, "restarting… at once, no dialog")
        assert not isinstance(app.screen, ConfirmDialog)
        await until(lambda: row_of(app, name)["STATE"] == "running", 10, "running again")
        assert lab.d1.docker("inspect", "-f", "{{.State.StartedAt}}", name).stdout != started
        # stop still asks: the key is per action
        await pilot.press("s")
        await until(lambda: showing(app, ConfirmDialog), 3, "stop asks")
        await pilot.press("n")


# --------------------------------------------------------------------------- item 3: the remove dialog


async def test_removing_a_running_container_says_so_and_preselects_force(lab, made):
    name = uniq("rmrun")
    run(made, lab.d1, name)
    app, notes = make_app(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=SIZE, notifications=True) as pilot:  # toasts painted, as in a terminal
        await filtered_to(pilot, name)
        await pilot.press("ctrl+d")
        await until(lambda: showing(app, ConfirmDialog), 3, "remove dialog")
        dialog = app.screen
        await pilot.pause()
        shown = svg_text(app)
        assert "1 of them is running: Force (ticked) kills it first." in shown
        app.notify("a notice while the dialog asks", timeout=60)
        await pilot.pause(0.1)
        assert "a notice while the dialog asks" not in svg_text(app)  # notices wait: none over the dialog
        force, volumes = dialog.query_one("#opt-force", Checkbox), dialog.query_one("#opt-volumes", Checkbox)
        assert force.value is True and volumes.value is False
        # ticked and unticked read differently on screen
        assert "[X] Force" in shown and "[ ] Also remove" in shown
        # tab goes from Cancel to each checkbox and the buttons, never to something invisible
        focused = []
        for _ in range(4):
            await pilot.press("tab")
            focused.append(dialog.focused)
        assert all(isinstance(w, (Button, Checkbox)) for w in focused), focused
        await pilot.press("y")
        await until(lambda: docker_state(lab.d1, name) is None, 10, "removed on the daemon")
        await until(lambda: ("unix1", name) not in names_on_screen(app), 3, "row gone")
        assert not any(s == "error" for _, s in notes), notes
        await until(lambda: "a notice while the dialog asks" in svg_text(app), 3, "the notice, once the dialog "
                    "closed", pilot=pilot)


async def test_removing_a_stopped_container_leaves_force_unticked(lab, made):
    name = uniq("rmstopped")
    exited(made, lab.d1, name, 0)
    app, _ = make_app(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=SIZE) as pilot:
        await filtered_to(pilot, name)
        await pilot.press("ctrl+d")
        await until(lambda: showing(app, ConfirmDialog), 3, "remove dialog")
        assert app.screen.query_one("#opt-force", Checkbox).value is False
        assert "running" not in screen_text(app.screen).splitlines()[0]
        await pilot.press("y")
        await until(lambda: docker_state(lab.d1, name) is None, 10, "removed")


# --------------------------------------------------------------------------- item 1: a true top-N


async def test_sorting_by_mem_and_cpu_gives_the_top_of_every_row_not_only_those_on_screen(lab, made):
    """Rows below the screen are sampled too once the sort needs them: the memory hog and the busy
    loop (named to list last) come to the top, highest first on the first press; rows without a
    value yet go last; the cursor keeps its container when the rows re-sort."""
    from concurrent.futures import ThreadPoolExecutor

    token = uuid.uuid4().hex[:6]
    idle = [f"idle{i:02d}-{token}" for i in range(14)]
    hog, busy = f"zz-hog-{token}", f"zz-busy-{token}"
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda n: run(made, lab.d1, n), idle))
    # (a file in /dev/shm is memory the container's cgroup is charged for; a shell variable here was not)
    run(made, lab.d1, hog, "sh", "-c", "mkdir -p /dev/shm; head -c 40000000 /dev/zero > /dev/shm/x; sleep 300")
    run(made, lab.d1, busy, "sh", "-c", "while :; do :; done")
    app, _ = make_app(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=(120, 14)) as pilot:  # ten rows on screen of sixteen
        pane = app.panes["containers"]
        await until(lambda: ("unix1", hog) in names_on_screen(app), 8, "rows")
        await set_filter(pilot, token)
        await until(lambda: len(table_rows(app)) == 16, 3, "sixteen rows")
        assert [r["NAME"] for r in table_rows(app)][-2:] == [busy, hog]  # by name: below the screen
        assert pane.visible_rows()[-1].data.name not in (busy, hog)

        await pilot.press("M")
        assert "sort: MEM ↓" in tabs(app)
        await until(lambda: table_rows(app)[0]["NAME"] == hog, 10, "the memory hog on top")
        await until(lambda: all(r["MEM"] != "-" for r in table_rows(app)), 10, "every row sampled")
        assert table_rows(app)[0]["MEM"].endswith("MiB")
        mems = [r.sort_values["mem"] for r in pane.rows]
        assert mems == sorted(mems, reverse=True)

        await pilot.press("C")
        assert "sort: CPU% ↓" in tabs(app)
        await until(lambda: table_rows(app)[0]["NAME"] == busy, 10, "the busy loop on top")
        cpus = [r.sort_values["cpu"] for r in pane.rows]
        known = [v for v in cpus if v is not None]
        assert cpus[:len(known)] == known and known == sorted(known, reverse=True)  # unsampled ones last

        # the cursor stays on its container while the rows re-sort with each burst
        await pilot.press("j", "j", "j")
        chosen = pane.cursor_row_data().data.name
        bursts = len(app.fleet.stats.bursts)
        await until(lambda: len(app.fleet.stats.bursts) > bursts, 10, "another burst")
        await pilot.pause(1.2)  # its re-sort (at most one a second) is done
        assert pane.cursor_row_data().data.name == chosen

        await pilot.press("C")  # again: lowest first
        assert "sort: CPU% ↑" in tabs(app)


# --------------------------------------------------------------------------- item 5: a layout that fits


def test_columns_shrink_then_hide_by_priority_and_spare_width_goes_to_the_flexible_one():
    from dockyard.ui.panes.base import Column, fit_widths

    columns = (Column("name", "NAME", min_width=6), Column("extra", "EXTRA", priority=5),
               Column("figure", "FIG", priority=2), Column("reason", "REASON", min_width=8, flex=True))
    natural = {"name": 12, "extra": 10, "figure": 4, "reason": 60}
    wide = fit_widths(columns, natural, 200, padding=1)
    assert wide["reason"] >= 60 and sum(w + 2 for w in wide.values()) == 200  # spans the width
    # 80: the extra gives way so that the reason is whole
    assert fit_widths(columns, natural, 80, padding=1) == {"name": 12, "extra": None, "figure": 4, "reason": 58}
    # 40: the reason is cut (it takes what is left) but the figure stays: it is no extra
    assert fit_widths(columns, natural, 40, padding=1) == {"name": 12, "extra": None, "figure": 4, "reason": 18}
    # 24: the figure goes too; then the name shrinks to its least before the reason does
    assert fit_widths(columns, natural, 24, padding=1) == {"name": 12, "extra": None, "figure": None, "reason": 8}
    assert fit_widths(columns, natural, 18, padding=1) == {"name": 6, "extra": None, "figure": None, "reason": 8}


def header_line(app) -> str:
    """The painted header row of the active pane's table."""
    table = app.active_pane.table
    return "".join(segment.text for segment in table.render_line(0))


async def test_hosts_pane_fits_100_160_and_250_columns_with_the_reason_in_sight(lab, made):
    cfg = config(unix_host(lab.d1, "unix1"), HostConfig(name="dead", url="tcp://127.0.0.1:9", connect_timeout=1))
    app, _ = make_app(cfg)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("1")
        await until(lambda: (row_of(app, "dead", "hosts") or {}).get("STATE", "").startswith("unreachable"), 8,
                    "the dead host")
        reason = app.fleet.host("dead").reason
        await pilot.press("G")  # the cursor on the dead host: its whole reason under the table
        await until(lambda: f"dead: unreachable since" in svg_text(app), 3, "the reason line", pilot=pilot)
        for width in (100, 160, 250):
            await pilot.resize_terminal(width, 30)
            await until(lambda: len(header_line(app)) == width - 1 or len(header_line(app)) == width,
                        3, f"the header at {width}", pilot=pilot)
            await pilot.pause(0.1)
            header = header_line(app)
            for label in ("NAME", "STATE", "CONTAINERS", "CPU%", "MEM USED", "LATENCY", "REASON"):
                assert label in header, (width, header)
            assert header.rstrip().endswith("REASON") or width > 100  # at 100 it takes what is left
            shown = " ".join(svg_text(app).split())
            assert f"— {reason}" in shown  # whole, under the table, at every width
            if width >= 160:
                assert reason in svg_text(app).split("dead:")[0], width  # and whole in its column
            if width == 250:
                assert "MEMORY" in header and "TRANSPORT" in header  # room for every column
        assert app.query_one("#keyhints").text.plain.count("? Help") == 1


async def test_widths_shrink_back_after_a_regroup_and_the_footer_keeps_help(lab, made):
    name = uniq("fit")
    run(made, lab.d1, name)
    app, _ = make_app(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=(100, 30)) as pilot:
        await filtered_to(pilot, name)
        table = app.panes["containers"].table

        def host_width() -> int:
            return table.columns[next(k for k in table.columns if k.value == "host")].width

        before = host_width()
        await pilot.press("z", "z")  # by project: the group header "▼ (no project)" widens HOST
        await until(lambda: host_width() > before, 3, "HOST wider for the group header")
        await pilot.press("z")  # no grouping: back to what its cells need
        await until(lambda: host_width() == before, 3, "HOST narrow again")
        header = header_line(app)
        assert "STATUS" in header and "CPU%" in header and "MEM" in header
        assert "Up " in svg_text(app)
        hints = app.query_one("#keyhints")
        await until(lambda: "? Help" in hints.text.plain, 3, "? in the footer at 100 columns")
        assert hints.text.cell_len <= 100
        await pilot.resize_terminal(60, 30)
        await until(lambda: "? Help" in hints.text.plain and hints.text.cell_len <= 60, 3, "and at 60")
        assert "…" in hints.text.plain


# --------------------------------------------------------------------------- item 6: the preview


async def test_preview_shows_the_cursor_container_and_scrolling_past_rows_reads_nothing(lab, made):
    token = uuid.uuid4().hex[:6]
    chatty = f"a-chatty-{token}"
    others = [f"b-quiet{i}-{token}" for i in range(5)]
    run(made, lab.d1, chatty, "sh", "-c", 'i=0; while :; do echo "tick $i"; i=$((i+1)); usleep 200000; done',
        args=("-e", "GREETING=hello", "-e", "DB_PASSWORD=hunter2"))
    for name in others:
        run(made, lab.d1, name)
    app, _ = make_app(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=(160, 30)) as pilot:
        await until(lambda: ("unix1", chatty) in names_on_screen(app), 8, "rows")
        await set_filter(pilot, token)
        await until(lambda: len(table_rows(app)) == 6, 3, "six rows")
        pane = app.panes["containers"]
        width = pane.table.size.width
        await pilot.press("v")
        preview = pane.preview
        await until(lambda: re.search(r"tick \d+", svg_text(app)), 5, "the chatty one's log tail", pilot=pilot)
        shown = svg_text(app)
        assert f"{chatty}  on unix1" in shown and "GREETING=hello" in shown
        assert "DB_PASSWORD=••••" in shown and "hunter2" not in shown  # a secret-looking value is masked
        assert pane.table.size.width < width  # the table makes room beside it
        assert "preview (v: off)" in tabs(app)
        assert {key for key in preview.reads} == {("unix1", pane.cursor_row_data().data.id)}

        await pilot.press("j", "j", "j", "j", "j")  # past four rows to the last one, without resting
        await until(lambda: f"{others[-1]}  on unix1" in svg_text(app), 3, "the last row shown", pilot=pilot)
        read = {cid for _, cid in preview.reads}
        assert read == {r.data.id for r in pane.rows if r.data.name in (chatty, others[-1])}  # none in between
        await pilot.pause(0.5)
        assert "tick" not in svg_text(app)  # its own (empty) log, not the other's

        await pilot.press("v")
        await until(lambda: pane.table.size.width == width, 3, "the table whole again", pilot=pilot)
        assert "preview" not in tabs(app)
