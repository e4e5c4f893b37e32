"""How the CLI prints for people and for scripts: colour only on a terminal, `--format` templates.

Colour follows the common conventions: only when the stream is a terminal, never in a pipe or a
file, and never when `NO_COLOR` is set to anything (no-color.org) or `TERM=dumb`.

`--format` takes docker's Go-template style for the simple cases scripts use:
`{{.Name}}`, `{{.Host}}\t{{.Status}}`, `{{json .}}`, `{{json .Labels}}`, `{{.Label "app"}}`, and a
`table ` prefix for aligned columns with headers. `\\t` and `\\n` in the format are a tab and a
newline, as docker reads them. An unknown field is a usage error that lists the fields.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO

from dockyard.textfmt import safe, table

# SGR colours by meaning, so every command colours the same thing the same way.
GREEN, RED, YELLOW, DIM, BOLD = "32", "31", "33", "2", "1"
PALETTE = (39, 208, 76, 170, 45, 214, 141, 118, 203, 33, 178, 81)  # the logs view's prefix colours


class FormatError(ValueError):
    """A --format template that cannot be applied (unknown field, unbalanced braces)."""


def colour_enabled(stream: TextIO | None = None, env: Mapping[str, str] | None = None) -> bool:
    """Colour on `stream` (default stdout): a terminal, NO_COLOR unset or empty, TERM not dumb."""
    env = os.environ if env is None else env
    stream = sys.stdout if stream is None else stream
    if env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def paint(text: str, sgr: str | None, on: bool) -> str:
    """`text` in the colour `sgr` when `on` (the caller asked colour_enabled once)."""
    return f"\x1b[{sgr}m{text}\x1b[0m" if on and sgr else text


_SGR = re.compile(r"\x1b\[[0-9;]*m")


def safe_line(text: str, colour: bool) -> str:
    """A daemon's log line for a terminal: every control sequence shown escaped (safe), except —
    when colour is on — plain SGR colour codes, which the program meant as colour."""
    if not colour:
        return safe(text)
    pos, out = 0, []
    for match in _SGR.finditer(text):
        out += [safe(text[pos:match.start()]), match.group()]
        pos = match.end()
    out.append(safe(text[pos:]))
    return "".join(out) + ("\x1b[0m" if pos else "")


def source_colour(label: str) -> str:
    """A stable 256-colour SGR for a log source (the same hash as the logs view)."""
    import zlib

    return f"38;5;{PALETTE[zlib.crc32(label.encode()) % len(PALETTE)]}"


def state_colour(state: str, status: str = "") -> str | None:
    """A container's state as `docker ps` users read it: running green, a failed exit red."""
    if state == "running":
        return GREEN
    if state in ("paused", "restarting", "created", "removing"):
        return YELLOW
    if state in ("exited", "dead"):
        match = re.search(r"\((\d+)\)", status)
        return RED if state == "dead" or (match and match.group(1) != "0") else DIM
    return None


def coloured_table(headers: Sequence[str], rows: Sequence[Sequence[object]],
                   colours: Sequence[Sequence[str | None]] | None = None, on: bool = False) -> str:
    """textfmt.table's layout, with a colour per cell applied after padding (widths stay right)."""
    if not (colours and on):
        return table(headers, rows)
    return table(headers, rows, lambda r, i, text: paint(text, colours[r][i], True) if colours[r][i] else text)


# ---------------------------------------------------------------------------------------- --format

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)
_FIELD = re.compile(r"^\.([A-Za-z_][A-Za-z0-9_]*)(?:\s+\"((?:[^\"\\]|\\.)*)\")?$")


class Template:
    """A parsed --format: literal text and actions, checked against a record's fields up front."""

    def __init__(self, spec: str, fields: Sequence[str], headers: Mapping[str, str] | None = None):
        self.table = spec.startswith("table")
        if self.table:
            spec = spec[len("table"):].strip() or "\t".join(f"{{{{.{f}}}}}" for f in fields[:4])
        spec = spec.replace("\\t", "\t").replace("\\n", "\n")
        self.fields = list(fields)
        self.headers = dict(headers or {})
        self.parts: list[str | tuple[str, str | None, str | None]] = []  # text or (fn, field, arg)
        pos = 0
        for match in _ACTION.finditer(spec):
            self.parts.append(spec[pos:match.start()])
            self.parts.append(self._action(match.group(1)))
            pos = match.end()
        rest = spec[pos:]
        if "{{" in rest or "}}" in rest:
            raise FormatError(f"unbalanced braces in --format {spec!r}")
        self.parts.append(rest)

    def _action(self, body: str) -> tuple[str, str | None, str | None]:
        fn = "value"
        for name in ("json", "upper", "lower"):
            if body.startswith(name + " "):
                fn, body = name, body[len(name):].strip()
        if body == "." and fn == "json":
            return fn, None, None
        match = _FIELD.match(body)
        if not match:
            raise FormatError(f"cannot read {{{{{body}}}}} in --format: use {{{{.Field}}}}, {{{{json .}}}} "
                              f"or {{{{.Label \"key\"}}}} (fields: {', '.join(self.fields)})")
        field, arg = match.group(1), match.group(2)
        if field not in self.fields:
            raise FormatError(f"no field .{field} in --format (fields: {', '.join(self.fields)})")
        if arg is not None and field != "Label":
            raise FormatError(f".{field} takes no argument in --format")
        return fn, field, arg

    def render(self, record: Mapping[str, Any]) -> str:
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            fn, field, arg = part
            if field is None:
                out.append(json.dumps(dict(record), default=str))
                continue
            value = record[field]
            if field == "Label":
                value = (record.get("Labels") or {}).get(arg or "", "") if isinstance(record.get("Labels"), dict) \
                    else ""
            if fn == "json":
                out.append(json.dumps(value, default=str))
            else:
                text = safe(_go_text(value))  # a daemon's string: never a control sequence
                out.append(text.upper() if fn == "upper" else text.lower() if fn == "lower" else text)
        return "".join(out)

    def header(self) -> str:
        """The table heading: each field's column title in place of its action."""
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            else:
                _, field, _ = part
                out.append(self.headers.get(field or "", (field or "").upper()))
        return "".join(out)


def _go_text(value: Any) -> str:
    """A value as Go's text/template prints simple ones (dicts as k=v, as docker's Labels)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


def print_formatted(spec: str, records: Sequence[Mapping[str, Any]], fields: Sequence[str],
                    headers: Mapping[str, str] | None = None,
                    write: Callable[[str], None] | None = None) -> None:
    """Print `records` through the --format `spec` (a `table` one aligned on its tabs, with headers).

    Values from daemons go out escaped by `safe()` (a name can't move the cursor); `{{json …}}`
    escapes them as JSON does."""
    write = write or (lambda line: print(line))
    template = Template(spec, fields, headers)
    lines = [template.render(r) for r in records]
    if not template.table:
        for line in lines:
            write(line)
        return
    rows = [line.split("\t") for line in [template.header(), *lines]]
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(width)]
    for row in rows:
        write("   ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())

