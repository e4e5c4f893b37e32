"""What a user does with containers and images, against each implementation of the Docker Engine API:
dockerd and Podman's Docker-compatible service (the `engine` fixture runs every test on both).

Where Podman answers differently, the test asserts what the user sees then (e.g. `top`'s columns).
"""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from fleet_hosts import config, unix_host
from helpers import dockyard, read_until, until
from lab import IMAGE

from dockyard.fleet import DaemonError, Fleet, FleetError, LogLine, LogNotice, LogSource
from dockyard.tasks import cancel_and_wait

HOST = "engine"


def uid() -> str:
    return uuid.uuid4().hex[:8]


def fleet_of(engine, **kw) -> Fleet:
    return Fleet(config(unix_host(engine, HOST)), **kw)


def state_of(engine, ref: str) -> str:
    return engine.docker("inspect", "-f", "{{.State.Status}}", ref).stdout.strip()


async def test_dockyard_hosts_and_ps(engine, tmp_path):
    name = "cli-" + uid()
    cid = engine.run_container(name, "sleep", "300")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[[hosts]]\nname = "{HOST}"\nurl = "unix://{engine.socket}"\n')
    hosts = await asyncio.to_thread(dockyard, "--config", str(cfg), "hosts", "--json")
    ps = await asyncio.to_thread(dockyard, "--config", str(cfg), "ps", "--json")
    engine.docker("rm", "-f", cid)
    assert hosts.returncode == 0, hosts.stderr
    (host,) = json.loads(hosts.stdout)["hosts"]
    assert host["state"] == "online" and host["api_version"] == "1.41"  # both report 1.41
    assert host["server_version"].startswith("4.3" if getattr(engine, "kind", "") == "podman" else "20.10")
    assert host["containers"] >= host["containers_running"] >= 1 and host["images"] >= 1
    assert ps.returncode == 0, ps.stderr
    row = next(c for c in json.loads(ps.stdout)["containers"] if c["id"] == cid)
    assert (row["host"], row["name"], row["state"]) == (HOST, name, "running")


class TestContainers:
    async def test_live_list_actions_and_inspect(self, engine):
        name = "eng-" + uid()
        cid = engine.run_container(name, "sleep", "300")
        async with fleet_of(engine, live=True) as fleet:
            await fleet.wait_settled(15)
            await until(lambda: any(c.id == cid for c in fleet.cached("containers")), 15, what="row")
            row = next(c for c in fleet.cached("containers") if c.id == cid)
            assert (row.name, row.state, row.command) == (name, "running", "sleep 300")
            assert row.image.endswith(IMAGE)
            info = await fleet.containers.inspect(HOST, cid)
            assert info["State"]["Running"] is True and info["Config"]["Cmd"] == ["sleep", "300"]
            for action, expected in (("pause", "paused"), ("unpause", "running"), ("stop", "exited"),
                                     ("start", "running"), ("restart", "running"), ("kill", "exited")):
                await fleet.containers.action(HOST, cid, action, timeout=1)
                assert state_of(engine, cid) == expected, action
            results = await fleet.containers.bulk_action([(HOST, cid), (HOST, "does-not-exist")], "remove",
                                                        force=True)
            assert results[0].ok and not results[1].ok
            assert "no such container" in results[1].error.lower()
            await until(lambda: all(c.id != cid for c in fleet.cached("containers")), 15, what="row removed")

    async def test_top_shows_the_processes_in_columns(self, engine):
        cid = engine.run_container("top-" + uid(), "sleep", "300")
        async with fleet_of(engine, live=False) as fleet:
            top: list = []

            async def sleep_listed() -> bool:
                """`docker run` returns once the runtime is told to start: for a moment the process
                may still be the runtime's init (`runc init`), not yet `sleep`."""
                top[:] = await fleet.containers.top(HOST, cid)
                return any("sleep" in " ".join(r) for r in top[1])

            deadline = asyncio.get_running_loop().time() + 30
            while not await sleep_listed():
                assert asyncio.get_running_loop().time() < deadline, f"sleep never listed: {top}"
                await asyncio.sleep(0.1)
            titles, rows = top
        assert "PID" in titles and len(titles) >= 3  # Podman's one "PID   USER     COMMAND" title is split
        assert rows and all(len(r) == len(titles) for r in rows)
        assert rows[0][-1] == "sleep 300"  # the command keeps its spaces
        engine.docker("rm", "-f", cid)

    async def test_stats_show_cpu_memory_and_pids(self, engine):
        busy = engine.run_container("busy-" + uid(), "sh", "-c", "while :; do :; done")
        idle = engine.run_container("idle-" + uid(), "sleep", "300")
        async with fleet_of(engine, live=True) as fleet:
            await fleet.wait_settled(15)
            fleet.watch_stats([(HOST, busy), (HOST, idle)], owner="detail", interval=1.0)
            await until(lambda: all((s := fleet.container_stats(HOST, c)) is not None and s.cpu_percent is not None
                                    for c in (busy, idle)), 30, "a CPU% from two samples of each")
            stats = fleet.container_stats(HOST, busy)
            idle_cpu = fleet.container_stats(HOST, idle).cpu_percent
        engine.docker("rm", "-f", busy, idle)
        # a busy loop shows as busy, a sleeping one as idle (not a fixed figure: a loaded machine
        # may give the loop little CPU)
        assert idle_cpu < 0.5 and stats.cpu_percent > idle_cpu, (stats.cpu_percent, idle_cpu)
        assert stats.mem_usage and stats.mem_usage > 0 and stats.mem_limit
        assert stats.pids and stats.pids >= 1


class TestLogs:
    async def test_stdout_and_stderr_lines_in_order(self, engine):
        tag = uid()
        cid = engine.run_container(f"log-{tag}", "sh", "-c",
                                   f"for i in 1 2 3; do echo {tag} out $i; echo {tag} err $i >&2; done; sleep 300")
        async with fleet_of(engine, live=False) as fleet:
            await until(lambda: engine.docker("logs", cid).stdout.count(tag) == 3, 15, what="the container's output")
            items = [i async for i in fleet.containers.logs([LogSource(HOST, cid, f"log-{tag}")], follow=False)]
        lines = [(i.stream, i.text) for i in items if isinstance(i, LogLine)]
        assert [t for s, t in lines if s == "stdout"] == [f"{tag} out {i}" for i in (1, 2, 3)]
        assert [t for s, t in lines if s == "stderr"] == [f"{tag} err {i}" for i in (1, 2, 3)]
        assert all(i.timestamp[:4].isdigit() for i in items if isinstance(i, LogLine))

    async def test_a_stopped_container_says_so_and_its_follow_resumes(self, engine):
        tag = uid()
        cid = engine.run_container(f"log-{tag}", "sh", "-c",
                                   f"i=0; while true; do echo \"{tag} $i\"; i=$((i+1)); usleep 50000; done")
        async with fleet_of(engine, live=False) as fleet:
            await fleet.wait_settled(15)
            seen: list = []

            async def consume() -> None:
                async for item in fleet.containers.logs([LogSource(HOST, cid, f"log-{tag}")], tail=0, retry_every=0.3):
                    seen.append(item)

            task = asyncio.create_task(consume())
            try:
                await until(lambda: sum(isinstance(i, LogLine) for i in seen) >= 5, 15, what="first lines")
                engine.docker("kill", cid)
                await until(lambda: any(isinstance(i, LogNotice) and i.stopped for i in seen), 15, what="stopped notice")
                before = sum(isinstance(i, LogLine) for i in seen)
                engine.docker("start", cid)
                await until(lambda: any(isinstance(i, LogNotice) and not i.broken for i in seen), 15, what="resumed")
                await until(lambda: sum(isinstance(i, LogLine) for i in seen) >= before + 5, 15, what="new lines")
            finally:
                await cancel_and_wait([task], "logs consumer")  # 3.11's wait_for can swallow one cancel
        engine.docker("rm", "-f", cid)
        notices = [i.message for i in seen if isinstance(i, LogNotice)]
        # a stop is no broken stream: said as what it is, then the follow resumes
        assert any(m.startswith("container stopped") for m in notices) and "resumed" in notices
        assert not any(isinstance(i, LogNotice) and i.broken for i in seen)
        texts = [i.text for i in seen if isinstance(i, LogLine)]
        counters = [int(t.split()[-1]) for t in texts]
        restart = next(n for n in range(1, len(counters)) if counters[n] < counters[n - 1])
        # each run's lines once and in order: a resume repeats nothing
        for run in (counters[:restart], counters[restart:]):
            assert run == list(range(run[0], run[0] + len(run))), counters


class TestExecAndAttach:
    async def test_a_shell_runs_commands_and_follows_resizes(self, engine):
        cid = engine.run_container("exec-" + uid(), "sleep", "300")
        async with fleet_of(engine, live=False) as fleet:
            session = await fleet.containers.exec(HOST, cid, ["sh"], rows=30, cols=100)
            await session.write(b"echo $((6*7)); stty size; echo END$((0+1))\n")
            out = await read_until(session, b"\r\nEND1\r\n")
            assert b"\r\n42\r\n" in out and b"\r\n30 100\r\n" in out
            await session.resize(41, 132)
            await session.write(b"stty size; echo END$((1+1))\n")
            assert b"41 132" in await read_until(session, b"\r\nEND2\r\n")
            await session.write(b"exit 5\n")
            while await session.read() is not None:
                pass
            assert await session.exit_code() == 5
        engine.docker("rm", "-f", cid)

    async def test_missing_shell_and_stopped_container_are_explained(self, engine):
        cid = engine.run_container("exec-" + uid(), "sleep", "300")
        stopped = engine.run_container("exec-" + uid(), "true", detach=False)
        async with fleet_of(engine, live=False) as fleet:
            session = await fleet.containers.exec(HOST, cid, ["bash"])
            while await session.read() is not None:
                pass
            code = await session.exit_code()
            assert code in (126, 127)
            assert "could not run 'bash'" in session.explain_exit(code)
            with pytest.raises(FleetError, match="not running"):
                await fleet.containers.exec(HOST, stopped, ["sh"])
        engine.docker("rm", "-f", cid, stopped)

    async def test_attach_reads_the_main_process_and_writes_its_input(self, engine):
        cid = engine.docker("run", "-d", "-i", "--network", "none", IMAGE, "sh", "-c",
                            "echo ready; while read line; do echo got:$line; done").stdout.strip()
        async with fleet_of(engine, live=False) as fleet:
            session = await fleet.containers.attach(HOST, cid)
            try:
                await session.write(b"hello\n")
                assert b"got:hello" in await read_until(session, b"got:hello")
            finally:
                await session.close()
        engine.docker("rm", "-f", cid)


class TestImages:
    async def test_list_inspect_history_tag_and_remove(self, engine):
        async with fleet_of(engine, live=False) as fleet:
            (listed,) = [r async for r in fleet.images.list()]
            assert listed.ok, listed.error
            lab_image = next(i for i in listed.value if any(t.endswith(IMAGE) for t in i.tags))
            info = await fleet.images.inspect(HOST, IMAGE)
            assert info["Id"] == lab_image.id
            history = await fleet.images.history(HOST, IMAGE)
            assert any("busybox" in h.created_by for h in history)
            tag = uid()
            ref = f"dockyard-eng/extra:{tag}"
            await fleet.images.tag(HOST, IMAGE, "dockyard-eng/extra", tag)
            assert (await fleet.images.inspect(HOST, ref))["Id"] == lab_image.id
            removed = await fleet.images.remove(HOST, ref)  # another tag of an image: only untagged
            assert removed.deleted == () and any(u.endswith(ref) for u in removed.untagged)
            with pytest.raises(DaemonError) as gone:
                await fleet.images.inspect(HOST, ref)
            assert gone.value.status == 404
            rows, failed = await fleet.images.drift_report()
            assert not failed and any(r.reference.endswith(IMAGE) for r in rows)


class TestRegistryPull:
    async def test_pull_from_the_lab_registry_with_progress_then_a_missing_tag_in_words(self, engine, lab):
        ref = f"{lab.registry.host}/eng/pulled:{uid()}"
        lab.d2.docker("tag", IMAGE, ref)
        lab.d2.docker("push", ref)
        async with fleet_of(engine, live=False) as fleet:
            events = [ev async for ev in fleet.images.pull(ref, [HOST])]
            result = events[-1]
            assert result.done and result.ok, result.error
            assert result.image_id == (await fleet.images.inspect(HOST, ref))["Id"]
            assert [ev for ev in events if ev.done] == [result]
            missing = [ev async for ev in fleet.images.pull(f"{lab.registry.host}/eng/missing:{uid()}", [HOST])]
        assert not missing[-1].ok and ("not found" in missing[-1].error or "unknown" in missing[-1].error), \
            missing[-1].error
        engine.docker("rmi", ref)
