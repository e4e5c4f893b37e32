"""Live progress of a fleet operation (pull, push, transfer): one bar per host, one per layer.

The operation runs in a worker and reports through `ProgressScreen.report`; the screen
stays open with each host's final word until the user closes it (esc). Closing early
cancels what is still running.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, ProgressBar, Static

from dockyard.textfmt import human_size, safe

Reporter = Callable[..., None]


class _Row(Horizontal):
    DEFAULT_CSS = """
    _Row { height: 1; }
    _Row Label { width: 34; }
    _Row ProgressBar { width: 36; }
    _Row ProgressBar Bar { width: 24; }
    _Row .status { width: 1fr; }
    _Row.layer Label { padding-left: 2; color: $text-muted; }
    """

    def __init__(self, label: str, layer: bool):
        super().__init__(classes="layer" if layer else "")
        self.label = label

    def compose(self) -> ComposeResult:
        yield Label(Text(safe(self.label), no_wrap=True, overflow="ellipsis"))
        yield ProgressBar(total=None, show_eta=False, show_percentage=True)
        yield Static("", classes="status")  # by class: a Label is a Static too (it once took the status)


class ProgressScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close", id="progress.close")]
    DEFAULT_CSS = """
    ProgressScreen { align: center middle; }
    ProgressScreen > Vertical { width: 95%; max-width: 130; height: 80%; border: thick $primary;
        background: $surface; padding: 0 1; }
    ProgressScreen VerticalScroll { height: 1fr; }
    ProgressScreen #progress-summary { height: auto; }
    """

    SHOWS_NOTICES = True  # what happens meanwhile (a host failing) is reported while it shows

    def __init__(self, title: str, run: Callable[[Reporter], Awaitable[str]],
                 close_note: str = "esc closes; running work is cancelled"):
        super().__init__()
        self.title_text = title
        self.close_note = close_note
        self.run = run
        self.rows: dict[str, _Row] = {}
        self.finished = False
        self.results: dict[str, tuple[bool, str]] = {}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(f"{self.title_text}   ({self.close_note})", style="bold"))
            yield VerticalScroll(id="progress-rows")
            yield Static("", id="progress-summary")

    def on_mount(self) -> None:
        self._work()

    @work(exclusive=True, group="progress")
    async def _work(self) -> None:
        try:
            summary = await self.run(self.report)
        except Exception as exc:  # noqa: BLE001 - shown, never a traceback
            summary = f"failed: {exc}"
        self.finished = True
        self.query_one("#progress-summary", Static).update(Text(safe(summary), style="bold"))

    def report(self, row: str, status: str = "", current: int | None = None, total: int | None = None, *,
               layer: str | None = None, final: bool | None = None) -> None:
        """Update one host's (or one layer's) bar; `final` True/False marks the host done ok/failed."""
        key = f"{row}\x00{layer}" if layer else row
        widget = self.rows.get(key)
        if widget is None:  # a layer row names its host too: several hosts pull the same layers
            widget = _Row(f"{row} {layer}" if layer else row, layer is not None)
            self.rows[key] = widget
            container = self.query_one("#progress-rows", VerticalScroll)
            parent = self.rows.get(row) if layer else None
            if parent is not None:
                siblings = [w for k, w in self.rows.items() if k.startswith(row + "\x00") and w is not widget]
                container.mount(widget, after=siblings[-1] if siblings else parent)
            else:
                container.mount(widget)
            widget.call_after_refresh(self._apply, widget, status, current, total, final)
            return
        self._apply(widget, status, current, total, final)

    def _apply(self, widget: _Row, status: str, current: int | None, total: int | None,
               final: bool | None) -> None:
        if final is not None:
            self.results[widget.label] = (final, status)
        if not widget.is_mounted:  # events can outrun the mount: apply once it is there
            widget.call_after_refresh(self._apply, widget, status, current, total, final)
            return
        bar = widget.query_one(ProgressBar)
        if total:
            bar.update(total=total, progress=current or 0)
        elif final is not None:
            bar.update(total=1, progress=1)
        text = status
        if current is not None and total:
            text = f"{status} {human_size(current)}/{human_size(total)}"
        elif current is not None:
            text = f"{status} {human_size(current)}"
        style = "green" if final is True else "bold red" if final is False else ""
        widget.query_one(".status", Static).update(Text(safe(text), style=style, no_wrap=True, overflow="ellipsis"))

    def action_close(self) -> None:
        self.workers.cancel_group(self, "progress")
        self.dismiss(None)
