"""Container deep views in the app: the run form on two hosts, merged logs, hostile log content, details."""

from __future__ import annotations

import re
import uuid

from rich.segment import Segment

from fleet_hosts import config, ssh_host, unix_host
from helpers import open_logs, svg_text, until
from dockyard.fleet import Fleet, RunSpec, Timing
from dockyard.ui.app import DockyardApp
from dockyard.ui.container_view import ContainerScreen, bar_lines
from dockyard.ui.dialogs.run import RunDialog
from dockyard.ui.logs import LogsScreen, LogView, ansi_text


def _row_index(pane, name: str) -> int:
    return next(i for i, r in enumerate(pane.rows) if r.data is not None and r.data.name == name)


async def test_run_form_creates_the_container_on_two_hosts(lab):
    name = "formrun-" + uuid.uuid4().hex[:6]
    app = DockyardApp(config(unix_host(lab.d1, "unix1"), ssh_host(lab, lab.d2, name="ssh")))
    async with app.run_test(size=(120, 40)) as pilot:
        await app.fleet.wait_settled(10)
        await pilot.press("n")
        await until(lambda: isinstance(app.screen, RunDialog), 5, "form open")
        form = app.screen
        form.query_one("#run-image").value = "dockyard-test/busybox:latest"
        form.query_one("#run-name").value = "bad name!"
        form.query_one("#run-command").value = "sleep 300"
        form.query_one("#run-network").value = "none"
        form.query_one("#run-labels").value = "made.by=form"
        await pilot.press("ctrl+r")
        await until(lambda: "letters, digits" in str(form.query_one("#err-name").render()), 2, "the name marked")
        assert isinstance(app.screen, RunDialog)  # refused: the name is marked
        assert "letters, digits" in str(form.query_one("#err-name").render())
        form.query_one("#run-name").value = name
        hosts = form.query_one("#run-hosts")
        hosts.select_all()
        await pilot.press("ctrl+r")
        await until(lambda: not isinstance(app.screen, RunDialog), 5, "form closed")
        for daemon in (lab.d1, lab.d2):
            await until(lambda d=daemon: d.docker("ps", "-q", "--filter", f"name=^{name}$").stdout.strip() != "",
                        15, f"running on {daemon.name}")
    for daemon in (lab.d1, lab.d2):
        out = daemon.docker("inspect", "-f", "{{.HostConfig.NetworkMode}} {{index .Config.Labels \"made.by\"}}",
                            name).stdout.split()
        assert out == ["none", "form"]
        daemon.docker("rm", "-f", name)


def test_run_spec_rejects_bad_fields_with_their_names():
    spec = RunSpec(image="", ports="99999:80 abc", volumes="relative:path", env="NOEQUALS", restart="sometimes")
    errors = spec.validate()
    assert set(errors) == {"image", "ports", "volumes", "env", "restart"}
    good = RunSpec(image="x", ports="127.0.0.1:8080:80/udp", volumes="data:/d:ro", env="A=1 B=2", network="none")
    assert good.validate() == {}
    body = good.body()
    assert body["HostConfig"]["PortBindings"] == {"80/udp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}
    assert body["HostConfig"]["Binds"] == ["data:/d:ro"] and body["Env"] == ["A=1", "B=2"]


async def test_merged_logs_view_shows_both_hosts_and_hostile_lines_inertly(lab):
    tag = uuid.uuid4().hex[:6]
    script = ("i=0; while true; do printf '\\033[31mred\\033[0m %s \\033[2J\\033]0;pwned\\007 [bold]x[/bold]\\n' $i; "
              "i=$((i+1)); usleep 100000; done")
    a = lab.d1.run_container(f"hostile-{tag}", "sh", "-c", script)
    b = lab.d2.run_container(f"plain-{tag}", "sh", "-c", "while true; do echo plain; usleep 100000; done")
    app = DockyardApp(config(unix_host(lab.d1, "unix1"), ssh_host(lab, lab.d2, name="ssh")))
    async with app.run_test(size=(120, 36)) as pilot:
        pane = app.panes["containers"]
        await until(lambda: {a, b} <= {r.data.id for r in pane.rows if r.data}, 10, "rows")
        pane.marked = {("unix1", a), ("ssh", b)}
        await pilot.press("l")
        await until(lambda: isinstance(app.screen, LogsScreen), 5, "logs open")
        log = app.screen.query_one(LogView)
        await until(lambda: any(f"unix1/hostile-{tag}" in ln for ln in log.plain_lines())
                    and any(f"ssh/plain-{tag}" in ln for ln in log.plain_lines()), 10,
                    f"both sources: {log.plain_lines()[:5]} {app.screen.sources}")
        # the prefixes are padded to the widest: every line's text starts in the same column
        plain_rows = [ln for ln in log.plain_lines() if ln.startswith(f"ssh/plain-{tag}")]
        assert plain_rows and all(ln.startswith(f"ssh/plain-{tag}".ljust(len(f"unix1/hostile-{tag}")) + "  plain")
                                  for ln in plain_rows), plain_rows[:3]
        index = next(i for i, item in enumerate(log.items()) if "hostile" in item.source.name and "red" in item.text)
        rendered = ansi_text(log.items()[index].text)
        assert "\x1b" not in rendered.plain  # nothing reaches the terminal as an escape
        assert "\\x1b[2J" in rendered.plain and "\\x1b]0;pwned\\x07" in rendered.plain
        assert "[bold]x[/bold]" in rendered.plain  # markup shown, not applied
        red = [span for span in rendered.spans if span.style.color is not None and span.style.color.number == 1]
        assert red and rendered.plain[red[0].start:red[0].end] == "red"  # SGR colour kept
        strip = log.render_item(index)  # the row as painted: label, marker, text
        assert all("\x1b" not in seg.text for seg in strip if isinstance(seg, Segment))
        painted = "".join(seg.text for seg in strip)
        assert painted.startswith(f"unix1/hostile-{tag}  red ") and "\\x1b]0;pwned\\x07" in painted
        await pilot.press("escape")
        await until(lambda: not isinstance(app.screen, LogsScreen), 5, "back")


async def test_container_view_shows_stats_and_inspect(lab):
    """The busy container's CPU% shows as a number, above a sleeping container's on the same host
    (not above a fixed figure: on a loaded machine a busy loop may get little CPU)."""
    name, idle = "detail-" + uuid.uuid4().hex[:6], "detail-idle-" + uuid.uuid4().hex[:6]
    lab.d1.run_container(name, "sh", "-c", "while :; do :; done")
    lab.d1.run_container(idle, "sleep", "300")
    app = DockyardApp(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=(120, 36)) as pilot:
        pane = app.panes["containers"]
        cpu: dict[str, float] = {}
        for which in (name, idle):
            await until(lambda: any(r.data and r.data.name == which for r in pane.rows), 20, "row")
            pane.table.move_cursor(row=_row_index(pane, which))
            await pilot.press("enter")
            await until(lambda: isinstance(app.screen, ContainerScreen), 10, "detail open")
            screen = app.screen
            await until(lambda: len(screen.samples) >= 3, 30, "three stats samples (two CPU%)")
            await until(lambda: re.search(r"\d+\.\d%  \(max \d+\.\d%\)", svg_text(app))
                        and re.search(r"graph 0–\d+%", svg_text(app)), 10, "CPU% and the graph's scale shown",
                        pilot=pilot)
            cpu[which] = max(screen.series["cpu"])
            if which == idle:  # a sleeping container's CPU graph stays a sliver: the graph's top is one CPU
                graph = screen.query_one("#stat-cpu Bars").render().plain  # as painted
                assert set(graph) <= {" ", "▁", "\n"}, graph
            await until(lambda: screen.inspect.get("Name") == f"/{which}", 10, "inspect loaded")
            assert (app.fleet.stats.watched & {("unix1", screen.container.id)})
            await pilot.press("escape")
            await until(lambda: not isinstance(app.screen, ContainerScreen), 10, "back from the detail view")
        assert cpu[idle] < 0.5 and cpu[name] > cpu[idle], cpu  # busy shows busy, sleeping shows idle
    lab.d1.docker("rm", "-f", name, idle)


def test_sparklines_scale_from_zero():
    """An idle container's 0.0 % draws no bars (Textual's Sparkline drew full-height ones)."""
    assert bar_lines([0.0, 0.0, 0.0], 5, 3) == ["     "] * 3
    assert bar_lines([0.0], 4, 2) == ["    "] * 2
    assert bar_lines([0.0, 5.0, 10.0], 3, 2) == ["  █", " ██"]  # newest at the right
    assert bar_lines([0.1, 100.0], 2, 1) == ["▁█"]  # anything above 0 shows


def test_the_cpu_graph_does_not_autoscale_a_tenth_of_a_percent_to_the_top():
    """The CPU box's top is 100 % (one CPU) or the peak above it: 0.1 % is a sliver, not a full box."""
    assert bar_lines([0.1, 0.1], 2, 3, floor=100.0) == ["  ", "  ", "▁▁"]
    assert bar_lines([50.0, 100.0], 2, 2, floor=100.0) == [" █", "██"]
    assert bar_lines([100.0, 200.0], 2, 2, floor=100.0) == [" █", "██"]  # two busy CPUs: the peak is the top


async def test_hosts_pane_totals_cpu_and_memory_per_host(lab, fresh_daemon):
    fresh_daemon.run_container("spin", "sh", "-c", "while :; do :; done")
    fresh_daemon.run_container("idle", "sleep", "300")
    app = DockyardApp(config(unix_host(fresh_daemon, "busyhost")))
    async with app.run_test(size=(150, 20)) as pilot:
        await app.fleet.wait_settled(10)
        await pilot.press("1")
        pane = app.panes["hosts"]

        def totals():
            row = next((r for r in pane.rows if r.key == "busyhost"), None)
            return (row.sort_values["cpu_used"], row.sort_values["mem_used"]) if row else (None, None)

        # the total is the spinning loop's share (any, on a loaded machine) plus the sleeping one's ~0
        await until(lambda: totals()[0] is not None and totals()[0] > 0, 30, "host CPU total")
        assert totals()[1] > 0
        sampled = {c.name: app.fleet.container_stats("busyhost", c.id) for c in app.fleet.cached("containers")}
        idle_cpu = sampled["idle"].cpu_percent or 0.0
        assert idle_cpu < 0.5 and sampled["spin"].cpu_percent > idle_cpu, sampled  # the busy one shows busy
        await pilot.press("2")  # leaving the pane hands sampling to the Containers pane's visible rows

        def sampling_for() -> set[str]:
            return {owner for owner, (keys, _) in app.fleet.stats._wanted.items() if keys}  # noqa: SLF001

        await until(lambda: app.active_pane.pane_id == "containers" and "hosts" not in sampling_for(), 2,
                    "the Hosts pane no longer samples")
        assert "hosts" not in sampling_for()


async def test_hosts_pane_latency_is_the_last_idle_ping(lab):
    """LATENCY follows the live loop's `_ping` (not a round trip timed while the app was starting)."""
    timing = Timing()
    timing.ping_every = 0.3
    cfg = config(unix_host(lab.d1, "unix1"))
    app = DockyardApp(cfg, fleet=Fleet(cfg, live=True, timing=timing))
    async with app.run_test(size=(150, 20)) as pilot:
        await app.fleet.wait_settled(10)
        await pilot.press("1")
        session = app.fleet.sessions["unix1"]
        shown: set[str] = set()

        def latency_cell() -> str:
            row = next((r for r in app.panes["hosts"].rows if r.key == "unix1"), None)
            return row.cells[[c.key for c in app.panes["hosts"].columns].index("latency")].plain if row else ""

        def follows_ping() -> bool:
            cell = latency_cell()
            if session.latency_ms is not None and cell == f"{session.latency_ms:.1f} ms":
                shown.add(cell)
            return len(shown) >= 2

        await until(follows_ping, 15, "LATENCY showing successive pings")


async def test_a_full_log_buffer_keeps_following(lab):
    """Past its bound the buffer drops old lines and the screen still shows the newest ones."""
    tag = uuid.uuid4().hex[:6]
    # fixed-width counters: the longest line never grows (a growing line would force a repaint anyway)
    cid = lab.d1.run_container(f"flood-{tag}", "sh", "-c",
                               "i=100000; while :; do echo \"n $i\"; i=$((i+1)); usleep 20000; done")
    app = DockyardApp(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=(100, 20)) as pilot:
        log = (await open_logs(app, cid, f"flood-{tag}", lines=30, tail=0, buffer=30)).log_widget  # full

        def newest_on_screen() -> int:
            """From what was last painted to the terminal (the screenshot), not from the widget's data."""
            painted = re.findall(r"n&#160;(\d{6})", app.export_screenshot())
            return max((int(n) for n in painted), default=-1)

        await until(lambda: newest_on_screen() > 0, 5, "lines painted", pilot=pilot)
        first = newest_on_screen()
        # still moving: about 50 lines a second arrive
        await until(lambda: newest_on_screen() > first + 20, 3, "newer lines painted", pilot=pilot)
        assert log.item_count == 30  # bounded
        assert newest_on_screen() > first + 20


def _painted(log: LogView) -> list[str]:
    """The rows the view paints right now (what the terminal gets), as plain text."""
    return ["".join(seg.text for seg in log.render_line(y)).rstrip() for y in range(log.size.height)]


async def test_logs_view_timestamps_wrap_pause_search_and_save(lab, tmp_path):
    tag = uuid.uuid4().hex[:6]
    script = ('s=xxxxxxxxxx; s=$s$s$s$s$s$s$s$s$s$s; s=$s$s$s; echo "LONG$s"; '
              'i=0; while :; do echo "line $i"; i=$((i+1)); usleep 20000; done')
    cid = lab.d1.run_container(f"views-{tag}", "sh", "-c", script)
    app = DockyardApp(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(app, cid, f"views-{tag}", lines=60, tail=100)
        log = screen.log_widget
        width = log.scrollable_content_region.width
        assert log.plain(0) == " LONG" + "x" * 300  # no wrap: one row, clipped to the view
        assert any(row.startswith(" line ") for row in _painted(log))  # following: the newest rows

        status = lambda: str(screen.query_one("#logs-status").render())  # noqa: E731
        await pilot.press("t")
        await until(lambda: "timestamps" in status(), 2, "timestamps on")
        stamp = re.compile(r"^ \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line \d+$")
        assert "timestamps" in str(screen.query_one("#logs-status").render())
        assert all(stamp.match(row) for row in _painted(log) if "line" in row) and any(_painted(log))

        await pilot.press("k", "k")  # scrolling up from the end stops following (like less +F)
        await until(lambda: status().startswith("PAUSED"), 2, "paused by scrolling up")
        assert status().startswith("PAUSED")
        await pilot.press("G")  # back to the newest line, following again
        await until(lambda: status().startswith("FOLLOWING") and log.scroll_y == log.max_scroll_y, 2,
                    "following at the newest line")
        assert status().startswith("FOLLOWING") and log.scroll_y == log.max_scroll_y
        await pilot.press("space")  # pause: the view stays on the same lines while more arrive
        await pilot.press("g")  # to the top: the long line
        await until(lambda: "PAUSED" in status() and "LONG" in _painted(log)[0], 2, "paused at the top")
        assert "PAUSED" in str(screen.query_one("#logs-status").render())
        await pilot.press("w")
        await until(lambda: "wrap" in status(), 2, "wrap on")
        rows = _painted(log)
        assert "LONG" in rows[0] and stamp.match(rows[-1] if "line" in rows[-1] else rows[-2])
        pieces = [rows[0]] + [r for r in rows[1:5] if r and set(r) == {"x"}]
        assert len(pieces) == 4 and sum(r.count("x") for r in pieces) == 300  # wrapped, nothing lost
        assert max(len(r) for r in rows) <= width
        before, count = _painted(log), log.item_count
        await until(lambda: log.item_count >= count + 10, 5, "more lines arrive")  # while the view is paused
        assert _painted(log) == before
        await pilot.press("w")
        await until(lambda: "wrap" not in status(), 2, "wrap off")
        assert sum("LONG" in r for r in _painted(log)) == 1 and _painted(log)[0].count("x") < 300

        await pilot.press("slash", "l", "i", "n", "e", "space", "4", "enter")
        await until(lambda: "search: line 4" in status(), 2, "searching")
        first = log.current_match
        assert first >= 0 and any(row.endswith("line 4") for row in _painted(log))
        await pilot.press("n")
        await until(lambda: log.current_match > first, 2, "the next match")
        assert log.current_match > first and "line 4" in log.plain(log.current_match - log._offset)  # noqa: SLF001

        await pilot.press("s")
        box = screen.query_one("#logs-input")
        box.value = str(tmp_path / "out.log")
        await pilot.press("enter")
        await until(lambda: (tmp_path / "out.log").exists(), 2, "saved")  # written in one go, no await inside
        saved = (tmp_path / "out.log").read_text().splitlines()
        assert saved[0].endswith(f"unix1/views-{tag} stdout LONG" + "x" * 300)
        assert len(saved) >= 60 and saved[1].endswith("stdout line 0")
    lab.d1.docker("rm", "-f", cid)


async def test_logs_only_matching_lines_keeps_filtering_new_lines_and_escape_drops_it(lab):
    """`f` (k9s's log filter, less's `&`): only the lines holding the text, new ones included."""
    name = "only-" + uuid.uuid4().hex[:6]
    cid = lab.d1.run_container(name, "sh", "-c",
                               'i=0; while :; do echo "line $i"; echo "Warn $i" >&2; i=$((i+1)); usleep 40000; done')
    app = DockyardApp(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(app, cid, name, lines=20, tail=100)
        everything = screen.query_one("#logs", LogView)
        status = lambda: str(screen.query_one("#logs-status").render())  # noqa: E731
        await pilot.press("f", *"WARN", "enter")  # any case
        await until(lambda: "only: WARN" in status(), 2, "the filter applied")
        only = screen.log_widget
        assert only is not everything and screen.only == "WARN" and "only: WARN" in status()
        rows = [r for r in _painted(only) if r.strip()]
        assert rows and all("Warn" in r for r in rows)
        # the same instant (no await): the filtered view holds exactly the buffer's matching lines
        assert only.plain_lines() == [line for line in everything.plain_lines() if "warn" in line.lower()]
        count = only.item_count
        await until(lambda: only.item_count >= count + 5, 10, "new matching lines are filtered in")
        assert only.plain_lines() == [line for line in everything.plain_lines() if "warn" in line.lower()]
        assert f"({only.item_count} of {everything.item_count})" in status()
        await pilot.press("question_mark")  # help lists this view's keys, not the pane's
        await until(lambda: app.screen is not screen and app.screen.query("#body"), 5, "help shown")
        shown = svg_text(app)
        assert "Logs view" in shown and re.search(r"█f +Filter ", shown) and re.search(r"█t +Timestamps ", shown)
        assert "Mark" not in shown and "Containers pane" not in shown
        await pilot.press("escape")
        await until(lambda: app.screen is screen, 5, "help closed")

        await pilot.press("escape")  # drops the filter, stays in the logs
        await until(lambda: "only:" not in status(), 2, "the filter dropped")
        assert isinstance(app.screen, LogsScreen) and screen.only == "" and screen.log_widget is everything
        assert any(" line " in r for r in _painted(everything)) and "only:" not in status()
        await pilot.press("escape")
        await until(lambda: not isinstance(app.screen, LogsScreen), 2, "out of the logs view")
        assert not isinstance(app.screen, LogsScreen)
    lab.d1.docker("rm", "-f", cid)


async def test_status_counts_up_on_screen_without_a_new_listing(lab):
    """STATUS is computed here from the container's start ("Up 2 seconds" → "Up 5 seconds"), and a
    reconcile that only says time passed changes nothing in the cache (no row rebuilt)."""
    name = "ticking-" + uuid.uuid4().hex[:6]
    cid = lab.d1.run_container(name, "sleep", "300")
    app = DockyardApp(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.panes["containers"]
        await until(lambda: any(r.data and r.data.name == name for r in pane.rows), 10, "row")
        session = app.fleet.sessions["unix1"]
        listed = session.cache.get("containers", cid)
        status_col = [c.key for c in pane.columns].index("status")

        def shown() -> str:
            row = next(r for r in pane.rows if r.data and r.data.id == cid)
            return row.cells[status_col].plain

        first = shown()
        await until(lambda: shown() != first and shown().endswith("seconds"), 10, f"STATUS counting up from {first!r}")
        await session._refresh("containers")  # noqa: SLF001 - the periodic reconcile, now
        assert session.cache.get("containers", cid) is listed  # only time passed: the same object
        daemon_says = lab.d1.docker("ps", "--filter", f"id={cid}", "--format", "{{.Status}}").stdout.strip()
        # docker's wording: "Less than a second", "1 second", "N seconds"
        seconds = lambda text: 0 if "Less than" in text else int(re.search(r"(\d+) seconds?", text).group(1))  # noqa: E731
        assert abs(seconds(shown()) - seconds(daemon_says)) <= 2, (shown(), daemon_says)
        await pilot.pause(0)
    lab.d1.docker("rm", "-f", cid)


async def test_a_full_screen_over_the_containers_pane_stops_its_stats_and_a_dialog_does_not(lab):
    """The daemon pays for stats only while a user can see them: logs or a detail view over the
    pane stop its bursts; a dialog (the pane still in sight behind it) does not; back, they resume."""
    name = "covered-" + uuid.uuid4().hex[:6]
    cid = lab.d1.run_container(name, "sleep", "300")
    app = DockyardApp(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=(120, 36)) as pilot:
        pane = app.panes["containers"]
        app.fleet.stats.refresh = 0.5  # a burst as soon as the last one is answered (~1 s: the daemon's tick)
        await until(lambda: ("unix1", cid) in app.fleet.stats.latest, 20, "the row's stats sampled")

        def bursts() -> int:
            return sum(1 for host, _, _ in app.fleet.stats.bursts if host == "unix1")

        async def bursts_during(seconds: float) -> int:
            before = bursts()
            await pilot.pause(seconds)
            return bursts() - before

        await pilot.press("question_mark")  # help: a dialog over the pane
        await until(lambda: app.screen is not app.screen_stack[0], 5, "help open")
        assert await bursts_during(3) >= 1
        await pilot.press("escape")
        pane.table.move_cursor(row=_row_index(pane, name))
        await pilot.press("l")
        await until(lambda: isinstance(app.screen, LogsScreen), 5, "logs open")
        assert app.fleet.stats.watched == set()
        assert await bursts_during(3) == 0
        await pilot.press("escape")
        await until(lambda: not isinstance(app.screen, LogsScreen), 5, "back from the logs")
        await until(lambda: ("unix1", cid) in app.fleet.stats.watched, 5, "sampled again")
        assert await bursts_during(3) >= 1
    lab.d1.docker("rm", "-f", name)
