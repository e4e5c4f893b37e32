"""The logs view: one container, or many across hosts merged by time (like stern / k9s).

Lines land in a bounded buffer (`LogView`) in batches (≤ 10 a second) and are formatted
only when on screen, so thousands of lines a second and a key press stay cheap. ANSI
colours (SGR) in a line render as colours; every other control sequence is shown
literally, never sent to the terminal.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import re
import zlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from rich.cells import cell_len, get_character_cell_size
from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Input, Static

from dockyard.fleet import LogLine, LogNotice, LogSource
from dockyard.textfmt import safe
from dockyard.ui.focus import focus_now, typing
from dockyard.ui.keyhints import KeyHints

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


NOTICE, BROKEN = "notice", "broken"  # LogView entry kinds besides "stdout" / "stderr"


class LogView(ScrollView, can_focus=True):
    """A bounded log that keeps the items as they came and formats only the rows on screen.

    Toggling timestamps or wrap, searching, or a flood of new lines costs O(rows on screen),
    not O(buffer): re-formatting a 20,000-line buffer on each key kept keys waiting 200 ms+.
    Wrapping is by cells (like `less`), so row counts come from widths known at arrival.
    """

    BINDINGS = [
        Binding("j,down", "scroll_down", "Down", show=False),
        Binding("k,up", "scroll_up", "Up", show=False),
    ]
    DEFAULT_CSS = """
    LogView { background: $surface; color: $foreground; overflow-x: auto; overflow-y: scroll; }
    """

    def __init__(self, *, max_items: int, multi: bool, id: str | None = None, label_width: int = 0):
        """`label_width`: the widest source label known up front; prefixes are padded to it so the
        text column does not jump from line to line (a wider source found later pads to its own)."""
        super().__init__(id=id)
        self.max_items = max_items
        self.multi = multi
        self.label_width = label_width
        self.timestamps = False
        self.wrap = False
        self.search = ""
        self.auto_scroll = True
        self.current_match = -1  # absolute number of the item found by the last search step
        self._reset()

    def _reset(self) -> None:
        # Entries are flat tuples of ints and strs: (source number, stream | NOTICE | BROKEN, timestamp,
        # text). The collector untracks such tuples, so 20,000 lines add nothing to its walks (as
        # objects they made every full collection ~30 ms longer under a flood).
        self._items: list[tuple[int, str, str, str]] = []
        self._widths: list[int] = []  # cells of each item's row, timestamp excluded
        self._start = 0  # list entries before this were dropped from the buffer (compacted lazily)
        self._offset = 0  # items removed from the lists so far: absolute number = _offset + index
        self._cum: list[int] = []  # wrap mode: rows up to and including each list entry
        self._cum_base = 0  # wrap mode: rows of the entries compacted away
        self._wrap_width = 0
        self._max_width = 0
        self._max_width_stamped = 0
        self._strips: dict[int, Strip] = {}  # absolute item number -> its whole row, rendered
        self._rows: dict[tuple[int, int, int], Strip] = {}  # (item number, first cell, width) -> row
        self._breaks: dict[int, list[int]] = {}  # wrap mode: item number -> first cell of each row (non-ASCII)
        self._sources: list[LogSource] = []
        self._source_numbers: dict[LogSource, int] = {}
        self._prefixes: list[tuple[str, Style]] = []  # per source number: label, colour

    # ------------------------------------------------------------------ content

    @property
    def item_count(self) -> int:
        return len(self._items) - self._start

    def items(self) -> list[LogLine | LogNotice]:
        """The buffer's lines and notices, oldest first."""
        sources = self._sources
        return [LogNotice(sources[n], text, kind == BROKEN) if kind in (NOTICE, BROKEN)
                else LogLine(sources[n], kind, stamp, text)
                for n, kind, stamp, text in self._items[self._start:]]

    def _entry(self, item: LogLine | LogNotice) -> tuple[int, str, str, str]:
        number = self._source_numbers.get(item.source)
        if number is None:
            number = self._source_numbers[item.source] = len(self._sources)
            self._sources.append(item.source)
            colour = PALETTE[zlib.crc32(item.source.label.encode()) % len(PALETTE)]
            label = safe(item.source.label)
            self.label_width = max(self.label_width, len(label))
            self._prefixes.append((label.ljust(self.label_width), Style(color=Color.from_ansi(colour))))
        if isinstance(item, LogNotice):
            return (number, BROKEN if item.broken else NOTICE, "", item.message)
        return (number, item.stream, item.timestamp, item.text)

    def clear(self) -> None:
        self._reset()
        self.current_match = -1
        self._resize_virtual()
        self.refresh()

    def append(self, new: list[LogLine | LogNotice]) -> None:
        """Add items at the end; past `max_items` the oldest go (a paused view stays on its lines)."""
        if not new:
            return
        was_at_end = self.is_vertical_scroll_end
        entries = [self._entry(item) for item in new]
        widths = [self._width_of(entry) for entry in entries]
        first = len(self._items)
        self._items.extend(entries)
        self._widths.extend(widths)
        self._max_width = max(self._max_width, max(widths))
        self._max_width_stamped = max(self._max_width_stamped,
                                      max(w + len(e[2]) + 1 for w, e in zip(widths, entries)))
        if self.wrap:
            self._extend_rows(first)
        dropped_rows = self._drop_overflow()
        self._resize_virtual()
        if self.auto_scroll and was_at_end:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        elif dropped_rows:
            self.scroll_to(y=max(0, self.scroll_y - dropped_rows), animate=False, immediate=True)
        self.refresh()

    def _drop_overflow(self) -> int:
        overflow = self.item_count - self.max_items
        if overflow <= 0:
            return 0
        before = self._rows_before_start()
        self._start += overflow
        dropped_rows = (self._rows_before_start() - before) if self.wrap else overflow
        if self._start >= self.max_items:
            self._compact()
        return dropped_rows

    def _compact(self) -> None:
        if not self._start:
            return
        del self._items[:self._start], self._widths[:self._start]
        if self._cum:
            self._cum_base = self._cum[self._start - 1]
            del self._cum[:self._start]
        self._offset += self._start
        self._start = 0
        if self._breaks:
            self._breaks = {n: b for n, b in self._breaks.items() if n >= self._offset}

    # ------------------------------------------------------------------ geometry

    def _width_of(self, entry: tuple[int, str, str, str]) -> int:
        number, kind, _, text = entry
        prefix = cell_len(self._prefixes[number][0]) + 1 if self.multi else 0
        if kind in (NOTICE, BROKEN):
            return prefix + cell_len(safe(text)) + 2
        width = len(text) if text.isascii() and text.isprintable() else cell_len(visible(text))
        return prefix + 1 + width

    def _rows_before_start(self) -> int:
        if not self.wrap:
            return self._start
        return self._cum[self._start - 1] if self._start else self._cum_base

    def _extend_rows(self, first: int) -> None:
        """Row totals for entries from `first` on (comprehensions: 20,000 entries in ~2 ms)."""
        wrap = self._wrap_width
        total = self._cum[-1] if self._cum else self._cum_base
        widths = self._widths[first:]
        if self.timestamps:
            widths = [w + len(e[2]) + 1 if e[2] else w for w, e in zip(widths, self._items[first:])]
        counts = [(w - 1) // wrap + 1 for w in widths]  # every w >= 1
        for i in [i for i, entry in enumerate(self._items[first:]) if not entry[3].isascii()]:
            counts[i] = len(self._wide_breaks(first + i))  # wide characters may not split at a multiple of the width
        rows = itertools.accumulate(counts, initial=total)
        next(rows)  # the initial total itself
        self._cum.extend(rows)

    def _wide_breaks(self, index: int) -> list[int]:
        """Wrap mode, a line holding non-ASCII text: the first cell of each of its rows. A wide
        character that would straddle the edge starts the next row (as `less` does), so none is cut."""
        number = self._offset + index
        breaks = self._breaks.get(number)
        if breaks is None:
            wrap, breaks, used, at = self._wrap_width, [0], 0, 0
            for char in self._plain_entry(index):
                size = get_character_cell_size(char)
                if used + size > wrap and used:
                    breaks.append(at)
                    used = 0
                used += size
                at += size
            self._breaks[number] = breaks
        return breaks

    def _rebuild_rows(self) -> None:
        self._compact()
        self._cum, self._cum_base = [], 0
        self._breaks.clear()
        if self.wrap:
            self._wrap_width = max(1, self.scrollable_content_region.width)
            self._extend_rows(0)

    @property
    def row_count(self) -> int:
        if not self.wrap:
            return self.item_count
        return (self._cum[-1] if self._cum else self._cum_base) - self._rows_before_start()

    def _resize_virtual(self) -> None:
        if self.wrap:
            width = self._wrap_width
        else:
            width = self._max_width_stamped if self.timestamps else self._max_width
        self.virtual_size = Size(width, self.row_count)

    def _locate(self, row: int) -> tuple[int, int] | None:
        """Screen row (from the top of the buffer) -> (list index, which wrapped piece)."""
        if row < 0 or row >= self.row_count:
            return None
        if not self.wrap:
            return self._start + row, 0
        absolute = row + self._rows_before_start()
        index = bisect.bisect_right(self._cum, absolute, lo=self._start)
        before = self._cum[index - 1] if index else self._cum_base
        return index, absolute - before

    def row_of(self, number: int) -> int:
        """First screen row of the item with this absolute number."""
        index = number - self._offset
        if not self.wrap:
            return index - self._start
        before = self._cum[index - 1] if index else self._cum_base
        return before - self._rows_before_start()

    def top_item(self) -> int:
        located = self._locate(int(self.scroll_y))
        return self._offset + located[0] if located else -1

    class ScrolledAway(Message):
        """The user scrolled up from the end while following: the screen pauses (less +F style)."""

    def action_scroll_up(self) -> None:
        """k / up while following: pause at once. Waiting to see the view move up (below) loses a
        race with arriving lines, which keep a following view at the end: the scroll may never show."""
        if self.auto_scroll and self.max_scroll_y > 0:
            self.post_message(self.ScrolledAway())
        super().action_scroll_up()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        # Our own moves keep a following view at the end (a resize or clear only clamps to it).
        if self.auto_scroll and new_value < old_value and new_value < self.max_scroll_y:
            self.post_message(self.ScrolledAway())

    def on_resize(self) -> None:
        if self.wrap:
            self.reformat()

    def reformat(self, **options: object) -> None:
        """Apply `timestamps` / `wrap` / `search` (or a new width): the same lines stay in view."""
        following = self.auto_scroll and self.is_vertical_scroll_end
        top = self.top_item()  # located with the old geometry
        for name, value in options.items():
            assert name in ("timestamps", "wrap", "search"), name
            setattr(self, name, value)
        self._forget_rendered()
        self._rebuild_rows()
        self._resize_virtual()
        if following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        elif top >= 0:
            self.scroll_to(y=self.row_of(top), animate=False, immediate=True)
        self.refresh()

    def find(self, step: int) -> bool:
        """Step (+1 / -1) to the next line holding `search`, from the last match or the top row;
        that line is centred and marked, following stops. False when there is none that way."""
        needle = self.search.lower()
        first, end = self._start, len(self._items)
        current = self.current_match - self._offset
        if not first <= current < end:
            top = self.top_item() - self._offset
            current = (top - 1 if step > 0 else end) if top >= 0 else (first - 1 if step > 0 else end)
        index = current + step
        while first <= index < end:
            if needle in self._plain_entry(index).lower():
                self.current_match = self._offset + index
                self.auto_scroll = False
                self._forget_rendered()  # the current match is drawn differently
                self.scroll_to(y=max(0, self.row_of(self.current_match) - self.size.height // 2),
                               animate=False, immediate=True)
                self.refresh()
                return True
            index += step
        return False

    # ------------------------------------------------------------------ rendering

    def plain(self, index: int) -> str:
        """The text of the index-th line in the buffer, without colours (for search and tests)."""
        return self._plain_entry(self._start + index)

    def render_item(self, index: int) -> Strip:
        """The index-th line in the buffer as painted (whole, before cropping to the view)."""
        return self._render_entry(self._start + index)

    def _head(self, index: int) -> tuple[list[tuple[str, Style | str]], str | None]:
        """A row's parts before the daemon's text ([label] marker [timestamp], or a notice), and that text."""
        number, kind, stamp, line = self._items[index]
        head: list[tuple[str, Style | str]] = []
        if self.multi:
            label, style = self._prefixes[number]
            head += [(label, style), (" ", "")]
        if kind in (NOTICE, BROKEN):
            return head + [(f"[{safe(line)}]", "bold red" if kind == BROKEN else "bold yellow")], None
        head.append(("▌" if kind == "stderr" else " ", "red"))
        if self.timestamps:
            head.append((stamp + " ", "dim"))
        return head, line

    def _plain_entry(self, index: int) -> str:
        head, line = self._head(index)
        return "".join(part for part, _ in head) + (visible(line) if line is not None else "")

    def plain_lines(self) -> list[str]:
        return [self._plain_entry(i) for i in range(self._start, len(self._items))]

    def _styled(self, index: int) -> Text:
        """One entry as coloured text: [label] marker [timestamp] line, search hits reversed."""
        head, line = self._head(index)
        text = Text.assemble(*head, no_wrap=True, end="")
        if line is not None:
            if line.isprintable():  # the common case: no escapes, no control characters
                text.append(line)
            else:
                text.append_text(ansi_text(line))
        if self.search:
            text.highlight_words([self.search], style="reverse", case_sensitive=False)
        if self._offset + index == self.current_match:
            text.stylize_before(Style(bgcolor="grey30"))
        return text

    def _render_entry(self, index: int) -> Strip:
        number = self._offset + index
        strip = self._strips.get(number)
        if strip is None:
            text = self._styled(index)
            text.stylize_before(self.rich_style)
            strip = self._strips[number] = Strip(text.render(self.app.console), text.cell_len)
        return strip

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        style = self.rich_style
        located = self._locate(scroll_y + y)
        if located is None:
            return Strip.blank(width, style)
        index, piece = located
        end = None
        if not self.wrap:
            start = scroll_x
        elif (breaks := self._breaks.get(self._offset + index)) is not None:
            start, end = breaks[piece], (breaks[piece + 1] if piece + 1 < len(breaks) else None)
        else:
            start = piece * self._wrap_width
        key = (self._offset + index, start, width)
        strip = self._rows.get(key)
        if strip is None:
            if start == 0:  # most rows: render just what fits (one Strip, no crop)
                text = self._styled(index)
                text.truncate(width, overflow="crop", pad=True)
                text.stylize_before(style)
                strip = Strip(text.render(self.app.console), width)
            elif end is not None:  # a wrapped row ending before a wide character
                strip = self._render_entry(index).crop(start, end).extend_cell_length(width, style)
            else:
                strip = self._render_entry(index).crop_extend(start, start + width, style)
            if len(self._rows) > 512:  # a few screenfuls; Strips are heavy for the GC (caches each)
                self._forget_rendered()
            self._rows[key] = strip
        return strip

    def _forget_rendered(self) -> None:
        self._strips.clear()
        self._rows.clear()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._forget_rendered()


def _since(choice: str | None) -> str | None:
    if choice in (None, "all"):
        return None
    import time

    amount, unit = int(choice[:-1]), choice[-1]
    return str(int(time.time() - amount * {"m": 60, "h": 3600}[unit]))


class LogsScreen(Screen[None]):
    HELP_TITLE = "Logs view"
    HELP_EXTRA = [("j / k, ↑ / ↓, pgup / pgdn", "Scroll (up from the end pauses)")]
    BINDINGS = [
        Binding("escape", "back", "Back", id="logs.back"),
        Binding("space", "toggle_follow", "Pause/follow", id="logs.pause"),
        Binding("t", "toggle_timestamps", "Timestamps", id="logs.timestamps"),
        Binding("w", "toggle_wrap", "Wrap", id="logs.wrap"),
        Binding("h", "cycle_since", "Since", id="logs.since"),
        Binding("slash", "search", "Search", id="logs.search", priority=True),  # see dockyard/ui/focus.py
        Binding("n", "next_match", "Next", id="logs.next"),
        Binding("N", "previous_match", "Previous", id="logs.previous"),
        Binding("f", "only", "Filter", id="logs.only", priority=True),
        Binding("s", "save", "Save", id="logs.save", priority=True),
        Binding("g", "top", "Top", show=False, id="logs.top"),
        Binding("G", "bottom", "Bottom", show=False, id="logs.bottom"),
    ]
    DEFAULT_CSS = """
    LogsScreen #logs-status { height: 1; padding: 0 1; background: $panel; }
    LogsScreen LogView { height: 1fr; }
    LogsScreen #logs-only { display: none; }
    LogsScreen #logs-input { dock: bottom; height: 1; border: none; padding: 0 1; margin-bottom: 1;
        background: $panel; display: none; }
    """

    def __init__(self, sources: list[LogSource], *, tail: int = 500, buffer: int = 20000,
                 opener: Callable[..., AsyncIterator[LogLine | LogNotice]] | None = None):
        """`sources`: the containers to follow, merged; `opener(tail=, since=)` instead streams lines
        from elsewhere (a swarm service's tasks through its manager) and `sources` only names it."""
        super().__init__()
        self.sources = sources
        self.tail = tail
        self.buffer = buffer
        self.opener = opener
        self.follow = True
        self.since_index = 0
        self.multi = opener is not None or len({(s.host, s.container_id) for s in sources}) > 1
        self._pending: list[LogLine | LogNotice] = []
        self._stopped: set[LogSource] = set()  # sources whose container is not running (nothing to follow)
        self._input_mode = ""
        self._status = Text()
        # `f`: only the lines holding this text (k9s's log filter, less's `&`). They are kept in a
        # second view fed from the same stream, so leaving the filter shows the whole buffer again,
        # scrolled where it was.
        self.only = ""
        self._all: LogView | None = None
        self._matching: LogView | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="logs-status")
        width = max((len(safe(s.label)) for s in self.sources), default=0) if self.opener is None else 0
        yield LogView(max_items=self.buffer, multi=self.multi, id="logs", label_width=width)
        yield LogView(max_items=self.buffer, multi=self.multi, id="logs-only", label_width=width)
        yield Input(id="logs-input")
        yield KeyHints()

    def _views(self) -> tuple[LogView, LogView]:
        """(every line, only the matching lines), looked up once."""
        if self._all is None or self._matching is None:
            self._all, self._matching = self.query_one("#logs", LogView), self.query_one("#logs-only", LogView)
        return self._all, self._matching

    @property
    def log_widget(self) -> LogView:
        """The view on screen: every line, or only the matching ones while `f` is on."""
        everything, matching = self._views()
        return matching if self.only else everything

    @property
    def timestamps(self) -> bool:
        return self.log_widget.timestamps

    @property
    def wrap(self) -> bool:
        return self.log_widget.wrap

    @property
    def search(self) -> str:
        return self.log_widget.search

    def on_mount(self) -> None:
        self._update_status()
        self.log_widget.focus()
        self._start()
        self.set_interval(0.1, self._flush)

    # ------------------------------------------------------------------ stream

    def _start(self) -> None:
        self._pending.clear()
        self._stopped.clear()
        for view in self.query(LogView):
            view.clear()
        self._stream()

    @work(exclusive=True, group="logs")
    async def _stream(self) -> None:
        choice = SINCE_CHOICES[self.since_index][0]
        options = {"tail": self.tail if choice is None else "all", "since": _since(choice)}
        try:
            stream = (self.opener(**options) if self.opener is not None
                      else self.app.fleet.containers.logs(self.sources, **options))  # type: ignore[attr-defined]
            async for item in stream:
                self._pending.append(item)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - shown in the view, never a traceback
            self._pending.append(LogNotice(LogSource("dockyard", "", "logs"), f"log stream failed: {exc}", True))

    def _flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        for item in batch:
            if isinstance(item, LogNotice):
                if item.stopped:
                    self._stopped.add(item.source)
                elif not item.broken:  # "resumed": its container runs again
                    self._stopped.discard(item.source)
        everything, matching = self._views()
        everything.append(batch)
        if self.only:
            matching.append([item for item in batch if self._matches(item)])
        self._update_status()

    def _matches(self, item: LogLine | LogNotice) -> bool:
        """Does a line hold the `only` text (in its source name or its text, any case)? Notices
        always do: a broken stream must show in the filtered view too."""
        if isinstance(item, LogNotice):
            return True
        needle, text = self.only.lower(), item.text
        if not text.isprintable():
            text = visible(text)  # as on screen: colours dropped, other escapes spelled out
        return needle in text.lower() or needle in item.source.label.lower()

    def _update_status(self) -> None:
        names = ", ".join(s.label for s in self.sources[:4]) + (f" +{len(self.sources) - 4}" if len(self.sources) > 4 else "")
        since = SINCE_CHOICES[self.since_index][1].format(tail=self.tail)
        # state first, sources last: a narrow terminal cuts the names, never the state
        if not self.follow:
            state = ("PAUSED", "bold yellow")
        elif self.sources and self.opener is None and self._stopped >= set(self.sources):
            state = ("NOT RUNNING", "bold")  # nothing to follow until a container starts: not "FOLLOWING"
        else:
            state = ("FOLLOWING", "bold green")
        parts = [state,
                 f"  {self.log_widget.item_count} lines  {since}"]
        if self.only:
            parts += ["  only: ", (safe(self.only), "bold magenta"),
                      f" ({self.log_widget.item_count} of {self._views()[0].item_count})"]
        if self.timestamps:
            parts.append("  timestamps")
        if self.wrap:
            parts.append("  wrap")
        if self.search:
            parts += ["  search: ", (safe(self.search), "bold yellow")]
        parts += ["  ", ("Logs ", "bold"), (safe(names), "cyan")]
        status = Text.assemble(*parts, no_wrap=True, overflow="ellipsis")
        if status != self._status:  # one fixed-height row: no layout pass needed
            self._status = status
            self.query_one("#logs-status", Static).update(status, layout=False)

    # ------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in ("search", "only", "save") and typing(self))  # priority keys stand aside

    def action_back(self) -> None:
        if self._input_mode:
            self._close_input()
        elif self.only:  # like k9s: escape drops the filter first
            self._set_only("")
        else:
            self.dismiss(None)

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow
        self.log_widget.auto_scroll = self.follow
        if self.follow:
            self.log_widget.scroll_end(animate=False)
        self._update_status()

    def action_toggle_timestamps(self) -> None:
        self.log_widget.reformat(timestamps=not self.log_widget.timestamps)
        self._update_status()

    def action_toggle_wrap(self) -> None:
        self.log_widget.reformat(wrap=not self.log_widget.wrap)
        self._update_status()

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
        """To the newest line, following again."""
        self.follow = True
        self.log_widget.auto_scroll = True
        self.log_widget.scroll_end(animate=False)
        self._update_status()

    def on_log_view_scrolled_away(self, event: LogView.ScrolledAway) -> None:
        event.stop()
        if self.follow:
            self.follow = False
            self.log_widget.auto_scroll = False
            self._update_status()

    def action_search(self) -> None:
        self._open_input("search", self.search, "search in these logs")

    def action_only(self) -> None:
        self._open_input("only", self.only or self.search, "show only lines containing… (empty: all lines)")

    def _set_only(self, text: str) -> None:
        """Show only the lines holding `text` (or every line again when empty)."""
        shown = self.log_widget
        self.only = text
        view = self.log_widget
        if text:
            view.clear()
            view.append([item for item in self._views()[0].items() if self._matches(item)])
        if view is not shown:
            shown.display = False
            view.display = True
            view.focus()
            if not text:
                shown.clear()  # its lines were copies; the whole buffer is still in the other view
        view.auto_scroll = self.follow
        view.current_match = -1
        view.reformat(timestamps=shown.timestamps, wrap=shown.wrap, search=text or shown.search)
        if self.follow:
            view.scroll_end(animate=False, immediate=True, x_axis=False)
        self._update_status()

    def action_save(self) -> None:
        default = f"dockyard-logs-{self.sources[0].name if len(self.sources) == 1 else 'merged'}.log"
        self._open_input("save", str(Path.cwd() / default), "save to file (enter to write)")

    def action_next_match(self) -> None:
        self._jump(1)

    def action_previous_match(self) -> None:
        self._jump(-1)

    def _jump(self, step: int) -> None:
        """To the next / previous line holding the search text, counting from the last match."""
        log = self.log_widget
        if not log.search:
            return
        if log.find(step):
            self.follow = False
            self._update_status()
        else:
            self.app.notify(f"no more matches for {log.search!r}", markup=False, timeout=2)

    def _open_input(self, mode: str, value: str, placeholder: str) -> None:
        box = self.query_one("#logs-input", Input)
        self._input_mode = mode
        box.placeholder = placeholder
        box.value = value
        box.display = True
        focus_now(box)

    def _close_input(self) -> None:
        box = self.query_one("#logs-input", Input)
        box.display = False
        self._input_mode = ""
        focus_now(self.log_widget)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        mode = self._input_mode
        self._close_input()
        if mode == "search":
            log = self.log_widget
            log.current_match = -1
            log.reformat(search=event.value)
            self._update_status()
            self._jump(1)
        elif mode == "only":
            self._set_only(event.value)
        elif mode == "save":
            self._save(event.value)

    def _save(self, path: str) -> None:
        target = Path(path).expanduser()
        try:
            items = self.log_widget.items()
            with open(target, "w", encoding="utf-8") as f:
                for item in items:
                    if isinstance(item, LogLine):
                        f.write(f"{item.timestamp} {item.source.label} {item.stream} {item.text}\n")
                    else:
                        f.write(f"# {item.source.label}: {item.message}\n")
        except OSError as exc:
            self.app.notify(f"cannot save to {target}: {exc.strerror or exc}", severity="error", markup=False)
            return
        self.app.notify(f"saved {len(items)} lines to {target}", markup=False)
