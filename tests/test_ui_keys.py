"""The `[keys]` table remaps bindings by id, and the help screen shows the new keys."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace

from fleet_hosts import config, unix_host
from helpers import open_logs, svg_text, until
from dockyard.ui.app import DockyardApp


async def test_remapped_stop_key_stops_and_old_key_does_not(lab):
    name = "keys-" + uuid.uuid4().hex[:6]
    cid = lab.d1.run_container(name, "sleep", "300")
    cfg = replace(config(unix_host(lab.d1, "unix1")), keys={"container.stop": "x", "no.such.binding": "y"})
    app = DockyardApp(cfg)
    notes = []
    app.notify = lambda message, **kw: notes.append(message)  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        pane = app.panes["containers"]
        await until(lambda: any(r.data is not None and r.data.name == name for r in pane.rows), 10, "row shown")
        index = next(i for i, r in enumerate(pane.rows) if r.data is not None and r.data.name == name)
        pane.table.move_cursor(row=index)
        await pilot.press("s")  # no longer bound to stop
        await pilot.pause(0.5)
        assert lab.d1.docker("inspect", "-f", "{{.State.Status}}", cid).stdout.strip() == "running"
        await pilot.press("x")
        await until(lambda: lab.d1.docker("inspect", "-f", "{{.State.Status}}", cid).stdout.strip() == "exited",
                     15, "stopped by the remapped key")
        await pilot.press("question_mark")
        await pilot.pause(0.2)
        shown = svg_text(app)
        assert re.search(r"█x +Stop ", shown) and not re.search(r"█s +Stop ", shown)  # the help lists x for Stop
    assert any("no.such.binding" in n for n in notes)


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
        await pilot.pause(0.1)  # let the burst's last key finish its way before the app closes
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
        await pilot.pause(0.05)
        assert screen.wrap is False
        assert "warn here" in screen.log_widget.plain(screen.log_widget.current_match)
    lab.d1.docker("rm", "-f", cid)
