"""No daemon reply kills the TUI: against a malformed daemon (tests/malformed_daemon.py) that lists one
container correctly and answers inspect, top, stats, logs and events with malformed or unexpected
bodies, the app keeps running and the user reads a notice naming the host and what failed.

And a daemon outside the supported Docker Engine API range is a clear host state, not errors.
"""

from __future__ import annotations

import json

import pytest
from malformed_daemon import REPLIES, VICTIM_ID, MalformedDaemon
from fleet_hosts import config
from helpers import dockyard, make_app, screen_text, table_rows, until

from dockyard.config.model import HostConfig
from dockyard.fleet import Fleet, HostState
from dockyard.fleet.docker_api import SUPPORTED_API, api_text
from dockyard.ui.container_view import ContainerScreen
from dockyard.ui.logs import LogsScreen, LogView

HOST = "fakehost"


def fake_config(path: str):
    return config(HostConfig(name=HOST, url=f"unix://{path}", connect_timeout=3, request_timeout=3))


def errors(notes) -> list[str]:
    return [m for m, severity in notes if severity == "error"]


@pytest.mark.parametrize("kind", sorted(REPLIES))
async def test_malformed_replies_become_notices_and_the_app_keeps_running(kind, tmp_path):
    path = str(tmp_path / "d.sock")
    async with MalformedDaemon(path, REPLIES[kind]):
        app, notes = make_app(fake_config(path))
        async with app.run_test(size=(120, 36)) as pilot:
            pane = app.panes["containers"]
            await until(lambda: any(r.data and r.data.id == VICTIM_ID for r in pane.rows), 10, "the victim's row")
            if kind != "empty":  # an empty events stream is a daemon that closed it: the host reconnects
                await until(lambda: any(f"{HOST}: events" in m for m in errors(notes)), 10,
                            f"a notice about the events: {notes}")

            await pilot.press("enter")  # the detail view: inspect, top and 1-second stats
            await until(lambda: isinstance(app.screen, ContainerScreen), 5, "detail open")
            await until(lambda: any("inspect" in m for m in errors(notes)) and any("top" in m for m in errors(notes)),
                        10, f"notices about inspect and top: {notes}")
            if kind != "empty":
                await until(lambda: any("stats" in m for m in errors(notes)), 10, f"a notice about stats: {notes}")
            else:  # an empty stats reply is a stopped (or removed) container's: nothing to say
                asked = len(app.fleet.stats.bursts)
                await until(lambda: len(app.fleet.stats.bursts) >= asked + 2, 10, "two more stats samples asked")
                assert not any("stats" in m for m in errors(notes)), notes
            assert all(m.startswith(f"{HOST}: ") for m in errors(notes)), notes
            assert "CPU" in screen_text(app.screen) and app.fleet.container_stats(HOST, VICTIM_ID) is None

            await pilot.press("escape")
            await until(lambda: not isinstance(app.screen, ContainerScreen), 5, "back")
            await pilot.press("l")  # the logs view
            await until(lambda: isinstance(app.screen, LogsScreen), 5, "logs open")
            if kind in ("not-json", "wrong-shape"):
                view = app.screen.query_one(LogView)
                await until(lambda: any("logs unreadable" in line for line in view.plain_lines()), 10,
                            f"the logs view says the stream is unreadable: {view.plain_lines()}")
            await pilot.press("escape")
            await until(lambda: not isinstance(app.screen, LogsScreen), 5, "back from logs")
            assert app.is_running and app.return_code is None
            assert not any("Traceback" in m for m, _ in notes)


async def test_a_daemon_with_an_old_api_is_shown_as_unsupported_not_as_errors(tmp_path):
    path = str(tmp_path / "old.sock")
    async with MalformedDaemon(path, api_version="1.24", min_api_version="1.12") as daemon:
        async with Fleet(fake_config(path), live=True) as fleet:
            await fleet.wait_settled(5)
            status = fleet.host(HOST)
            assert status.state == HostState.UNSUPPORTED
            assert status.api_version == "1.24"
            low, high = (api_text(v) for v in SUPPORTED_API)
            assert f"speaks Docker Engine API 1.24; Dockyard supports Docker Engine API {low} to {high}" \
                in status.reason
            asked = len(daemon.requests)
            await fleet.refresh_info()
            results = [r async for r in fleet.containers.list()]
            assert not results[0].ok and results[0].error.startswith("unsupported-api: ")
        assert [r for r in daemon.requests[asked:] if "containers/json" in r] == []  # nothing asked of it

        app, notes = make_app(fake_config(path))
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.press("1")
            await until(lambda: [r.get("STATE", "").split()[0] for r in table_rows(app, "hosts")] == ["unsupported-api"], 10,
                        f"the Hosts pane's state: {table_rows(app, 'hosts')}")
            await pilot.pause(1)
            (row,) = table_rows(app, "hosts")
            assert "1.24" in " ".join(row.values()), row
            assert errors(notes) == [] and app.is_running


async def test_a_daemon_newer_than_dockyard_is_spoken_to_at_the_newest_it_supports_or_named_unsupported(tmp_path):
    """Its ping names a newer API than Dockyard speaks: only `/version` says whether it still serves
    Dockyard's (`MinAPIVersion`); a daemon within SUPPORTED_API is never asked `/version` (dockerd
    runs two processes to answer it)."""
    low, high = (api_text(v) for v in SUPPORTED_API)
    for theirs, their_min, spoken in (("1.52", "1.24", high), ("1.52", "1.50", None), (high, "1.24", high),
                                      (low, "1.12", low)):
        path = str(tmp_path / f"d{theirs}-{their_min}.sock")
        async with MalformedDaemon(path, api_version=theirs, min_api_version=their_min) as daemon:
            async with Fleet(fake_config(path), live=False) as fleet:
                (result,) = [r async for r in fleet.containers.list()]
                status = fleet.host(HOST)
        asked_version = "GET /version" in daemon.requests
        if spoken is None:
            assert status.state == HostState.UNSUPPORTED and not result.ok
            assert f"needs Docker Engine API {their_min} or newer; Dockyard supports Docker Engine API {low} to {high}" \
                in status.reason
        else:
            assert result.ok and [c.name for c in result.value] == ["victim"], result.error
            assert f"GET /v{spoken}/containers/json" in daemon.requests
        newer = tuple(int(p) for p in theirs.split(".")) > SUPPORTED_API[1]
        assert asked_version == newer, (theirs, their_min, daemon.requests)


async def test_dockyard_hosts_reports_an_unsupported_api(tmp_path):
    import asyncio

    path = str(tmp_path / "old.sock")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[[hosts]]\nname = "{HOST}"\nurl = "unix://{path}"\n')
    async with MalformedDaemon(path, api_version="1.30", min_api_version="1.12"):
        result = await asyncio.to_thread(dockyard, "--config", str(cfg), "hosts", "--json")
    assert result.returncode == 3
    (host,) = json.loads(result.stdout)["hosts"]
    assert host["state"] == "unsupported-api" and host["api_version"] == "1.30"
    assert f"{HOST}: unsupported-api: the daemon speaks Docker Engine API 1.30" in result.stderr
    assert "Traceback" not in result.stderr
