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
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _spawn(config: str, *, ignore_hup: bool):
    pid, fd = pty.fork()
    if pid == 0:  # child: the pty is its controlling terminal
        if ignore_hup:
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
        env = {**os.environ, "PYTHONPATH": str(ROOT / "tui"), "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
        os.execvpe(sys.executable, [sys.executable, "-m", "dockyard", "--config", config], env)
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


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.parametrize("ignore_hup", [False, True], ids=["sighup", "sighup-ignored"])
def test_exits_cleanly_when_the_terminal_hangs_up(lab, tmp_path, ignore_hup):
    cfg = str(lab.write_config(tmp_path / "c.toml", hosts=("unix1",)))
    pid, fd = _spawn(cfg, ignore_hup=ignore_hup)
    try:
        _read_until(fd, b"Dockyard", 15)
        time.sleep(1.0)
        cpu_before = _cpu_seconds(pid)
        os.close(fd)  # the terminal goes away
        start = time.monotonic()
        while time.monotonic() - start < 5:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        else:
            cpu = _cpu_seconds(pid) - cpu_before
            raise AssertionError(f"still running 5 s after hang-up (used {cpu:.2f} s of CPU meanwhile)")
        elapsed = time.monotonic() - start
        assert elapsed < 5
        assert os.WIFEXITED(status) or os.WIFSIGNALED(status)
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
