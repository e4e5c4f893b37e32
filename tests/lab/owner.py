"""Who owns a lab root, and what happens to labs whose owner is gone.

Every lab root (`/tmp/dyl…` for the lab, `/tmp/dys…` swarm, `/tmp/dyp…` Podman) gets an `owner.pid`
file when it is made: the pid and the start time (jiffies since boot, /proc/PID/stat field 22) of the
process that made it. The pair names one process even after the pid is reused.

- `claim(root)` writes it, remembers the root as this process's, and first reaps stale labs: roots
  whose owner process is gone (a run killed with SIGKILL, a machine-wide `timeout`). A root whose
  owner is alive, or that has no `owner.pid` (made by other code), is never touched: other labs run
  concurrently on the same machine.
- `stop_on_signals()` makes SIGTERM and SIGHUP stop every lab this process owns, then exit 128+signal
  (without it, a run stopped by `timeout` leaves dockerd, sshd, registry, agent, Podman and swarm
  bridges running). SIGINT stays pytest's: a KeyboardInterrupt, whose teardown stops the lab.
- `sweep(root)` stops a lab without its objects: every process whose command line mentions the root
  (and their descendants) is killed, mounts below it are unmounted, the swarm nodes' gateway bridges
  (`gw<last 8 characters of the root's name>…`) are deleted, the root is removed.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import threading

from .servers import STOPPING, _kill_pids, _pids_mentioning, _umount_under

OWNER_FILE = "owner.pid"
# Where lab roots are made (tempfile.mkdtemp(prefix=…, dir="/tmp")): the lab, swarm, Podman, bench.
ROOT_PATTERN = "/tmp/dy*"

_owned: set[str] = set()
_lock = threading.Lock()


def _start_time(pid: int) -> str | None:
    """The process's start time since boot (/proc/PID/stat field 22), or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            rest = f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if rest[0] in (b"Z", b"X"):  # a zombie has finished
        return None
    return rest[19].decode()  # fields after "(comm)" start at 3 (state): 22 - 3 = 19


def owner_alive(root: str) -> bool:
    """True unless `root/owner.pid` names a process that is gone (no file: alive, never ours to judge)."""
    try:
        pid_text, _, started = open(os.path.join(root, OWNER_FILE)).read().strip().partition(" ")
        pid = int(pid_text)
    except FileNotFoundError:
        return True
    except (OSError, ValueError):
        return True  # unreadable or half-written (being made right now): leave it alone
    return _start_time(pid) == started


def sweep(root: str) -> None:
    """Stop whatever runs for the lab at `root` and remove it (see the module docstring)."""
    root = root.rstrip("/")
    _kill_pids(_pids_mentioning(root + "/"))
    _umount_under(root)
    tag = os.path.basename(root)[-8:]
    for link in glob.glob(f"/sys/class/net/gw{tag}*"):
        subprocess.run(["ip", "link", "del", os.path.basename(link)], capture_output=True)
    if not os.environ.get("DOCKYARD_LAB_KEEP"):
        shutil.rmtree(root, ignore_errors=True)


def reap_stale() -> list[str]:
    """Sweep every lab root whose owner process is gone; returns the roots swept."""
    reaped = []
    for owner_file in glob.glob(os.path.join(ROOT_PATTERN, OWNER_FILE)):
        root = os.path.dirname(owner_file)
        if root not in _owned and not owner_alive(root):
            sweep(root)
            reaped.append(root)
    return reaped


def claim(root: str) -> None:
    """Record this process as the owner of `root` (after reaping stale labs)."""
    reap_stale()
    with open(os.path.join(root, OWNER_FILE), "w") as f:
        f.write(f"{os.getpid()} {_start_time(os.getpid())}\n")
    with _lock:
        _owned.add(root.rstrip("/"))


def release(root: str) -> None:
    """The lab at `root` was stopped by its owner (a root kept with DOCKYARD_LAB_KEEP is then no
    one's: never reaped)."""
    with _lock:
        _owned.discard(root.rstrip("/"))
    try:
        os.unlink(os.path.join(root, OWNER_FILE))
    except OSError:
        pass


def sweep_owned() -> None:
    """Stop every lab this process owns, now (from a signal handler, or at exit)."""
    STOPPING.set()  # no lab process starts from now on (servers._spawn)
    with _lock:
        roots = list(_owned)
    for _ in range(2):  # a start that raced the first sweep (a thread spawning) is caught by the second
        for root in roots:
            sweep(root)
    with _lock:
        _owned.difference_update(roots)


def _on_signal(signum: int, frame: object) -> None:
    sweep_owned()
    sys.stderr.write(f"\nlab: stopped every lab of this run on {signal.Signals(signum).name}\n")
    sys.stderr.flush()
    os._exit(128 + signum)


def stop_on_signals(signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGHUP)) -> None:
    """Install the handlers (main thread only; elsewhere this does nothing)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for s in signals:
        signal.signal(s, _on_signal)
