"""Fault suite, in the terminal UI: a frozen daemon's rows stay (dimmed, with the host's state and
since when), and one container with a 200-character name does not push every other column away."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest
from fleet_hosts import config, unix_host
from helpers import make_app, svg_text, table_rows, until

from dockyard.fleet import HostState
from dockyard.ui.container_view import ContainerScreen

pytestmark = pytest.mark.faults


def row_of(app, host: str, name: str) -> dict[str, str] | None:
    return next((r for r in table_rows(app) if (r["HOST"], r["NAME"]) == (host, name)), None)


async def test_frozen_daemon_rows_stay_dimmed_with_state_and_time(lab, fresh_daemon, made):
    ran = "ran-" + uuid.uuid4().hex[:6]
    fresh_daemon.run_container(ran, "sleep", "300")
    steady = "steady-" + uuid.uuid4().hex[:6]
    made.append((lab.d1, steady))
    lab.d1.run_container(steady, "sleep", "300")
    app, _ = make_app(config(unix_host(fresh_daemon, "frozen"), unix_host(lab.d1, "steady")))
    async with app.run_test(size=(160, 30)) as pilot:
        await until(lambda: row_of(app, "frozen", ran) and row_of(app, "steady", steady), 10, "both rows")
        await asyncio.sleep(1.5)
        fresh_daemon.freeze()
        try:
            await until(lambda: app.fleet.host("frozen").state != HostState.ONLINE, 6, "frozen host noticed")
            await until(lambda: (row_of(app, "frozen", ran) or {}).get("STATUS", "").startswith("? host "), 2,
                        "row marked")
            row = row_of(app, "frozen", ran)
            assert row["STATE"] == "running" and " since " in row["STATUS"]  # last known, and since when
            pane = app.panes["containers"]
            styled = {r.data.name: r.cells for r in pane.rows if r.data is not None}
            assert "dim" in str(styled[ran][2].style) and "dim" not in str(styled[steady][2].style)
            await pilot.press("1")  # the Hosts pane says the same
            await until(lambda: any(r["NAME"] == "frozen" and r["STATE"].startswith(("unreachable since",
                                                                                    "connecting since"))
                                    for r in table_rows(app, "hosts")), 3, "hosts pane state")
            await pilot.press("2")
        finally:
            fresh_daemon.thaw()
        await until(lambda: app.fleet.host("frozen").state == HostState.ONLINE, 30, "back online")
        await until(lambda: not (row_of(app, "frozen", ran) or {}).get("STATUS", "? ").startswith("? "), 5,
                    "row live again")
        names = [(r["HOST"], r["NAME"]) for r in table_rows(app)]
        assert len(names) == len(set(names))  # no duplicate rows after the recovery
        assert "dim" not in str(next(r.cells for r in app.panes["containers"].rows
                                     if r.data is not None and r.data.name == ran)[2].style)


async def test_a_200_character_name_keeps_state_and_status_on_screen(lab, made):
    token = uuid.uuid4().hex[:8]
    long_name = f"long-{token}-" + "x" * 180 + "-tail"
    short = f"short-{token}"
    for name in (long_name, short):
        made.append((lab.d1, name))
        lab.d1.run_container(name, "sleep", "300")
    app, _ = make_app(config(unix_host(lab.d1, "unix1")))
    for width in (160, 200):
        async with app.run_test(size=(width, 30)) as pilot:
            await until(lambda: row_of(app, "unix1", short) is not None, 10, "rows")
            await pilot.pause(0.2)
            screen = svg_text(app)
            assert "STATUS" in screen and "PORTS" in screen, f"columns pushed off a {width}-column screen"
            line = next(line for line in screen.splitlines() if short in line)
            assert "running" in line and "Up " in line
            long_row = next(r for r in table_rows(app) if r["NAME"].startswith(f"long-{token}"))
            assert len(long_row["NAME"]) <= 32 and long_row["NAME"].endswith("…")
            # the filter sees the whole name; the details view shows it
            await pilot.press("slash", *"-tail", "enter")
            await until(lambda: [r["NAME"] for r in table_rows(app)] == [long_row["NAME"]], 3, "filtered")
            await pilot.press("enter")
            await until(lambda: isinstance(app.screen, ContainerScreen), 5, "details")
            await pilot.pause(0.2)
            assert long_name in re.sub(r"\s+", "", svg_text(app))  # wrapped in the title, all of it
        app, _ = make_app(config(unix_host(lab.d1, "unix1")))
