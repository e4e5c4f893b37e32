"""Plain-text formatting shared by the CLI and the UI: sizes, ages, tables, inert strings.

The one home of units, so a figure reads the same in every pane and command, as docker prints it:
sizes of images, volumes, layers and transfers in decimal units (`docker images`: 1.99MB, 452kB),
memory in binary units (`docker stats`, `docker info`: 452KiB, 23.54GiB).

Daemon-supplied strings go through `safe()` before they reach a terminal, so a container
name holding escape sequences can't move the cursor or retitle the window, and one holding
bidi controls (U+202E) or invisible format characters can't reorder or hide what follows.
"""

from __future__ import annotations

import functools
import re
import time
from datetime import datetime
from collections.abc import Callable, Sequence

# C0/C1 controls; every format character (Unicode category Cf: bidi embeddings/overrides/isolates,
# zero-width characters, tags, the BOM) plus the line/paragraph separators; lone surrogates (they
# can't be encoded for a terminal). Listed, not computed: scanning unicodedata costs 0.2 s at start-up;
# tests/test_faults_hostile.py checks the list against the running Python's unicodedata.
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f]")


def safe(text: object) -> str:
    """Show control and format characters as visible escapes (\\x1b, \\u202e) instead of sending them."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode(), str(text))


def human_size(n: int | float | None) -> str:
    """A size on disk or on the wire as `docker images` prints it: 1.99MB, 452kB (decimal, 3 digits)."""
    if n is None or n < 0:
        return "-"
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.3g}{unit}"
        n /= 1000
    return str(n)


def human_bytes_iec(n: int | None, digits: int | None = None) -> str:
    """Memory as `docker stats` prints it: 1.5MiB, 23.54GiB (binary, 4 significant digits); with
    `digits`, that many digits without exponent (a live column that changes less often)."""
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            if unit == "B":
                return f"{value:.0f}{unit}"
            if digits:  # significant digits without exponent notation (1000KiB, 12.5MiB, 1.50GiB)
                decimals = max(0, digits - len(str(int(value))))
                return f"{value:.{decimals}f}{unit}"
            return f"{value:.4g}{unit}"
        value /= 1024
    return str(n)


def clock(ts: float, now: float | None = None) -> str:
    """A moment as a person reads it on a status line: 10:42:07 today, else 2026-11-28 10:42."""
    now = time.time() if now is None else now
    fmt = "%H:%M:%S" if abs(now - ts) < 20 * 3600 else "%Y-%m-%d %H:%M"
    return time.strftime(fmt, time.localtime(ts))


def ago(ts: int | float | None, now: float | None = None) -> str:
    if not ts:
        return "-"
    delta = max(0, (now or time.time()) - ts)
    for size, name in ((86400 * 365, "year"), (86400 * 30, "month"), (86400 * 7, "week"),
                       (86400, "day"), (3600, "hour"), (60, "minute")):
        if delta >= size:
            n = int(delta // size)
            return f"{n} {name}{'s' if n > 1 else ''} ago"
    return f"{int(delta)} seconds ago" if delta >= 2 else "Less than a second ago"


def rfc3339_seconds(text: str | None) -> float | None:
    """Unix seconds of an API timestamp like `2026-11-29T07:33:32.90046637Z` (nanoseconds, any
    offset); None when empty or unreadable. (Python 3.10's fromisoformat takes neither Z nor 9 digits.)"""
    if not text:
        return None
    text = re.sub(r"(\.\d{1,6})\d*", r"\1", text.strip())
    try:
        return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text).timestamp()
    except ValueError:
        return None


_DIGIT_RUNS = re.compile(r"(\d+)")


@functools.lru_cache(maxsize=1 << 16)
def natural_key(text: str) -> tuple:
    """Order names as people count: web-2 before web-10, v1.9 before v1.10 (as `ls -v` and k9s).

    Runs of digits compare as numbers (by length without leading zeros, then digits: no int()
    of a hostile 5,000-digit name), the text between them case-insensitively; the text itself
    breaks ties (web-01 vs web-1, Web vs web) so the order is total and stable. Cached: a pane
    re-sorts the same names on every refresh, and a key costs ~15x a `str.lower`."""
    parts: list = _DIGIT_RUNS.split(text.casefold())  # text, digits, text, …: odd places hold the digits
    for i in range(1, len(parts), 2):
        digits = parts[i].lstrip("0")
        parts[i] = (len(digits), digits)
    return (tuple(parts), text)


def truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]],
          paint: Callable[[int, int, str], str] | None = None) -> str:
    """Columns three spaces apart, each as wide as its widest cell (cells made inert with `safe`).
    `paint(row, column, text)` may wrap a cell's text (colour codes) once the widths are measured."""
    cells = [[safe(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    lines = ["   ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    for r, row in enumerate(cells):
        lines.append("   ".join((paint(r, i, c) if paint else c) + " " * (w - len(c))
                                for i, (c, w) in enumerate(zip(row, widths))).rstrip())
    return "\n".join(lines)


def short_id(object_id: str | None, empty: str = "") -> str:
    """Docker's 12-character ID (`sha256:` or any algorithm prefix dropped); `empty` when there is none."""
    return (object_id or "").rpartition(":")[2][:12] or empty
