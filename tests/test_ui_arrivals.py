"""Rows that come and go on a live tick: only the changed hosts' rows are made again.

With hundreds of hosts answering one by one, the Containers pane makes again only the rows of the
hosts that changed and puts them into the table it has (ui/panes/containers.py, PaneTable.set_rows);
what the user sees must be what a full rebuild shows: the same rows, in the same order, the same
cells (text and style), the cursor on the same container.
"""

from __future__ import annotations

import os
import uuid

from fleet_hosts import config, unix_host
from helpers import make_app, summary, until
from dockyard.config.model import HostConfig

SIZE = (120, 36)


LIVE = {"status", "cpu", "mem"}  # what changes with time and stats samples (a second later, another text)


def shown(app) -> list[tuple[str, tuple]]:
    """The Containers table as drawn from its data: row keys in screen order, each cell's text and
    style but the live ones' (STATUS "Up 1 second" a second later, CPU%, MEM)."""
    table = app.panes["containers"].table
    out = []
    for i in range(table.row_count):
        key = table.ordered_rows[i].key.value
        cells = table.get_row_at(i)
        out.append((key, tuple(("", "") if column.key.value in LIVE else (c.plain, str(c.style))
                               for column, c in zip(table.ordered_columns, cells))))
    return out


def cursor_container(app) -> str | None:
    return app.panes["containers"].cursor_key()


async def rebuilt(app, pilot) -> list[tuple[str, tuple]]:
    """What a full rebuild of the pane (as a filter or a pane switch makes) shows."""
    app.panes["containers"].refresh_data()
    await pilot.pause()
    return shown(app)


async def test_a_host_answering_later_puts_its_rows_in_order_and_the_cursor_stays(lab, made, tmp_path):
    """Hosts a, b, c (b answers late: its socket appears later). b's rows land between a's and
    c's, as sorted; the cursor stays on the container it was on; every cell is what a full
    rebuild makes."""
    name = f"arrive-{uuid.uuid4().hex[:8]}"
    made.append((lab.d1, name))
    lab.d1.run_container(name, "sleep", "300")
    late = tmp_path / "late.sock"
    cfg = config(unix_host(lab.d1, "a"), HostConfig(name="b", url=f"unix://{late}"), unix_host(lab.d1, "c"))
    app, _ = make_app(cfg)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.panes["containers"]
        await until(lambda: any(k.startswith("c\x00") for k, _ in shown(app)), 30, "c's rows")
        await until(lambda: any(k.startswith("a\x00") for k, _ in shown(app)), 30, "a's rows")
        await pilot.pause(0.3)
        keys = [k for k, _ in shown(app)]
        target = next(k for k in keys if k.startswith("c\x00"))
        pane.table.move_cursor(row=keys.index(target))
        await pilot.pause()
        before = shown(app)
        assert not any(k.startswith("b\x00") for k, _ in before)

        os.symlink(lab.d1.socket, late)  # b's daemon answers now
        await app.fleet.reconnect("b")
        await until(lambda: any(k.startswith("b\x00") for k, _ in shown(app)), 30, "b's rows")
        await pilot.pause(0.3)
        after = shown(app)
        assert cursor_container(app) == target  # the cursor stayed on c's container
        running_hosts = [k.split("\x00")[0] for k, cells in after if cells[5][0] == "running"]
        assert running_hosts == sorted(running_hosts)  # a's, then b's, then c's (config order: a, b, c)
        assert {k for k, _ in before} < {k for k, _ in after}  # a's and c's rows all kept
        assert after == await rebuilt(app, pilot)
        assert cursor_container(app) == target


async def test_containers_coming_and_going_on_a_live_tick_show_as_a_full_rebuild(lab, made):
    """A container created on one daemon (two hosts on its socket: both change) lands in order on
    both hosts' rows; removed, its rows go; the cells equal a full rebuild's each time, with the
    cursor kept on its row."""
    for daemon in (lab.d1, lab.d2):
        name = f"zz-{uuid.uuid4().hex[:8]}"
        made.append((daemon, name))
        daemon.run_container(name, "sleep", "300")
    cfg = config(unix_host(lab.d1, "a"), unix_host(lab.d2, "b"), unix_host(lab.d1, "c"))
    app, _ = make_app(cfg)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.panes["containers"]
        await until(lambda: "hosts 3/3 online" in summary(app), 30, "hosts online")
        await until(lambda: {k[0] for k, _ in shown(app)} >= {"a", "b", "c"}, 30, "every host's rows")
        await pilot.pause(0.5)
        keys = [k for k, _ in shown(app)]
        target = next(k for k in keys if k.startswith("b\x00"))
        pane.table.move_cursor(row=keys.index(target))
        await pilot.pause()

        name = f"aa-{uuid.uuid4().hex[:8]}"  # sorts early among the running names
        made.append((lab.d1, name))
        cid = lab.d1.run_container(name, "sleep", "300")
        await until(lambda: sum(cid[:12] in k for k, _ in shown(app)) == 2, 30, "the new container's rows")
        await pilot.pause(0.3)
        after = shown(app)
        assert cursor_container(app) == target
        assert after == await rebuilt(app, pilot)

        lab.d1.docker("rm", "-f", name)
        await until(lambda: not any(cid[:12] in k for k, _ in shown(app)), 30, "its rows gone")
        await pilot.pause(0.3)
        gone = shown(app)
        assert cursor_container(app) == target
        assert gone == await rebuilt(app, pilot)


async def test_a_page_down_asks_for_its_rows_stats_once_the_view_rests(lab, made, monkeypatch):
    """Flipping pages asks for no stats of the pages flipped past: the rows a page down brings
    get their STATUS at once and are sampled once the view rests (not ~40 requests per page).
    The rest is stretched to 2 s here so that a slow, loaded machine cannot pass it between the
    key and the first look (0.3 s did once in CI)."""
    from dockyard.ui.panes import containers

    monkeypatch.setattr(containers, "SCROLL_SETTLE", 2.0)
    for i in range(4):
        name = f"pg{i}-{uuid.uuid4().hex[:8]}"
        made.append((lab.d1, name))
        lab.d1.run_container(name, "sleep", "300")
    cfg = config(*(unix_host(lab.d1, f"h{i:02d}") for i in range(12)))  # 12 hosts on one socket: 48+ rows
    app, _ = make_app(cfg)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.panes["containers"]
        await until(lambda: "hosts 12/12 online" in summary(app), 30, "hosts online")
        await until(lambda: pane.table.row_count >= 48, 30, "every row")
        await pilot.pause(0.5)

        def sampled() -> set[tuple[str, str]]:
            return set(app.fleet.stats._wanted.get("containers", (set(), 0))[0])

        first_page = {(r.data.host, r.data.id) for r in pane.visible_rows() if r.data.state == "running"}
        assert sampled() == first_page
        await pilot.press("pagedown")
        await pilot.pause()
        second_page = {(r.data.host, r.data.id) for r in pane.visible_rows() if r.data.state == "running"}
        assert second_page and second_page != first_page
        assert sampled() == first_page  # not yet: the view may be flipping on
        await until(lambda: sampled() == second_page, 10, "the page's stats asked for once it rests")


def hosts_shown(app) -> list[tuple[str, ...]]:
    """The Hosts table's rows as drawn from its data, LATENCY aside (it changes with every probe)."""
    table = app.panes["hosts"].table
    labels = [column.key.value for column in table.ordered_columns]
    return [tuple(f"{c.plain}|{c.style}" for label, c in zip(labels, table.get_row_at(i)) if label != "latency")
            for i in range(table.row_count)]


def hosts_made_anew(app) -> list[tuple[str, ...]]:
    """What the Hosts table holds when every row is made from the fleet now (a full build)."""
    from dockyard.ui.panes.hosts import host_row, host_totals

    fleet, table = app.fleet, app.panes["hosts"].table
    totals = host_totals(fleet.cached("containers"), fleet.container_stats)
    labels = [column.key.value for column in table.ordered_columns]
    return [tuple(f"{c.plain}|{c.style}" for label, c in zip(labels, host_row(s, totals.get(s.name, (0.0, 0, 0, 0))).cells)
                  if label != "latency") for s in fleet.hosts()]


async def test_the_hosts_pane_on_a_live_tick_shows_what_a_full_rebuild_shows(lab, made, tmp_path):
    """A container started on one daemon changes its hosts' CONTAINERS (two hosts on its socket),
    a host whose daemon goes away turns unreachable: the rows made again for those hosts alone
    must come to read as the whole table made anew (the live ticks alone: no full rebuild)."""
    gone = tmp_path / "gone.sock"
    os.symlink(lab.d1.socket, gone)
    cfg = config(unix_host(lab.d1, "a"), unix_host(lab.d2, "b"), unix_host(lab.d1, "c"),
                 HostConfig(name="d", url=f"unix://{gone}"))
    app, _ = make_app(cfg, pane="hosts")
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: "hosts 4/4 online" in summary(app), 30, "hosts online")
        await until(lambda: hosts_shown(app) == hosts_made_anew(app), 10, "rows as made anew", pilot=pilot)
        before = hosts_shown(app)

        name = f"hp-{uuid.uuid4().hex[:8]}"
        made.append((lab.d1, name))
        lab.d1.run_container(name, "sleep", "300")
        await until(lambda: hosts_shown(app)[0] != before[0] and hosts_shown(app)[2] != before[2], 30,
                    "a's and c's CONTAINERS", pilot=pilot)
        await until(lambda: hosts_shown(app) == hosts_made_anew(app), 10, "rows as made anew", pilot=pilot)

        os.unlink(gone)
        await app.fleet.reconnect("d")
        await until(lambda: "online" not in hosts_shown(app)[3][2], 30, "d down", pilot=pilot)
        await until(lambda: hosts_shown(app) == hosts_made_anew(app), 10, "rows as made anew", pilot=pilot)
