"""The one table of panes: what drives the tab bar, the number keys, `:` commands, the palette, `?` and [keys].

Every list the app shows or checks about panes is derived from `PANES`, so a pane exists by being
listed here once (see the package docstring for the whole recipe).

Plain data, no Textual at import: the headless CLI reads it (`dockyard completion` writes the pane
names into its scripts), and tests/test_import_hygiene.py checks that headless commands never load
Textual. Only `binding()`/`binding_ids`, which the app calls, import it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the controller, and every pane but the first frame's rows, load after the first frame
    from dockyard.fleet import Fleet
    from textual.binding import Binding

    from dockyard.ui.panes.base import Pane


@dataclass(frozen=True)
class Command:
    """A `:` command a pane answers: `usage` is its verb and arguments as help shows them."""

    usage: str
    help: str
    choices: tuple[str, ...] = ()  # completions for the first argument
    sets_filter: bool = False  # the words after the verb become the `/` filter first

    @property
    def verb(self) -> str:
        return self.usage.split()[0]


@dataclass(frozen=True)
class PaletteEntry:
    """A command palette entry ("category: verb") that runs one of the pane's actions."""

    name: str
    action: str  # the pane's action_… method; hidden in read-only mode when the pane lists it as MUTATING
    help: str
    args: tuple[object, ...] = ()


@dataclass(frozen=True)
class PaneSpec:
    id: str  # also the pane's widget id (pane-ID) and its `:` command
    key: str  # the number key that shows it
    title: str  # its tab, its help section
    where: str  # "module:Class" of the pane, imported when the panes are made (after the first frame)
    aliases: tuple[str, ...] = ()  # other `:` words that show it
    commands: tuple[Command, ...] = ()  # `:` commands the pane runs (Pane.run_command)
    palette: tuple[PaletteEntry, ...] = ()
    when: Callable[[Fleet], bool] | None = None  # its tab shows only while this holds (its key always works)
    count: Callable[[Fleet], int] | None = None  # a number its tab shows (e.g. how many problems)
    # the object kinds, as events and problems name them, whose rows it lists: their "go to" lands here
    lists: tuple[str, ...] = ()

    @property
    def pane(self) -> type[Pane]:
        module, _, name = self.where.partition(":")
        return getattr(importlib.import_module(module), name)

    @property
    def help_section(self) -> str:
        return f"{self.title} pane"

    @property
    def binding_ids(self) -> set[str]:
        from textual.binding import Binding

        return {b.id for b in self.pane.BINDINGS if isinstance(b, Binding) and b.id}

    def binding(self) -> Binding:
        from textual.binding import Binding

        return Binding(self.key, f"show_pane('{self.id}')", self.title, id=f"pane.{self.id}", show=False)


def _while_shown(fleet: Fleet) -> bool:
    """A tab only while its pane is shown (the tabs line is full; `E` and `:events` reach it)."""
    return False


def _problem_count(fleet: Fleet) -> int:
    return fleet.problems.count()


_CONTAINER_VERBS = ("stop", "start", "restart", "kill", "remove")


def _has_swarm(fleet: Fleet) -> bool:
    """A swarm manager among the hosts (the swarm panes' tabs show only then)."""
    return bool(fleet.swarm.swarms())


PANES: tuple[PaneSpec, ...] = (
    PaneSpec("hosts", "1", "Hosts", "dockyard.ui.panes.hosts:HostsPane", lists=("host", "daemon")),
    PaneSpec("containers", "2", "Containers", "dockyard.ui.panes.containers:ContainersPane",
             aliases=("container",), commands=(
        Command("group host|project|none", "group containers", choices=("host", "project", "none")),
        Command("logs FILTER", "merged logs of every container matching FILTER", sets_filter=True),
        Command("exec CMD", "run CMD interactively in the container under the cursor"),
        Command("rename NAME", "rename the container under the cursor"),
        Command("commit REPO[:TAG]", "commit the container under the cursor to an image on its host"),
    ), palette=(
        PaletteEntry("containers: toggle stopped", "toggle_all", "Show or hide stopped containers"),
        PaletteEntry("containers: group", "group", "Cycle grouping: none, host, project"),
        *(PaletteEntry(f"containers: {verb} selected", "act",
                       f"{verb.capitalize()} the marked containers, or the one under the cursor", (verb,))
          for verb in _CONTAINER_VERBS),
        PaletteEntry("containers: recreate selected", "recreate",
                     "Recreate the marked containers (or the cursor's) with the newer image, rolling back on failure"),
    )),
    PaneSpec("images", "3", "Images", "dockyard.ui.panes.images:ImagesPane", aliases=("image",), lists=("image",)),
    PaneSpec("volumes", "4", "Volumes", "dockyard.ui.panes.volumes:VolumesPane", aliases=("volume",),
             lists=("volume",)),
    PaneSpec("networks", "5", "Networks", "dockyard.ui.panes.networks:NetworksPane", aliases=("network",),
             lists=("network",)),
    PaneSpec("registries", "6", "Registries", "dockyard.ui.panes.registries:RegistriesPane"),
    PaneSpec("services", "7", "Services", "dockyard.ui.panes.services:ServicesPane",
             aliases=("service", "svc"), when=_has_swarm, lists=("service", "swarm"), palette=(
        PaletteEntry("services: scale", "scale", "Set the replicas of the service under the cursor"),
        PaletteEntry("services: update image", "update", "Rolling update of the service under the cursor"),
        PaletteEntry("services: rollback", "rollback", "Back to the previous spec of the service under the cursor"),
        PaletteEntry("services: logs", "logs", "The service's logs from all its tasks"),
    )),
    PaneSpec("tasks", "8", "Tasks", "dockyard.ui.panes.tasks:TasksPane", aliases=("task",), when=_has_swarm),
    PaneSpec("nodes", "9", "Nodes", "dockyard.ui.panes.nodes:NodesPane",
             aliases=("node",), when=_has_swarm, lists=("node",), palette=(
        PaletteEntry("nodes: drain", "availability", "Move every task off the node under the cursor", ("drain",)),
        PaletteEntry("nodes: activate", "availability", "Let the node under the cursor take tasks", ("active",)),
    )),
    PaneSpec("stacks", "0", "Stacks", "dockyard.ui.panes.stacks:StacksPane",
             aliases=("stack", "secrets", "configs"), when=_has_swarm),
    PaneSpec("problems", "!", "Problems", "dockyard.ui.panes.problems:ProblemsPane",
             aliases=("problem", "health"), count=_problem_count),
    PaneSpec("events", "E", "Events", "dockyard.ui.panes.events:EventsPane", aliases=("event",),
             when=_while_shown),
)

PANE_SPECS = {spec.id: spec for spec in PANES}


def spec_for_verb(verb: str) -> PaneSpec | None:
    """The pane a `:` word shows (its id or an alias)."""
    return next((s for s in PANES if verb == s.id or verb in s.aliases), None)


def spec_listing(kind: str) -> PaneSpec | None:
    """The pane whose rows list objects of `kind` ("volume", "node"…, as events and problems say)."""
    return next((s for s in PANES if kind in s.lists), None)


def command_owner(verb: str) -> tuple[PaneSpec, Command] | None:
    """The pane that runs the `:` command `verb`, and the command."""
    return next(((s, c) for s in PANES for c in s.commands if c.verb == verb), None)
