"""Starting, waiting for and stopping the lab's server processes (by pid, never by name).

Shared by every component (dockerd, docker-registry, sshd, ssh-agent) and by tests/registry_lab.py.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Iterable

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
PORT_RETRIES = 3
# Set when a stop signal arrived (tests/lab/owner.py): from then on no lab process starts.
STOPPING = threading.Event()


class LabError(RuntimeError):
    """A lab component failed; the message carries the tail of its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_tail(path: str | os.PathLike | None, lines: int = 30) -> str:
    if not path:
        return "(no log)"
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as exc:
        return f"(cannot read {path}: {exc})"
    tail = text.splitlines()[-lines:]
    return f"--- last {len(tail)} lines of {path} ---\n" + "\n".join(tail)


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment for lab processes: no DOCKER_* / SSH_* leaking in from the caller."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DOCKER_", "SSH_")) and k not in ("BUILDKIT_PROGRESS",)
    }
    path = env.get("PATH", "")
    for d in ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        if d not in path.split(":"):
            path = f"{path}:{d}" if path else d
    env["PATH"] = path
    env.update(extra)
    return env


def _run(cmd: list[str], *, check: bool = True, **kw: Any) -> subprocess.CompletedProcess:
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("env", _clean_env())
    proc = subprocess.run(cmd, **kw)
    if check and proc.returncode != 0:
        raise LabError(
            f"command failed ({proc.returncode}): {' '.join(map(str, cmd))}\n"
            f"stdout: {proc.stdout!s:.2000}\nstderr: {proc.stderr!s:.2000}"
        )
    return proc


def _spawn(cmd: list[str], log_path: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start a server with stdout+stderr appended to its log, in its own session
    (a ^C at the terminal reaches pytest, which then stops the lab cleanly)."""
    if STOPPING.is_set():
        raise LabError(f"not starting {cmd[0]}: the lab is being stopped (signal)")
    log = open(log_path, "ab")
    try:
        log.write(f"\n==== {time.strftime('%H:%M:%S')} {' '.join(cmd)}\n".encode())
        log.flush()
        return subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env or _clean_env(),
            start_new_session=True,
        )
    finally:
        log.close()


def _wait_until(check, *, what: str, proc: subprocess.Popen | None, log_path, timeout: float) -> None:
    """Poll `check()` until it is truthy; fail early if `proc` died, with its log tail."""
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while True:
        try:
            if check():
                return
        except Exception as exc:  # noqa: BLE001 - remembered for the error message
            last_exc = exc
        if proc is not None and proc.poll() is not None:
            raise LabError(f"{what} exited with {proc.returncode} before it was ready\n{log_tail(log_path)}")
        if time.monotonic() > deadline:
            raise LabError(
                f"{what} not ready after {timeout:.0f} s (last error: {last_exc!r})\n{log_tail(log_path)}"
            )
        time.sleep(0.05)


def _log_size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _port_clash(path: str, offset: int) -> bool:
    """Did the server log "address already in use" since `offset`? (Another lab on this machine
    may take a port between `free_port()` and the server's bind; then we retry with a new one.)"""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return b"address already in use" in f.read().lower()
    except OSError:
        return False


class PortServer:
    """A server that listens on a port picked with `free_port()`.

    Another lab on this machine may take that port between the pick and the server's bind;
    `_start_on_free_port` then stops the server, moves it to a new port and starts it again
    (PORT_RETRIES times in all). Subclasses implement `_start` (spawn and wait until ready) and
    may refuse to move (`_move_port` returning False)."""

    log_path: str
    proc: subprocess.Popen | None
    port: int | None

    def _start(self, timeout: float):
        raise NotImplementedError

    def _move_port(self) -> bool:
        """Take another free port; False when this server must keep the one it has."""
        self.port = free_port()
        return True

    def _start_on_free_port(self, timeout: float):
        for attempt in range(PORT_RETRIES):
            offset = _log_size(self.log_path)
            try:
                return self._start(timeout)
            except LabError:
                _stop_proc(self.proc)
                if attempt == PORT_RETRIES - 1 or not _port_clash(self.log_path, offset) or not self._move_port():
                    raise
        raise AssertionError("unreachable")


def _ppid_map() -> dict[int, int]:
    """pid -> ppid for every process, from /proc/*/stat."""
    out: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
        except OSError:
            continue
        # "pid (comm) state ppid ..." - comm may contain spaces and parentheses
        rest = stat[stat.rfind(")") + 2 :].split()
        out[int(entry)] = int(rest[1])
    return out


def descendants(pid: int) -> list[int]:
    """Every descendant of `pid` (children first, breadth-first)."""
    children: dict[int, list[int]] = {}
    for child, parent in _ppid_map().items():
        children.setdefault(parent, []).append(child)
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(0), []):
            found.append(child)
            todo.append(child)
    return found


def _pids_mentioning(text: str) -> list[int]:
    """Processes whose command line contains `text` (a unique lab path), plus their descendants."""
    me = os.getpid()
    hits = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            hits.append(int(entry))
    result: list[int] = []
    for pid in hits:
        for p in [pid, *descendants(pid)]:
            if p not in result and p != me:
                result.append(p)
    return result


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        return False


def _kill_pids(pids: Iterable[int]) -> None:
    """SIGKILL these pids (SIGKILL also ends stopped processes) and wait until they are gone."""
    pids = list(pids)
    for pid in pids:
        _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.02)


def _stop_proc(proc: subprocess.Popen | None, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM, then SIGKILL after `timeout`, and reap."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGCONT)  # a frozen process would never act on SIGTERM
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _umount_under(path: str) -> None:
    """Lazily unmount whatever dockerd left mounted below `path` (it bind-mounts its data root)."""
    prefix = path.rstrip("/") + "/"
    mounts = []
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                point = line.split()[4].encode().decode("unicode_escape")  # "\040" -> " "
                if point.startswith(prefix) or point == path:
                    mounts.append(point)
    except OSError:
        return
    for point in sorted(set(mounts), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 5.0):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def unix_http(
    sock_path: str, method: str, path: str, body: bytes | None = None,
    headers: dict[str, str] | None = None, timeout: float = 5.0,
) -> tuple[int, bytes]:
    """One HTTP request over a unix socket (the Docker API without any client library)."""
    conn = _UnixHTTPConnection(sock_path, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _tcp_accepts(port: int, banner: bytes | None = None) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
        if banner is None:
            return True
        s.settimeout(2)
        return s.recv(64).startswith(banner)


def _quiet(fn) -> None:
    """Call `fn`, ignoring what it raises (teardown keeps stopping the rest)."""
    try:
        fn()
    except Exception:  # noqa: BLE001
        pass
