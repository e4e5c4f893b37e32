"""How the UI shows image freshness (fleet/freshness.py): a one-character mark for the tables,
words for the details view. Quiet by default: current and local images show nothing."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.text import Text

from dockyard.textfmt import safe, short_id

if TYPE_CHECKING:
    from dockyard.fleet.freshness import Freshness

MARKS = {"outdated": ("↑", "bold yellow"), "unknown": ("?", "dim")}
SORT_RANK = {"outdated": 0, "unknown": 1, "pinned": 2, "current": 3, "local": 4}


def mark(f: Freshness | None) -> Text:
    """The UPDATE column's cell: `↑` outdated, `?` unknown, blank otherwise (or not checked yet)."""
    return state_mark(f.state if f is not None else None)


def state_mark(state: str | None) -> Text:
    """`mark` for a freshness state (None: not checked yet)."""
    text, style = MARKS.get(state, ("", "")) if state is not None else ("", "")
    return Text(text, style=style, no_wrap=True)


def describe(f: Freshness | None) -> Text:
    """The details view's lines: state, running → registry digest, when checked, why."""
    if f is None:
        return Text("Image freshness: not checked yet (checks start a minute after launch; U checks now)", style="dim")
    style = {"outdated": "bold yellow", "current": "green", "unknown": "red"}.get(f.state, "")
    out = Text.assemble(("Image ", "bold"), (f.state, style), "  ", (safe(f.reference), "dim"))
    if f.running_digest or f.registry_digest:
        out.append("\n  running  ")
        out.append(safe(f.running_digest or "-"))
        out.append("\n  registry ")
        out.append(safe(f.registry_digest or "-"))
    if f.checked_at:
        out.append(f"\n  checked {time.strftime('%H:%M:%S', time.localtime(f.checked_at))}", style="dim")
    if f.reason:
        out.append(("\n  why: " if f.state == "unknown" else "\n  ") + safe(f.reason), style="dim")
    return out


def short_digests(f: Freshness) -> str:
    """RUNNING → AVAILABLE in short form (flash messages)."""
    return f"{short_id(f.running_digest, '-')} → {short_id(f.registry_digest, '-')}"
