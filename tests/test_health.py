"""Fleet health against the real lab: the Problems view and `dockyard problems`, the fleet-wide
event history, the Events view and `dockyard events` (history, follow, gaps).

A container that keeps dying under `--restart always` on one host, one whose healthcheck fails
on another, one the kernel OOM-kills under a small memory limit: each shows, on the right host,
within 15 s, in the CLI and in the app; healthy containers never do; stopping the loop clears it.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid

import pytest

from fleet_hosts import config, unix_host
from helpers import cli_env, dockyard, make_app, summary, table_rows, tabs, until
from lab import unix_http
from dockyard.config.model import ProblemsConfig
from dockyard.fleet import Fleet
from dockyard.fleet.events import EventHistory, event_from_api, parse_moment, rfc3339_ns
from dockyard.fleet.problems import ContainerNote, container_problems, reclaimable_problem, swarm_problems

SIZE = (180, 40)
DOCKYARD = ("python3", "-m", "dockyard")


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def troubled(lab, made):
    """A restart loop on d1, a failing healthcheck on d3, an OOM kill on d1, and a healthy
    container (with a passing healthcheck) on each: {what: name}."""
    names = {k: _name(k) for k in ("loop", "sick", "oom", "fine1", "fine3")}
    lab.d1.run_container(names["loop"], "sh", "-c", "sleep 1; exit 1", args=("--restart", "always"))
    made.append((lab.d1, names["loop"]))
    lab.d3.run_container(names["sick"], "sleep", "300", args=(
        "--health-cmd", "echo probe says: disk full; exit 1", "--health-interval", "1s", "--health-retries", "1"))
    made.append((lab.d3, names["sick"]))
    # busybox tail buffers a line-less stream whole: memory grows until the kernel kills it
    lab.d1.run_container(names["oom"], "sh", "-c", "sleep 1; tail /dev/zero", args=(
        "--memory", "16m", "--memory-swap", "16m"))
    made.append((lab.d1, names["oom"]))
    for d, key in ((lab.d1, "fine1"), (lab.d3, "fine3")):
        d.run_container(names[key], "sleep", "300", args=("--health-cmd", "true", "--health-interval", "1s"))
        made.append((d, names[key]))
    return names


def _lab_config(lab, tmp_path, **problems) -> str:
    text = lab.config_toml(hosts=("unix1", "unix3"), registries=False)
    if problems:
        text += "\n[problems]\n" + "".join(f"{k} = {v!r}\n" for k, v in problems.items())
    path = tmp_path / "health.toml"
    path.write_text(text)
    return str(path)


def _by(problems, name):
    return {p["kind"]: p for p in problems if p["name"] == name}


def test_problems_cli_lists_each_problem_on_its_host_and_never_a_healthy_one(lab, troubled, tmp_path):
    cfg = _lab_config(lab, tmp_path)
    deadline = time.monotonic() + 15
    while True:
        result = dockyard("--config", cfg, "problems", "--json")
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        found = data["problems"]
        loop, sick, oom = (_by(found, troubled[k]) for k in ("loop", "sick", "oom"))
        if ("restart-loop" in loop and "unhealthy" in sick and "oom-killed" in oom) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert data["errors"] == []
    assert "restart-loop" in loop, found
    assert loop["restart-loop"]["host"] == "unix1" and loop["restart-loop"]["object"] == "container"
    assert "unhealthy" in sick, found
    assert sick["unhealthy"]["host"] == "unix3"
    assert "probe says: disk full" in sick["unhealthy"]["detail"]  # the last probe's output
    assert "oom-killed" in oom, found
    assert oom["oom-killed"]["host"] == "unix1" and "out of memory" in oom["oom-killed"]["detail"]
    assert not _by(found, troubled["fine1"]) and not _by(found, troubled["fine3"])
    for p in found:
        assert set(p) >= {"severity", "kind", "host", "object", "name", "since", "detail"}
    # the table form says the same, worst first
    table = dockyard("--config", cfg, "problems")
    assert table.returncode == 0 and table.stdout.splitlines()[0].split()[:4] == ["SEVERITY", "HOST", "OBJECT",
                                                                                   "PROBLEM"]
    # stopping the loop clears it
    lab.d1.docker("stop", troubled["loop"])
    again = json.loads(dockyard("--config", cfg, "problems", "--json").stdout)["problems"]
    assert not _by(again, troubled["loop"]), again


def test_problems_cli_exits_3_and_names_a_host_it_could_not_ask(lab, tmp_path):
    path = tmp_path / "down.toml"
    path.write_text(lab.config_toml(hosts=("unix1", {"name": "gone", "url": f"unix://{tmp_path}/no.sock"}),
                                    registries=False))
    result = dockyard("--config", str(path), "problems", "--json")
    assert result.returncode == 3, result.stderr
    data = json.loads(result.stdout)
    gone = [p for p in data["problems"] if p["host"] == "gone"]
    assert gone and gone[0]["kind"] == "host-unreachable" and gone[0]["severity"] == "critical"
    assert [e["host"] for e in data["errors"]] == ["gone"]


async def test_live_problems_appear_within_15s_and_a_stopped_loop_leaves(lab, troubled):
    cfg = config(unix_host(lab.d1, "unix1"), unix_host(lab.d3, "unix3"))
    async with Fleet(cfg, live=True) as fleet:
        def kinds(name):
            return {p.kind: p for p in fleet.problems.problems() if p.name == name}

        start = time.monotonic()
        await until(lambda: "restart-loop" in kinds(troubled["loop"]) and "unhealthy" in kinds(troubled["sick"])
                    and "oom-killed" in kinds(troubled["oom"]), 15, "the three problems")
        assert time.monotonic() - start < 15
        assert kinds(troubled["loop"])["restart-loop"].host == "unix1"
        assert kinds(troubled["sick"])["unhealthy"].host == "unix3"
        assert kinds(troubled["oom"])["oom-killed"].host == "unix1"
        assert not kinds(troubled["fine1"]) and not kinds(troubled["fine3"])
        lab.d1.docker("stop", troubled["loop"])
        await until(lambda: not kinds(troubled["loop"]), 10, "the stopped loop's problem to leave")
        # health probes' exec_* events were folded, not kept
        assert sum(fleet.history.folded.values()) > 0
        assert not any(e.action.startswith("exec_") for e in fleet.history.events())


async def test_problems_view_shows_rows_worst_first_and_enter_opens_the_container(lab, troubled):
    from dockyard.ui.container_view import ContainerScreen

    cfg = config(unix_host(lab.d1, "unix1"), unix_host(lab.d3, "unix3"))
    app, _ = make_app(cfg)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("!")
        assert app._active == "problems"

        def rows():
            return table_rows(app, "problems")

        await until(lambda: {(r["HOST"], r["PROBLEM"]) for r in rows() if troubled["loop"] in r["OBJECT"]
                             or troubled["sick"] in r["OBJECT"]} >= {("unix1", "restart-loop"),
                                                                   ("unix3", "unhealthy")}, 15, "problem rows")
        assert not any(troubled["fine1"] in r["OBJECT"] or troubled["fine3"] in r["OBJECT"] for r in rows())
        severities = [r["SEVERITY"] for r in rows()]
        order = ["CRITICAL", "ERROR", "WARNING"]
        assert severities == sorted(severities, key=order.index)
        def counted() -> bool:
            count = app.fleet.problems.count()
            return f"Problems ({count})" in tabs(app) and f"⚠ {count} problems" in summary(app)

        await until(counted, 5, "the count in the tab and the header")
        await pilot.press("2")  # every pane's header shows the count
        await until(counted, 5, "the count in the Containers pane's header")
        await pilot.press("!")
        index = next(i for i, r in enumerate(rows()) if troubled["sick"] in r["OBJECT"])
        app.panes["problems"].table.move_cursor(row=index)
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, ContainerScreen), 5, "the container's details")
        assert troubled["sick"] in str(app.screen.container.name)


async def test_an_unreachable_host_is_the_worst_problem_and_enter_goes_to_its_row(lab, tmp_path):
    from dockyard.config.model import HostConfig

    cfg = config(unix_host(lab.d1, "unix1"), HostConfig(name="gone", url=f"unix://{tmp_path}/no.sock"))
    app, _ = make_app(cfg)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("!")
        await until(lambda: any(r["HOST"] == "gone" for r in table_rows(app, "problems")), 15, "the host's row")
        first = table_rows(app, "problems")[0]
        assert (first["SEVERITY"], first["HOST"], first["PROBLEM"]) == ("CRITICAL", "gone", "host-unreachable")
        assert "no.sock" in first["DETAIL"] or "unreachable" in first["DETAIL"]
        app.panes["problems"].table.move_cursor(row=0)
        await pilot.press("enter")
        await pilot.pause()
        assert app._active == "hosts"
        assert app.panes["hosts"].cursor_row_data().data.name == "gone"


async def test_swarm_service_that_cannot_be_placed_is_degraded(swarm, swarm_services, tmp_path):
    name = swarm_services(_name("nowhere"), replicas=1, wait=False,
                          args=("--constraint", "node.labels.nosuch==yes"))
    path = tmp_path / "swarm.toml"
    path.write_text(swarm.config_toml(names=("a1", "a3")) + "\n[problems]\nservice_degraded_after = 2\n")
    deadline = time.monotonic() + 15
    while True:
        result = dockyard("--config", str(path), "problems", "--json")
        found = [p for p in json.loads(result.stdout)["problems"] if p["name"] == name]
        if found or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert result.returncode == 0, result.stderr
    assert found and found[0]["kind"] == "service-degraded" and found[0]["host"] == "a1", found
    assert "0/1" in found[0]["detail"] and "no suitable node" in found[0]["detail"]
    # and in the live watch
    from dockyard.config import load_config

    async with Fleet(load_config(str(path)), live=True) as fleet:
        await until(lambda: any(p.name == name and p.kind == "service-degraded" and p.host == "a1"
                                for p in fleet.problems.problems()), 15, "the degraded service")



def test_a_worker_whose_daemon_stops_is_a_node_down_problem_within_15s(swarm, tmp_path):
    """Swarm A's worker a3 with its dockerd stopped: the managers mark it down, and `dockyard
    problems --json` (asking a1 only) names it; with its daemon back it is ready again and the
    problem leaves."""
    path = tmp_path / "swarm.toml"
    path.write_text(swarm.config_toml(names=("a1",)))

    def node_problems() -> list[dict]:
        result = dockyard("--config", str(path), "problems", "--json")
        assert result.returncode == 0, result.stderr
        return [p for p in json.loads(result.stdout)["problems"] if p["kind"] == "node-down"]

    assert node_problems() == []
    swarm.a3.daemon.stop()
    try:
        deadline = time.monotonic() + 15
        while not (found := node_problems()) and time.monotonic() < deadline:
            time.sleep(1)
        assert [(p["host"], p["object"], p["name"], p["severity"]) for p in found] == \
               [("a1", "node", "a3", "critical")], found
    finally:
        swarm.a3.daemon.start()
        swarm.wait_nodes_ready(timeout=60)
    deadline = time.monotonic() + 15
    while (found := node_problems()) and time.monotonic() < deadline:
        time.sleep(1)
    assert found == []


# ---------------------------------------------------------------------- events


def test_events_history_merges_two_hosts_in_time_order(lab, made, tmp_path):
    cfg = _lab_config(lab, tmp_path)
    one, three = _name("ev1"), _name("ev3")
    lab.d1.run_container(one, "sleep", "300")
    made.append((lab.d1, one))
    lab.d3.run_container(three, "sleep", "300")
    made.append((lab.d3, three))
    lab.d1.docker("stop", one)
    lab.d3.docker("stop", three)
    result = dockyard("--config", cfg, "events", "--since", "2m", "--until", "0s", "--json",
                      "--filter", "type=container")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["errors"] == []
    mine = [e for e in data["events"] if e["name"] in (one, three)]
    assert [(e["host"], e["name"], e["action"]) for e in mine if e["action"] in ("start", "stop")] == [
        ("unix1", one, "start"), ("unix3", three, "start"), ("unix1", one, "stop"), ("unix3", three, "stop")]
    times = [e["time"] for e in data["events"]]
    assert times == sorted(times)
    assert all(len(t) == len("2026-12-06T10:42:01.123456789Z") and t.endswith("Z") for t in times)
    assert set(mine[0]) == {"host", "time", "type", "action", "id", "name", "attributes"}
    table = dockyard("--config", cfg, "events", "--since", "2m", "--until", "0s", "--host", "unix3")
    assert table.returncode == 0
    assert table.stdout.splitlines()[0].split() == ["HOST", "TIME", "TYPE", "ACTION", "NAME", "ATTRIBUTES"]
    assert all(line.startswith("unix3") for line in table.stdout.splitlines()[1:])
    bad = dockyard("--config", cfg, "events", "--since", "yesterday-ish")
    assert bad.returncode == 2 and "not a time" in bad.stderr


def _read_json_lines(proc: subprocess.Popen, want, timeout: float) -> list[dict]:
    """Lines of a `-f --json` child until `want(lines)` holds (or the timeout)."""
    import selectors

    lines: list[dict] = []
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    buffer = b""
    while time.monotonic() < deadline and not want(lines):
        if not sel.select(timeout=0.2):
            continue
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            lines.append(json.loads(line))
    return lines


def test_events_follow_streams_json_lines_and_shows_a_gap_when_a_daemon_restarts(lab, fresh_daemon, made, tmp_path):
    path = tmp_path / "follow.toml"
    path.write_text(lab.config_toml(hosts=("unix1", {"name": "gamma", "url": fresh_daemon.url}), registries=False))
    # --since: what happens while the command starts comes from the daemon's history, then live
    proc = subprocess.Popen([*DOCKYARD, "--config", str(path), "events", "-f", "--json", "--since", "1m"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env())
    try:
        name = _name("live")
        lab.d1.run_container(name, "sleep", "300")
        made.append((lab.d1, name))
        lines = _read_json_lines(proc, lambda ls: any(e["name"] == name and e["action"] == "start" for e in ls), 15)
        started = [e for e in lines if e["name"] == name and e["action"] == "start"]
        assert started and started[0]["host"] == "unix1" and started[0]["type"] == "container"
        fresh_daemon.stop()
        fresh_daemon.start()
        lines = _read_json_lines(proc, lambda ls: any(e["type"] == "gap" for e in ls), 30)
        gaps = [e for e in lines if e["type"] == "gap"]
        if not gaps:
            proc.terminate()
            pytest.fail(f"no gap row; lines {lines[-5:]}, stderr {proc.communicate(timeout=10)[1][-2000:]!r}")
        assert gaps[0]["host"] == "gamma" and gaps[0]["detail"].startswith("events missed on gamma ")
    finally:
        proc.terminate()
        proc.wait(10)


async def test_live_history_and_events_view_show_a_gap_row_when_a_daemon_restarts(lab, fresh_daemon, made):
    cfg = config(unix_host(lab.d1, "unix1"), unix_host(fresh_daemon, "gamma"))
    app, _ = make_app(cfg)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: all(h.state.value == "online" for h in app.fleet.hosts()), 15, "both hosts online")
        await pilot.press("E")
        assert app._active == "events"
        name = _name("evv")
        fresh_daemon.run_container(name, "sleep", "300")
        await until(lambda: any(r["NAME"] == name and r["ACTION"] == "start" and r["HOST"] == "gamma"
                                for r in table_rows(app, "events")), 10, "the start row")
        fresh_daemon.stop()
        fresh_daemon.start()
        await until(lambda: any(r["TYPE"] == "GAP" and r["HOST"] == "gamma" for r in table_rows(app, "events")),
                    30, "a gap row for gamma")
        gap = next(r for r in table_rows(app, "events") if r["TYPE"] == "GAP")
        assert gap["DETAIL"].startswith("events missed on gamma ")
        # the `/` filter works on it like on any pane
        await pilot.press("slash", *"host:unix1", "enter")
        await pilot.pause()
        assert all(r["HOST"] == "unix1" for r in table_rows(app, "events"))


def _volume_events(daemon, names: list[str]) -> None:
    """Two events per name, in order: the volume created, then removed."""
    for name in names:
        unix_http(daemon.socket, "POST", "/volumes/create", body=json.dumps({"Name": name}).encode(),
                  headers={"Content-Type": "application/json"})
        unix_http(daemon.socket, "DELETE", f"/volumes/{name}")


def _painted(table) -> list[str]:
    """The table's lines as it draws them now (header first), through its own render caches."""
    return [table.render_line(y).text for y in range(table.size.height)]


async def test_events_view_filter_narrows_and_widens_keeps_the_cursor_row_and_new_events_append(lab):
    import asyncio

    tag = uuid.uuid4().hex[:6]
    names = [f"evf-{tag}-{i}" for i in range(150)]
    app, _ = make_app(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: all(h.state.value == "online" for h in app.fleet.hosts()), 15, "online")
        await pilot.press("E")
        pane, table = app.panes["events"], app.panes["events"].table

        def mine() -> list[tuple[str, str]]:
            return [(r["NAME"], r["ACTION"]) for r in table_rows(app, "events") if r["NAME"].startswith(f"evf-{tag}-")]

        def cursor() -> tuple[str, str]:
            row = table_rows(app, "events")[table.cursor_row]
            return row["NAME"], row["ACTION"]

        everything = [(n, a) for n in names for a in ("create", "destroy")]
        await asyncio.to_thread(_volume_events, lab.d1, names)
        await until(lambda: mine() == everything, 15, "all 300 rows in time order", pilot=pilot)
        assert table.cursor_row == table.row_count - 1  # following the newest, like tail -f
        # the newest row is drawn last (the newest of all: another test's container on the shared lab
        # daemon may add an event after this test's; one did in a full run), this test's newest with it
        await until(lambda: (lines := _painted(table)) and table_rows(app, "events")[-1]["NAME"] in lines[-1]
                    and any(f"evf-{tag}-149" in line for line in lines), 5, "the newest row drawn last", pilot=pilot)
        shown = [(r["NAME"], r["ACTION"]) for r in table_rows(app, "events")]
        later = len(shown) - 1 - shown.index((f"evf-{tag}-149", "destroy"))  # other tests' events after mine
        await pilot.press(*["k"] * (later + 3))
        chosen = cursor()
        assert chosen == (f"evf-{tag}-148", "create")

        # `/`: typing narrows (the rows follow a pause in typing), backspace widens, esc clears
        await pilot.press("slash", *f"{tag}-14")
        narrow = [(n, a) for n, a in everything if n.startswith(f"evf-{tag}-14")]
        await until(lambda: [r["NAME"] for r in table_rows(app, "events")] == [n for n, _ in narrow], 5,
                    "only the rows with the typed text", pilot=pilot)
        assert cursor() == chosen
        await until(lambda: any(chosen[0] in line for line in _painted(table)), 5, "the cursor row drawn", pilot=pilot)
        assert f"{len(narrow)} of" in tabs(app)
        await pilot.press("backspace", "backspace")  # `{tag}` again: every row of mine, none lost
        await until(lambda: table.row_count == len(table_rows(app, "events")) and mine() == everything
                    and len(mine()) == table.row_count, 5, "the rows back", pilot=pilot)
        assert cursor() == chosen
        await pilot.press("enter", "escape")  # prompt closed, then the filter cleared
        await until(lambda: app.filter_text == "" and mine() == everything, 5, "unfiltered", pilot=pilot)
        assert cursor() == chosen

        # another pane and back: the same rows, the cursor on its row, drawn the same (cell for
        # cell: the lab's daemon is shared, and an event from elsewhere may widen a column meanwhile)
        def cells_drawn() -> list[list[str]]:
            return [line.split() for line in _painted(table)]

        painted = cells_drawn()
        assert any(chosen[0] in line and "create" in line for line in painted)
        await pilot.press("2")
        await pilot.press("E")
        await pilot.pause()
        assert mine() == everything and cursor() == chosen and cells_drawn() == painted

        # new events append below; the cursor stays on its row (it is not on the last one) ...
        more = [f"evf-{tag}-n{i}" for i in range(3)]
        await asyncio.to_thread(_volume_events, lab.d1, more)
        grown = everything + [(n, a) for n in more for a in ("create", "destroy")]
        await until(lambda: mine() == grown, 10, "the new rows", pilot=pilot)
        assert cursor() == chosen
        # ... and on the last row it follows them
        await pilot.press("G")
        await asyncio.to_thread(_volume_events, lab.d1, [f"evf-{tag}-last"])
        await until(lambda: mine()[-1] == (f"evf-{tag}-last", "destroy"), 10, "the last row", pilot=pilot)
        # (the lab's daemon is shared: another test's container may add an event after ours)
        await until(lambda: table.cursor_row == table.row_count - 1, 5, "the cursor on the newest row", pilot=pilot)
        await until(lambda: any(f"evf-{tag}-last" in line for line in _painted(table)), 5, "the last row drawn",
                    pilot=pilot)



async def test_enter_on_an_event_goes_to_its_object_or_says_where_it_is_gone(lab):
    """`enter` on a volume's event: the Volumes pane with the cursor on that volume; on the event
    of a volume removed since, the Events pane stays and the notice names the volume and host."""
    import asyncio

    tag = uuid.uuid4().hex[:6]
    kept, gone = f"evk-{tag}", f"evg-{tag}"
    app, notes = make_app(config(unix_host(lab.d1, "unix1")))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(lambda: all(h.state.value == "online" for h in app.fleet.hosts()), 15, "online")
            await pilot.press("E")
            table = app.panes["events"].table
            await asyncio.to_thread(_volume_events, lab.d1, [gone])
            await asyncio.to_thread(unix_http, lab.d1.socket, "POST", "/volumes/create",
                                    body=json.dumps({"Name": kept}).encode(), headers={"Content-Type": "application/json"})

            def row_of(name: str, action: str) -> int | None:
                return next((i for i, r in enumerate(table_rows(app, "events"))
                             if r["NAME"] == name and r["ACTION"] == action), None)

            await until(lambda: row_of(kept, "create") is not None and row_of(gone, "destroy") is not None, 10,
                        "the volumes' events", pilot=pilot)
            table.move_cursor(row=row_of(gone, "destroy"))
            await pilot.press("enter")
            await pilot.pause()
            assert app._active == "events"
            assert any(f"volume {gone} on unix1 is not listed" in message for message, _ in notes)
            table.move_cursor(row=row_of(kept, "create"))
            await pilot.press("enter")
            await pilot.pause()
            assert app._active == "volumes"
            row = app.panes["volumes"].cursor_row_data()
            volume = row.data[0] if isinstance(row.data, tuple) else row.data  # (the volume, what uses it)
            assert (volume.name, volume.host) == (kept, "unix1")
    finally:
        unix_http(lab.d1.socket, "DELETE", f"/volumes/{kept}")


async def test_events_view_opens_on_the_daemons_recent_history_each_event_once(lab):
    """Events from before the app started are read back from the daemon when the view first opens
    (not before: no request for a view never opened), in time order before the live ones, none twice;
    `[events] read_back = 0` shows only what happens after."""
    import asyncio

    from dockyard.config.model import EventsConfig

    tag = uuid.uuid4().hex[:6]
    before = [f"evb-{tag}-{i}" for i in range(3)]
    await asyncio.to_thread(_volume_events, lab.d1, before)
    app, _ = make_app(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.fleet.host("unix1").state.value == "online", 15, "online")
        await until(lambda: "unix1" in app.fleet.history.opened, 5, "the events stream open")
        assert not any(e.name.startswith(f"evb-{tag}") for e in app.fleet.history.events())  # not asked yet
        await pilot.press("E")

        def mine() -> list[tuple[str, str, str]]:
            return [(r["HOST"], r["NAME"], r["ACTION"]) for r in table_rows(app, "events") if tag in r["NAME"]]

        earlier = [("unix1", n, a) for n in before for a in ("create", "destroy")]
        await until(lambda: mine() == earlier, 10, "the earlier events, read back", pilot=pilot)
        after = [f"eva-{tag}"]
        await asyncio.to_thread(_volume_events, lab.d1, after)
        await until(lambda: mine() == earlier + [("unix1", after[0], a) for a in ("create", "destroy")], 10,
                    "live events after them", pilot=pilot)
        seen = [(e.host, e.time_ns, e.type, e.action, e.id) for e in app.fleet.history.events()]
        assert len(seen) == len(set(seen))  # the read-back and the live stream overlap nowhere

    app, _ = make_app(config(unix_host(lab.d1, "unix1"), events=EventsConfig(read_back=0)))
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: "unix1" in app.fleet.history.opened, 15, "the events stream open")
        await pilot.press("E")
        await asyncio.sleep(1.0)  # what a read-back would have had time to bring (it takes ~10 ms here)
        await pilot.pause()
        assert not any(tag in r["NAME"] for r in table_rows(app, "events"))


# ---------------------------------------------------------------------- the rules, without a daemon


def test_history_folds_exec_events_keeps_time_order_and_its_limit():
    history = EventHistory(keep=100)
    base = 1_765_000_000_000_000_000

    def raw(action, t, cid="c1", name="web"):
        return {"Type": "container", "Action": action, "Actor": {"ID": cid, "Attributes": {"name": name}},
                "timeNano": base + t}

    assert history.record("a", raw("exec_create: sh -c true", 1)) is None
    assert history.record("a", raw("exec_die", 2)) is None
    assert history.folded == {"a": 2}
    history.record("a", raw("start", 10))
    history.record("b", raw("die", 5))  # late: goes before
    assert [e.action for e in history.events()] == ["die", "start"]
    for i in range(200):
        history.record("a", raw("start", 100 + i))
    assert 100 <= len(history) <= 110 and history.events()[-1].time_ns == base + 299
    history.stream_down("b", "daemon gone")
    history.stream_up("b")
    gap = history.events()[-1]
    assert gap.is_gap and gap.host == "b" and gap.summary.startswith("events missed on b ")
    assert rfc3339_ns(base + 5) == "2025-12-06T05:46:40.000000005Z"
    event = event_from_api("a", raw("die", 7))
    assert event.to_json()["time"].endswith(".000000007Z")



def test_read_back_history_keeps_time_order_skips_what_is_there_and_tells_no_listener():
    heard, changed = [], []
    history = EventHistory(keep=100, on_change=changed.append)
    history.listen(heard.append)
    base = 1_765_000_000_000_000_000

    def raw(action, t, cid="c1"):
        return {"Type": "container", "Action": action, "Actor": {"ID": cid, "Attributes": {"name": "web"}},
                "timeNano": base + t}

    history.record("a", raw("start", 50))
    history.record("b", raw("start", 60))
    heard.clear(), changed.clear()
    older = [event_from_api("a", raw("create", 10)), event_from_api("a", raw("start", 50)),  # the last: live too
             event_from_api("a", raw("die", 20))]
    assert history.read_back([("a", older)]) == 2
    assert [(e.host, e.action, e.time_ns - base) for e in history.events()] == [
        ("a", "create", 10), ("a", "die", 20), ("a", "start", 50), ("b", "start", 60)]
    assert heard == [] and changed == ["a"]  # problems hear only live events; the view is told once
    assert history.read_back([("a", older)]) == 0 and changed == ["a"]
    # more than it keeps: the oldest go, the newest live ones stay
    assert history.read_back([("c", [event_from_api("c", raw("create", -1000 + i, cid=f"x{i}")) for i in range(300)]),
                              ("d", [event_from_api("d", raw("create", 55))])]) == 301
    assert len(history) == 100 and changed == ["a", "c", "d"]
    assert [(e.host, e.time_ns - base) for e in history.events()[-3:]] == [("a", 50), ("d", 55), ("b", 60)]
    # full: what is older than everything kept is not taken in
    assert history.read_back([("e", [event_from_api("e", raw("create", -5000))])]) == 0


def test_parse_moment():
    now = 1_000_000.0
    assert parse_moment("10m", now) == now - 600
    assert parse_moment("0s", now) == now
    assert parse_moment("1733480000", now) == 1733480000.0
    from datetime import datetime, timezone

    assert parse_moment("2026-12-06T10:42:00Z", now) == datetime(2026, 12, 6, 10, 42, tzinfo=timezone.utc).timestamp()
    assert parse_moment("2026-12-06T10:42:00.5+01:00", now) == parse_moment("2026-12-06T09:42:00.5Z", now)
    with pytest.raises(ValueError):
        parse_moment("soon", now)


def _container(state, status, name="web"):
    from dockyard.fleet.models import Container

    return Container("h1", "c" * 64, name, "img", state, status, 0)


def test_exited_needs_a_reason_and_a_user_stop_is_none():
    limits = ProblemsConfig()
    now = time.time()
    exited = _container("exited", "Exited (1) 2 seconds ago")
    inspected = {"State": {"ExitCode": 1, "FinishedAt": "2026-01-01T00:00:00Z"},
                 "HostConfig": {"RestartPolicy": {"Name": "no"}}}
    assert container_problems(exited, inspected, None, limits, now) == []  # nothing says it was not asked for
    note = ContainerNote()
    from dockyard.fleet.events import FleetEvent

    note.feed(FleetEvent("h1", int((now - 2) * 1e9), "container", "die", "c", attributes={"exitCode": "1"}))
    found = container_problems(exited, inspected, note, limits, now)
    assert [p.kind for p in found] == ["exited"] and "not stopped by a user" in found[0].detail
    stopped = ContainerNote()
    stopped.feed(FleetEvent("h1", int((now - 3) * 1e9), "container", "kill", "c"))
    stopped.feed(FleetEvent("h1", int((now - 2) * 1e9), "container", "die", "c", attributes={"exitCode": "137"}))
    assert container_problems(_container("exited", "Exited (137) 2 seconds ago"), inspected, stopped, limits,
                              now) == []
    gave_up = {**inspected, "HostConfig": {"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3}},
               "RestartCount": 3}
    assert [p.kind for p in container_problems(exited, gave_up, None, limits, now)] == ["exited"]


def test_reclaimable_and_version_skew():
    limits = ProblemsConfig(reclaimable_gb=1)
    df = {"Images": [{"Size": 2_000_000_000, "SharedSize": 0, "Containers": 0},
                     {"Size": 5_000_000_000, "Containers": 1}],
          "Containers": [{"SizeRw": 100, "State": "exited"}],
          "Volumes": [{"UsageData": {"Size": 10, "RefCount": 0}}], "BuildCache": []}
    problem = reclaimable_problem("h1", df, limits, 0)
    assert problem is not None and problem.kind == "reclaimable" and "images 2GB" in problem.detail
    assert reclaimable_problem("h1", df, ProblemsConfig(reclaimable_gb=3), 0) is None
    from dockyard.fleet.models import Swarm, SwarmNode, SwarmSnapshot

    swarm = Swarm("sid", "a1", ("a1",))
    nodes = (SwarmNode("a1", "n1", "a1", "manager", "active", "ready", "leader", "20.10.24"),
             SwarmNode("a1", "n2", "a2", "worker", "active", "down", "", "24.0.7"))
    found = swarm_problems(SwarmSnapshot(swarm, "a1", nodes=nodes), limits, 0, {"n2": "a2"})
    assert {(p.kind, p.host, p.name) for p in found} == {("node-down", "a2", "a2"), ("version-skew", "a1", "a1")}


def test_a_container_on_an_outdated_image_is_a_problem(lab, made, tmp_path):
    ref = f"{lab.registry.host}/health/app-{uuid.uuid4().hex[:8]}:1"
    for label in ("one", "two"):
        lab.d1.docker("build", "-q", "-t", ref, "-", input=f"FROM {_lab_image()}\nLABEL dockyard.test={label}\n")
        lab.d1.docker("push", ref)
        if label == "one":
            name = _name("old")
            lab.d1.run_container(name, "sleep", "300", image=ref)
            made.append((lab.d1, name))
    path = tmp_path / "outdated.toml"
    path.write_text(lab.config_toml(hosts=("unix1",)))
    result = dockyard("--config", str(path), "problems", "--json")
    assert result.returncode == 0, result.stderr
    found = [p for p in json.loads(result.stdout)["problems"] if p["name"] == name]
    assert [(p["kind"], p["host"], p["severity"]) for p in found] == [("outdated", "unix1", "warning")]
    assert ref.split("/", 1)[1].split(":")[0] in found[0]["detail"]


def _lab_image() -> str:
    from lab import IMAGE

    return IMAGE
