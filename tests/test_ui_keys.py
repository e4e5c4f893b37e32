"""The `[keys]` table remaps bindings by id, and the help screen shows the new keys."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import replace

from fleet_hosts import config, unix_host
from tui.ui.app import DockyardApp


async def _until(predicate, timeout: float, what: str) -> None:
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < timeout, what
        await asyncio.sleep(0.05)


async def test_remapped_stop_key_stops_and_old_key_does_not(lab):
    name = "keys-" + uuid.uuid4().hex[:6]
    cid = lab.d1.run_container(name, "sleep", "300")
    cfg = replace(config(unix_host(lab.d1, "unix1")), keys={"container.stop": "x", "no.such.binding": "y"})
    app = DockyardApp(cfg)
    notes = []
    app.notify = lambda message, **kw: notes.append(message)  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        pane = app.panes["containers"]
        await _until(lambda: any(r.data is not None and r.data.name == name for r in pane.rows), 10, "row shown")
        index = next(i for i, r in enumerate(pane.rows) if r.data is not None and r.data.name == name)
        pane.table.move_cursor(row=index)
        await pilot.press("s")  # no longer bound to stop
        await pilot.pause(0.5)
        assert lab.d1.docker("inspect", "-f", "{{.State.Status}}", cid).stdout.strip() == "running"
        await pilot.press("x")
        await _until(lambda: lab.d1.docker("inspect", "-f", "{{.State.Status}}", cid).stdout.strip() == "exited",
                     15, "stopped by the remapped key")
        await pilot.press("question_mark")
        await pilot.pause(0.2)
        body = str(app.screen.query_one("#body").render())
        assert "x" in body.split("Stop")[0].splitlines()[-1]  # the help lists x for Stop
    assert any("no.such.binding" in n for n in notes)
