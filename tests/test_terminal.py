"""Dockyard in a real pseudo-terminal: it draws, and it exits when the terminal goes away.

On a jump box an SSH session that drops leaves the TUI with a hung-up terminal; Textual's
input thread would otherwise spin at 100 % CPU on it. Here the pty's master
side is closed under a running Dockyard, as sshd does when the connection drops.
"""

from __future__ import annotations

import json
import os
import pty
import queue
import re
import select
import signal
import subprocess
import sys
import threading
import time
import tty
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


def _read_text_until(fd: int, needle: str, timeout: float) -> str:
    """`_read_until` for text that styles may cut up (a notice): the screen's bytes without escapes."""
    seen, text = b"", ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if select.select([fd], [], [], 0.1)[0]:
            seen += os.read(fd, 65536)
            text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", seen.decode(errors="replace"))
            if needle in text:
                return text
    raise AssertionError(f"{needle!r} not on screen within {timeout}s; got {text[-3000:]!r}")


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

    Textual's orderly close (`App.exit`) writes to the dead terminal and can wait forever on a
    full output queue, so the hang-up path never runs it (ui/hangup.py). With SIGHUP ignored
    (nohup) nothing but the tty's hang-up says the user is gone.
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


def test_a_lone_escape_is_the_escape_key_and_a_key_sequence_is_still_that_key(lab, tmp_path, chatty):
    """The escape key is handed over after a short wait for the rest of a sequence, not after
    Textual's 100 ms (ui/driver.py): a lone ESC still clears the filter, and an arrow key's
    sequence (ESC [ D, in one write as a terminal sends it) is still the arrow key, not an
    escape and two letters."""
    cfg = str(lab.write_config(tmp_path / "c.toml", hosts=("unix1",)))
    pid, fd = _spawn(cfg, ignore_hup=False)
    try:
        _read_until(fd, chatty.encode(), 20)
        _read_until(fd, b"hosts 1/1 online", 20)
        os.write(fd, b"/abc")
        time.sleep(0.3)
        os.write(fd, b"\x1b[D")  # left arrow, in one write as a terminal sends it: not esc (which
        time.sleep(0.3)  # would close the prompt) then `[` and `D`
        os.write(fd, b"x\r")
        _read_text_until(fd, "match the filter “abxc”", 10)  # the cursor moved left, the prompt stayed open
        os.write(fd, b"\x1b")  # esc on the pane: the filter goes, every row comes back
        _read_until(fd, chatty.encode(), 10)
        os.write(fd, b"/zzq-no-such-row\r")
        _read_until(fd, "No containers match the filter “zzq-no-such-row”".encode(), 10)
        os.write(fd, b"\x1b")  # esc on the pane: the filter goes, every row comes back
        _read_until(fd, chatty.encode(), 10)
    finally:
        _end(pid, fd)


def _escape_keys(monkeypatch, wait: float, escdelay: str | None, writes: list[bytes]) -> list[tuple[str, float]]:
    """The keys Dockyard's input thread makes of `writes` to a terminal (each its own write, 0.2 s
    apart), and how long after its write each came, with the parser's wait for the rest of a
    sequence set to `wait` s."""
    from textual import constants
    from dockyard.ui import driver as quick

    monkeypatch.setattr(quick, "ESCAPE_DELAY", wait)
    monkeypatch.setattr(constants, "ESCAPE_DELAY", wait)
    if escdelay is None:
        monkeypatch.delenv("ESCDELAY", raising=False)
    else:
        monkeypatch.setenv("ESCDELAY", escdelay)
    primary, replica = pty.openpty()
    tty.setraw(replica)
    got: queue.Queue = queue.Queue()
    reader = quick.QuickEscapeDriver.__new__(quick.QuickEscapeDriver)  # its input thread alone: the
    reader.fileno, reader.exit_event, reader._debug = replica, threading.Event(), False  # keys go to `got`
    reader.process_message = lambda message: got.put((getattr(message, "key", None), time.monotonic()))
    thread = threading.Thread(target=reader.run_input_thread, daemon=True)
    thread.start()
    keys = []
    try:
        for data in writes:
            sent = time.monotonic()
            os.write(primary, data)
            time.sleep(0.2)
            while not got.empty():
                key, at = got.get()
                keys.append((key, at - sent))
        deadline = time.monotonic() + wait + 1
        while time.monotonic() < deadline and not any(k == "escape" for k, _ in keys):
            try:
                key, at = got.get(timeout=0.1)
                keys.append((key, at - sent))
            except queue.Empty:
                pass
    finally:
        reader.exit_event.set()
        thread.join(2)
        os.close(primary)
        os.close(replica)
    return keys


def test_a_lone_escape_at_the_end_of_a_read_is_the_escape_key_without_waiting(monkeypatch):
    """A terminal writes a key's sequence in one go: an ESC that ends what was read, with nothing
    more waiting, is the escape key at once, even with a 3 s wait for the rest of a sequence; an
    arrow key's sequence in one write is still the arrow key."""
    keys = _escape_keys(monkeypatch, 3.0, None, [b"\x1b[D", b"\x1b", b"j"])
    assert [k for k, _ in keys] == ["left", "escape", "j"]
    assert keys[1][1] < 0.2  # not after the 3 s wait


def test_escdelay_set_by_the_user_waits_for_the_rest_of_a_sequence(monkeypatch):
    """ESCDELAY (ms) keeps the wait, for a link that splits sequences: a lone ESC is the escape
    key only after it."""
    keys = _escape_keys(monkeypatch, 0.6, "600", [b"\x1b"])
    assert [k for k, _ in keys] == ["escape"]
    assert keys[0][1] >= 0.55


# --------------------------------------------------------------------------- no terminal at all


def _without_terminal(cfg: str, tmp_path: Path, redirected: tuple[str, ...], args: tuple[str, ...] = ()):
    """`dockyard` started as `ssh host dockyard` (no -t), `dockyard > out.txt`, `| less` or cron do: the
    `redirected` standard streams go to files, the others to a pseudo-terminal. `-X importtime` lists
    every module imported on stderr. Returns the exit code, and per stream what it received."""
    primary, replica = pty.openpty()
    files = {name: open(tmp_path / name, "w+") for name in redirected}
    streams = {name: files.get(name, replica) for name in ("stdin", "stdout", "stderr")}
    received = b""
    try:
        proc = subprocess.Popen([sys.executable, "-X", "importtime", "-m", "dockyard", "--config", cfg, *args],
                                env=cli_env(), **streams)
        os.close(replica)
        deadline = time.monotonic() + 20  # the old behaviour: the app ran until killed
        while time.monotonic() < deadline:  # drain the terminal side as a terminal would (its buffer is small)
            try:
                chunk = os.read(primary, 65536) if select.select([primary], [], [], 0.1)[0] else None
            except OSError:  # EIO: nobody holds the terminal side (any more)
                break
            if chunk == b"" or (chunk is None and proc.poll() is not None):
                break
            received += chunk or b""
        try:
            code = proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
    finally:
        os.close(primary)
        for file in files.values():
            file.close()
    said = {name: (tmp_path / name).read_text() for name in redirected}
    said.setdefault("stderr", received.decode(errors="replace").replace("\r\n", "\n"))
    return code, said


NO_TERMINAL = {  # what is redirected -> how the sentence names it
    "stdin": ("stdin",), "stdout": ("stdout",), "stderr": ("stderr",), "cron": ("stdin", "stdout", "stderr"),
}


@pytest.mark.parametrize("case", list(NO_TERMINAL))
def test_without_a_terminal_the_ui_does_not_start_and_says_what_to_do(lab, tmp_path, case):
    """One sentence on stderr naming the stream that is not a terminal and what to run instead, exit 2,
    nothing on stdout, and the UI toolkit never loaded. (Started anyway, the app would write escape
    codes into the file and keep a core busy, or exit silently with 129 under `ssh -T`.)"""
    cfg = str(lab.write_config(tmp_path / "c.toml", hosts=("unix1",)))
    redirected = NO_TERMINAL[case]
    code, said = _without_terminal(cfg, tmp_path, redirected)
    assert code == 2
    lines = said["stderr"].splitlines()
    [sentence] = [line for line in lines if not line.startswith("import time:")]
    which = " and ".join(redirected) + (" are" if len(redirected) > 1 else " is")
    assert sentence.startswith(f"dockyard: the terminal UI needs a terminal, but {which} not one")
    assert "ssh -t" in sentence and "dockyard ps" in sentence
    assert said.get("stdout", "") == ""  # no escape codes in the user's file
    imported = [line.rsplit("|", 1)[-1].strip() for line in lines if line.startswith("import time:")]
    assert "dockyard.cli.main" in imported and "textual" not in imported


def test_without_a_terminal_headless_commands_still_work(lab, tmp_path):
    """The same redirects that stop the UI are how scripts use the headless commands."""
    cfg = str(lab.write_config(tmp_path / "c.toml", hosts=("unix1",)))
    code, said = _without_terminal(cfg, tmp_path, ("stdin", "stdout"), args=("hosts", "--json"))
    assert code == 0, said["stderr"]
    assert [h["name"] for h in json.loads(said["stdout"])["hosts"]] == ["unix1"]


def test_ctrl_z_without_a_shell_to_return_to_says_so_and_keeps_running(lab, tmp_path):
    """Dockyard leading its own terminal session (as under `ssh -t host dockyard`): a stopped process
    could never be continued, so ctrl+z says why it does nothing instead of hanging the session."""
    cfg = str(lab.write_config(tmp_path / "c.toml", hosts=("unix1",)))
    pid, fd = _spawn(cfg, ignore_hup=False)
    try:
        _read_until(fd, b"hosts 1/1 online", 20)
        os.write(fd, b"\x1a")  # ctrl+z
        _read_until(fd, b"no shell to return to", 10)
        assert Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "T"
        os.write(fd, b"1")  # still answering keys: the Hosts pane
        _read_until(fd, b"TRANSPORT", 10)
    finally:
        _end(pid, fd)
