"""The `/` filter language, shared by every pane.

Words are ANDed, case-insensitive. A bare word matches as a substring of any visible
column; `key:value` terms match a field: `host:web1` and `state:running` exactly (a trailing
`*` takes a prefix: `host:web*`), `image:nginx`, `project:shop` and `name:db` as substrings,
`label:app=api` exactly (or `label:app` for "has the label"), `update:outdated` exactly (image
freshness: current, outdated, local, pinned, unknown). A leading `!` negates a term
(`!state:exited`). Quotes keep spaces inside one word (`"Up 5"`). A row without a field never
matches a term on it.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

FIELD_TERMS = ("host", "state", "image", "label", "project", "name", "update")


@dataclass(frozen=True)
class Term:
    field: str | None  # None: any visible column
    value: str
    negate: bool = False


def parse(text: str) -> list[Term]:
    try:
        words = shlex.split(text)
    except ValueError:  # an unclosed quote while typing: take words as they are
        words = text.split()
    terms = []
    for word in words:
        negate = word.startswith("!") and len(word) > 1
        if negate:
            word = word[1:]
        field, sep, value = word.partition(":")
        if sep and field.lower() in FIELD_TERMS:
            terms.append(Term(field.lower(), value, negate))
        else:
            terms.append(Term(None, word, negate))
    return terms


def matcher(text: str) -> Callable[[Sequence[str], Mapping[str, object]], bool]:
    """A predicate over (visible column texts, fields) — fields: host, state, image, labels, …"""
    terms = parse(text)

    def match(columns: Sequence[str], fields: Mapping[str, object]) -> bool:
        return all(_term(t, columns, fields) != t.negate for t in terms)

    return match


def _term(term: Term, columns: Sequence[str], fields: Mapping[str, object]) -> bool:
    needle = term.value.lower()
    if term.field is None:
        return any(needle in c.lower() for c in columns)
    if term.field == "label":
        labels = fields.get("labels") or {}
        key, sep, value = term.value.partition("=")
        if not sep:
            return key in labels  # type: ignore[operator]
        return labels.get(key) == value  # type: ignore[union-attr]
    value = fields.get(term.field)
    if value is None:
        return False
    if term.field in ("host", "state", "update"):
        return str(value).lower() == needle or (needle.endswith("*") and str(value).lower().startswith(needle[:-1]))
    return needle in str(value).lower()
