"""Bridge the real terminal to an exec session while the TUI is suspended.

Raw mode in, bytes out, SIGWINCH → resize. Returns when the shell exits; the terminal
is restored whatever happens. Used by the Containers pane's `e` (exec shell).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import termios
import tty
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # aiodocker loads with the fleet, after the first frame
    from dockyard.fleet import ExecSession


async def run_interactive(session: ExecSession, stdin_fd: int | None = None, stdout_fd: int | None = None) -> None:
    stdin_fd = sys.stdin.fileno() if stdin_fd is None else stdin_fd
    stdout_fd = sys.stdout.fileno() if stdout_fd is None else stdout_fd
    loop = asyncio.get_running_loop()
    saved = termios.tcgetattr(stdin_fd) if os.isatty(stdin_fd) else None
    pending: set[asyncio.Task] = set()
    stdin_closed = asyncio.Event()

    def on_input() -> None:
        try:
            data = os.read(stdin_fd, 4096)
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(stdin_fd)
            stdin_closed.set()
            return
        task = loop.create_task(session.write(data))
        pending.add(task)
        task.add_done_callback(pending.discard)

    def on_resize() -> None:
        with contextlib.suppress(OSError):
            size = os.get_terminal_size(stdout_fd)
            task = loop.create_task(session.resize(size.lines, size.columns))
            pending.add(task)
            task.add_done_callback(pending.discard)

    try:
        if saved is not None:
            tty.setraw(stdin_fd)
        loop.add_reader(stdin_fd, on_input)
        with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
            loop.add_signal_handler(signal.SIGWINCH, on_resize)
        on_resize()
        reader = asyncio.ensure_future(_pump(session, stdout_fd))
        closed = asyncio.ensure_future(stdin_closed.wait())
        await asyncio.wait({reader, closed}, return_when=asyncio.FIRST_COMPLETED)
        closed.cancel()
        if not reader.done():  # the terminal went away: end the shell
            await session.close()
            reader.cancel()
    finally:
        loop.remove_reader(stdin_fd)
        with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
            loop.remove_signal_handler(signal.SIGWINCH)
        if saved is not None:
            termios.tcsetattr(stdin_fd, termios.TCSADRAIN, saved)
        for task in pending:
            task.cancel()
        await session.close()


async def _pump(session: ExecSession, stdout_fd: int) -> None:
    while (data := await session.read()) is not None:
        view = memoryview(data)
        while view:
            written = os.write(stdout_fd, view)
            view = view[written:]
