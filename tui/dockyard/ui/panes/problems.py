"""Problems pane: what is wrong right now, and where — one row per problem, worst first.

The rows come from the controller's live problem watch (fleet/problems.py), which works from the
event-fed cache: opening this pane asks for nothing but a lazy `/system/df` of hosts not read
within `reclaimable_every`. `enter` goes to the object (a container's details, the host, the
service or node), `l` to a container's logs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from dockyard.ui.panes.base import Column, Pane, Row, cell, key_table

if TYPE_CHECKING:
    from dockyard.fleet.problems import Problem

SEVERITY_STYLE = {"critical": "bold red", "error": "red", "warning": "yellow"}


def since_text(since: float | None) -> str:
    """When it began, as a clock (the date too when long ago): a cell that need not tick."""
    if not since:
        return "-"
    from dockyard.textfmt import clock

    return clock(since)


def problem_row(p: Problem) -> Row:
    texts = [p.severity.upper(), p.host, f"{p.object} {p.name}", p.kind, since_text(p.since), p.detail]
    cells = (cell(texts[0], SEVERITY_STYLE.get(p.severity, "")), cell(texts[1]), cell(texts[2]),
             cell(texts[3], "bold"), cell(texts[4]), cell(texts[5]))
    key = "\x00".join(p.key)
    return Row(key, cells, {"severity": p.rank()[0], "host": p.host, "object": texts[2], "kind": p.kind,
                            "since": p.since or 0.0, "detail": p.detail}, p, texts,
               {"host": p.host, "name": p.name, "state": p.kind})


class ProblemsPane(Pane):
    pane_id = "problems"
    kinds = frozenset({"problems"})
    noun = "problems"
    columns = (
        Column("severity", "SEVERITY", 8), Column("host", "HOST", min_width=8), Column("object", "OBJECT", min_width=14),
        Column("kind", "PROBLEM"), Column("since", "SINCE", priority=2),
        Column("detail", "DETAIL", min_width=12, flex=True),
    )
    BINDINGS = key_table("problem", """
        enter   open    Go to
        l       logs    Logs
        ctrl+r  disk    Check disk now
        o       sort    Sort
    """)

    class Open(Message):
        """Go to what a row is about: a container (its details, or `logs`), a host, a service, a node."""

        def __init__(self, object_kind: str, host: str, object_id: str, name: str, swarm: str = "",
                     logs: bool = False) -> None:
            super().__init__()
            self.object_kind, self.host, self.object_id, self.name = object_kind, host, object_id, name
            self.swarm, self.logs = swarm, logs

    def on_show(self) -> None:
        self.fleet.problems.refresh_reclaimable()

    def action_disk(self) -> None:
        self.fleet.problems.refresh_reclaimable(force=True)
        self.flash("reading each online host's disk usage (docker system df)…")

    def build_rows(self) -> list[Row]:
        return [row for row in map(problem_row, self.fleet.problems.problems(self.scope_hosts()))
                if self.match(row.texts, row.fields)]

    def header_parts(self):
        count = len(self.rows)
        return [("no problems" if not count else f"{count} problem{'s' * (count != 1)}",
                 "green" if not count else "bold red")]

    def row_chosen(self) -> None:
        self.action_open()

    def cursor_detail(self) -> str | None:
        """The cursor problem's whole DETAIL (a narrow column cuts it): what a user reads to act."""
        row = self.cursor_row_data()
        return None if row is None else f"{row.data.kind} on {row.data.host}: {row.data.detail}"

    def action_open(self, logs: bool = False) -> None:
        row = self.cursor_row_data()
        if row is None:
            return
        p: Problem = row.data
        self.post_message(self.Open(p.object, p.host, p.id, p.name, p.swarm, logs))

    def action_logs(self) -> None:
        row = self.cursor_row_data()
        if row is not None and row.data.object != "container":
            self.flash("logs: only a container's problem has logs", error=True)
            return
        self.action_open(logs=True)
