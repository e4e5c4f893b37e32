"""The logs view of a container that is not running: its own lines first, then one calm notice,
and the status says it is not running instead of FOLLOWING. Real lab, the app headless."""

from __future__ import annotations

import uuid

from fleet_hosts import config, unix_host
from helpers import make_app, open_logs, svg_text, until


async def test_an_exited_container_s_logs_read_as_such(lab):
    name = "exited-" + uuid.uuid4().hex[:6]
    cid = lab.d1.run_container(name, "sh", "-c", "echo first; echo second", detach=False)
    app, _ = make_app(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_logs(app, cid, name, lines=3)
        view = screen.log_widget
        await until(lambda: "NOT RUNNING" in svg_text(app), 10, "the status says not running", pilot=pilot)
        lines = view.plain_lines()
        assert [ln.strip() for ln in lines[:2]] == ["first", "second"]  # its own output first
        assert "not running" in lines[2] and "broke" not in "\n".join(lines), lines
        assert "FOLLOWING" not in svg_text(app)
    lab.d1.docker("rm", "-f", cid)
