"""The `/` filter language as a user types it (no lab, no app): which rows stay on screen."""

from __future__ import annotations

import pytest

from dockyard.ui.filtering import Term, matcher, parse

WEB = (["web1", "shop-web-1", "nginx:1.27", "running"],
       {"host": "web1", "state": "running", "image": "nginx:1.27", "name": "shop-web-1", "project": "shop",
        "labels": {"app": "web", "tier": "front"}})
DB = (["db-tls", "shop-db", "postgres:16", "exited"],
      {"host": "db-tls", "state": "exited", "image": "postgres:16", "name": "shop-db", "project": "shop",
       "labels": {"app": "db"}})
AGENT = (["web2", "metrics-agent", "prom/agent", "running"],
         {"host": "web2", "state": "running", "image": "prom/agent", "name": "metrics-agent", "project": None,
          "labels": {}})
ROWS = {"web": WEB, "db": DB, "agent": AGENT}


def shown(text: str) -> list[str]:
    match = matcher(text)
    return [name for name, (columns, fields) in ROWS.items() if match(columns, fields)]


@pytest.mark.parametrize("text, expected", [
    ("", ["web", "db", "agent"]),  # no filter: everything
    ("shop", ["web", "db"]),  # a bare word: substring of any visible column
    ("SHOP", ["web", "db"]),  # case-insensitive
    ("shop running", ["web"]),  # words are ANDed
    ("host:web1", ["web"]),  # host is exact…
    ("host:web", []),  # …not a substring
    ("host:web*", ["web", "agent"]),  # a trailing * takes a prefix
    ("HOST:WEB1", ["web"]),
    ("state:exited", ["db"]),
    ("state:run", []),
    ("!state:exited", ["web", "agent"]),  # ! negates
    ("!shop", ["agent"]),
    ("image:nginx", ["web"]),  # image, name, project: substrings of that field
    ("name:web", ["web"]),
    ("project:sho", ["web", "db"]),
    ("project:shop !name:db", ["web"]),
    ("label:app=web", ["web"]),  # a label's value…
    ("label:app", ["web", "db"]),  # …or just having it
    ("label:app=we", []),  # label values are exact
    ("!label:app", ["agent"]),
    ("nope:shop", []),  # not a field: the whole word is a bare word
    ("'shop web'", []),  # quotes keep spaces: no column holds "shop web"
    ('"shop-db', []),  # an unclosed quote while typing: the word as typed, quote included
    ("'shop-db'", ["db"]),
])
def test_which_rows_a_filter_keeps(text, expected):
    assert shown(text) == expected


def test_a_field_the_row_does_not_have_never_matches():
    """The Registries pane's rows have only a name: host:X hides them, !host:X keeps them."""
    match_host, match_not_host = matcher("host:web1"), matcher("!host:web1")
    assert not match_host(["lab"], {"name": "lab"})
    assert match_not_host(["lab"], {"name": "lab"})


def test_parse_splits_terms_and_keeps_a_lone_bang_as_a_word():
    assert parse("host:a !state:exited label:k=v word !") == [
        Term("host", "a"), Term("state", "exited", True), Term("label", "k=v"), Term(None, "word"),
        Term(None, "!")]
