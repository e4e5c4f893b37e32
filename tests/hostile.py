"""Hostile strings for names, labels, tags and logs, and the check that a screen or an output shows
them inert: no terminal control, no bidi or invisible format character, nothing unencodable.

Plain module (no pytest), shared by the fault suite's registry, CLI and UI tests.
"""

from __future__ import annotations

import unicodedata

HOSTILE = (
    "\x1b[31mred\x1b[0m",  # SGR colour
    "\x1b]0;pwned\x07title",  # OSC: retitle the window
    "\x9b2Jc1-csi",  # C1 CSI: clear the screen
    "[bold red]markup[/]",  # Rich markup
    "[/foo]",  # crashed the app once (closing tag without opening)
    "rev\u202eesrever",  # RIGHT-TO-LEFT OVERRIDE: spoofs what follows
    "iso\u2066late\u2069zero\u200bwidth\ufeffbom",  # isolates, zero width space, BOM
    "tab\tnew\nline\rcr",
    "nul\x00byte",
    "lone\ud800surrogate",  # unencodable in UTF-8
    "x" * 300,  # very long
)

# Characters a terminal must never receive from data: controls (except the newline the output
# itself writes), format characters (bidi, zero width), separators, surrogates.
_BAD = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def bad_characters(text: str, allowed: str = "\n") -> list[str]:
    return sorted({f"U+{ord(c):04X}" for c in text if c not in allowed and unicodedata.category(c) in _BAD})


def assert_inert(text: str, allowed: str = "\n") -> None:
    bad = bad_characters(text, allowed)
    assert not bad, f"raw control/format characters reached the output: {bad}"
