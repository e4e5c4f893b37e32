"""Leave at once when the terminal goes away: there is nobody left to see an orderly exit.

Textual's orderly close writes to the terminal (restore modes, leave the alternate screen)
through an output thread with a 30-write queue; once the tty is gone nothing drains it and
`App._shutdown` sleeps in `Queue.put` forever (`LinuxDriver.close -> WriterThread.stop`), holding
every host's SSH connection open: a process was seen orphaned for minutes that way. So a hang-up skips all of that: it
closes the fleet within a short grace and ends the process with `os._exit`; a watchdog
thread ends it anyway if even that takes longer (the event loop may be the thing stuck).

How a hang-up is noticed (any of them, whichever comes first):

| what happened                        | noticed by                                          |
|--------------------------------------|-----------------------------------------------------|
| SIGHUP (ssh dropped, tmux killed)    | a plain `signal` handler: runs even while the loop  |
|                                      | thread is blocked in a lock (asyncio's would not)   |
| SIGHUP ignored (nohup), tty hung up  | a thread blocked in `poll()` on stdin and the       |
|                                      | output fd, asking for no events: only HUP/ERR/NVAL  |
| EIO writing to the tty               | `threading.excepthook` for Textual's I/O threads    |
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import threading
import time
from collections.abc import Awaitable, Callable

EXIT_HANGUP = 129  # 128 + SIGHUP: what a shell reports for a process a hang-up ended
TERMINAL_FDS = (0, 2)  # Textual reads stdin and writes to stderr
TEXTUAL_IO_THREADS = ("textual-input", "textual-output")
_HUP_MASK = select.POLLHUP | select.POLLERR | select.POLLNVAL


class HangupGuard:
    """Ends the process within `deadline` seconds of the terminal going away, whatever runs.

    `close` (given to `attach`, from the running loop) gets `grace` seconds to say goodbye
    to the daemons; then, or when the watchdog fires, the process exits with EXIT_HANGUP.
    """

    def __init__(self, *, grace: float = 0.15, deadline: float = 0.3, fds: tuple[int, ...] = TERMINAL_FDS):
        self.grace = grace
        self.deadline = deadline
        self.fds = fds
        self.reason: str | None = None
        self._fired = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._close: Callable[[], Awaitable[object]] | None = None
        self._previous_hook = threading.excepthook

    def install(self) -> None:
        """Start watching (main thread only: it sets a signal handler). Before the loop exists is fine."""
        if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:  # nohup: respect it, the poll still sees
            signal.signal(signal.SIGHUP, lambda *_: self.trigger("SIGHUP"))
        threading.excepthook = self._thread_died
        threading.Thread(target=self._watch_fds, name="hangup-watch", daemon=True).start()

    def attach(self, loop: asyncio.AbstractEventLoop, close: Callable[[], Awaitable[object]]) -> None:
        """What to run on a hang-up, on `loop`: closing the fleet."""
        self._loop, self._close = loop, close

    def trigger(self, reason: str) -> None:
        """Thread- and signal-safe; only the first call counts."""
        if not self._fired.acquire(blocking=False):
            return
        self.reason = reason
        threading.Thread(target=self._watchdog, name="hangup-watchdog", daemon=True).start()
        loop = self._loop
        if loop is None or self._close is None or loop.is_closed():
            os._exit(EXIT_HANGUP)  # nothing connected yet (or any more): nothing to close
        try:
            loop.call_soon_threadsafe(lambda: loop.create_task(self._close_and_exit()))
        except RuntimeError:  # the loop closed meanwhile
            os._exit(EXIT_HANGUP)

    async def _close_and_exit(self) -> None:
        assert self._close is not None
        closing = asyncio.ensure_future(self._close())
        with contextlib.suppress(Exception):
            await asyncio.wait({closing}, timeout=self.grace)  # not wait_for: it would await the cancel
        os._exit(EXIT_HANGUP)

    def _watchdog(self) -> None:
        time.sleep(self.deadline)
        os._exit(EXIT_HANGUP)

    def _watch_fds(self) -> None:
        poller = select.poll()
        for fd in self.fds:
            poller.register(fd, 0)  # no events asked for: poll reports only HUP/ERR/NVAL
        while True:
            try:
                events = poller.poll()
            except InterruptedError:
                continue
            except OSError as exc:
                self.trigger(f"poll: {exc}")
                return
            for fd, mask in events:
                if mask & _HUP_MASK:
                    self.trigger(f"fd {fd} hung up")
                    return

    def _thread_died(self, args: threading.ExceptHookArgs) -> None:
        thread = args.thread
        if thread is not None and thread.name in TEXTUAL_IO_THREADS and isinstance(args.exc_value, OSError):
            self.trigger(f"{thread.name}: {args.exc_value}")  # EIO on the tty: it is gone
            return
        self._previous_hook(args)
