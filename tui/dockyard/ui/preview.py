"""The Containers pane's preview (`v`): the cursor's container beside the table, as lazydocker's
main panel shows it — state, live stats, ports, environment and the tail of its logs.

Moving the cursor only restarts a short timer: the container under the cursor is read (inspect,
a log tail) once the cursor has rested on it for `settle` seconds, so scrolling past a hundred
rows asks the daemons nothing. While it shows, the stats follow the pane's own samples (the
cursor's row is on screen, so it is sampled anyway) and the log tail is read again every few
seconds for a running container.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.containers import VerticalScroll
from textual.widgets import Static

from dockyard.fleet import Container, FleetError, LogLine, LogSource
from dockyard.textfmt import human_bytes_iec, safe

if TYPE_CHECKING:
    from dockyard.fleet import Fleet

# Environment values shown as •••• (a preview is on screen for anyone looking over a shoulder).
SECRET_NAME = re.compile(r"PASS|SECRET|TOKEN|KEY|CREDENTIAL|AUTH|PRIVATE", re.IGNORECASE)
LOG_LINES = 12


def env_lines(env: list[str]) -> list[str]:
    """`NAME=value` lines, values of names that look secret masked."""
    out = []
    for entry in env:
        name, _, value = entry.partition("=")
        out.append(f"{name}={'••••' if value and SECRET_NAME.search(name) else value}")
    return out


class ContainerPreview(VerticalScroll):
    """What the Containers pane shows beside its table while the preview is on."""

    DEFAULT_CSS = """
    ContainerPreview { dock: right; width: 45%; min-width: 30; border-left: vkey $panel-lighten-2;
        padding: 0 1; display: none; }
    """
    settle = 0.35  # s the cursor rests on a row before its container is read
    refresh_every = 3.0  # s between reads of a running container's log tail while it shows

    def __init__(self, fleet: Fleet) -> None:
        super().__init__(can_focus=False)
        self.fleet = fleet
        self.container: Container | None = None  # the one shown (or being read)
        self.reads: list[tuple[str, str]] = []  # (host, id) of each read (inspect + log tail), the last 100
        self._inspect: dict[str, Any] = {}
        self._logs: list[str] = []
        self._error = ""
        self._timer = None
        self._read_at = 0.0

    def compose(self):
        yield Static("", id="preview-body")

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)

    def show(self, container: Container | None) -> None:
        """The cursor is on `container` now: read it once the cursor rests there."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if container is None:
            self.container = None
            self._paint()
            return
        if self.container is not None and container.key == self.container.key:
            self.container = container  # the same one, listed again: its state may have changed
            self._paint()
            return
        self._timer = self.set_timer(self.settle, lambda: self._settled(container))

    def _settled(self, container: Container) -> None:
        self._timer = None
        self.container = container
        self._inspect, self._logs, self._error = {}, [], ""
        self._paint()
        self._start_read(container)

    def _tick(self) -> None:
        """Stats follow the pane's samples; a running container's log tail is read again now and then."""
        if not self.display or self.container is None:
            return
        if self.container.state == "running" and time.monotonic() - self._read_at > self.refresh_every:
            self._start_read(self.container)
        else:
            self._paint()

    def _start_read(self, container: Container) -> None:
        """Count the read where it is decided, in the same turn as the name it paints: the worker
        starts a turn later (a test that saw the name could look for the read before it began)."""
        self.reads = [*self.reads[-99:], container.key]
        self._read_at = time.monotonic()
        self._read(container)

    @work(exclusive=True, group="preview")
    async def _read(self, container: Container) -> None:
        try:
            inspect = await self.fleet.containers.inspect(container.host, container.id)
            lines = []
            async for item in self.fleet.containers.logs([LogSource(container.host, container.id, container.name)],
                                                         tail=LOG_LINES, follow=False):
                if isinstance(item, LogLine):
                    lines.append(item.text)
        except FleetError as exc:
            if self.container is container:
                self._error = str(exc)
                self._paint()
            return
        if self.container is not None and self.container.key == container.key:
            self._inspect, self._logs, self._error = inspect, lines[-LOG_LINES:], ""
            self._paint()

    def _paint(self) -> None:
        if not self.is_mounted:
            return
        self.query_one("#preview-body", Static).update(self.render_text())

    def render_text(self) -> Text:
        c = self.container
        if c is None:
            return Text("No container under the cursor.", style="dim")
        text = Text()
        text.append(safe(c.name), "bold")
        text.append(f"  on {safe(c.host)}\n", "dim")
        text.append(f"{safe(c.image)}\n")
        text.append(f"{c.state}  {safe(c.status_now())}\n", "green" if c.state == "running" else "dim")
        stats = self.fleet.container_stats(c.host, c.id) if c.state == "running" else None
        if stats is not None:
            cpu = f"{stats.cpu_percent:.1f}%" if stats.cpu_percent is not None else "-"
            mem = human_bytes_iec(stats.mem_usage) if stats.mem_usage is not None else "-"
            limit = f" / {human_bytes_iec(stats.mem_limit)}" if stats.mem_limit else ""
            text.append(f"\nCPU {cpu}   MEM {mem}{limit}   PIDS {stats.pids if stats.pids is not None else '-'}\n")
        text.append("\nPorts\n", "bold underline")
        text.append(("  " + ", ".join(safe(str(p)) for p in c.ports) if c.ports else "  none") + "\n")
        if self._error:
            text.append(f"\n{safe(self._error)}\n", "red")
            return text
        if not self._inspect:
            text.append("\nreading…\n", "dim")
            return text
        env = env_lines((self._inspect.get("Config") or {}).get("Env") or [])
        text.append("\nEnv\n", "bold underline")
        for line in env or ["none"]:
            text.append(f"  {safe(line)}\n")
        text.append(f"\nLogs (last {LOG_LINES} lines)\n", "bold underline")
        for line in self._logs or ["(none)"]:
            text.append(f"{safe(Text.from_ansi(line).plain)}\n")
        return text
