"""The Textual UI against the real lab: what a user sees and what happens on the daemons.

Every test drives `DockyardApp(...).run_test(size=(120, 36))` with a Pilot, types keys as a
user would, and asserts on the DataTable cells, the summary line, notifications and dialogs,
and — for anything that changes state — on the daemons themselves (`docker inspect`).
Waiting is always a poll with a deadline (`until`), never a fixed sleep hiding a race.
"""

from __future__ import annotations

import io
import subprocess
import uuid
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Button, Checkbox, Label, Static

from fleet_hosts import config, ssh_host, tls_host, unix_host
from helpers import make_app, names_on_screen, plain, screen_text, showing, summary, svg_text, table_rows, tabs, until
from lab import IMAGE
from dockyard.ui.keyhints import KeyHints
from dockyard.config.model import HostConfig
from dockyard.fleet import Fleet, HostState, ReadOnlyError, Timing
from dockyard.textfmt import safe
from dockyard.ui.dialogs.confirm import ConfirmDialog
from dockyard.ui.dialogs.hostkey import HostKeyDialog
from dockyard.ui.dialogs.info import TextDialog

SIZE = (120, 36)
MUTATING_KEYS = ("s", "S", "r", "p", "ctrl+k", "ctrl+d")


# --------------------------------------------------------------------------- helpers


def uniq(prefix: str = "ui") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def run(made, daemon, name: str, *, labels: dict[str, str] | None = None) -> str:
    """A running `sleep 300` container (stop_timeout=1, network none) that the test cleans up."""
    made.append((daemon, name))
    return daemon.run_container(name, "sleep", "300", labels=labels)


def one_on_each(made, lab, prefix: str) -> tuple[str, str, str]:
    """A running container on unix1 (d1) and one on ssh (d2): (token in both names, unix1's, ssh's)."""
    token = uuid.uuid4().hex[:8]
    a, b = f"{prefix}1-{token}", f"{prefix}2-{token}"
    run(made, lab.d1, a)
    run(made, lab.d2, b)
    return token, a, b


def unix1(lab):
    """The config of one host: unix1 (d1's socket)."""
    return config(unix_host(lab.d1, "unix1"))


def unix1_and_ssh(lab):
    """The config of two hosts: unix1 (d1's socket) and ssh (d2 through the lab's sshd)."""
    return config(unix_host(lab.d1, "unix1"), ssh_host(lab, lab.d2, name="ssh"))


def create(made, daemon, name: str) -> str:
    """A container in state `created` (never started)."""
    made.append((daemon, name))
    return daemon.docker("create", "--network", "none", "--name", name, IMAGE, "sleep", "300").stdout.strip()


def docker_state(daemon, name: str) -> str | None:
    """The container's state as the daemon reports it; None when it does not exist."""
    proc = daemon.docker("inspect", "-f", "{{.State.Status}}", name, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


async def type_text(pilot, text: str) -> None:
    await pilot.press(*text)


async def set_filter(pilot, text: str) -> None:
    """`/`, type the words, Enter."""
    await pilot.press("slash")
    await type_text(pilot, text)
    await pilot.press("enter")


async def filtered_to(pilot, host: str, name: str) -> None:
    """Wait for the container's row, then filter by its name until it is the only row."""
    app = pilot.app
    await until(lambda: (host, name) in names_on_screen(app), 5, "row")
    await set_filter(pilot, name)
    await until(lambda: len(table_rows(app)) == 1, 2, "one row")


async def command(pilot, text: str) -> None:
    """`:`, type the command, Enter."""
    await pilot.press("colon")
    await type_text(pilot, text)
    await pilot.press("enter")


def fingerprint_of(pub_path: str) -> tuple[str, str]:
    """(SHA256 fingerprint, key type) as ssh-keygen reports them."""
    out = subprocess.run(["ssh-keygen", "-lf", pub_path], capture_output=True, text=True, check=True).stdout
    bits, fp, *rest = out.split()
    return fp, rest[-1].strip("()")  # e.g. "ED25519"


# --------------------------------------------------------------------------- rows and live state


async def test_rows_from_three_hosts_including_ssh_show_with_their_hosts(lab, made):
    """How fast they show is bench_tui.py's launch benchmark (target <= 1 s), not a test's."""
    names = {"unix1": uniq("three"), "ssh": uniq("three"), "tls3": uniq("three")}
    run(made, lab.d1, names["unix1"])
    run(made, lab.d2, names["ssh"])
    run(made, lab.d3, names["tls3"])
    cfg = config(unix_host(lab.d1, "unix1"), ssh_host(lab, lab.d2, name="ssh"), tls_host(lab, lab.d3, "tls3"))
    app, _ = make_app(cfg)
    async with app.run_test(size=SIZE) as pilot:
        wanted = {(host, name) for host, name in names.items()}
        await until(lambda: wanted <= names_on_screen(app), 30, "rows of unix1, ssh and tls3")
        rows = {r["NAME"]: r for r in table_rows(app)}
        for host, name in names.items():
            assert rows[name]["HOST"] == host
            assert rows[name]["STATE"] == "running"
            assert rows[name]["STATUS"].startswith("Up")
        # the HOST column names the host; no container of another daemon is attributed to it
        assert ("unix1", names["ssh"]) not in names_on_screen(app)
        await until(lambda: "hosts 3/3 online" in summary(app), 10, "summary counts every host online")
        assert "scope: all hosts" in summary(app)


async def test_container_started_outside_appears_live(lab, made):
    """A container run or removed with the docker CLI shows / goes by the daemon's events alone: the
    periodic reconcile is pushed out of the test's reach. How fast is bench_fleet.py's `events`."""
    cfg = unix1_and_ssh(lab)
    timing = Timing()
    timing.reconcile_every = 3600.0
    app, _ = make_app(cfg, fleet=Fleet(cfg, live=True, timing=timing))
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.fleet.host("unix1").state == HostState.ONLINE
                    and app.fleet.host("ssh").state == HostState.ONLINE, 20, "hosts online")
        for daemon, host in ((lab.d1, "unix1"), (lab.d2, "ssh")):
            name = uniq("outside")
            run(made, daemon, name)
            await until(lambda: (host, name) in names_on_screen(app), 20, f"{name} on {host}")
            # and it goes away when removed outside
            daemon.docker("rm", "-f", name)
            await until(lambda: (host, name) not in names_on_screen(app), 20, f"{name} gone")


async def test_dead_host_is_unreachable_while_the_others_show(lab, made):
    name = uniq("alive")
    run(made, lab.d1, name)
    cfg = config(unix_host(lab.d1, "unix1"), HostConfig(name="dead", url="tcp://127.0.0.1:9", connect_timeout=1))
    app, _ = make_app(cfg)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: ("unix1", name) in names_on_screen(app), 5, "unix1 rows despite the dead host")
        await pilot.press("1")
        assert app.active_pane.pane_id == "hosts"

        def host_row(host):
            return next((r for r in table_rows(app, "hosts") if r["NAME"] == host), None)

        await until(lambda: host_row("dead") is not None and host_row("dead")["STATE"].startswith("unreachable"),
                    5, "dead host shown unreachable")
        assert host_row("unix1")["STATE"] == "online"
        assert host_row("dead")["TRANSPORT"] == "tcp"
        assert host_row("dead")["CONTAINERS"] == "-"
        assert "hosts 1/2 online" in summary(app)
        await pilot.press("2")
        await until(lambda: ("unix1", name) in names_on_screen(app), 2, "containers pane again")
        assert all(r["HOST"] == "unix1" for r in table_rows(app))


# --------------------------------------------------------------------------- filter


async def test_filter_typed_with_keys_narrows_rows_and_esc_clears(lab, made):
    token = uuid.uuid4().hex[:8]
    a, b, c, d = (f"flt{i}-{token}" for i in "abcd")
    run(made, lab.d1, a, labels={"tier": f"web-{token}"})
    run(made, lab.d2, b, labels={"tier": "db"})
    run(made, lab.d3, c)
    create(made, lab.d1, d)  # state created: hidden once `a` hides stopped ones
    cfg = config(unix_host(lab.d1, "unix1"), ssh_host(lab, lab.d2, name="ssh"), tls_host(lab, lab.d3, "tls3"))
    app, _ = make_app(cfg)
    mine = {("unix1", a), ("ssh", b), ("tls3", c)}
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: {*mine, ("unix1", d)} <= names_on_screen(app), 8, "rows")
        await pilot.press("a")  # running ones only

        await set_filter(pilot, token)  # a substring of any visible column
        await until(lambda: names_on_screen(app) == mine, 2, "substring filter")
        assert f"filter: {token}" in summary(app)
        assert not app.query_one("#prompt").display  # Enter closed the prompt, the filter stays

        await set_filter(pilot, " host:ssh")  # the prompt opens holding the current filter
        await until(lambda: names_on_screen(app) == {("ssh", b)}, 2, "host:ssh")

        await pilot.press("escape")  # app-level esc clears the filter
        await until(lambda: mine < names_on_screen(app) or mine == names_on_screen(app), 2, "cleared")
        assert "filter:" not in summary(app)

        await set_filter(pilot, f"label:tier=web-{token}")
        await until(lambda: names_on_screen(app) == {("unix1", a)}, 2, "label:k=v")
        await pilot.press("escape")

        await pilot.press("a")  # show stopped/created ones again
        await set_filter(pilot, f"state:running {token}")
        await until(lambda: names_on_screen(app) == mine, 2, "state:running")
        await pilot.press("escape")
        await set_filter(pilot, f"state:created {token}")
        await until(lambda: names_on_screen(app) == {("unix1", d)}, 2, "state:created")
        await pilot.press("escape")
        await set_filter(pilot, f"!host:unix1 {token}")
        await until(lambda: names_on_screen(app) == {("ssh", b), ("tls3", c)}, 2, "negated host")

        # esc inside the prompt cancels typing and clears the filter too
        await pilot.press("slash")
        assert app.query_one("#prompt").has_focus
        await type_text(pilot, " nothing-matches-this")
        await until(lambda: names_on_screen(app) == set(), 2, "filter applies while typing")
        await pilot.press("escape")
        await until(lambda: {*mine, ("unix1", d)} <= names_on_screen(app), 2, "esc in prompt clears")
        assert not app.query_one("#prompt").display
        assert app.filter_text == ""


# --------------------------------------------------------------------------- actions


async def test_mark_across_hosts_and_stop_with_confirm(lab, made):
    token, a, b = one_on_each(made, lab, "stop")
    app, notes = make_app(unix1_and_ssh(lab))
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: {("unix1", a), ("ssh", b)} <= names_on_screen(app), 8, "rows")
        await set_filter(pilot, token)
        await until(lambda: len(table_rows(app)) == 2, 2, "just the two")
        await pilot.press("g", "space", "space")  # marks the row and moves down
        pane = app.panes["containers"]
        assert len(pane.marked) == 2
        assert all(r[" "] == "●" for r in table_rows(app))
        assert "2 marked" in summary(app)
        # and both names in the marked colour (a cell whose style alone changed is repainted too)
        table = pane.table
        name_at = [plain(c.label) for c in table.ordered_columns].index("NAME")
        for i in range(table.row_count):
            assert app.console.get_style(table.get_row_at(i)[name_at].style or "none").color.name == "magenta"

        await pilot.press("s")
        await until(lambda: showing(app, ConfirmDialog), 2, "confirm dialog")
        dialog = app.screen
        text = screen_text(dialog)
        assert "Stop 2 container(s): 1 on ssh, 1 on unix1?" in text
        assert sorted(host for host, _ in dialog.targets) == ["ssh", "unix1"]
        lines = [line.strip() for line in text.splitlines()]
        assert any(line.startswith("unix1") and a in line for line in lines), text
        assert any(line.startswith("ssh") and b in line for line in lines), text
        assert docker_state(lab.d1, a) == "running"  # nothing happens before the answer

        await pilot.press("y")
        await until(lambda: not isinstance(app.screen, ConfirmDialog), 2, "dialog closed")
        await until(lambda: docker_state(lab.d1, a) == "exited" and docker_state(lab.d2, b) == "exited",
                    10, "both stopped on the daemons")
        await until(lambda: any(m.startswith("stopped 2 container(s)") for m, _ in notes), 5,
                    "result notification")
        result = next(m for m, _ in notes if m.startswith("stopped 2"))
        assert "1 on ssh" in result and "1 on unix1" in result
        # stopped containers stay in sight (every container is shown by default), as exited
        await until(lambda: [r["STATE"] for r in table_rows(app)] == ["exited", "exited"], 3, "rows read exited")


async def test_per_container_failure_is_reported_with_its_host(lab, made):
    """A container removed behind Dockyard's back while the confirm is open: that one fails, by name."""
    token, a, b = one_on_each(made, lab, "fail")
    app, notes = make_app(unix1_and_ssh(lab))
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: {("unix1", a), ("ssh", b)} <= names_on_screen(app), 8, "rows")
        await set_filter(pilot, token)
        await until(lambda: len(table_rows(app)) == 2, 2, "just the two")
        await pilot.press("g", "space", "space", "s")
        await until(lambda: showing(app, ConfirmDialog), 2, "confirm dialog")
        lab.d2.docker("rm", "-f", b)
        await pilot.press("y")
        await until(lambda: any(s == "error" and b in m for m, s in notes), 10, "failure notice")
        failure = next(m for m, s in notes if s == "error" and b in m)
        assert failure.startswith(f"stop {b} on ssh failed:"), failure
        assert "No such container" in failure
        await until(lambda: any(m.startswith("stopped 1 container(s): 1 on unix1") for m, _ in notes), 5,
                    "the other one's success")
        assert docker_state(lab.d1, a) == "exited"


async def test_remove_confirm_with_force_option(lab, made):
    name = uniq("rm")
    run(made, lab.d1, name)
    app, notes = make_app(unix1(lab))
    async with app.run_test(size=SIZE) as pilot:
        await filtered_to(pilot, "unix1", name)

        # force unticked on a running container: the daemon refuses, and we say so
        await pilot.press("ctrl+d")
        await until(lambda: showing(app, ConfirmDialog), 2, "remove dialog")
        dialog = app.screen
        text = screen_text(dialog)
        assert "Remove 1 container(s): 1 on unix1?" in text
        assert name in text and "running" in text
        force = dialog.query_one("#opt-force", Checkbox)
        assert force.value is True and "Force" in plain(force.label)  # preselected: it runs
        assert dialog.query_one("#opt-volumes", Checkbox).value is False
        assert dialog.focused is dialog.query_one("#cancel", Button)  # the safe default
        await pilot.click("#opt-force")
        assert app.screen.query_one("#opt-force", Checkbox).value is False
        await pilot.press("y")
        await until(lambda: any(s == "error" and name in m for m, s in notes), 10, "refusal reported")
        assert next(m for m, s in notes if s == "error" and name in m).startswith(f"remove {name} on unix1 failed")
        assert docker_state(lab.d1, name) == "running"

        # `n` cancels: nothing happens
        await pilot.press("ctrl+d")
        await until(lambda: showing(app, ConfirmDialog), 2, "remove dialog again")
        await pilot.press("n")
        await until(lambda: not isinstance(app.screen, ConfirmDialog), 2, "cancelled")
        assert docker_state(lab.d1, name) == "running"

        # with force ticked (as it comes): removed on the daemon, and the row goes
        await pilot.press("ctrl+d")
        await until(lambda: showing(app, ConfirmDialog), 2, "remove dialog, third time")
        assert app.screen.query_one("#opt-force", Checkbox).value is True
        await pilot.press("y")
        await until(lambda: docker_state(lab.d1, name) is None, 10, "removed on the daemon")
        await until(lambda: ("unix1", name) not in names_on_screen(app), 3, "row gone")
        assert any(m.startswith("removed 1 container(s): 1 on unix1") for m, _ in notes)


# --------------------------------------------------------------------------- SSH host keys


async def test_unknown_host_key_dialog_accept_once(lab, made, tmp_path):
    name = uniq("hk")
    run(made, lab.d2, name)
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("")
    cfg = config(unix_host(lab.d1, "unix1"), ssh_host(lab, lab.d2, name="ssh", known_hosts=str(known_hosts)))
    app, notes = make_app(cfg)
    fingerprint, key_type = fingerprint_of(lab.target.host_key_pub)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: showing(app, HostKeyDialog), 8, "host-key dialog")
        dialog = app.screen
        text = screen_text(dialog)
        assert "Unknown SSH host key" in text
        assert f"Fingerprint: {fingerprint}" in text
        assert key_type.lower() in text.lower()  # "ssh-ed25519"
        assert f"Endpoint: [127.0.0.1]:{lab.target.port}" in text
        assert {b.id for b in dialog.query(Button)} == {"reject", "once", "save"}
        assert app.fleet.host("ssh").state == HostState.HOST_KEY_UNKNOWN
        assert ("ssh", name) not in names_on_screen(app)

        await pilot.press("o")
        await until(lambda: not isinstance(app.screen, HostKeyDialog), 2, "dialog closed")
        await until(lambda: app.fleet.host("ssh").state == HostState.ONLINE, 8, "ssh online")
        await until(lambda: ("ssh", name) in names_on_screen(app), 5, "its containers appear")
        assert any("host key accepted for this session" in m for m, _ in notes)
        assert known_hosts.read_text() == ""  # accept once does not save

        await pilot.press("1")
        await until(lambda: any(r["NAME"] == "ssh" and r["STATE"] == "online" for r in table_rows(app, "hosts")),
                    3, "Hosts pane shows ssh online")


async def test_changed_host_key_is_a_warning_without_accept(lab, made, tmp_path):
    known_hosts = tmp_path / "known_hosts"
    other_type, other_b64 = Path(lab.jump.host_key_pub).read_text().split()[:2]  # a key that is not target's
    known_hosts.write_text(f"[127.0.0.1]:{lab.target.port} {other_type} {other_b64}\n")
    cfg = config(unix_host(lab.d1, "unix1"), ssh_host(lab, lab.d2, name="ssh", known_hosts=str(known_hosts)))
    app, _ = make_app(cfg)
    fingerprint, _kt = fingerprint_of(lab.target.host_key_pub)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: showing(app, HostKeyDialog), 8, "host-key dialog")
        dialog = app.screen
        assert dialog.has_class("changed")  # the red border
        title = dialog.query(Label).first()
        assert plain(title.content) == "WARNING: REMOTE HOST KEY HAS CHANGED"
        assert "red" in str(title.content.style)
        text = screen_text(dialog)
        assert f"Fingerprint: {fingerprint}" in text
        assert str(known_hosts) in text
        assert {b.id for b in dialog.query(Button)} == {"reject"}  # no accept button
        assert "Accept" not in text
        await pilot.press("o")  # the accept keys do nothing here
        await pilot.press("s")
        assert isinstance(app.screen, HostKeyDialog)
        await pilot.press("escape")
        await until(lambda: not isinstance(app.screen, HostKeyDialog), 2, "closed")
        await pilot.pause(0.5)  # the answer was given; an accept would now be reconnecting or writing known_hosts
        assert app.fleet.host("ssh").state == HostState.HOST_KEY_CHANGED
        assert known_hosts.read_text() == f"[127.0.0.1]:{lab.target.port} {other_type} {other_b64}\n"
        await pilot.press("1")
        await until(lambda: any(r["NAME"] == "ssh" and r["STATE"].startswith("host-key-changed")
                                       for r in table_rows(app, "hosts")), 3, "Hosts pane: host-key-changed")


# --------------------------------------------------------------------------- read-only


async def test_readonly_offers_no_mutating_keys_and_the_controller_refuses(lab, made):
    name = uniq("ro")
    cid = run(made, lab.d1, name)
    app, notes = make_app(unix1(lab), readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        await filtered_to(pilot, "unix1", name)
        assert "READ-ONLY" in summary(app)
        active = app.active_bindings
        assert "space" in active and "a" in active  # the pane's harmless keys are there ...
        for key in MUTATING_KEYS:  # ... its mutating ones are not
            assert key not in active, f"{key} offered in read-only mode"
        await pilot.pause(0.1)
        footer_text = app.query_one(KeyHints).text.plain
        for word in ("Stop", "Start", "Restart", "Kill", "Remove"):
            assert word not in footer_text.split(), footer_text

        await pilot.press("s", "ctrl+k", "ctrl+d")
        assert not isinstance(app.screen, ConfirmDialog)
        with pytest.raises(ReadOnlyError):
            await app.fleet.containers.action("unix1", cid, "stop")
        results = await app.fleet.containers.bulk_action([("unix1", cid)], "kill")
        assert not results[0].ok and "read-only" in results[0].error
        await pilot.pause(1.5)  # a stop with stop_timeout=1 would have finished by now
        assert docker_state(lab.d1, name) == "running"


async def test_not_readonly_offers_the_mutating_keys(lab, made):
    """The counterpart of the read-only test: the same keys are offered normally."""
    name = uniq("rw")
    run(made, lab.d1, name)
    app, _ = make_app(unix1(lab))
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: ("unix1", name) in names_on_screen(app), 5, "row")
        active = app.active_bindings
        for key in MUTATING_KEYS:
            assert key in active
        assert "READ-ONLY" not in summary(app)


async def test_a_read_only_host_says_so_before_anything_is_asked(lab, made):
    """A host with `readonly = true` in a writable fleet: its keys stay (other hosts take changes);
    kill on its container says, in the controller's words, that the host is read-only, and asks nothing."""
    name = uniq("rohost")
    run(made, lab.d1, name)
    app, notes = make_app(config(unix_host(lab.d1, "unix1", readonly=True)))
    async with app.run_test(size=SIZE) as pilot:
        await filtered_to(pilot, "unix1", name)
        await pilot.press("ctrl+k")
        await until(lambda: any("host unix1 is read-only" in m for m, _ in notes), 3, "the refusal")
        assert not isinstance(app.screen, ConfirmDialog)
        assert docker_state(lab.d1, name) == "running"


# --------------------------------------------------------------------------- hostile daemon strings


HOSTILE_MARKUP = "[red]x[/red][/foo]"
HOSTILE_ESCAPES = "\x1b]0;pwn\x07\x1b[2J"


async def test_hostile_project_labels_render_literally(lab, made):
    token = uuid.uuid4().hex[:8]
    markup, escapes = f"hostile1-{token}", f"hostile2-{token}"
    project = "com.docker.compose.project"
    run(made, lab.d1, markup, labels={project: HOSTILE_MARKUP, "note": HOSTILE_ESCAPES})
    run(made, lab.d1, escapes, labels={project: HOSTILE_ESCAPES})
    assert lab.d1.docker("inspect", "-f", '{{index .Config.Labels "com.docker.compose.project"}}',
                         escapes).stdout.rstrip("\n") == HOSTILE_ESCAPES
    app, _ = make_app(unix1(lab))
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: {("unix1", markup), ("unix1", escapes)} <= names_on_screen(app), 5, "rows")
        await set_filter(pilot, token)
        await until(lambda: len(table_rows(app)) == 2, 2, "two rows")
        rows = {r["NAME"]: r for r in table_rows(app)}
        assert rows[markup]["PROJECT"] == HOSTILE_MARKUP
        assert rows[escapes]["PROJECT"] == safe(HOSTILE_ESCAPES) == "\\x1b]0;pwn\\x07\\x1b[2J"
        await pilot.resize_terminal(200, 36)  # PROJECT, the last column, shows when there is room for it
        await until(lambda: "PROJECT" in svg_text(app), 2, "the PROJECT column on screen", pilot=pilot)
        svg = app.export_screenshot()
        assert "\x1b" not in svg and "\x07" not in svg
        on_screen = svg_text(app)
        assert HOSTILE_MARKUP in on_screen  # the brackets reach the screen as text
        assert "\\x1b]0;pwn\\x07\\x1b[2J" in on_screen

        # the same strings in a filter, a group header and a confirm dialog: still literal, no crash
        await set_filter(pilot, " project:[red]")
        await until(lambda: names_on_screen(app) == {("unix1", markup)}, 2, "project filter")
        await pilot.press("escape")
        await set_filter(pilot, token)
        await pilot.press("z", "z")  # grouping: host, then project
        await until(lambda: app.panes["containers"].grouping == "project", 2, "grouped by project")
        headers = [r["HOST"] for r in table_rows(app) if r["HOST"].startswith("▼ ")]
        assert sorted(headers) == sorted([f"▼ {HOSTILE_MARKUP}", f"▼ {safe(HOSTILE_ESCAPES)}"])
        assert f"▼ {HOSTILE_MARKUP}" in svg_text(app)
        await pilot.press("ctrl+a", "s")
        await until(lambda: showing(app, ConfirmDialog), 2, "confirm")
        # painted (a screenshot renders it) without raising
        await until(lambda: "Stop 2 container(s)" in svg_text(app), 2, "the confirm dialog on screen",
                    pilot=pilot)
        await pilot.press("n")
        assert app.is_running
        assert docker_state(lab.d1, markup) == "running"


# --------------------------------------------------------------------------- keys: scope, help, all, group


async def test_command_mode_host_scoping(lab, made):
    _, a, b = one_on_each(made, lab, "scope")
    app, notes = make_app(unix1_and_ssh(lab))
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: {("unix1", a), ("ssh", b)} <= names_on_screen(app), 8, "rows")
        await command(pilot, "host ssh")
        await until(lambda: app.scope == "ssh", 2, "scope set")
        await until(lambda: {h for h, _ in names_on_screen(app)} == {"ssh"}, 2, "only ssh rows")
        assert ("ssh", b) in names_on_screen(app)
        assert "scope: ssh" in summary(app)

        await command(pilot, "host nosuch")
        assert any(m == "no host named 'nosuch'" and s == "error" for m, s in notes)
        assert app.scope == "ssh"

        await command(pilot, "all")
        await until(lambda: {("unix1", a), ("ssh", b)} <= names_on_screen(app), 2, "all hosts again")
        assert "scope: all hosts" in summary(app)

        # tab completes the host name in command mode
        await pilot.press("colon")
        await type_text(pilot, "host un")
        # the suggester runs apart; its completion is painted after the typed text
        await until(lambda: "host unix1" in svg_text(app), 2, "the completion offered", pilot=pilot)
        await pilot.press("tab", "enter")
        await until(lambda: app.scope == "unix1", 2, "completed scope")
        assert {h for h, _ in names_on_screen(app)} == {"unix1"}


async def test_help_opens_and_esc_closes(lab):
    app, _ = make_app(unix1(lab))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await until(lambda: showing(app, TextDialog), 2, "help dialog")
        assert "Keys" in screen_text(app.screen)
        rendered = svg_text(app)
        for text in ("Containers pane", "Stop", "Remove", "Mark"):
            assert text in rendered, text  # on screen, above the fold
        console = Console(width=120, record=True, file=io.StringIO())
        console.print(app.screen.query_one("#body", Static).content)
        body = console.export_text()
        for text in (":host NAME", "label:k=v", "Everywhere"):
            assert text in body, text  # further down the scrollable help
        await pilot.press("escape")
        await until(lambda: not isinstance(app.screen, TextDialog), 2, "help closed")
        assert app.active_pane.pane_id == "containers"


async def test_a_toggles_stopped_containers(lab, made):
    token = uuid.uuid4().hex[:8]
    up, down = f"up-{token}", f"down-{token}"
    run(made, lab.d1, up)
    create(made, lab.d1, down)
    app, _ = make_app(unix1(lab))
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: ("unix1", up) in names_on_screen(app), 5, "running row")
        await set_filter(pilot, token)
        await until(lambda: names_on_screen(app) == {("unix1", up), ("unix1", down)}, 2, "all, by default")
        row = next(r for r in table_rows(app) if r["NAME"] == down)
        assert row["STATE"] == "created" and row["STATUS"] == "Created" and row["CPU%"] == "-"
        assert "all" in tabs(app).split()
        await pilot.press("a")
        await until(lambda: names_on_screen(app) == {("unix1", up)}, 2, "running only")
        assert "running only" in tabs(app)
        await pilot.press("a")
        await until(lambda: names_on_screen(app) == {("unix1", up), ("unix1", down)}, 2, "all again")


async def test_z_groups_by_host_with_header_rows(lab, made):
    token = uuid.uuid4().hex[:8]
    a1, a2, b = f"grp1-{token}", f"grp2-{token}", f"grp3-{token}"
    run(made, lab.d1, a1)
    run(made, lab.d1, a2)
    run(made, lab.d2, b)
    app, _ = make_app(unix1_and_ssh(lab))
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: {("unix1", a1), ("unix1", a2), ("ssh", b)} <= names_on_screen(app), 8, "rows")
        await set_filter(pilot, token)
        await until(lambda: len(table_rows(app)) == 3, 2, "three rows")
        assert not any(r["NAME"].startswith("▼") for r in table_rows(app))
        await pilot.press("z")
        await until(lambda: len(table_rows(app)) == 5, 2, "two header rows added")
        rows = table_rows(app)
        # a header per host in config order ("▼ HOST", then "running/total"), its containers below it
        assert [(r["HOST"], r["NAME"]) for r in rows] == [
            ("▼ unix1", "2/2 running"), ("unix1", a1), ("unix1", a2), ("▼ ssh", "1/1 running"), ("ssh", b)]
        assert rows[0][" "] == ""
        assert "grouped by host" in tabs(app)
        # a header row is not a container: marking it does nothing
        await pilot.press("g", "space")
        assert app.panes["containers"].marked == set()
        await pilot.press("z", "z")  # project, then none
        await until(lambda: len(table_rows(app)) == 3, 2, "ungrouped")
        assert "grouped" not in tabs(app)
