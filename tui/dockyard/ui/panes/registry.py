"""The one table of panes: what drives the tab bar, the number keys, `:` commands, the palette, `?` and [keys].

Every list the app shows or checks about panes is derived from `PANES`, so a pane exists by being
listed here once (see the package docstring for the whole recipe).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

from dockyard.ui.panes.base import Pane
from dockyard.ui.panes.containers import ContainersPane
from dockyard.ui.panes.hosts import HostsPane
from dockyard.ui.panes.images import ImagesPane
from dockyard.ui.panes.networks import NetworksPane
from dockyard.ui.panes.registries import RegistriesPane
from dockyard.ui.panes.volumes import VolumesPane


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
    pane: type[Pane]
    aliases: tuple[str, ...] = ()  # other `:` words that show it
    commands: tuple[Command, ...] = ()  # `:` commands the pane runs (Pane.run_command)
    palette: tuple[PaletteEntry, ...] = ()

    @property
    def title(self) -> str:
        return self.pane.title

    @property
    def help_section(self) -> str:
        return f"{self.title} pane"

    @property
    def binding_ids(self) -> set[str]:
        return {b.id for b in self.pane.BINDINGS if isinstance(b, Binding) and b.id}

    def binding(self) -> Binding:
        return Binding(self.key, f"show_pane('{self.id}')", self.title, id=f"pane.{self.id}", show=False)


_CONTAINER_VERBS = ("stop", "start", "restart", "kill", "remove")

PANES: tuple[PaneSpec, ...] = (
    PaneSpec("hosts", "1", HostsPane),
    PaneSpec("containers", "2", ContainersPane, aliases=("container",), commands=(
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
    )),
    PaneSpec("images", "3", ImagesPane, aliases=("image",)),
    PaneSpec("volumes", "4", VolumesPane, aliases=("volume",)),
    PaneSpec("networks", "5", NetworksPane, aliases=("network",)),
    PaneSpec("registries", "6", RegistriesPane),
)

PANE_SPECS = {spec.id: spec for spec in PANES}


def spec_for_verb(verb: str) -> PaneSpec | None:
    """The pane a `:` word shows (its id or an alias)."""
    return next((s for s in PANES if verb == s.id or verb in s.aliases), None)


def command_owner(verb: str) -> tuple[PaneSpec, Command] | None:
    """The pane that runs the `:` command `verb`, and the command."""
    return next(((s, c) for s in PANES for c in s.commands if c.verb == verb), None)
