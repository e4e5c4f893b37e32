"""The start-up prefetch (fleet/prefetch.py): a daemon's first listing, asked for before the TUI's
imports, seeds the cache; the session's own listing replaces it; a bad or slow answer is not used."""

from __future__ import annotations

import asyncio
import time
import uuid

from fleet_hosts import config, ssh_host, tcp_host, unix_host
from helpers import until
from dockyard.fleet import Fleet, HostState
from dockyard.fleet.prefetch import Prefetch


def prefetched(*hosts) -> Prefetch:
    prefetch = Prefetch(hosts)
    deadline = time.monotonic() + 10
    while prefetch.pending() and time.monotonic() < deadline:
        time.sleep(0.01)
    return prefetch


async def test_prefetched_rows_show_at_once_and_the_sessions_listing_replaces_them(lab, made):
    kept, removed = "pf-" + uuid.uuid4().hex[:6], "pf-" + uuid.uuid4().hex[:6]
    for daemon, name in ((lab.d1, kept), (lab.d1, removed), (lab.d2, kept)):
        daemon.run_container(name, "sleep", "300")
        made.append((daemon, name))
    hosts = (unix_host(lab.d1, "unix1"), tcp_host(lab.d2, "tcp2"))
    prefetch = prefetched(*hosts)
    lab.d1.docker("rm", "-f", removed)  # gone after the prefetch, before the fleet connects
    fleet = Fleet(config(*hosts), live=True, prefetch=prefetch)
    try:
        fleet.start()
        # before the event loop has run a single step: no connection yet, the rows are there
        assert fleet.session("unix1").state == HostState.CONNECTING
        names = {(c.host, c.name) for c in fleet.cached("containers")}
        assert {("unix1", kept), ("unix1", removed), ("tcp2", kept)} <= names  # plain tcp is prefetched too
        assert fleet.last_known("containers") == []  # shown as current, not as a down host's rows
        await until(lambda: ("unix1", removed) not in {(c.host, c.name) for c in fleet.cached("containers")},
                    what="the session's own listing drops the container removed meanwhile")
        assert ("unix1", kept) in {(c.host, c.name) for c in fleet.cached("containers")}
        assert fleet.session("unix1").state == HostState.ONLINE
    finally:
        await fleet.close()


async def test_tls_and_ssh_hosts_connect_the_normal_way(lab):
    prefetch = prefetched(ssh_host(lab, lab.d3, name="ssh"))
    assert prefetch.containers("ssh") is None  # no thread was started for it


async def _garbage_server(path: str, reply: bytes | None) -> asyncio.AbstractServer:
    """A socket that answers `reply` to anything (None: accepts and never answers)."""
    held = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        await reader.readuntil(b"\r\n\r\n")
        if reply is not None:
            writer.write(reply)
            await writer.drain()
            writer.close()

    return await asyncio.start_unix_server(answer, path)


async def test_a_reply_that_is_not_a_listing_is_not_used(tmp_path):
    bodies = [b"<html>502 Bad Gateway</html>", b'{"message": "page not found"}', b'[{"Id": 5}]', b"[1, 2]"]
    for i, body in enumerate(bodies):
        path = str(tmp_path / f"bad{i}.sock")
        server = await _garbage_server(path, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        try:
            prefetch = Prefetch([unix_host(type("D", (), {"socket": path}), "bad")])
            await until(lambda: not prefetch.pending(), what="the prefetch ends")
            assert prefetch.containers("bad") is None, body
        finally:
            server.close()


async def test_a_daemon_that_never_answers_neither_delays_nor_seeds_the_fleet(tmp_path):
    path = str(tmp_path / "hung.sock")
    server = await _garbage_server(path, None)
    host = unix_host(type("D", (), {"socket": path}), "hung", connect_timeout=1)
    prefetch = Prefetch([host])
    fleet = Fleet(config(host), live=True, prefetch=prefetch)
    try:
        started = time.monotonic()
        fleet.start()
        assert time.monotonic() - started < 0.1  # take() never waits for the thread
        assert fleet.cached("containers") == [] and fleet.last_known("containers") == []
    finally:
        await fleet.close()
        server.close()


async def test_a_host_that_is_down_is_not_seeded(tmp_path):
    host = unix_host(type("D", (), {"socket": str(tmp_path / "nothing.sock")}), "down")
    prefetch = prefetched(host)
    assert prefetch.containers("down") is None


async def test_the_first_frame_shows_the_prefetched_rows_as_the_pane_will(lab, made):
    """Phase one's table (before the fleet layer loads) holds every container of the prefetched
    hosts as the Containers pane orders them: running first (hosts in config order, then by
    name), stopped ones after."""
    from textual.app import App

    from dockyard.ui.app import BootTable

    tag = uuid.uuid4().hex[:6]
    for daemon, name in ((lab.d2, f"b-{tag}"), (lab.d1, f"c-{tag}"), (lab.d1, f"a-{tag}")):
        daemon.run_container(name, "sleep", "300")
        made.append((daemon, name))
    lab.d1.docker("create", "--network", "none", "--name", f"stopped-{tag}", "dockyard-test/busybox:latest")
    made.append((lab.d1, f"stopped-{tag}"))
    fleet_config = config(unix_host(lab.d1, "unix1"), tcp_host(lab.d2, "tcp2"))
    prefetch = prefetched(*fleet_config.hosts)

    class Shell(App):
        def compose(self):
            yield BootTable(fleet_config, prefetch)

    async with Shell().run_test(size=(160, 40)) as pilot:
        table = pilot.app.query_one(BootTable)
        rows = [(str(table.get_row_at(i)[1]), str(table.get_row_at(i)[2])) for i in range(table.row_count)]
    mine = [r for r in rows if r[1].endswith(tag)]
    assert mine == [("unix1", f"a-{tag}"), ("unix1", f"c-{tag}"), ("tcp2", f"b-{tag}"), ("unix1", f"stopped-{tag}")]
