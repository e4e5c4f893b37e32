"""`dockyard exec [-i] [-t] CONTAINER COMMAND…` on any host, through the Docker API.

As `docker exec`: `-it` on a terminal is an interactive session (raw mode, resizes follow the
terminal, the TUI's own bridge in ui/shell.py); without `-t` the command's stdout and stderr
come back apart, and without `-i` it reads no input. The exit code is the command's own, so
scripts can test it; Dockyard's own failures use 2 (usage, ambiguous name) and 3 (host or
daemon failure), and 126/127 mean the command could not run, as in docker.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from typing import TYPE_CHECKING

from dockyard.cli.exits import EXIT_FAILED, EXIT_USAGE
from dockyard.cli.targets import Ambiguous, add_target_options, resolve
from dockyard.textfmt import safe

if TYPE_CHECKING:
    from dockyard.fleet import ExecSession, Fleet


def add_exec_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("exec", help="run a command in a container on any host (exit code: the command's)",
                       description="Run a command in a running container on any host (as docker exec). "
                                   "A container is NAME, an ID (prefix) or HOST/NAME; a name on several hosts "
                                   "needs --host or HOST/NAME.")
    p.add_argument("-i", "--interactive", action="store_true", help="pass this terminal's (or pipe's) input")
    p.add_argument("-t", "--tty", action="store_true", help="a terminal for the command (needs one here too)")
    p.add_argument("-e", "--env", action="append", default=[], metavar="KEY=VALUE", help="set a variable")
    p.add_argument("-u", "--user", default="", metavar="USER", help="run as this user (name or uid[:gid])")
    p.add_argument("-w", "--workdir", metavar="DIR", help="working directory inside the container")
    add_target_options(p, all_hosts=False)
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("cmd", nargs=argparse.REMAINDER, metavar="COMMAND", help="the command and its arguments")


async def cmd_exec(args: argparse.Namespace, fleet: Fleet) -> int:
    from dockyard.fleet import FleetError

    if not args.cmd:
        print("dockyard: exec needs a command after the container, e.g. dockyard exec web-1 sh", file=sys.stderr)
        return EXIT_USAGE
    env = {}
    for item in args.env:
        key, sep, value = item.partition("=")
        if not key:
            print(f"dockyard: exec: bad -e {safe(item)!r}: expected KEY=VALUE", file=sys.stderr)
            return EXIT_USAGE
        env[key] = value if sep else os.environ.get(key, "")
    tty = args.tty
    if tty and not sys.stdin.isatty():
        print("dockyard: exec: -t needs a terminal here (input is not one); running without a TTY",
              file=sys.stderr)
        tty = False
    try:
        found = await resolve(fleet, [args.container], args.host, running_only=True)
    except Ambiguous as exc:
        print(f"dockyard: exec: {safe(exc)}", file=sys.stderr)
        return EXIT_USAGE
    if not found.containers:
        elsewhere = f" (not answering: {', '.join(found.host_errors)})" if found.host_errors else ""
        print(f"dockyard: {safe(args.container)}: no such running container{elsewhere}", file=sys.stderr)
        return EXIT_FAILED
    target = found.containers[0]
    size = _terminal_size() if tty else None
    try:
        session = await fleet.containers.exec(target.host, target.id, args.cmd, tty=tty, env=env or None,
                                              user=args.user, workdir=args.workdir, stdin=args.interactive,
                                              rows=size[0] if size else None, cols=size[1] if size else None)
    except FleetError as exc:
        print(f"dockyard: {safe(target.host)}/{safe(target.name)}: {safe(exc)}", file=sys.stderr)
        return EXIT_FAILED
    if tty and args.interactive:
        from dockyard.ui.shell import run_interactive  # raw mode, resizes; no Textual involved

        await run_interactive(session)
    else:
        await _pipe(session, args.interactive)
    code = await _exit_code(session)
    if code is None:
        print(f"dockyard: {safe(target.host)}/{safe(target.name)}: the command's exit code is unknown",
              file=sys.stderr)
        return EXIT_FAILED
    if session.explain_exit(code) and not tty:  # the runtime's own words say little
        print(f"dockyard: {safe(target.host)}/{safe(target.name)}: could not run {safe(args.cmd[0])!r} "
              f"(not found or not executable, exit {code})", file=sys.stderr)
    return code


def _terminal_size() -> tuple[int, int] | None:
    with contextlib.suppress(OSError):
        size = os.get_terminal_size(sys.stdout.fileno())
        return size.lines, size.columns
    return None


async def _pipe(session: ExecSession, interactive: bool) -> None:
    """Output to stdout/stderr as it comes; with -i, our input to the command until its end."""
    feeder = asyncio.ensure_future(_feed(session)) if interactive else None
    try:
        while (chunk := await session.read_stream()) is not None:
            stream, data = chunk
            out = sys.stderr.buffer if stream == 2 else sys.stdout.buffer
            out.write(data)
            out.flush()
    finally:
        if feeder is not None:
            feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await feeder
        await session.close()


async def _feed(session: ExecSession) -> None:
    """Our stdin to the command, then end-of-input. Read through the event loop (a thread blocked
    in read() would keep the process alive after the command ended); a plain file is read as is."""
    loop = asyncio.get_running_loop()
    fd = sys.stdin.fileno()
    chunks: asyncio.Queue[bytes] = asyncio.Queue(maxsize=4)

    later: set[asyncio.Task] = set()

    def readable() -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        full = chunks.full()
        if full or not data:
            loop.remove_reader(fd)
        if full:  # the command reads slower than we do: wait for it, then read on
            task = loop.create_task(_queue_later(data))
            later.add(task)
            task.add_done_callback(later.discard)
        else:
            chunks.put_nowait(data)

    async def _queue_later(data: bytes) -> None:
        await chunks.put(data)
        if data:
            loop.add_reader(fd, readable)

    try:
        loop.add_reader(fd, readable)
    except PermissionError:  # a regular file: epoll can't watch it, and reading it never blocks
        with open(fd, "rb", closefd=False) as f:
            while data := f.read(65536):
                await session.write(data)
        await session.close_input()
        return
    try:
        while data := await chunks.get():
            await session.write(data)
        await session.close_input()
    finally:
        with contextlib.suppress(ValueError, OSError):
            loop.remove_reader(fd)


async def _exit_code(session: ExecSession, wait: float = 5.0) -> int | None:
    """The exec's exit code; the daemon may mark it done a moment after the stream ended."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        code = await session.exit_code()
        if code is not None or loop.time() > deadline:
            return code
        await asyncio.sleep(0.05)
