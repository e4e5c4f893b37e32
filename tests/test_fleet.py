"""The fleet controller against the real lab: fan-out, live cache, reconnect, read-only, streams."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid

import pytest

from faults import FreezableProxy
from fleet_hosts import config, ssh_host, tcp_host, unix_host
from helpers import until
from dockyard.config.model import HostConfig
from dockyard.fleet import Fleet, FleetChange, HostState, ReadOnlyError, Timing


def fast_timing() -> Timing:
    t = Timing()
    t.backoff_initial = 0.2
    t.backoff_cap = 1.0
    t.ping_every = 0.5
    t.reconcile_every = 2.0
    return t


@pytest.fixture
async def hung_socket(tmp_path_factory):
    """A unix socket that accepts connections and never answers (a wedged daemon)."""
    path = str(tmp_path_factory.mktemp("hung") / "d.sock")
    held = []

    async def accept(reader, writer):
        held.append(writer)  # keep it open, say nothing

    server = await asyncio.start_unix_server(accept, path)
    yield path
    server.close()
    for w in held:
        w.close()


class TestFanOut:
    async def test_results_from_every_transport_with_a_host_column(self, lab):
        names = {d: "fan-" + uuid.uuid4().hex[:6] for d in ("d1", "d2", "d3")}
        for d, name in names.items():
            getattr(lab, d).run_container(name, "sleep", "300")
        fleet_config = config(unix_host(lab.d1, "unix1"), tcp_host(lab.d2, "tcp2"), ssh_host(lab, lab.d3, name="ssh"))
        async with Fleet(fleet_config, live=False) as fleet:
            results = {r.host: r async for r in fleet.containers.list(all=False)}
        assert set(results) == {"unix1", "tcp2", "ssh"}
        seen = {(c.host, c.name) for r in results.values() for c in r.value}
        assert ("unix1", names["d1"]) in seen
        assert ("tcp2", names["d2"]) in seen
        assert ("ssh", names["d3"]) in seen
        assert ("unix1", names["d2"]) not in seen

    @pytest.mark.faults
    async def test_dead_and_hung_hosts_do_not_delay_the_others(self, lab, hung_socket):
        fleet_config = config(
            unix_host(lab.d1, "good"),
            HostConfig(name="hung", url=f"unix://{hung_socket}", connect_timeout=1.5, request_timeout=1.5),
            HostConfig(name="refused", url="tcp://127.0.0.1:9", connect_timeout=1.5),
            HostConfig(name="off", url="unix:///nonexistent.sock", enabled=False),
        )
        arrivals = {}
        start = time.perf_counter()
        async with Fleet(fleet_config, live=False) as fleet:
            async for result in fleet.containers.list():
                arrivals[result.host] = (time.perf_counter() - start, result)
            statuses = {s.name: s for s in fleet.hosts()}
        assert set(arrivals) == {"good", "hung", "refused"}  # disabled hosts are not asked
        good_time, good = arrivals["good"]
        assert good.ok and good_time < 1.0
        hung_time, hung = arrivals["hung"]
        assert not hung.ok and "connect_timeout" in hung.error
        assert hung_time < 1.5 + 1.0  # bounded by its own timeout
        assert "refused" in arrivals["refused"][1].error.lower()
        assert statuses["off"].state == HostState.DISABLED
        assert statuses["hung"].state == HostState.UNREACHABLE

    async def test_connecting_does_not_ask_version_of_a_daemon_whose_ping_names_its_api(self, lab, tmp_path):
        """dockerd answers `/version` by running `runc --version` and `docker-init --version`: 500
        hosts connecting were 1,000 processes. The ping's headers name the API version: a host whose
        `/version` never answers still connects, lists, and says which version it runs."""
        proxy = await FreezableProxy(str(tmp_path / "p.sock"), lab.d1.socket).start()
        proxy.hold("/version")
        try:
            fleet_config = config(HostConfig(name="pinged", url=f"unix://{proxy.listen_path}", connect_timeout=3))
            async with Fleet(fleet_config, live=False) as fleet:
                (result,) = [r async for r in fleet.containers.list()]
                assert result.ok, result.error
                await fleet.refresh_info()
                status = fleet.host("pinged")
        finally:
            proxy.release()
            await proxy.stop()
        assert proxy.held == 0
        assert {c.id for c in result.value} == set(lab.d1.docker("ps", "-aq", "--no-trunc").stdout.split())
        version = lab.d1.docker("version", "-f", "{{.Server.Version}} {{.Server.APIVersion}} {{.Server.Os}} "
                                "{{.Server.Arch}}").stdout.split()
        assert [status.server_version, status.api_version, status.os, status.arch] == version

    @pytest.mark.faults
    async def test_a_host_that_wedges_after_connecting_times_out_per_request(self, lab, tmp_path):
        """Connected fine, then the daemon stops answering: only its request fails, after request_timeout."""
        proxy = await FreezableProxy(str(tmp_path / "p.sock"), lab.d2.socket).start()
        try:
            fleet_config = config(unix_host(lab.d1, "good"),
                                  HostConfig(name="wedged", url=f"unix://{proxy.listen_path}", request_timeout=1.0))
            async with Fleet(fleet_config, live=False) as fleet:
                await fleet.wait_settled(10)
                assert fleet.host("wedged").state == HostState.ONLINE
                proxy.freeze()
                start = time.perf_counter()
                results = [(r, time.perf_counter() - start) async for r in fleet.containers.list()]
        finally:
            await proxy.stop()
        assert results[0][0].host == "good" and results[0][1] < 0.5
        assert results[1][0].host == "wedged" and "no answer within 1s" in results[1][0].error
        assert results[1][1] < 2.0


class TestLiveCache:
    async def test_container_started_outside_appears_live(self, lab):
        """The daemon's events alone keep the cache current: the periodic reconcile is pushed out of
        the test's reach. How fast is bench_fleet.py's `events` benchmark."""
        changes: list[FleetChange] = []
        timing = Timing()
        timing.reconcile_every = 3600.0
        fleet_config = config(unix_host(lab.d1, "unix1"), ssh_host(lab, lab.d2, name="ssh"))
        async with Fleet(fleet_config, live=True, timing=timing) as fleet:
            fleet.subscribe(changes.append)
            await fleet.wait_settled(10)
            await until(lambda: {"unix1", "ssh"} <= {h for h, k in _all(changes) if k == "containers"}, 20,
                        "first listing")
            for daemon, host in ((lab.d1, "unix1"), (lab.d2, "ssh")):
                name = "outside-" + uuid.uuid4().hex[:6]
                daemon.run_container(name, "sleep", "300")
                await until(lambda: any(c.name == name and c.state == "running"
                                        for c in fleet.cached("containers", [host])), 20, name)
                daemon.docker("rm", "-f", name)
                await until(lambda: all(c.name != name for c in fleet.cached("containers", [host])), 20,
                            f"{name} removed")

    async def test_observers_get_batched_notifications(self, lab):
        batches: list[FleetChange] = []
        async with Fleet(config(unix_host(lab.d1, "unix1")), live=True, batch_interval=0.2) as fleet:
            await fleet.wait_settled(10)
            await asyncio.sleep(0.5)  # the start-up's own batches go by first
            fleet.subscribe(batches.append)
            names = ["burst-" + uuid.uuid4().hex[:6] for _ in range(5)]
            for n in names:
                lab.d1.run_container(n, "sleep", "300")
            await until(lambda: set(names) <= {c.name for c in fleet.cached("containers")}, 10, "burst")
            await until(lambda: any(b.hosts("containers") for b in batches), 2, "a batch told the observer")
            lab.d1.docker("rm", "-f", *names)
        # 5 docker runs of ~0.3 s each produce a handful of batches, not one per event
        container_batches = [b for b in batches if b.hosts("containers")]
        assert 1 <= len(container_batches) <= 15

    async def test_state_changes_in_quick_succession_reach_the_cache(self, lab):
        """dockerd sends "die" before its list shows the container stopped, and nothing follows:
        the cache must not keep showing "running" until the next reconcile (set out of reach)."""
        timing = Timing()
        timing.reconcile_every = 600.0
        name = "succession-" + uuid.uuid4().hex[:6]
        cid = lab.d1.run_container(name, "sleep", "300")
        async with Fleet(config(unix_host(lab.d1, "unix1")), live=True, timing=timing) as fleet:
            await fleet.wait_settled(10)

            def cached_state() -> str | None:
                return next((c.state for c in fleet.cached("containers") if c.id == cid), None)

            steps = ["kill", "start", "pause", "unpause", "stop", "restart", "kill", "start", "pause",
                     "kill", "start", "restart", "stop", "start"]
            for action in steps:
                # off the loop, as from another terminal: the fleet follows events meanwhile
                await asyncio.to_thread(lab.d1.docker, action, name)
                truth = lab.d1.docker("inspect", "-f", "{{.State.Status}}", name).stdout.strip()
                await until(lambda: cached_state() == truth, 2,
                            f"after docker {action}: the cache showing docker inspect's {truth}")
            for action in steps:  # no waiting between them: only the end state is compared
                await asyncio.to_thread(lab.d1.docker, action, name)
            truth = lab.d1.docker("inspect", "-f", "{{.State.Status}}", name).stdout.strip()
            await until(lambda: cached_state() == truth, 2, f"after the burst: the cache showing "
                                                            f"docker inspect's {truth}")
            await asyncio.to_thread(lab.d1.docker, "rm", "-f", name)
            await until(lambda: cached_state() is None, 2, f"{name} removed")


    async def test_rows_and_counts_do_not_wait_for_slow_images_or_info(self, lab, tmp_path):
        """A host's container rows and its running/total counts show as soon as its containers are
        listed: an images listing or `/info` that takes its time (a big fleet connecting together
        defers them) holds back neither; they fill in when they come."""
        proxy = await FreezableProxy(str(tmp_path / "slow.sock"), lab.d1.socket).start()
        proxy.hold("/images/json", "/info")
        try:
            lab.d1.run_container("slowrows-" + uuid.uuid4().hex[:6], "sleep", "300")
            truth = set(lab.d1.docker("ps", "-aq", "--no-trunc").stdout.split())
            async with Fleet(config(HostConfig(name="slow", url=f"unix://{proxy.listen_path}")),
                             live=True) as fleet:
                await until(lambda: truth and {c.id for c in fleet.cached("containers")} == truth, 10, "rows")
                status = fleet.host("slow")
                assert status.state == HostState.ONLINE
                assert status.containers == len(truth) and status.containers_running is not None
                assert status.images is None and status.cpus is None  # not listed yet: not guessed
                assert proxy.held >= 1
                proxy.release()
                await until(lambda: fleet.host("slow").images is not None and fleet.host("slow").cpus, 10,
                            "images and /info once they answer")
                assert fleet.host("slow").images == len(set(lab.d1.docker("images", "-q", "--no-trunc").stdout.split()))
        finally:
            await proxy.stop()


class TestLiveness:
    @pytest.mark.faults
    async def test_silent_hosts_are_probed_on_one_fleet_clock_and_a_wedged_one_is_shown_down(self, lab, tmp_path):
        """Idle hosts (no events, no requests) are still probed, each about once per ping_every, all
        by the fleet's one liveness clock (no timer per host); a host whose daemon stops answering
        is shown down within frozen_after + the confirming probe + a tick, the others stay online."""
        timing = fast_timing()
        timing.ping_every, timing.frozen_after, timing.confirm_timeout = 0.4, 1.2, 0.5
        timing.reconcile_every = 3600.0
        proxy = await FreezableProxy(str(tmp_path / "p.sock"), lab.d2.socket).start()
        names = [f"idle{i}" for i in range(12)]
        fleet_config = config(*(unix_host(lab.d1, n) for n in names),
                              HostConfig(name="wedged", url=f"unix://{proxy.listen_path}"))
        try:
            async with Fleet(fleet_config, live=True, timing=timing) as fleet:
                await fleet.wait_settled(10)
                await until(lambda: all(fleet.host(n).latency_ms is not None for n in [*names, "wedged"]), 5,
                            "every idle host probed (LATENCY shown)")
                rounds, started = fleet.liveness.rounds, time.monotonic()
                await asyncio.sleep(2.0)
                per_second = (fleet.liveness.rounds - rounds) / (time.monotonic() - started)
                # 13 hosts, each silent for ping_every: ~32 probes a second, not one per event-loop timer
                assert 13 / 0.4 * 0.5 <= per_second <= 13 / 0.4 * 1.5, per_second
                clocks = [t for t in asyncio.all_tasks() if t.get_name() == "liveness"]
                assert len(clocks) == 1
                proxy.freeze()
                frozen_at = time.monotonic()
                await until(lambda: fleet.host("wedged").state != HostState.ONLINE, 5, "wedged host shown down")
                took = time.monotonic() - frozen_at
                assert took <= timing.frozen_after + timing.confirm_timeout + fleet.liveness.tick + 0.5, took
                assert "no answer" in (fleet.host("wedged").reason or "")
                assert all(fleet.host(n).state == HostState.ONLINE for n in names)
            assert not [t for t in asyncio.all_tasks() if t.get_name() in ("liveness",) or
                        t.get_name().startswith("probe:")]  # closed: the clock stopped with the last host
        finally:
            await proxy.stop()


    async def test_the_probe_keeps_one_raw_connection_open_and_reuses_it(self, lab):
        """A live host's probe goes over a connection of its own, opened once and reused (no
        request object, no pooled connection checked out each time), and measures LATENCY."""
        timing = fast_timing()
        timing.reconcile_every = 3600.0
        async with Fleet(config(unix_host(lab.d1, "unix1"), ssh_host(lab, lab.d2, name="ssh")), live=True,
                         timing=timing) as fleet:
            await fleet.wait_settled(10)
            for host in ("unix1", "ssh"):
                client = fleet.session(host).client
                first = await fleet.call(host, lambda c: c.probe())
                stream = client._ping_stream
                assert stream is not None and not stream.closed and first > 0
                for _ in range(3):
                    assert await fleet.call(host, lambda c: c.probe()) > 0
                assert client._ping_stream is stream and client._ping_raw

    async def test_a_ping_reply_the_probe_cannot_read_falls_back_to_ordinary_requests(self, lab, tmp_path):
        """A daemon whose `_ping` reply is chunked (dockerd's isn't; a purpose-built server that
        forwards everything else to the lab's daemon): the probe says the same through aiohttp."""
        path = str(tmp_path / "chunked.sock")

        async def serve(reader, writer):
            head = await reader.readuntil(b"\r\n\r\n")
            if b" /_ping " in head.split(b"\r\n", 1)[0] and b"aiohttp" not in head.lower():
                writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nOK\r\n0\r\n\r\n")
                await writer.drain()
                await asyncio.sleep(5)  # keeps the connection: the probe must not wait on it
                writer.close()
                return
            up_reader, up_writer = await asyncio.open_unix_connection(lab.d1.socket)
            up_writer.write(head)

            async def pump(src, dst):
                with contextlib.suppress(OSError):
                    while data := await src.read(65536):
                        dst.write(data)
                        await dst.drain()
                dst.close()
            await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))

        server = await asyncio.start_unix_server(serve, path)
        try:
            timing = fast_timing()
            timing.reconcile_every = 3600.0
            async with Fleet(config(HostConfig(name="odd", url=f"unix://{path}")), live=True, timing=timing) as fleet:
                await fleet.wait_settled(10)
                assert await fleet.call("odd", lambda c: c.probe(), timeout=2) > 0
                client = fleet.session("odd").client
                assert not client._ping_raw and client._ping_stream is not None and client._ping_stream.closed
                assert fleet.host("odd").state == HostState.ONLINE
                assert await fleet.call("odd", lambda c: c.probe(), timeout=2) > 0
        finally:
            server.close()


class TestReadOnly:
    @pytest.mark.parametrize("where", ["fleet", "host"])
    async def test_mutating_calls_refuse(self, lab, where):
        name = "ro-" + uuid.uuid4().hex[:6]
        cid = lab.d1.run_container(name, "sleep", "300")
        host = unix_host(lab.d1, "unix1", readonly=(where == "host"))
        async with Fleet(config(host), live=False, readonly=(where == "fleet")) as fleet:
            await fleet.wait_settled(10)
            with pytest.raises(ReadOnlyError, match="read-only"):
                await fleet.containers.action("unix1", cid, "stop")
            results = await fleet.containers.bulk_action([("unix1", cid)], "remove", force=True)
            assert not results[0].ok and "read-only" in results[0].error
            assert fleet.host("unix1").readonly
        state = lab.d1.docker("inspect", "-f", "{{.State.Status}}", name).stdout.strip()
        assert state == "running"


class TestActions:
    async def test_bulk_actions_across_hosts_report_per_container(self, lab):
        a = lab.d1.run_container("bulk-" + uuid.uuid4().hex[:6], "sleep", "300")
        b = lab.d2.run_container("bulk-" + uuid.uuid4().hex[:6], "sleep", "300")
        fleet_config = config(unix_host(lab.d1, "unix1"), ssh_host(lab, lab.d2, name="ssh"))
        async with Fleet(fleet_config, live=False) as fleet:
            results = await fleet.containers.bulk_action(
                [("unix1", a), ("ssh", b), ("ssh", "does-not-exist")], "stop", timeout=1)
            by_target = {r.target: r for r in results}
            assert by_target[a].ok and by_target[b].ok
            assert not by_target["does-not-exist"].ok and "No such container" in by_target["does-not-exist"].error
            for action, expected in (("start", "running"), ("pause", "paused"), ("unpause", "running"),
                                     ("kill", "exited")):
                results = await fleet.containers.bulk_action([("unix1", a), ("ssh", b)], action)
                assert all(r.ok for r in results), results
                assert lab.d1.docker("inspect", "-f", "{{.State.Status}}", a).stdout.strip() == expected
                assert lab.d2.docker("inspect", "-f", "{{.State.Status}}", b).stdout.strip() == expected
            results = await fleet.containers.bulk_action([("unix1", a), ("ssh", b)], "remove", force=True)
            assert all(r.ok for r in results)
        assert lab.d1.docker("ps", "-aq", "--filter", f"id={a}").stdout.strip() == ""


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _all(changes):
    return {pair for change in changes for pair in change.changed}


class TestStreams:
    async def test_hundreds_of_cancelled_streams_release_their_connections(self, lab):
        """aiodocker 0.27 leaks a connection per cancelled stream; ours must not."""
        cid = lab.d1.run_container("chatty-" + uuid.uuid4().hex[:6], "sh", "-c",
                                   "while true; do echo tick; sleep 0.05; done")
        async with Fleet(config(unix_host(lab.d1, "unix1")), live=False) as fleet:
            await fleet.wait_settled(10)
            session = fleet.session("unix1")
            client = session.client
            baseline = _open_fds()

            async def consume(stream):
                async for _ in stream:
                    pass

            for round_ in range(3):
                tasks = []
                for i in range(100):
                    kind = (round_ * 100 + i) % 3
                    stream = (client.log_stream(cid, follow=True, tail=1) if kind == 0 else
                              client.stats_stream(cid) if kind == 1 else client.event_stream())
                    tasks.append(asyncio.create_task(consume(stream)))
                await until(lambda: _open_fds() >= baseline + 50, 5, "all streaming")
                assert _open_fds() >= baseline + 50
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await until(lambda: _open_fds() <= baseline + 5, 2, f"round {round_}: sockets left open")
            # and the host still answers promptly
            start = time.perf_counter()
            await session.call(lambda c: c.list_containers())
            assert time.perf_counter() - start < 1.0

    async def test_cancelled_streams_over_ssh_close_their_channels(self, lab):
        async with _chatty_over_ssh(lab) as (cid, session, conn):
            for _ in range(2):
                streaming: set[int] = set()  # the streams that delivered a line

                async def drain(i: int, stream) -> None:
                    async for _ in stream:
                        streaming.add(i)

                tasks = [asyncio.create_task(drain(i, session.client.log_stream(cid, follow=True, tail=1)))
                         for i in range(60)]
                await until(lambda: len(streaming) == 60, 30, "all 60 streaming")
                assert len(conn._channels) >= 60  # noqa: SLF001
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await until(lambda: len(conn._channels) <= 1, 30, "channels closed")  # noqa: SLF001
            await session.call(lambda c: c.ping())  # the connection still answers (its speed: bench_fleet ssh)

    async def test_streams_cancelled_while_their_channels_open_close_them(self, lab):
        """A stream cancelled while its SSH channel is still opening must not leave that channel
        open once the server confirms it (left alone, it lingers 30 s and more, one per cancelled
        request: a user flicking through containers' logs would pile them up)."""
        async with _chatty_over_ssh(lab) as (cid, session, conn):
            baseline = len(conn._channels)  # noqa: SLF001

            def opening() -> int:  # channels asked for and not yet confirmed by sshd
                return sum(chan._open_waiter is not None for chan in conn._channels.values())  # noqa: SLF001

            for wanted in (1, 20, 40):  # cancel as the first, many, most channels are being opened
                tasks = [asyncio.create_task(_collect(session.client.log_stream(cid, follow=True, tail=1)))
                         for _ in range(60)]
                for _ in range(100_000):
                    if opening() >= wanted:
                        break
                    await asyncio.sleep(0)
                caught = opening()
                assert caught >= wanted  # the cancel below does hit channels still opening
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await until(lambda: len(conn._channels) <= baseline, 3,  # noqa: SLF001
                            f"channels closed after cancelling {caught} opening ones")
            await session.call(lambda c: c.ping())  # the connection still answers (its speed: bench_fleet ssh)

    async def test_log_stream_tells_stdout_from_stderr(self, lab):
        cid = lab.d1.run_container("logs-" + uuid.uuid4().hex[:6], "sh", "-c",
                                   "echo out-line; echo err-line >&2; sleep 300")
        await until(lambda: "err-line" in lab.d1.docker("logs", cid).stderr, 5, "both lines logged")
        async with Fleet(config(unix_host(lab.d1, "unix1")), live=False) as fleet:
            chunks = await fleet.session("unix1").call(
                lambda c: _collect(c.log_stream(cid, follow=False)))
        assert ("stdout", b"out-line\n") in chunks
        assert ("stderr", b"err-line\n") in chunks


@contextlib.asynccontextmanager
async def _chatty_over_ssh(lab):
    """(container printing a line every 50 ms, fleet session to its daemon over SSH, the SSH connection)."""
    cid = lab.d2.run_container("chatty-" + uuid.uuid4().hex[:6], "sh", "-c",
                               "while true; do echo tick; sleep 0.05; done")
    async with Fleet(config(ssh_host(lab, lab.d2, name="ssh")), live=False) as fleet:
        await fleet.wait_settled(10)
        session = fleet.session("ssh")
        yield cid, session, session._transport.conns[-1]  # noqa: SLF001


async def _collect(stream):
    return [item async for item in stream]


class TestStatsWatcher:
    async def test_samples_only_what_is_watched(self, lab):
        busy = lab.d1.run_container("busy-" + uuid.uuid4().hex[:6], "sh", "-c", "while :; do :; done")
        idle = lab.d2.run_container("idle-" + uuid.uuid4().hex[:6], "sleep", "300")
        fleet_config = config(unix_host(lab.d1, "unix1"), ssh_host(lab, lab.d2, name="ssh"))
        async with Fleet(fleet_config, live=True) as fleet:
            await fleet.wait_settled(10)
            fleet.watch_stats([("unix1", busy), ("ssh", idle)])
            await until(lambda: fleet.container_stats("unix1", busy) is not None
                        and fleet.container_stats("unix1", busy).cpu_percent is not None
                        and fleet.container_stats("ssh", idle) is not None, 8, "first samples")
            hot = fleet.container_stats("unix1", busy)
            idle_cpu = fleet.container_stats("ssh", idle).cpu_percent or 0.0
            # a busy loop shows as busy (any share: a loaded machine may give it little), a sleeping one idle
            assert idle_cpu < 0.5 and hot.cpu_percent > idle_cpu, (hot.cpu_percent, idle_cpu)
            assert fleet.container_stats("ssh", idle).mem_usage > 0
            fleet.watch_stats([("ssh", idle)])
            assert fleet.stats.watched == {("ssh", idle)}
            assert fleet.container_stats("unix1", busy) is None
            fleet.watch_stats([])
            assert fleet.stats.watched == set()
        lab.d1.docker("rm", "-f", busy)

    async def test_rows_on_screen_are_sampled_together_and_show_cpu_after_the_second_burst(self, lab, fresh_daemon):
        """A screenful of rows costs one request each per burst, all sent together (they share the
        daemon's collector tick), never trickled one by one; CPU% needs the second burst."""
        ids = [fresh_daemon.run_container(f"row-{i}", "sleep", "300") for i in range(12)]
        async with Fleet(config(unix_host(fresh_daemon, "d")), live=True) as fleet:
            await fleet.wait_settled(10)
            fleet.watch_stats([("d", cid) for cid in ids[:8]], owner="pane")
            fleet.watch_stats([("d", cid) for cid in ids[:8]], owner="pane")  # a repaint restates its wish
            await until(lambda: all(fleet.container_stats("d", cid) is not None for cid in ids[:8]), 10, "memory")
            assert all(fleet.container_stats("d", cid).mem_usage > 0 for cid in ids[:8])

            def cpu_on(keys) -> bool:
                return all((s := fleet.container_stats("d", cid)) is not None and s.cpu_percent is not None
                           for cid in keys)

            await until(lambda: cpu_on(ids[:8]), 10, "CPU% of the first rows")
            assert [n for _, _, n in fleet.stats.bursts][:2] == [8, 8]  # CPU% from two samples, a tick apart
            before = len(fleet.stats.bursts)
            fleet.watch_stats([("d", cid) for cid in ids[4:]], owner="pane")  # scrolled by 4 rows
            await until(lambda: cpu_on(ids[4:]), 10, "CPU% of the rows scrolled into view")
            assert all(fleet.container_stats("d", cid) is None for cid in ids[:4])  # scrolled away: dropped
            assert all(n >= 4 for _, _, n in fleet.stats.bursts[before:])  # the new rows came together
            fleet.watch_stats([], owner="pane")
            await until(lambda: fleet.stats._pollers == {}, 2, "the host's poller gone")  # noqa: SLF001
            assert fleet.stats._pollers == {}  # noqa: SLF001 - nothing watched on a host: no task for it

    async def test_a_detail_view_is_not_starved_by_a_full_pane(self, lab, fresh_daemon):
        """30 rows share the host's request budget; the one container in a detail view still gets 1 s samples."""
        ids = [fresh_daemon.run_container(f"crowd-{i}", "sleep", "300") for i in range(30)]
        async with Fleet(config(unix_host(fresh_daemon, "d")), live=True) as fleet:
            await fleet.wait_settled(10)
            fleet.watch_stats([("d", cid) for cid in ids], owner="pane")
            fleet.watch_stats([("d", ids[-1])], owner="detail", interval=1.0)
            seen: list[float] = []

            def sampled() -> bool:
                stats = fleet.container_stats("d", ids[-1])
                if stats is not None and (not seen or seen[-1] != stats.at):
                    seen.append(stats.at)
                return len(seen) >= 3

            took = await until(sampled, 8, "three samples of the detail container")
            assert took < 4.5  # ~1 s apart, not queued behind 30 others at 4 requests a second


async def test_stopping_gives_up_on_a_task_that_ignores_cancellation(caplog):
    """Stopping a session (quit, reconnect) waits a bounded time, then says what it left behind."""
    from dockyard.tasks import cancel_and_wait

    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await release.wait()

    task = asyncio.create_task(stubborn(), name="stubborn")
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait([task], "h1", grace=0.3), 2)  # unbounded: TimeoutError
    assert any("h1: stubborn still running" in r.getMessage() and "stubborn" in r.getMessage().split("at ")[-1]
               for r in caplog.records)
    release.set()
    await task


def test_status_is_computed_here_as_time_passes_like_dockers_formatter():
    """STATUS from the state's start, the way `docker ps` words it; a reconcile that differs
    only by time passing changes nothing (it rewrote every row of a 2,000-container table)."""
    from dockyard.fleet import Container
    from dockyard.fleet.cache import HostCache
    from dockyard.fleet.status import human_duration, since_from

    assert [human_duration(s) for s in (0.4, 1, 59, 60, 119, 120, 3599, 3600, 5400, 47 * 3600, 48 * 3600,
                                        14 * 86400, 60 * 86400, 730 * 86400)] == [
        "Less than a second", "1 second", "59 seconds", "About a minute", "About a minute", "2 minutes",
        "59 minutes", "About an hour", "2 hours", "47 hours", "2 days", "2 weeks", "2 months", "2 years"]
    now = time.time()

    def listed(status: str, at: float) -> Container:
        return Container("h", "c1", "web", "img", "running", status, 0, since=since_from(status, at))

    web = listed("Up 5 minutes (healthy)", now - 60)
    assert web.status_now(now) == "Up 6 minutes (healthy)"
    assert listed("Exited (137) 2 hours ago", now).status_now(now + 3600) == "Exited (137) 3 hours ago"
    assert Container("h", "c2", "new", "img", "created", "Created", 0).status_now(now) == "Created"

    # a listing's wording is coarse: "Up 1 second" then, 5.2 s later, "Up 7 seconds" is the same start
    assert listed("Up 1 second", now).listed_again(listed("Up 7 seconds", now + 5.2))
    assert listed("Up 2 hours", now).listed_again(listed("Up 3 hours", now + 1800))
    assert not listed("Up 6 minutes", now).listed_again(listed("Up 2 seconds", now + 5))  # restarted

    changes: list[str] = []
    cache = HostCache("h", changes.append)
    cache.replace("containers", [web])
    changes.clear()
    cache.replace("containers", [listed("Up 6 minutes (healthy)", now)])  # the 30 s reconcile, later
    assert changes == [] and cache.get("containers", "c1") is web
    cache.update_containers(["c1"], [listed("Up 6 minutes (healthy)", now)])  # an event's listing
    assert changes == [] and cache.get("containers", "c1") is web
    cache.replace("containers", [listed("Up 2 seconds (healthy)", now)])  # restarted meanwhile
    assert changes == ["containers"] and cache.get("containers", "c1").status_now(now) == "Up 2 seconds (healthy)"
    cache.replace("containers", [listed("Up 2 seconds (unhealthy)", now)])  # not time: a change
    assert changes == ["containers", "containers"]
