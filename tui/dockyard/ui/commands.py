"""Command mode (`:`) completion and the command palette's "category: verb" commands."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.suggester import Suggester

from dockyard.ui.panes.registry import PANES, Command

APP_COMMANDS = (
    Command("host NAME", "scope every pane to one host"),
    Command("host", "back to all hosts (also :all)"),
    Command("all", "back to all hosts"),
    Command("sort COLUMN", "sort by a column (again: reverse)"),
    Command("filter TEXT", "set the filter"),
)
END_COMMANDS = (Command("help", "list the keys"), Command("q", "quit"))

# Every `:` command as help lists it: the panes, the app's own, each pane's, then help and quit.
COMMANDS: tuple[Command, ...] = (
    *(Command(s.id, f"show the {s.title} pane") for s in PANES),
    *APP_COMMANDS,
    *(c for s in PANES for c in s.commands),
    *END_COMMANDS,
)


def sort_names(pane) -> list[str]:
    """What `:sort` takes for each of a pane's columns: its title (`cpu` for CPU%), or its key when
    the title has a space (`mem_used`)."""
    names = []
    for column in pane.active_columns:
        name = column.label.lower().rstrip("%")
        names.append(column.key if " " in name or not name else name)
    return names


def completions(value: str, app=None) -> list[str]:
    """Every completion of a `:` line, in the order help lists them (`h` → hosts, host, help):
    a verb; a host name after `host`; a column of the current pane after `sort`; a command's choices."""
    words = value.lstrip(":").split(" ")
    if len(words) == 1:
        verbs = dict.fromkeys(c.verb for c in COMMANDS)
        return [v for v in verbs if v.startswith(words[0].lower()) and v != words[0]]
    if len(words) != 2:
        return []
    verb, prefix = words[0].lower(), words[1].lower()
    if verb == "host" and app is not None:
        names = list(app.fleet.sessions)
    elif verb == "sort" and app is not None:
        names = sort_names(app.active_pane)
    else:
        names = list(next((c.choices for c in COMMANDS if c.verb == verb), ()))
    return [f"{words[0]} {n}" for n in dict.fromkeys(names) if n.lower().startswith(prefix) and n != words[1]]


class CommandSuggester(Suggester):
    """Shows the first completion greyed; tab takes it, tab again the next (Prompt.action_complete)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=False)
        self.enabled = True

    async def get_suggestion(self, value: str) -> str | None:
        if not self.enabled or not value:
            return None
        found = completions(value, self._app())
        return found[0] if found else None

    @staticmethod
    def _app():
        from textual._context import active_app

        try:
            return active_app.get()
        except LookupError:
            return None


class FleetCommands(Provider):
    """Command palette entries named "category: verb"."""

    def _commands(self) -> list[tuple[str, object, str]]:
        app = self.app
        out: list[tuple[str, object, str]] = []
        for spec in PANES:
            out.append((f"pane: {spec.id}", partial(app.show_pane, spec.id), f"Show the {spec.title} pane"))
        out.append(("scope: all hosts", partial(app.set_scope, None), "Show every host"))
        for host in app.fleet.sessions:
            out.append((f"scope: {host}", partial(app.set_scope, host), f"Show only {host}"))
            out.append((f"host: reconnect {host}", partial(_reconnect, app, host), f"Reconnect to {host}"))
        for spec in PANES:
            pane = app.panes[spec.id]
            for entry in spec.palette:
                if not (app.readonly and entry.action in pane.MUTATING):
                    out.append((entry.name, partial(getattr(pane, f"action_{entry.action}"), *entry.args), entry.help))
        out.append(("app: help", app.action_help, "List every key of the current pane"))
        out.append(("app: quit", app.exit, "Quit Dockyard"))
        return out

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


def _reconnect(app, host: str) -> None:
    app.run_worker(app.fleet.reconnect(host))
