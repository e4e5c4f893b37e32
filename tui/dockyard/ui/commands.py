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


class CommandSuggester(Suggester):
    """Completes the verb, and host names after `host`."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=False)
        self.enabled = True

    async def get_suggestion(self, value: str) -> str | None:
        if not self.enabled or not value:
            return None
        words = value.lstrip(":").split(" ")
        app = self._app()
        if len(words) == 1:
            for command in COMMANDS:
                if command.verb.startswith(words[0].lower()) and command.verb != words[0]:
                    return command.verb
            return None
        if words[0] == "host" and len(words) == 2 and app is not None:
            for host in app.fleet.sessions:
                if host.lower().startswith(words[1].lower()):
                    return f"host {host}"
        choices = next((c.choices for c in COMMANDS if c.verb == words[0]), ()) if len(words) == 2 else ()
        for choice in choices:
            if choice.startswith(words[1]):
                return f"{words[0]} {choice}"
        return None

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
