"""The `[keys]` table remaps bindings by id, and the help screen shows the new keys."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace

from fleet_hosts import config, unix_host
from helpers import make_app, open_logs, showing, svg_text, until
from dockyard.ui.app import DockyardApp
from dockyard.ui.dialogs.confirm import ConfirmDialog
from dockyard.ui.dialogs.info import TextDialog


async def test_remapped_stop_key_stops_and_old_key_does_not(lab):
    """`[keys] container.stop = "x"`: x stops the container under the cursor, s no longer does, the
    help lists x for Stop, and an unknown binding id is named in a notice."""
    name = "keys-" + uuid.uuid4().hex[:6]
    # It exits as soon as it gets SIGTERM (pid 1 gets only the signals it traps): a stop that was
    # asked for shows on the daemon within a fraction of a second (measured below).
    cid = lab.d1.run_container(name, "sh", "-c", "trap 'exit 0' TERM; while :; do usleep 50000; done")
    cfg = replace(config(unix_host(lab.d1, "unix1")), keys={"container.stop": "x", "no.such.binding": "y"})
    app, notes = make_app(cfg)

    def state() -> str:
        return lab.d1.docker("inspect", "-f", "{{.State.Status}}", cid).stdout.strip()

    def stop_notices() -> list[str]:
        return [m for m, _ in notes if "stop" in m.lower()]

    async with app.run_test(size=(120, 36)) as pilot:
        pane = app.panes["containers"]
        await until(lambda: any(r.data is not None and r.data.name == name for r in pane.rows), 10, "row shown")
        index = next(i for i, r in enumerate(pane.rows) if r.data is not None and r.data.name == name)
        pane.table.move_cursor(row=index)
        await pilot.press("s")  # no longer bound to stop
        await pilot.press("question_mark")  # keys are handled in order: once the help shows, s was handled
        await until(lambda: re.search(r"█x +Stop ", svg_text(app)), 5, "the help", pilot=pilot)
        shown = svg_text(app)
        assert re.search(r"█x +Stop ", shown) and not re.search(r"█s +Stop ", shown)  # the help lists x for Stop
        await pilot.press("escape")
        await until(lambda: not isinstance(app.screen, TextDialog), 5, "help closed")
        await pilot.pause(1.0)  # s was handled; a stop it asked for would be done by now
        assert stop_notices() == [] and state() == "running"
        await pilot.press("x")
        await until(lambda: showing(app, ConfirmDialog), 5, "the remapped key asks, as s did")
        await pilot.press("y")
        took = await until(lambda: state() == "exited", 15, "stopped by the remapped key")
        assert took < 1.0, f"a stop took {took:.2f} s: longer than s was given to show one"
        await until(lambda: any(m.startswith("stopped") for m in stop_notices()), 5, "the stop reported")
        assert len([m for m in stop_notices() if m.startswith("stopped")]) == 1
    assert any("no.such.binding" in m for m, _ in notes)


# --------------------------------------------------------------------------- keys typed in a burst

_CHARS = {"slash": "/", "colon": ":", "enter": "\r", "space": " "}


def _burst(app, *keys: str) -> None:
    """Queue keys the way a terminal delivers a paste or a fast typist over SSH: every key is
    waiting before the first is handled (`pilot.press` waits for each key to settle)."""
    from textual import events

    for key in keys:
        event = events.Key(key, _CHARS.get(key, key if len(key) == 1 else None))
        event.set_sender(app)
        app._driver.send_message(event)  # noqa: SLF001 - what the terminal driver does with input


async def test_keys_typed_right_after_slash_go_into_the_filter_not_to_the_pane(lab):
    """`/zoa` in one burst: z (group), o (sort) and a (all) are text in the filter box."""
    name = "burst-" + uuid.uuid4().hex[:6]
    lab.d1.run_container(name, "sleep", "300")
    app = DockyardApp(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=(120, 36)) as pilot:
        pane = app.panes["containers"]
        await until(lambda: any(r.data is not None and r.data.name == name for r in pane.rows), 10, "row shown")
        before = (pane.grouping, pane.show_all, pane.sort_key)
        _burst(app, "slash", "z", "o", "a")
        await until(lambda: app.query_one("#prompt").value == "zoa", 5, "typed into the filter box")
        assert (pane.grouping, pane.show_all, pane.sort_key) == before
        _burst(app, "enter")
        await until(lambda: app.filter_text == "zoa", 5, "filter applied")
        await until(lambda: not app.query_one("#prompt").display, 2, "the prompt closed")  # the burst's last key
    lab.d1.docker("rm", "-f", name)


async def test_keys_typed_right_after_slash_in_logs_search_not_toggle(lab):
    """`/warn⏎` in one burst in the logs view: a search for "warn", wrap (w) untouched."""
    name = "burst-" + uuid.uuid4().hex[:6]
    cid = lab.d1.run_container(name, "sh", "-c", "echo first; echo warn here; sleep 300")
    app = DockyardApp(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(app, cid, name, lines=2, tail=100)
        _burst(app, "slash", "w", "a", "r", "n", "enter")
        await until(lambda: screen.search == "warn", 5, "searched for warn")
        await until(lambda: not screen.query_one("#logs-input").display, 2, "the search box closed")
        assert screen.wrap is False
        assert "warn here" in screen.log_widget.plain(screen.log_widget.current_match)
    lab.d1.docker("rm", "-f", cid)
