"""Textual's Linux driver, with the escape key handed over as soon as it can be told apart.

A lone ESC byte may be the escape key or the start of a sequence (an arrow key, a function
key), so Textual's parser waits for more bytes, and its input thread checks that wait only when
its `select` returns, after up to 100 ms: `esc` (close the prompt, clear the filter, go back)
took 100 ms before anything else happened. A terminal writes a key's whole sequence in one go,
so its bytes arrive together, in one read (in one SSH packet too). Here, a read that ends with
ESC while nothing more is waiting to be read is the escape key at once, as crossterm (helix,
gitui) decides it; an ESC that more bytes follow is parsed as before, and the thread wakes
when the parser's wait ends (10 ms) instead of after 100 ms. A user's `ESCDELAY` (Textual's
own variable, in milliseconds) turns the quick rule off and sets the wait, for a link that
splits sequences. Everything else is Textual 8's loop as it is (pinned in pyproject).
"""

from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder

from textual import constants
from textual._loop import loop_last
from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

ESCAPE_DELAY = 0.010  # s, when ESCDELAY is not set
IDLE_WAIT = 0.1  # s, Textual's own select timeout with nothing pending


def escape_delay() -> float:
    """The wait for the rest of a sequence after ESC: ESCDELAY (ms) if set, else ours."""
    return constants.ESCAPE_DELAY if os.environ.get("ESCDELAY") else ESCAPE_DELAY


class QuickEscapeDriver(LinuxDriver):
    def run_input_thread(self) -> None:
        """LinuxDriver.run_input_thread, with `select` waiting no longer than the parser's pending
        timeout (a lone ESC) instead of always 100 ms."""
        constants.ESCAPE_DELAY = escape_delay()  # (read by the parser at each ESC)
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        fileno = self.fileno
        EVENT_READ = selectors.EVENT_READ
        parser = XTermParser(self._debug)
        feed = parser.feed
        tick = parser.tick
        decode = getincrementaldecoder("utf-8")().decode
        read = os.read

        quick = not os.environ.get("ESCDELAY")

        def process_selector_events(selector_events, final: bool = False) -> None:
            for last, (_selector_key, mask) in loop_last(selector_events):
                if mask & EVENT_READ:
                    unicode_data = decode(read(fileno, 1024 * 4), final=final and last)
                    if not unicode_data:
                        break  # (stdin piped)
                    for event in feed(unicode_data):
                        self.process_message(event)
                    if quick and unicode_data.endswith("\x1b") and lone_escape():
                        parser._timeout_time = get_time()  # noqa: SLF001 - the wait is over: tick() sends it
            for event in tick():
                self.process_message(event)

        def lone_escape() -> bool:
            """Nothing follows the ESC that ended the read: no sequence is on its way."""
            return not selector.select(0)

        def wait() -> float:
            pending = parser._timeout_time  # noqa: SLF001 - when the ESC wait ends, or None
            if pending is None:
                return IDLE_WAIT
            return min(IDLE_WAIT, max(0.0, pending - get_time()))

        try:
            while not self.exit_event.is_set():
                process_selector_events(selector.select(wait()))
            selector.unregister(self.fileno)
            process_selector_events(selector.select(IDLE_WAIT), final=True)
        finally:
            selector.close()
            try:
                for _ in feed(""):
                    pass
            except (EOFError, ParseError):
                pass
