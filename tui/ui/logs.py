"""The logs view: one container, or many across hosts merged by time (like stern / k9s).

Lines land in a bounded buffer and reach the `Log` widget in batches (≤ 10 a second),
so thousands of lines a second stay cheap. ANSI colours (SGR) in a line render as
colours; every other control sequence is shown literally, never sent to the terminal.
"""

from __future__ import annotations

import asyncio
import collections
import re
import zlib
from pathlib import Path

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.strip import Strip
from textual.widgets import Footer, Input, Log, Static

from tui.fleet import LogLine, LogNotice, LogSource
from tui.textfmt import safe

SGR = re.compile(r"(\x1b\[[0-9;:]*m)")
PALETTE = (39, 208, 76, 170, 45, 214, 141, 118, 203, 33, 178, 81)  # 256-colour prefixes, stable per source
SINCE_CHOICES = ((None, "last {tail} lines"), ("1m", "last minute"), ("15m", "last 15 minutes"),
                 ("1h", "last hour"), ("24h", "last day"), ("all", "everything"))


def ansi_text(raw: str) -> Text:
    """Colours from SGR sequences; any other escape or control character shown as text."""
    parts = SGR.split(raw.replace("\t", "    "))
    cleaned = "".join(p if i % 2 else safe(p) for i, p in enumerate(parts))
    return Text.from_ansi(cleaned, no_wrap=True, end="")


def visible(raw: str) -> str:
    """The text a line shows (SGR removed, other escapes made visible); cheap, used per line for widths."""
    return safe(SGR.sub("", raw.replace("\t", "    ")))


class AnsiLog(Log):
    """`Log` (≈10 µs a line) that renders SGR colours and shows other escapes literally."""

    search: str = ""

    @classmethod
    def _process_line(cls, line: str) -> str:
        return visible(line)

    def _render_line_strip(self, y: int, rich_style: Style) -> Strip:
        if y in self._render_line_cache:
            return self._render_line_cache[y]
        text = ansi_text(self._lines[y])
        text.stylize_before(rich_style)  # the widget's style underneath the line's own colours
        if self.search:
            text.highlight_words([self.search], style="reverse", case_sensitive=False)
        strip = Strip(text.render(self.app.console), text.cell_len)
        self._render_line_cache[y] = strip
        return strip


def _since(choice: str | None) -> str | None:
    if choice in (None, "all"):
        return None
    import time

    amount, unit = int(choice[:-1]), choice[-1]
    return str(int(time.time() - amount * {"m": 60, "h": 3600}[unit]))


class LogsScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back", id="logs.back"),
        Binding("space", "toggle_follow", "Pause/follow", id="logs.pause"),
        Binding("t", "toggle_timestamps", "Timestamps", id="logs.timestamps"),
        Binding("w", "toggle_wrap", "Wrap", id="logs.wrap"),
        Binding("h", "cycle_since", "Since", id="logs.since"),
        Binding("slash", "search", "Search", id="logs.search"),
        Binding("n", "next_match", "Next", id="logs.next"),
        Binding("N", "previous_match", "Previous", id="logs.previous"),
        Binding("s", "save", "Save", id="logs.save"),
        Binding("g", "top", "Top", show=False, id="logs.top"),
        Binding("G", "bottom", "Bottom", show=False, id="logs.bottom"),
    ]
    DEFAULT_CSS = """
    LogsScreen #logs-status { height: 1; padding: 0 1; background: $panel; }
    LogsScreen AnsiLog { height: 1fr; }
    LogsScreen #logs-input { dock: bottom; height: 1; border: none; padding: 0 1; margin-bottom: 1;
        background: $panel; display: none; }
    """

    def __init__(self, sources: list[LogSource], *, tail: int = 500, buffer: int = 20000):
        super().__init__()
        self.sources = sources
        self.tail = tail
        self.lines: collections.deque[LogLine | LogNotice] = collections.deque(maxlen=buffer)
        self.buffer = buffer
        self.follow = True
        self.timestamps = False
        self.wrap = False
        self.since_index = 0
        self.search = ""
        self.match_row = -1
        self.multi = len({(s.host, s.container_id) for s in sources}) > 1
        self._pending: list[str] = []
        self._input_mode = ""

    def compose(self) -> ComposeResult:
        yield Static(id="logs-status")
        yield AnsiLog(max_lines=self.buffer, auto_scroll=True, id="logs")
        yield Input(id="logs-input")
        yield Footer()

    @property
    def log_widget(self) -> AnsiLog:
        return self.query_one(AnsiLog)

    def on_mount(self) -> None:
        self._update_status()
        self.log_widget.focus()
        self._start()
        self.set_interval(0.1, self._flush)

    # ------------------------------------------------------------------ stream

    def _start(self) -> None:
        self.lines.clear()
        self._pending.clear()
        self.log_widget.clear()
        self._stream()

    @work(exclusive=True, group="logs")
    async def _stream(self) -> None:
        choice = SINCE_CHOICES[self.since_index][0]
        options = {"tail": self.tail if choice is None else "all", "since": _since(choice)}
        try:
            async for item in self.app.fleet.logs(self.sources, **options):  # type: ignore[attr-defined]
                self.lines.append(item)
                self._pending.extend(self._format(item))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - shown in the view, never a traceback
            self._pending.append(f"\x1b[31m[dockyard] log stream failed: {safe(exc)}\x1b[0m")

    def _flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        log = self.log_widget
        log.write_lines(batch, scroll_end=self.follow)
        if log.line_count >= self.buffer:
            # Textual 8.2's Log drops old lines at max_lines without repainting (its size does not
            # change), so a full buffer would freeze on screen: repaint it ourselves.
            log._render_line_cache.clear()  # noqa: SLF001
            log.refresh()
        self._update_status()

    def _format(self, item: LogLine | LogNotice) -> list[str]:
        source = item.source
        colour = PALETTE[zlib.crc32(source.label.encode()) % len(PALETTE)]
        prefix = f"\x1b[38;5;{colour}m{safe(source.label)}\x1b[0m " if self.multi else ""
        if isinstance(item, LogNotice):
            style = "33" if not item.broken else "31"
            return [f"{prefix}\x1b[{style};1m[{safe(item.message)}]\x1b[0m"]
        stamp = f"\x1b[2m{item.timestamp}\x1b[0m " if self.timestamps else ""
        marker = "\x1b[31m▌\x1b[0m" if item.stream == "stderr" else " "
        line = f"{prefix}{marker}{stamp}{item.text}"
        if not self.wrap:
            return [line]
        width = max(20, self.log_widget.size.width - 2)
        text = ansi_text(line)
        return [_to_sgr(t) for t in text.wrap(self.app.console, width)] or [line]

    def _rerender(self) -> None:
        log = self.log_widget
        log.clear()
        log.write_lines([out for item in self.lines for out in self._format(item)], scroll_end=self.follow)
        self._update_status()

    def _update_status(self) -> None:
        names = ", ".join(s.label for s in self.sources[:4]) + (f" +{len(self.sources) - 4}" if len(self.sources) > 4 else "")
        since = SINCE_CHOICES[self.since_index][1].format(tail=self.tail)
        parts = [("Logs ", "bold"), (safe(names), "cyan"), f"  {since}  ",
                 ("FOLLOWING" if self.follow else "PAUSED", "green" if self.follow else "bold yellow"),
                 f"  {self.log_widget.line_count} lines"]
        if self.timestamps:
            parts.append("  timestamps")
        if self.wrap:
            parts.append("  wrap")
        if self.search:
            parts += ["  search: ", (safe(self.search), "bold yellow")]
        self.query_one("#logs-status", Static).update(Text.assemble(*parts, no_wrap=True, overflow="ellipsis"))

    # ------------------------------------------------------------------ actions

    def action_back(self) -> None:
        if self._input_mode:
            self._close_input()
        else:
            self.dismiss(None)

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow
        self.log_widget.auto_scroll = self.follow
        if self.follow:
            self.log_widget.scroll_end(animate=False)
        self._update_status()

    def action_toggle_timestamps(self) -> None:
        self.timestamps = not self.timestamps
        self._rerender()

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap
        self._rerender()

    def action_cycle_since(self) -> None:
        self.since_index = (self.since_index + 1) % len(SINCE_CHOICES)
        self._start()
        self._update_status()

    def action_top(self) -> None:
        self.follow = False
        self.log_widget.auto_scroll = False
        self.log_widget.scroll_home(animate=False)
        self._update_status()

    def action_bottom(self) -> None:
        self.log_widget.scroll_end(animate=False)

    def action_search(self) -> None:
        self._open_input("search", self.search, "search in these logs")

    def action_save(self) -> None:
        default = f"dockyard-logs-{self.sources[0].name if len(self.sources) == 1 else 'merged'}.log"
        self._open_input("save", str(Path.cwd() / default), "save to file (enter to write)")

    def action_next_match(self) -> None:
        self._jump(1)

    def action_previous_match(self) -> None:
        self._jump(-1)

    def _jump(self, step: int) -> None:
        if not self.search:
            return
        log = self.log_widget
        lines = log.lines
        needle = self.search.lower()
        start = self.match_row if self.match_row >= 0 else (int(log.scroll_y) if step > 0 else len(lines))
        row = start + step
        while 0 <= row < len(lines):
            if needle in visible(lines[row]).lower():
                self.match_row = row
                self.follow = False
                log.auto_scroll = False
                log.scroll_to(y=max(0, row - log.size.height // 2), animate=False)
                self._update_status()
                return
            row += step
        self.app.notify(f"no more matches for {self.search!r}", markup=False, timeout=2)

    def _open_input(self, mode: str, value: str, placeholder: str) -> None:
        box = self.query_one("#logs-input", Input)
        self._input_mode = mode
        box.placeholder = placeholder
        box.value = value
        box.display = True
        box.focus()

    def _close_input(self) -> None:
        box = self.query_one("#logs-input", Input)
        box.display = False
        self._input_mode = ""
        self.log_widget.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        mode = self._input_mode
        self._close_input()
        if mode == "search":
            self.search = event.value
            self.log_widget.search = self.search
            self.log_widget._render_line_cache.clear()  # noqa: SLF001 - re-highlight
            self.log_widget.refresh()
            self.match_row = -1
            self._update_status()
            self._jump(1)
        elif mode == "save":
            self._save(event.value)

    def _save(self, path: str) -> None:
        target = Path(path).expanduser()
        try:
            with open(target, "w", encoding="utf-8") as f:
                for item in self.lines:
                    if isinstance(item, LogLine):
                        f.write(f"{item.timestamp} {item.source.label} {item.stream} {item.text}\n")
                    else:
                        f.write(f"# {item.source.label}: {item.message}\n")
        except OSError as exc:
            self.app.notify(f"cannot save to {target}: {exc.strerror or exc}", severity="error", markup=False)
            return
        self.app.notify(f"saved {len(self.lines)} lines to {target}", markup=False)


_SGR_CONSOLE = Console(color_system="256", force_terminal=True, width=10_000, legacy_windows=False)


def _to_sgr(text: Text) -> str:
    """Back from a styled Text (after wrapping) to a string with SGR codes for the Log."""
    with _SGR_CONSOLE.capture() as capture:
        _SGR_CONSOLE.print(text, end="", soft_wrap=True)
    return capture.get()
