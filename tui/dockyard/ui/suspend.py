"""ctrl+z as in htop, vim or less: stop the process as a shell job; `fg` brings the screen back.

Textual does the terminal part (`App.action_suspend_process`: leave application mode, SIGSTOP;
on SIGCONT enter it again, and the size event that follows repaints every cell). Added here:
stopping is refused when no shell waits to `fg` us (`ssh -t host dockyard`, a terminal whose
only program is Dockyard, a shell without job control): a stopped process there can never be
continued and takes the session with it.

The fleet's connections are left as they are: a stopped process answers nothing, so hosts that
gave up on it (SSH keepalive, a daemon's idle timeout) are reconnected by the usual reconnect.
"""

from __future__ import annotations

import os


def why_no_job_control(fd: int = 0) -> str | None:
    """None when a job-control shell on this terminal can `fg` us; else why ctrl+z does nothing here.

    A job-control shell puts each job in its own process group, in its own session, and makes it the
    terminal's foreground group; a process that is its session's leader (`ssh -t host dockyard`, a
    terminal running only Dockyard) or that shares its parent's group has nobody to continue it."""
    try:
        group, parent = os.getpgrp(), os.getppid()
        if os.getsid(0) == os.getpid():
            return "Dockyard leads its terminal session (started without a shell, e.g. `ssh -t host dockyard`)"
        if os.getpgid(parent) == group or os.getsid(parent) != os.getsid(0):
            return "the program that started Dockyard has no job control"
        if os.tcgetpgrp(fd) != group:
            return "Dockyard is not the terminal's foreground job"
    except OSError as exc:
        return f"job control unavailable ({exc.strerror or exc})"
    return None
