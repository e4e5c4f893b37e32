"""Command mode (`:`) completion and the command palette's "category: verb" commands."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.suggester import Suggester

COMMANDS = [
    ("hosts", "show the Hosts pane"),
    ("containers", "show the Containers pane"),
    ("images", "show the Images pane"),
    ("volumes", "show the Volumes pane"),
    ("networks", "show the Networks pane"),
    ("registries", "show the Registries pane"),
    ("host NAME", "scope every pane to one host"),
    ("host", "back to all hosts (also :all)"),
    ("all", "back to all hosts"),
    ("sort COLUMN", "sort by a column (again: reverse)"),
    ("group host|project|none", "group containers"),
    ("filter TEXT", "set the filter"),
    ("logs FILTER", "merged logs of every container matching FILTER"),
    ("exec CMD", "run CMD interactively in the container under the cursor"),
    ("rename NAME", "rename the container under the cursor"),
    ("commit REPO[:TAG]", "commit the container under the cursor to an image on its host"),
    ("help", "list the keys"),
    ("q", "quit"),
]


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
            for name, _ in COMMANDS:
                verb = name.split()[0]
                if verb.startswith(words[0].lower()) and verb != words[0]:
                    return verb
            return None
        if words[0] == "host" and len(words) == 2 and app is not None:
            for host in app.fleet.sessions:
                if host.lower().startswith(words[1].lower()):
                    return f"host {host}"
        if words[0] == "group" and len(words) == 2:
            for opt in ("host", "project", "none"):
                if opt.startswith(words[1]):
                    return f"group {opt}"
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
        for pane in ("hosts", "containers", "images", "volumes", "networks", "registries"):
            out.append((f"pane: {pane}", partial(app.show_pane, pane), f"Show the {pane.capitalize()} pane"))
        out.append(("scope: all hosts", partial(app.set_scope, None), "Show every host"))
        for host in app.fleet.sessions:
            out.append((f"scope: {host}", partial(app.set_scope, host), f"Show only {host}"))
            out.append((f"host: reconnect {host}", partial(_reconnect, app, host), f"Reconnect to {host}"))
        containers = app.panes.get("containers")
        out.append(("containers: toggle stopped", containers.action_toggle_all, "Show or hide stopped containers"))
        out.append(("containers: group", containers.action_group, "Cycle grouping: none, host, project"))
        if not app.readonly:
            for verb in ("stop", "start", "restart", "kill", "remove"):
                out.append((f"containers: {verb} selected", partial(containers.action_act, verb),
                            f"{verb.capitalize()} the marked containers, or the one under the cursor"))
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
