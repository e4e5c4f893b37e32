"""Dockyard in a real pseudo-terminal: it draws, and it exits when the terminal goes away.

On a jump box an SSH session that drops leaves the TUI with a hung-up terminal; Textual's
input thread would otherwise spin at 100 % CPU on it (DESIGN.md). Here the pty's master
side is closed under a running Dockyard, as sshd does when the connection drops.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import time
import uuid
from pathlib import Path

import pytest

from helpers import DOCKYARD, cli_env


def _spawn(config: str, *, ignore_hup: bool):
    pid, fd = pty.fork()
    if pid == 0:  # child: the pty is its controlling terminal
        if ignore_hup:
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
        env = cli_env({"TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"})
        os.execvpe(DOCKYARD[0], [*DOCKYARD, "--config", config], env)
    return pid, fd


def _read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
            if needle in seen:
                return seen
    raise AssertionError(f"{needle!r} not on screen within {timeout}s; got {seen[-500:]!r}")


def _end(pid: int, fd: int) -> None:
    """Close the terminal (if still open) and make sure the app is gone."""
    if fd >= 0:
        os.close(fd)
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


HANGUPS = ["sighup", "sighup-ignored", "while-quitting", "dialog-open", "logs-streaming"]


@pytest.fixture(scope="module")
def chatty(lab):
    """A running container that logs all the time, for the logs view to stream."""
    name = "chatty-" + uuid.uuid4().hex[:6]
    cid = lab.d1.run_container(name, "sh", "-c", "i=0; while :; do echo tick-$i; i=$((i+1)); usleep 20000; done")
    yield name
    lab.d1.docker("rm", "-f", cid, check=False)


@pytest.mark.parametrize("kind", HANGUPS)
def test_the_process_is_gone_when_the_terminal_hangs_up(lab, tmp_path, chatty, kind):
    """Whatever the app was doing, a terminal that goes away ends it, by the hang-up path (exit 129).

    Before: `App.exit(0)` on a hang-up ran Textual's orderly close, which writes to the dead
    terminal; the process lingered 1.5-2.3 s, sometimes for good (DESIGN.md). With SIGHUP
    ignored (nohup) nothing but the tty's hang-up says the user is gone.
    """
    cfg = str(lab.write_config(tmp_path / "c.toml", hosts=("unix1", "ssh")))
    pid, fd = _spawn(cfg, ignore_hup=kind == "sighup-ignored")
    try:
        _read_until(fd, b"hosts 2/2 online", 20)  # every host session is up (rows may come before)
        if kind == "dialog-open":
            os.write(fd, b"/" + chatty.encode() + b"\r")
            time.sleep(0.5)
            os.write(fd, b"\x04")  # ctrl+d: remove, asks first
            _read_until(fd, b"Remove 1 container", 10)
        elif kind == "logs-streaming":
            os.write(fd, b"/" + chatty.encode() + b"\r")
            time.sleep(0.5)
            os.write(fd, b"l")
            _read_until(fd, b"tick-", 10)
            time.sleep(0.5)  # lines keep coming; nobody reads them any more
        elif kind == "while-quitting":
            os.write(fd, b"q")
        cpu_before = _cpu_seconds(pid)
        os.close(fd)  # the terminal goes away
        fd = -1
        deadline = time.monotonic() + 5  # generous: the speed is measured by bench/bench_tui.py hangup
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.02)
        else:
            cpu = _cpu_seconds(pid) - cpu_before
            raise AssertionError(f"still running 5 s after the hang-up (used {cpu:.2f} s of CPU meanwhile)")
        assert os.WIFEXITED(status), f"ended by signal {os.WTERMSIG(status)}, not by the hang-up path"
        # quitting may have finished its orderly exit (0) before the terminal went away
        expected = {0, 129} if kind == "while-quitting" else {129}
        assert os.WEXITSTATUS(status) in expected
    finally:
        _end(pid, fd)


def test_the_shell_is_painted_before_the_fleet_layer_loads(lab, tmp_path, chatty):
    """Two-phase start: the shell ("connecting to 2 hosts…") is the first frame, painted before the
    fleet layer is imported. The unix host's rows may be in it already (its start-up listing,
    fleet/prefetch.py); the SSH host's rows come once the fleet layer has connected."""
    far = "far-" + uuid.uuid4().hex[:6]
    lab.d2.run_container(far, "sleep", "300")  # the lab's "ssh" host is d2 over SSH
    cfg = str(lab.write_config(tmp_path / "c.toml", hosts=("unix1", "ssh")))
    pid, fd = _spawn(cfg, ignore_hup=False)
    try:
        seen = _read_until(fd, b"connecting to 2 hosts", 20)
        assert far.encode() not in seen  # the SSH host needs the fleet layer: not in the first frame
        painted = seen + _read_until(fd, far.encode(), 20)  # then its rows
        # the tabs came before the rows (the first frame may reach the pty in more than one write)
        assert b"Containers" in painted and painted.index(b"Containers") < painted.index(far.encode())
        assert chatty.encode() in painted
        assert b"REPOSITORY:TAG" not in painted and b"MOUNTPOINT" not in painted  # one pane shows, not all
    finally:
        _end(pid, fd)
        lab.d2.docker("rm", "-f", far, check=False)


def test_keys_typed_while_the_first_rows_show_are_not_lost(lab, tmp_path, chatty):
    """The first frame shows rows ~0.3 s before the panes are up; a user who types `/name⏎` at once
    gets that filter, not a dropped `/` and an Enter that opens whatever row the cursor is on."""
    cfg = str(lab.write_config(tmp_path / "c.toml", hosts=("unix1", "ssh")))
    pid, fd = _spawn(cfg, ignore_hup=False)
    try:
        _read_until(fd, b"connecting to 2 hosts", 20)
        os.write(fd, b"/" + chatty.encode() + b"\r")
        painted = _read_until(fd, b"filter: ", 20)  # the summary line says the filter is on (then its words)
        painted += _read_until(fd, b"online", 20)
        assert b"Container " + chatty.encode() not in painted  # no detail view opened instead
        assert b"filter:" in painted and chatty.encode() in painted[painted.index(b"filter:"):]
    finally:
        _end(pid, fd)
