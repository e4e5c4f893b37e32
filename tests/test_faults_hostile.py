"""Fault suite: hostile strings from daemons and registries reach every screen inert."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hostile import HOSTILE, assert_inert, bad_characters

from dockyard.textfmt import safe, table

pytestmark = pytest.mark.faults


def test_safe_escapes_every_control_and_format_character():
    """Checked against this Python's Unicode database: bidi overrides/isolates, zero width, tags, BOM."""
    chars = "".join(chr(c) for c in range(sys.maxunicode + 1)
                    if unicodedata.category(chr(c)) in ("Cc", "Cf", "Cs", "Zl", "Zp"))
    assert len(chars) > 2000
    assert bad_characters(safe(chars), allowed="") == []
    assert safe("tag\u202egnp.exe") == "tag\\u202egnp.exe"  # visible, not reversing what follows
    assert safe("ok: naïve café 🐳 日本") == "ok: naïve café 🐳 日本"  # ordinary text untouched


def test_cli_table_renders_hostile_cells_inert():
    out = table(["NAME", "IMAGE"], [[h, h] for h in HOSTILE])
    assert_inert(out)
    out.encode("utf-8")  # nothing unencodable left
