"""What the tests share: waiting for what a user would see, reading the screen, running the CLI.

Plain functions, no fixtures (those live in conftest.py). Test modules import from here, from
`lab` and from `fleet_hosts` — never from each other.

    until(predicate, timeout, what)   poll until true (the app and the fleet run meanwhile)
    read_until(session, marker)       an exec/attach session's output up to `marker`
    showing(app, Dialog)              that dialog is the current, mounted screen
    svg_text(app)                     the characters on screen now
    screen_text(screen)               every Label/Static/Button text of a (modal) screen
    plain, table_rows, names_on_screen, summary, tabs    the panes as a user reads them
    make_app(cfg)                     the app plus a record of its notifications
    open_logs(app, id, name, lines=N) a container's logs view holding at least N lines
    dockyard(*args)                   this checkout's `dockyard` command, run as a user would
    in_terminal(argv, env, steps)     a program on a pty: type, wait for what shows, next step
    DOCKYARD, cli_env(extra)          the command line and environment, for a pty or exec
"""

from __future__ import annotations

import asyncio
import html
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- waiting


async def until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition", *,
                pilot=None) -> float:
    """Poll `predicate` until it is true and return how long that took; fail naming `what`
    after `timeout` s. The event loop runs between polls, so the app (or fleet) keeps working:
    a test waits for what a user would see instead of sleeping a guessed time. With a Textual
    `pilot`, each poll also lets the screen process its messages and repaint (`pilot.pause`):
    for predicates that read the painted screen (`svg_text`)."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        if pilot is not None:
            await pilot.pause(0.02)
        else:
            await asyncio.sleep(0.02)
    return time.monotonic() - start


async def read_until(session, marker: bytes, timeout: float = 10) -> bytes:
    """An exec or attach session's output until `marker` shows (fails if the stream ends first)."""
    out = b""
    deadline = time.monotonic() + timeout
    while marker not in out:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"{marker!r} not seen; got {out[-300:]!r}"
        chunk = await asyncio.wait_for(session.read(), remaining)
        assert chunk is not None, f"stream ended before {marker!r}; got {out[-300:]!r}"
        out += chunk
    return out


# --------------------------------------------------------------------------- the screen


def showing(app, dialog: type) -> bool:
    """That dialog is the current screen and is fully mounted (composed, on_mount done)."""
    return isinstance(app.screen, dialog) and app.screen.is_mounted


def svg_text(app) -> str:
    """The characters on screen now, from the SVG screenshot (text runs joined, nbsp -> space)."""
    svg = app.export_screenshot()
    return html.unescape("".join(re.findall(r">([^<]*)</text>", svg))).replace("\xa0", " ")


def plain(value) -> str:
    """A cell, label or Static content as text (Rich Text or str)."""
    from rich.text import Text

    if isinstance(value, Text):
        return value.plain
    return str(value)


def screen_text(screen) -> str:
    """Every Label/Static/Button text on a (modal) screen, joined."""
    from textual.widgets import Button

    parts = []
    for widget in screen.query("Label, Static, Button"):
        parts.append(plain(widget.label if isinstance(widget, Button) else widget.content))
    return "\n".join(parts)


def table_rows(app, pane: str = "containers") -> list[dict[str, str]]:
    """A pane's DataTable as the user sees it: one {COLUMN LABEL: cell text} per row, in screen order."""
    table = app.panes[pane].table
    labels = [plain(col.label) for col in table.ordered_columns]
    return [dict(zip(labels, map(plain, table.get_row_at(i)))) for i in range(table.row_count)]


def names_on_screen(app) -> set[tuple[str, str]]:
    """(HOST, NAME) of the container rows in the table (group headers are "▼ GROUP" rows)."""
    return {(r["HOST"], r["NAME"]) for r in table_rows(app) if not r["HOST"].startswith("▼ ")}


def summary(app) -> str:
    """The header's summary line (hosts online, scope, filter, marks)."""
    return plain(app.query_one("#summary").content)


def tabs(app) -> str:
    """The tab bar with the active pane's view state (running only / all, grouping)."""
    return plain(app.query_one("#tabs").content)


# --------------------------------------------------------------------------- the app


def make_app(cfg, **kw):
    """The app plus a record of every notification it shows: (message, severity)."""
    from dockyard.ui.app import DockyardApp

    app = DockyardApp(cfg, **kw)
    notes: list[tuple[str, str]] = []
    original = app.notify

    def notify(message, *args, **kwargs):
        notes.append((str(message), kwargs.get("severity", "information")))
        return original(message, *args, **kwargs)

    app.notify = notify  # type: ignore[method-assign]
    return app, notes


async def open_logs(app, container_id: str, name: str, *, lines: int, host: str = "unix1", **options):
    """Open the logs view of one container (as `l` does) and wait until it holds `lines` lines."""
    from dockyard.fleet import LogSource
    from dockyard.ui.logs import LogsScreen

    await app.fleet.wait_settled(10)
    app.push_screen(LogsScreen([LogSource(host, container_id, name)], **options))
    await until(lambda: showing(app, LogsScreen) and app.screen.log_widget.item_count >= lines, 15,
                f"{lines} lines in the logs view")
    return app.screen


# --------------------------------------------------------------------------- the CLI

DOCKYARD = (sys.executable, "-m", "dockyard")


def cli_env(extra: dict[str, str] | None = None, *, drop: tuple[str, ...] = ()) -> dict[str, str]:
    """The environment of a `dockyard` child: this checkout's source, no debug tracebacks,
    minus inherited variables whose names start with one of `drop`, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.pop("DOCKYARD_DEBUG", None)
    env["PYTHONPATH"] = str(ROOT / "tui")
    env.update(extra or {})
    return env


def dockyard(*args: str, env: dict[str, str] | None = None, drop: tuple[str, ...] = (), stdin: str = "",
             timeout: float = 120, command: tuple[str, ...] = DOCKYARD) -> subprocess.CompletedProcess:
    """Run `dockyard ARGS…` as a user would; stdin is a pipe holding `stdin` (never the
    tester's terminal), output is text in `.stdout` / `.stderr`. `env` and `drop` as in
    `cli_env`; `command` replaces the command line before ARGS."""
    return subprocess.run([*command, *args], capture_output=True, text=True, check=False,
                          env=cli_env(env, drop=drop), input=stdin, timeout=timeout)


def in_terminal(argv: list[str], env: dict[str, str], steps: list[tuple[str, str]], timeout: float = 30) -> list[str]:
    """Run `argv` on a pseudo-terminal (a shell, the TUI) and for each (keys, marker) step type `keys`
    and wait until `marker` has shown (in anything received so far: a TUI draws each thing once);
    returns what the terminal received during each step. The program is killed afterwards."""
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its terminal
        os.execvpe(argv[0], argv, env)
    screens: list[str] = []
    everything = b""
    try:
        for keys, marker in steps:
            os.write(fd, keys.encode())
            seen = b""
            deadline = time.monotonic() + timeout
            while marker.encode() not in everything + seen:
                if time.monotonic() > deadline:
                    raise AssertionError(f"{marker!r} not on the terminal within {timeout} s; got {seen[-500:]!r}")
                if select.select([fd], [], [], 0.1)[0]:
                    try:
                        seen += os.read(fd, 65536)
                    except OSError:
                        break
            everything += seen
            screens.append(seen.decode(errors="replace"))
        return screens
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(fd)
