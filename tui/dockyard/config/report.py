"""Errors and warnings as (key path, message), printed as `FILE: hosts[2].url: message (line N)`.

The line is found by scanning the TOML text for table headers and `key =` lines: cheap, best effort,
never fails (tomllib keeps no positions for values).
"""

from __future__ import annotations

import json
import re

KeyPath = tuple  # ("hosts", 2, "url"); printed by format_path


def format_path(path: KeyPath) -> str:
    """("hosts", 2, "tls", "ca") -> 'hosts[2].tls.ca'; keys that are not bare TOML keys are quoted."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else json.dumps(part)
            out += ("." if out else "") + text
    return out


_KEY_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'|[A-Za-z0-9_-]+')


def _segments(dotted: str) -> list[str]:
    out = []
    for tok in _KEY_TOKEN.findall(dotted):
        out.append(tok[1:-1] if tok[:1] in "\"'" else tok)
    return out


def key_lines(text: str) -> dict[KeyPath, int]:
    """Map key paths to the first line that defines them, by scanning headers and `key =` lines."""
    lines: dict[KeyPath, int] = {}
    counts: dict[tuple, int] = {}
    current: tuple = ()
    in_multiline = False

    def resolve(segs: list[str]) -> tuple:
        path: tuple = ()
        for seg in segs:
            path += (seg,)
            if path in counts:
                path += (counts[path],)
        return path

    for n, line in enumerate(text.splitlines(), 1):
        quotes = line.count('"""') + line.count("'''")
        if in_multiline:
            in_multiline = quotes % 2 == 0
            continue
        if quotes % 2:
            in_multiline = True
        stripped = line.strip()
        if m := re.match(r"\[\[\s*(.+?)\s*\]\]", stripped):
            segs = _segments(m.group(1))
            parent = resolve(segs[:-1])
            key = parent + (segs[-1],)
            counts[key] = counts.get(key, -1) + 1
            current = key + (counts[key],)
            lines.setdefault(key, n)
            lines.setdefault(current, n)
        elif m := re.match(r"\[\s*(.+?)\s*\]", stripped):
            current = resolve(_segments(m.group(1)))
            lines.setdefault(current, n)
        elif m := re.match(r"((?:\"(?:[^\"\\]|\\.)*\"|'[^']*'|[A-Za-z0-9_.\s-])+?)\s*=", stripped):
            path = current
            for seg in _segments(m.group(1)):
                path += (seg,)
                lines.setdefault(path, n)
    return lines


class Report:
    """Collects errors and warnings as (key path, message) and formats them with file and line."""

    def __init__(self, path: str, text: str):
        self.path = path
        self.lines = key_lines(text)
        self.errors: list[tuple[KeyPath, str]] = []
        self.warnings: list[tuple[KeyPath, str]] = []

    def error(self, key: KeyPath, message: str) -> None:
        self.errors.append((key, message))

    def warn(self, key: KeyPath, message: str) -> None:
        self.warnings.append((key, message))

    def ok(self, key: KeyPath) -> bool:
        """No error so far at `key` or below it: its value may be used."""
        return not any(p[: len(key)] == key for p, _ in self.errors)

    def line(self, key: KeyPath) -> int | None:
        for i in range(len(key), 0, -1):
            if key[:i] in self.lines:
                return self.lines[key[:i]]
        return None

    def _format(self, key: KeyPath, message: str) -> str:
        where = f"{self.path}: {format_path(key)}: " if key else f"{self.path}: "
        line = self.line(key)
        return where + message + (f" (line {line})" if line else "")

    def formatted(self, items: list[tuple[KeyPath, str]]) -> list[str]:
        order = sorted(range(len(items)), key=lambda i: (self.line(items[i][0]) or 10**9, i))
        return [self._format(*items[i]) for i in order]
