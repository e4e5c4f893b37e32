"""Interactive exec through the Docker API, over the SSH transport (no docker CLI anywhere).

(Exec and attach on a unix socket, against dockerd and Podman: tests/test_engines.py.)"""

from __future__ import annotations

import uuid

import pytest

from fleet_hosts import config, ssh_host, unix_host
from helpers import read_until
from dockyard.fleet import Fleet, ReadOnlyError


async def test_shell_over_ssh_runs_commands_and_follows_resizes(lab):
    cid = lab.d2.run_container("exec-" + uuid.uuid4().hex[:6], "sleep", "300")
    async with Fleet(config(ssh_host(lab, lab.d2, name="ssh")), live=False) as fleet:
        session = await fleet.containers.exec("ssh", cid, ["sh"], rows=30, cols=100)
        await session.write(b"echo $((6*7)); stty size; echo END$((0+1))\n")
        out = await read_until(session, b"\r\nEND1\r\n")  # the output, not the echoed command
        assert b"\r\n42\r\n" in out and b"\r\n30 100\r\n" in out
        await session.resize(41, 132)
        await session.write(b"stty size; echo END$((1+1))\n")
        out = await read_until(session, b"\r\nEND2\r\n")
        assert b"41 132" in out
        await session.write(b"exit 5\n")
        while await session.read() is not None:
            pass
        assert await session.exit_code() == 5
        assert session.explain_exit(5) is None


async def test_exec_is_refused_in_read_only_mode(lab):
    cid = lab.d1.run_container("exec-" + uuid.uuid4().hex[:6], "sleep", "300")
    async with Fleet(config(unix_host(lab.d1, "unix1")), live=False, readonly=True) as fleet:
        with pytest.raises(ReadOnlyError):
            await fleet.containers.exec("unix1", cid, ["sh"])
