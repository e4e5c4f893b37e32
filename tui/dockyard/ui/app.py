"""The Textual application: the shell around the panes, the keyboard model, live updates.

The UI talks only to `dockyard.fleet.Fleet`. The controller's observer marks panes stale; a
timer repaints the *visible* pane at most `refresh_hz` times a second, and only when
something changed — an idle screen writes nothing to the terminal.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
import time
from typing import TYPE_CHECKING
from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.widgets import ContentSwitcher, Input, Static
from textual.screen import ModalScreen, Screen
from textual.worker import WorkerFailed, active_worker

from dockyard.config import no_endpoint_help
from dockyard.config.model import Config
from dockyard.fleet import Container, FleetChange, FleetError, HostState, LogSource
from dockyard.textfmt import natural_key, safe
from dockyard.ui import filtering
from dockyard.ui.commands import COMMANDS, CommandSuggester, FleetCommands, sort_names
from dockyard.ui.covered import MainScreen, PaneSwitcher
from dockyard.ui.focus import focus_now, typing
from dockyard.ui.guard import controller_operation, host_of, notice, notice_for
from dockyard.ui.hangup import HangupGuard
from dockyard.ui.idlegc import IdleCollector

from dockyard.ui.keyhints import KeyHints
from dockyard.ui.panes.base import Pane, PaneTable, flash
from dockyard.ui.panes.containers import base_order, container_row
from dockyard.ui.panes.containers import COLUMNS as CONTAINER_COLUMNS
from dockyard.ui.panes.registry import PANE_SPECS, PANES, command_owner, spec_for_verb, spec_listing
from dockyard.ui.restyle import RestyleMemo

QUIT_GRACE = 0.5  # s quitting waits for the daemons to see their connections closed
ARRIVAL_FREEZES = 40  # paint ticks at most that freeze what the hosts brought (see _freeze_arrivals)

if TYPE_CHECKING:  # the controller and the registry client (aiohttp, aiodocker) load after the first frame;
    # so do the panes but the first frame's (panes/registry.py), the screens and the dialogs (when first opened)
    from dockyard.fleet import Fleet
    from dockyard.fleet.prefetch import Prefetch
    from dockyard.registry import Registries
    from dockyard.ui.panes.containers import ContainersPane
    from dockyard.ui.panes.events import EventsPane
    from dockyard.ui.panes.problems import ProblemsPane
    from dockyard.ui.panes.hosts import HostsPane
    from dockyard.ui.panes.services import ServicesPane


class Prompt(Input):
    """The one-line input at the bottom used by `:` command mode and `/` filter."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="prompt.cancel", show=False),
        Binding("tab", "complete", "Complete", id="prompt.complete", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="prompt", suggester=CommandSuggester(), select_on_focus=False)
        self.mode = ""
        self.display = False  # until `:` or `/` opens it
        self._cycle: tuple[list[str], int] | None = None  # tab's completions of what was typed, and which is shown

    async def _on_key(self, event: events.Key) -> None:
        if event.key in ("enter", "escape"):  # the prompt closes: Input would restart the cursor's
            event.prevent_default()  # blink, a paint of the prompt as it was before the closed one

    def action_cancel(self) -> None:
        self.app.close_prompt(cancelled=True)  # type: ignore[attr-defined]

    async def action_submit(self) -> None:
        """Input posts `Submitted` for the app to close the prompt: Textual painted between the
        two (the prompt as it was), and the closed prompt only a frame later."""
        self.app.submit_prompt(self)  # type: ignore[attr-defined]

    def action_complete(self) -> None:
        """Tab takes the first completion (the greyed one) instead of moving focus; tab again the next,
        round and round (`h`: hosts, host, help)."""
        if self.mode != "command":
            return
        from dockyard.ui.commands import completions

        if self._cycle is not None and self.value == self._cycle[0][self._cycle[1]]:
            found, shown = self._cycle
            shown = (shown + 1) % len(found)
        else:
            found, shown = completions(self.value, self.app), 0
            if not found:
                return
        self._cycle = (found, shown)
        self.value = found[shown]
        self.cursor_position = len(self.value)


def initial_scope(config: Config) -> str | None:
    """Zero-config (the fleet is the Docker contexts): start on the current context, as k9s does;
    `:all` widens. A config file's fleet, or `--context`, shows every host it names."""
    names = [h.name for h in config.hosts]
    current = config.current_context
    return current if config.path is None and current in names and len(names) > 1 else None


class BootTable(PaneTable):
    """Phase one's stand-in for the Containers pane: its columns, and the rows the daemons' start-up
    listings (fleet/prefetch.py) brought while Textual was importing, as the pane will show them."""

    def __init__(self, config: Config, prefetch: Prefetch | None) -> None:
        super().__init__(id="booting", cursor_type="row")  # as the pane will show them
        self.config, self.prefetch = config, prefetch
        self.shown: list[tuple[str, str]] = []

    def on_mount(self) -> None:
        for column in CONTAINER_COLUMNS:
            self.add_column(Text(column.label), key=column.key, width=column.width)
        if self.prefetch is None:
            return
        self.prefetch.wait()
        scope, now = initial_scope(self.config), time.time()
        order = {host.name: i for i, host in enumerate(self.config.hosts)}
        listed = sorted((c for host in self.config.hosts if scope in (None, host.name)
                         for c in self.prefetch.containers(host.name) or []), key=base_order(order))
        screenful = listed[:self.app.size.height]  # phase one does not scroll: the rest come with the pane
        rows = [container_row(c, None, False, status=c.status_now(now)) for c in screenful]
        self.add_rows_at_once([(row.key, row.cells) for row in rows])  # running first, as the pane orders them
        self.shown = [(row.data.host, row.data.id) for row in rows]

    def first_screenful(self) -> list[tuple[str, str]]:
        """(host, id) of the rows on screen: their live stats can start before the pane mounts."""
        return self.shown[:max(0, self.size.height - 1)]


class DockyardApp(App[int]):
    TITLE = "Dockyard"
    CSS_PATH = "dockyard.tcss"
    COMMANDS = {FleetCommands}  # the palette holds Dockyard's entries only (not Textual's Keys, Maximize…)
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        *(spec.binding() for spec in PANES),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("colon", "command", "Command", id="app.command", priority=True),  # see dockyard/ui/focus.py
        Binding("slash", "filter", "Filter", id="app.filter", priority=True),
        Binding("escape", "escape", "Clear", id="app.escape", show=False),
        Binding("j", "cursor('down')", "Down", id="nav.down", show=False),
        Binding("k", "cursor('up')", "Up", id="nav.up", show=False),
        Binding("g", "cursor('top')", "Top", id="nav.top", show=False),
        Binding("G", "cursor('bottom')", "Bottom", id="nav.bottom", show=False),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+z", "suspend_process", "Suspend", id="app.suspend", show=False),
    ]

    def __init__(self, config: Config, *, readonly: bool | None = None, fleet: Fleet | None = None,
                 pane: str = "containers", prefetch: Prefetch | None = None):
        super().__init__()
        self.config = config
        self.prefetch = prefetch  # the daemons' first listings, asked for before Textual was imported
        self.initial_pane = pane  # `dockyard --pane NAME`
        self.readonly = fleet.readonly if fleet is not None else config.readonly if readonly is None else readonly
        self.fleet: Fleet = fleet  # type: ignore[assignment]  # None until _load_fleet (first frame first)
        self.registries: Registries = None  # type: ignore[assignment]
        self.scope: str | None = None
        self.filter_text = ""
        self._stale_summary = True
        self._asked_keys: set[tuple[str, str]] = set()
        self._hostkey_open = False
        self.panes: dict[str, Pane] = {}
        self._paint_timer = None
        self._last_paint = 0.0
        self._active = "containers"
        self._hosts_shown: set[str] = set()
        self._arrival_freezes = ARRIVAL_FREEZES  # see _freeze_arrivals
        self._filter_timer = None
        self._filter_rows = 0  # the most rows the active pane showed while the `/` prompt is open
        self.hangup_guard: HangupGuard | None = None  # set by run_app in a real terminal
        self._fleet_closing: asyncio.Future | None = None
        self._early_keys: list[events.Key] | None = None  # typed before the panes were up (phase one)
        self._idle_gc: IdleCollector | None = None  # in a terminal: full collections between keys
        self._restyles = RestyleMemo()  # see update_styles
        if config.ui.theme:
            self.theme = config.ui.theme

    def update_styles(self, node, animate: bool = True) -> None:
        """A pane's table or the prompt, restyled as focus comes and goes, takes back the styles it
        had in that state before (ui/restyle.py); anything else as Textual does it."""
        if isinstance(node, (PaneTable, Prompt)) and not node.children:
            state = self._restyles.state(self.stylesheet, node)
            if not self._restyles.take_back(node, state):
                super().update_styles(node, animate)
                self._restyles.keep(node, state)
            return
        super().update_styles(node, animate)

    def get_driver_class(self):
        """Textual's Linux driver with a quicker escape key (ui/driver.py); any other as Textual picks."""
        driver_class = super().get_driver_class()
        if driver_class.__name__ == "LinuxDriver" and driver_class.__module__ == "textual.drivers.linux_driver":
            from dockyard.ui.driver import QuickEscapeDriver

            return QuickEscapeDriver
        return driver_class

    # ------------------------------------------------------------------ layout

    def get_default_screen(self) -> Screen:
        return MainScreen(id="_default")

    def compose(self) -> ComposeResult:
        """In a terminal, phase one: the shell and the prefetched rows (BootTable), painted before the
        fleet layer is even imported; `_boot` then loads it, connects and mounts the panes. Headless
        (tests) both phases run here."""
        with Vertical(id="top"):
            yield Static(self._shell_summary(), id="summary")
            yield Static(Text.assemble(*self._tab_parts(), no_wrap=True, overflow="ellipsis"), id="tabs")
        booting = self.is_headless is False and self.fleet is None
        self._early_keys = [] if booting else None
        if not booting:
            self._load_fleet()
            self.panes = {spec.id: spec.pane(self.fleet, self.registries) for spec in PANES}
        with PaneSwitcher(initial="booting" if booting else "pane-containers", id="switcher"):
            if booting:
                yield BootTable(self.config, self.prefetch if self.initial_pane == "containers" else None)
            else:
                yield from self.panes.values()
        if not booting:  # else phase two mounts it: no key reaches the app before (see on_event)
            yield Prompt()
        yield KeyHints()

    def _tab_parts(self) -> list:
        tabs: list = []
        for spec in PANES:
            if spec.when is not None and spec.id != self._active and (self.fleet is None or not spec.when(self.fleet)):
                continue  # e.g. the swarm panes of a fleet without a swarm
            count = f" ({spec.count(self.fleet)})" if spec.count is not None and self.fleet is not None else ""
            tabs += [(f" {spec.key} {spec.title}{count} ", "reverse bold" if spec.id == self._active else "dim"),
                     " "]
        return tabs

    def _shell_summary(self) -> Text:
        hosts = sum(1 for h in self.config.hosts if h.enabled)
        return Text.assemble(("⚓ Dockyard", "bold"), "  ", (f"connecting to {hosts} host{'s' * (hosts != 1)}…", "yellow"))

    def _load_fleet(self) -> None:
        """Import the controller and the registry client, make the fleet, start connecting."""
        if self.fleet is None:
            from dockyard.fleet import Fleet

            self.fleet = Fleet(self.config, live=True, readonly=self.readonly, prefetch=self.prefetch)
            self.prefetch = None
        if self.registries is None:
            from dockyard.registry import Registries

            self.registries = Registries(self.config, readonly=self.readonly)
        self.fleet.subscribe(self._on_fleet_change)
        for notice in self.fleet.notices:  # e.g. too few file descriptors: said before connecting
            self.flash(notice, error=True)
        self.fleet.start()
        if self.hangup_guard is not None:  # a terminal that goes away ends the process (ui/hangup.py)
            guard = self.hangup_guard
            guard.attach(asyncio.get_running_loop(), lambda: self.fleet.close(guard.grace))

    async def _boot(self) -> None:
        """Phase two, after the first frame: the fleet layer, the connections, the panes."""
        self._load_fleet()
        boot = self.query_one(BootTable)
        if self.initial_pane == "containers" and boot.shown:  # CPU% needs two samples a second apart:
            self.fleet.watch_stats(boot.first_screenful(), owner="containers")  # start them now
        self.panes = {spec.id: spec.pane(self.fleet, self.registries) for spec in PANES}
        switcher = self.query_one("#switcher", ContentSwitcher)
        for pane in self.panes.values():
            pane.display = False  # the switcher hides only the children it had when it mounted
        await switcher.mount_all(self.panes.values())
        await self.mount(Prompt(), before=self.query_one(KeyHints))
        switcher.current = f"pane-{self.initial_pane}"
        await self.query_one("#booting").remove()
        self._panes_ready()

    @property
    def active_pane(self) -> Pane:
        return self.panes[self._active]

    async def on_mount(self) -> None:
        if not self.config.ui.theme and self.console.color_system in ("standard", "windows"):
            self.theme = "ansi-dark"  # a 16-colour terminal: use its own palette (NO_COLOR: Textual's own)
        self.screen_change_signal.subscribe(self, self._screen_changed)
        if self.panes:
            self._panes_ready()
        else:
            self.call_after_refresh(self._boot)

    async def on_event(self, event: events.Event) -> None:
        """Keys typed while phase one shows its rows (~0.3 s before the panes are up) are kept and
        replayed once the panes are: `/web` typed at once filters, instead of being lost. Quitting
        works at once. (Each key or click also puts off the collector's full pass: ui/idlegc.py.)"""
        if isinstance(event, (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)):
            self.input_at = time.monotonic()  # tables draw ahead only while the user moves (PaneTable)
            if self._idle_gc is not None:
                self._idle_gc.input_seen()
        if (self._early_keys is not None and isinstance(event, events.Key) and not event.is_forwarded
                and event.key not in ("q", "ctrl+q", "ctrl+c")):
            self._early_keys.append(events.Key(event.key, event.character))
            return
        await super().on_event(event)

    async def _on_key(self, event: events.Key) -> None:
        """A key no binding takes: say so (and where the keys are) instead of doing nothing in silence.
        Replaces App._on_key (prevent_default: Textual would run both, each key's binding twice)."""
        event.prevent_default()
        if await self._check_bindings(event.key):
            return
        from textual._dispatch_key import dispatch_key

        if not await dispatch_key(self, event) and event.is_printable and self.panes \
                and not typing(self.screen):
            key = "space" if event.character == " " else event.character
            self.flash(f"{key!r} does nothing here — ? lists the keys of this view")

    def _panes_ready(self) -> None:
        self._apply_keymap()
        if not self.config.hosts:  # no Docker anywhere: say so and how to add one, not an empty table
            for pane_id in ("containers", "hosts"):
                self.panes[pane_id].show_empty_state(no_endpoint_help(self.config))
        self._scope_to_current_context()
        self.show_pane(self.initial_pane)
        self._hosts_shown = {c.host for c in self.fleet.cached("containers")}
        self._check_host_keys()
        if not self.is_headless:
            # What exists once the first screen is up (modules, classes, the DOM: ~90k objects) lives
            # as long as the app: out of the collector's sight, a full collection under a log flood
            # takes ~20 ms instead of ~120 ms, and key presses stop waiting behind it. (Not headless:
            # a test process runs many apps and must keep collecting their garbage.)
            self.call_after_refresh(gc.freeze)
            self._idle_gc = IdleCollector()
            self._idle_gc.install()
            self.set_interval(1.0, self._idle_gc.maybe_collect)
        early, self._early_keys = self._early_keys, None
        for key in early or []:
            self.post_message(key)

    async def on_unmount(self) -> None:
        if self._paint_timer is not None:
            self._paint_timer.stop()
        if self._idle_gc is not None:
            self._idle_gc.uninstall()
        if self.registries is not None:
            await self.registries.close()
        if self.fleet is not None:
            # every host at once, within a bounded grace: 500 hosts must not hold up quitting
            await self.fleet.close(grace=QUIT_GRACE)

    def _screen_changed(self, screen: Screen) -> None:
        """A full screen over the panes (logs, a container's details) hides them: the active pane's
        live stats stop until it shows again (a dialog leaves the pane in sight, and sampling)."""
        covered = any(not isinstance(above, ModalScreen) for above in self.screen_stack[1:])
        if not self.panes or covered == self.active_pane.covered:
            return
        for pane in self.panes.values():
            pane.covered = covered
        if covered:
            self.fleet.watch_stats([], owner=self.active_pane.pane_id)
        else:
            self.active_pane.refresh_data(full=False)  # (which states its stats wish again)

    def _apply_keymap(self) -> None:
        if not self.config.keys:
            return
        known = self.binding_ids()
        unknown = sorted(set(self.config.keys) - known)
        self.set_keymap({k: v for k, v in self.config.keys.items() if k in known})
        if unknown:
            self.flash(f"[keys] unknown binding id(s): {', '.join(unknown)}", error=True)

    def binding_ids(self) -> set[str]:
        from dockyard.ui.container_view import ContainerScreen
        from dockyard.ui.dialogs.ask import AskDialog
        from dockyard.ui.dialogs.confirm import ConfirmDialog
        from dockyard.ui.dialogs.hostkey import HostKeyDialog
        from dockyard.ui.dialogs.info import TextDialog
        from dockyard.ui.dialogs.progress import ProgressScreen
        from dockyard.ui.dialogs.run import RunDialog
        from dockyard.ui.logs import LogsScreen

        classes = [type(self), AskDialog, ConfirmDialog, HostKeyDialog, TextDialog, ProgressScreen, Prompt, RunDialog,
                   LogsScreen, ContainerScreen]
        own = {b.id for cls in classes for b in cls.BINDINGS if isinstance(b, Binding) and b.id}
        return own.union(*(spec.binding_ids for spec in PANES))

    # ------------------------------------------------------------------ live updates

    def _on_fleet_change(self, change: FleetChange) -> None:
        for host, kind in change.changed:
            warning = self.fleet.host(host).warning if kind == "warning" else None
            if warning:
                self.flash(f"{host}: {warning}", error=True)
        if self._active not in self.panes or not self.panes[self._active].is_mounted:
            return  # before the first frame: on_mount paints whatever has arrived by then
        kinds = {kind for _, kind in change.changed}
        for pane in self.panes.values():
            if kinds & pane.kinds:
                pane.stale = True
                pane.stale_kinds |= kinds & pane.kinds
                pane.stale_hosts.update(host for host, kind in change.changed if kind in pane.kinds)
        if kinds & {"host", "containers", "swarm", "problems"}:  # swarm: its tabs show once a swarm is known
            self._stale_summary = True
        if "host" in kinds:
            self._check_host_keys()
        first = {h for h, k in change.changed if k == "containers"} - self._hosts_shown
        pane = self.active_pane
        if first:  # a host's first rows go on screen at once, not after the throttle interval
            self._hosts_shown |= first
        if first and len(pane.rows) < max(pane.table.size.height, 1):
            # ...while the screen still has room for them: past that, hundreds of hosts answering
            # one by one would each repaint thousands of rows (200 hosts: a minute to all online)
            if self._paint_timer is not None:
                self._paint_timer.stop()
                self._paint_timer = None
            self._last_paint = 0.0
        if self.active_pane.stale or self._stale_summary:
            self._schedule_paint()

    def _schedule_paint(self) -> None:
        """Leading-edge throttle: paint at once, then at most `refresh_hz` times a second."""
        if self._paint_timer is not None:
            return
        interval = 1 / max(self.config.ui.refresh_hz, 0.1)
        wait = max(0.0, self._last_paint + interval - time.monotonic())
        self._paint_timer = self.set_timer(max(wait, 0.01), self._tick)  # (a 0 s Textual timer divides by 0)

    def _tick(self) -> None:
        self._paint_timer = None
        pane = self.active_pane
        try:
            if pane.stale:
                # only a pane's repaint counts against the throttle: a summary-only tick (another
                # host's containers changed under a swarm pane) must not delay the pane's next rows
                self._last_paint = time.monotonic()
                pane.refresh_data(full=False)
            if self._stale_summary:
                self.update_summary()
        except NoMatches:
            pass  # a paint that lands while the app is being torn down: nothing left to paint
        self._freeze_arrivals()

    def _freeze_arrivals(self) -> None:
        """While the hosts answer for the first time, what they brought (sessions, listings, rows)
        joins what the first screen froze (see _panes_ready), a tick's worth at a time. Everything
        then lives long, and the collector's full collections, each walking all of it again as it
        grew by a quarter, took ~1.1 s of a 500-host start (up to 280 ms at a time). Each tick
        collects first, so no garbage is frozen; after the arrivals (or `ARRIVAL_FREEZES` ticks,
        for hosts that never answer) the collector works as usual."""
        if self._arrival_freezes <= 0 or self.is_headless or self.fleet is None:
            return
        self._arrival_freezes -= 1
        gc.collect()
        gc.freeze()
        if len(self._hosts_shown) >= len(self.fleet.sessions):
            self._arrival_freezes = 0

    def update_summary(self) -> None:
        self._stale_summary = False
        hosts = self.fleet.hosts()
        online = sum(1 for h in hosts if h.state == HostState.ONLINE)
        enabled = sum(1 for h in hosts if h.state != HostState.DISABLED)
        containers = self.fleet.cached("containers", self.scope_hosts())
        running = sum(1 for c in containers if c.state == "running")
        parts = [("⚓ Dockyard", "bold"), "  ",
                 (f"hosts {online}/{enabled} online", "green" if online == enabled else "yellow"), "  ",
                 f"containers {running}/{len(containers)} running", "  ",
                 ("scope: ", "dim"), (safe(self.scope) if self.scope else "all hosts", "bold cyan")]
        problems = self.fleet.problems.count(self.scope_hosts())
        if problems:  # (none: the Problems tab says "(0)")
            parts[3:3] = ["  ", (f"⚠ {problems} problem{'s' * (problems != 1)}", "bold red")]
        if self.filter_text:
            parts += ["  ", ("filter: ", "dim"), (safe(self.filter_text), "bold yellow")]
        marked = self.active_pane.marked
        if marked:
            parts += ["  ", (f"{len(marked)} marked", "bold magenta")]
        if self.readonly:
            parts += ["  ", (" READ-ONLY ", "reverse bold")]
        # (one line each, whatever they say: no layout of the whole screen for a new count)
        self.query_one("#summary", Static).update(Text.assemble(*parts, no_wrap=True, overflow="ellipsis"),
                                                  layout=False)
        tabs = self._tab_parts() + self.active_pane.header_parts()
        self.query_one("#tabs", Static).update(Text.assemble(*tabs, no_wrap=True, overflow="ellipsis"), layout=False)

    # ------------------------------------------------------------------ scope, filter, panes

    def scope_hosts(self) -> list[str] | None:
        return [self.scope] if self.scope else None

    def set_scope(self, host: str | None) -> None:
        if host is not None and host not in self.fleet.sessions:
            self.flash(f"no host named {host!r}", error=True)
            return
        self.scope = host
        for pane in self.panes.values():
            pane.scope = host
            pane.stale = True
        self.flash(f"scope: {host}" if host else "scope: all hosts")
        self._refresh_now()

    def _scope_to_current_context(self) -> None:
        current = initial_scope(self.config)
        if current is not None:
            self.scope = current
            for pane in self.panes.values():
                pane.scope = current
            self.flash(f"scope: {current} (the current Docker context; :all shows every host)")

    def set_filter(self, text: str) -> None:
        if text.strip() == self.filter_text:
            return  # e.g. esc on a prompt that changed nothing: no rebuild of thousands of rows
        self.filter_text = text.strip()
        match = filtering.matcher(self.filter_text)
        for pane in self.panes.values():
            pane.match = match
            pane.filter_text = self.filter_text
            pane.stale = True
        self._refresh_now()

    def _refresh_now(self) -> None:
        self.active_pane.refresh_data()
        self.update_summary()

    def show_pane(self, name: str) -> None:
        if name not in self.panes:
            return
        previous = self.active_pane
        self.query_one("#switcher", ContentSwitcher).current = f"pane-{name}"
        self._active = name
        pane = self.panes[name]
        if pane is not previous:  # stats only while the pane that shows them is on screen
            self.fleet.watch_stats([], owner=previous.pane_id)
        pane.refresh_data()
        pane.table.focus()
        self.update_summary()
        self.refresh_bindings()

    def action_show_pane(self, name: str) -> None:
        self.show_pane(name)

    def action_cursor(self, where: str) -> None:
        table = self.active_pane.table
        {"down": table.action_cursor_down, "up": table.action_cursor_up,
         "top": lambda: table.move_cursor(row=0), "bottom": lambda: table.move_cursor(row=table.row_count - 1),
         }[where]()

    def action_escape(self) -> None:
        pane = self.active_pane
        if self.filter_text:
            self.set_filter("")
        elif pane.back() or pane.clear_marks():
            pass
        elif self.scope:
            self.set_scope(None)

    # ------------------------------------------------------------------ prompt: ":" and "/"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.panes and action != "quit":
            return False  # the first frame, before the panes exist: only q works
        if action in ("command", "filter"):  # priority keys: the main screen only, never while typing
            stack = self.screen_stack
            return len(stack) == 1 and not typing(stack[0])
        return True

    def action_command(self) -> None:
        self._open_prompt("command", "")

    def action_filter(self) -> None:
        self._open_prompt("filter", self.filter_text)

    def _open_prompt(self, mode: str, value: str) -> None:
        prompt = self.query_one("#prompt", Prompt)
        prompt.mode = mode
        prompt.placeholder = (":command (tab completes) — hosts, containers, host NAME, all, sort COL, group, q"
                              if mode == "command" else "/filter — words, host:NAME state:running label:k=v image:…")
        prompt.suggester.enabled = mode == "command"  # type: ignore[union-attr]
        self._filter_rows = len(self.active_pane.rows)
        prompt.value = value
        self.query_one(KeyHints).display = False  # the prompt takes the key bar's line: the table keeps
        prompt.display = True  # its size, and its rendered rows stay cached
        focus_now(prompt)
        prompt.cursor_position = len(value)

    def close_prompt(self, cancelled: bool = False) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
        prompt = self.query_one("#prompt", Prompt)
        if prompt.mode == "filter" and cancelled:
            self.set_filter("")
        prompt.display = False
        self.query_one(KeyHints).display = True
        prompt.mode = ""
        focus_now(self.active_pane.table)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "prompt" and event.input.mode == "filter":  # type: ignore[attr-defined]
            # Filter as you type; on a big table wait for a pause in typing, so each key
            # echoes at once instead of waiting for a rebuild of thousands of rows.
            if self._filter_timer is not None:
                self._filter_timer.stop()
                self._filter_timer = None
            # (big: the rows the pane showed as the prompt opened count too — backspace brings them back)
            self._filter_rows = max(self._filter_rows, len(self.active_pane.rows))
            if self._filter_rows > 500:
                value = event.value
                self._filter_timer = self.set_timer(0.15, lambda: self.set_filter(value))
            else:
                self.set_filter(event.value)

    def submit_prompt(self, prompt: Prompt) -> None:
        """`enter` on the prompt: it closes within the key's own handling, so the next paint shows
        it gone and the key bar back; its command or filter then runs from the app's queue."""
        mode, value = prompt.mode, prompt.value
        self.close_prompt()
        self.call_later(self._run_prompt, mode, value)

    async def _run_prompt(self, mode: str, value: str) -> None:
        if mode == "command":
            await self.run_command(value)
        else:
            self.set_filter(value)

    async def run_command(self, text: str) -> None:
        words = text.strip().lstrip(":").split()
        if not words:
            return
        verb, args = words[0].lower(), words[1:]
        if verb in ("q", "quit", "q!"):
            self.exit(0)
        elif verb == "host" and args:
            self.set_scope(args[0])
        elif verb in ("host", "all"):
            self.set_scope(None)
        elif (spec := spec_for_verb(verb)) is not None:
            self.show_pane(spec.id)
        elif verb == "sort" and args:
            if not self.active_pane.set_sort(args[0]):
                columns = ", ".join(sort_names(self.active_pane))
                self.flash(f"no column {args[0]!r} here — columns: {columns}", error=True)
            self.update_summary()
        elif verb == "filter":
            self.set_filter(" ".join(args))
        elif verb == "help":
            self.action_help()
        elif (owner := command_owner(verb)) is not None:
            spec, command = owner
            if command.sets_filter and args:
                self.set_filter(" ".join(args))
            await self.panes[spec.id].run_command(verb, args)
            self.update_summary()
        else:
            known = ", ".join(command.usage for command in COMMANDS)
            self.flash(f"unknown command {verb!r} — try: {known}", error=True)

    # ------------------------------------------------------------------ notices and dialogs

    def flash(self, message: str, *, error: bool = False) -> None:
        flash(self, message, error=error)

    def _refresh_notifications(self) -> None:
        """Notices wait while a dialog asks something (Textual would stack them over its text); they
        show when it closes, if still due. A screen that reports progress (SHOWS_NOTICES) shows them."""
        try:
            screen = self.screen
        except Exception:  # noqa: BLE001 - no screen yet: Textual's own handles that
            screen = None
        if isinstance(screen, ModalScreen) and not getattr(screen, "SHOWS_NOTICES", False):
            return
        super()._refresh_notifications()

    def _handle_exception(self, error: Exception) -> None:
        """A worker that failed (a controller call, a daemon reply its code did not expect), or a
        handler whose controller call raised, becomes a notice naming the host and the operation;
        the app keeps running (see dockyard/ui/guard.py)."""
        if isinstance(error, WorkerFailed):
            self.flash(notice_for(error.error, active_worker.get(None)), error=True)
            return
        operation = controller_operation(error)
        if operation is not None:
            self.flash(notice(host_of(error, None), operation, error), error=True)
            return
        super()._handle_exception(error)

    def action_help(self) -> None:
        """Every key that works here, as remapped by the config's [keys] table."""
        from dockyard.ui.dialogs.info import TextDialog, keys_table

        pane = self.active_pane
        screen = self.screen
        on_panes = len(self.screen_stack) == 1  # else a logs or container view (its own keys)
        here = pane if on_panes else screen
        own = {b.id for b in type(here).BINDINGS if isinstance(b, Binding)}  # not Textual's tab, ctrl+c…
        here_keys: list[tuple[str, str]] = []
        app_keys: list[tuple[str, str]] = []
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if not binding.description or binding.action == "command_palette":
                continue
            entry = (self.get_key_display(binding), binding.description)
            if active.node is here and binding.id in own:
                here_keys.append(entry)
            elif active.node is self:
                app_keys.append(entry)
        # A key the focused widget binds too (the table's enter) hides the pane's from active_bindings,
        # yet the pane's runs (the table hands enter on): list those as well.
        listed = {description for _, description in here_keys}
        for namespace, bindings in screen._modal_binding_chain:  # noqa: SLF001 - Textual's own walk
            if namespace is not here:
                continue
            for _, binding in bindings:
                if (binding.id in own and binding.description and binding.description not in listed
                        and self._check_action_state(binding.action, here) is not False):  # noqa: SLF001
                    here_keys.insert(0, (self.get_key_display(binding), binding.description))
                    listed.add(binding.description)
        if not on_panes:
            title = getattr(screen, "HELP_TITLE", type(screen).__name__)
            here_keys += getattr(screen, "HELP_EXTRA", [])
            self.push_screen(TextDialog("Keys", keys_table([
                (title, here_keys), ("Everywhere", app_keys + [("ctrl+p", "Command palette")])])))
            return
        sections = [(PANE_SPECS[pane.pane_id].help_section, here_keys),
                    ("Everywhere", app_keys + [("ctrl+p", "Command palette"), ("esc", "Clear filter, marks, scope")]),
                    ("Table", [("j / k, ↑ / ↓", "Move"), ("g / G", "Top / bottom"), ("click header", "Sort")]),
                    ("Commands (:)", [(f":{command.usage}", command.help) for command in COMMANDS]),
                    ("Filter (/)", [("word", "substring of any visible column"),
                                    ("host:NAME state:S", "exact host / state"),
                                    ("label:k=v label:k", "label value / has label"),
                                    ("image:X name:X project:X", "substring of that field"),
                                    ("!term", "negate")])]
        self.push_screen(TextDialog("Keys", keys_table(sections)))

    def _check_host_keys(self) -> None:
        if self._hostkey_open:
            return
        for name in self.fleet.hosts_awaiting_key_decision():
            offer = self.fleet.host(name).host_key
            if offer is not None and (name, offer.fingerprint) not in self._asked_keys:
                self.ask_host_key(name)
                return

    def ask_host_key(self, name: str, force: bool = False) -> None:
        from dockyard.ui.dialogs.hostkey import HostKeyDialog

        status = self.fleet.host(name)
        offer = status.host_key
        if offer is None or (self._hostkey_open and not force):
            return
        self._asked_keys.add((name, offer.fingerprint))
        self._hostkey_open = True
        known_hosts = self.fleet.known_hosts_path(name)

        async def decided(choice: str | None) -> None:
            self._hostkey_open = False
            if choice in ("once", "save"):
                try:
                    await self.fleet.accept_host_key(name, save=choice == "save")
                    self.flash(f"{name}: host key accepted" + (" and saved to " + known_hosts
                                                              if choice == "save" else " for this session"))
                except FleetError as exc:
                    self.flash(str(exc), error=True)
            elif not offer.changed:
                self.flash(f"{name}: host key rejected; the host stays disconnected")
            self._check_host_keys()

        self.push_screen(HostKeyDialog(name, offer, known_hosts), decided)

    # ------------------------------------------------------------------ what panes ask for (messages up)

    def on_pane_header_changed(self, _: Pane.HeaderChanged) -> None:
        self.update_summary()

    def on_pane_filter_asked(self, message: Pane.FilterAsked) -> None:
        self.set_filter(message.text)

    def on_hosts_pane_scope_chosen(self, message: HostsPane.ScopeChosen) -> None:
        self.set_scope(message.host)
        self.show_pane("containers")

    def on_hosts_pane_host_key_asked(self, message: HostsPane.HostKeyAsked) -> None:
        self.ask_host_key(message.host, force=True)

    def on_containers_pane_open_details(self, message: ContainersPane.OpenDetails) -> None:
        from dockyard.ui.container_view import ContainerScreen

        self.push_screen(ContainerScreen(message.container))

    def on_containers_pane_open_logs(self, message: ContainersPane.OpenLogs) -> None:
        self.open_logs(message.containers)

    def on_services_pane_open_logs(self, message: ServicesPane.OpenLogs) -> None:
        """A swarm service's logs: its tasks' lines through a manager, each named SERVICE.SLOT@NODE."""
        from dockyard.ui.logs import LogsScreen

        swarm, service = message.swarm, message.service
        source = LogSource(swarm.name, service.id, f"service {service.name}")

        def opener(**options):
            return self.fleet.swarm.service_logs(swarm, service.id, **options)

        self.push_screen(LogsScreen([source], tail=self.config.ui.log_tail, buffer=self.config.ui.log_buffer,
                                    opener=opener))

    def on_problems_pane_open(self, message: ProblemsPane.Open) -> None:
        self.open_object(message.object_kind, message.host, message.object_id, message.name, message.logs)

    def on_events_pane_open(self, message: EventsPane.Open) -> None:
        self.open_object(message.object_kind, message.host, message.object_id, message.name, message.logs)

    def open_object(self, kind: str, host: str, object_id: str, name: str, logs: bool = False) -> None:
        """Go to what a problem or an event is about: a container's details (or logs), or the pane
        that lists the object with the cursor on it."""
        if kind == "container":
            found = next((c for c in self.fleet.cached("containers", [host])
                          if c.id == object_id or (object_id and c.id.startswith(object_id))), None)
            if found is None:
                self.flash(f"container {name or object_id[:12]} is no longer on {host}", error=True)
            elif logs:
                self.open_logs([found])
            else:
                from dockyard.ui.container_view import ContainerScreen

                self.push_screen(ContainerScreen(found))
            return
        if kind == "swarm" and "nodes" in self.panes:  # a swarm-wide problem (engines that differ):
            self.show_pane("nodes")  # its nodes, the oldest engine's first (the one to upgrade)
            nodes = self.panes["nodes"]
            theirs = [(natural_key(row.data.engine), i) for i, row in enumerate(nodes.rows) if row.data.swarm == name]
            if theirs:
                nodes.table.move_cursor(row=min(theirs)[1])
            else:
                self.flash(f"swarm {name}: no node of it is listed", error=True)
            return
        spec = spec_listing(kind)
        if spec is None:
            self.flash(f"{kind} {name}: nothing to show for it", error=True)
            return
        pane_id = spec.id
        pane = self.panes[pane_id]

        def names(row) -> set[str]:
            data = row.data[0] if isinstance(row.data, tuple) and row.data else row.data
            values = {getattr(data, attr, None) for attr in ("id", "name", "hostname")}
            if pane_id == "hosts":
                values = {getattr(data, "name", None)}
            return {v for v in values if isinstance(v, str) and v}

        wanted = {v for v in (object_id, name, host if pane_id == "hosts" else "") if v}

        def index_in(rows) -> int | None:
            return next((i for i, row in enumerate(rows) if names(row) & wanted
                         and (pane_id in ("hosts", "services", "nodes") or row.sort_values.get("host") in (host, None))),
                        None)

        # An object that is gone (a removed volume's event) is said where the user is, as a gone
        # container is: the pane is not left for one that cannot show it.
        if index_in(pane.build_rows()) is None:
            where = "" if pane_id == "hosts" else f" on {host}"
            self.flash(f"{kind} {name or object_id[:12]}{where} is not listed (any more)", error=True)
            return
        self.show_pane(pane_id)
        index = index_in(pane.rows)
        if index is not None:
            pane.table.move_cursor(row=index)

    async def on_containers_pane_open_shell(self, message: ContainersPane.OpenShell) -> None:
        await self.open_shell(message.container, message.cmd, attach=message.attach)

    # ------------------------------------------------------------------ logs and exec shell

    def open_logs(self, containers: list[Container]) -> None:
        from dockyard.ui.logs import LogsScreen

        sources = [LogSource(c.host, c.id, c.name) for c in containers]
        self.push_screen(LogsScreen(sources, tail=self.config.ui.log_tail, buffer=self.config.ui.log_buffer))


    def action_suspend_process(self) -> None:
        """ctrl+z: stop as a shell job, the terminal given back as it was (ui/suspend.py)."""
        from dockyard.ui.suspend import why_no_job_control

        if self._driver is None or not self._driver.can_suspend:
            self.flash("this terminal cannot suspend Dockyard", error=True)
            return
        why = why_no_job_control()
        if why is not None:
            self.flash(f"ctrl+z: no shell to return to: {why}", error=True)
            return
        super().action_suspend_process()

    async def open_shell(self, container: Container, cmd: list[str] | None = None, *, attach: bool = False) -> None:
        """Suspend the TUI, bridge the terminal to a shell (or the main process), come back where we were."""
        if self._driver is None or not self._driver.can_suspend:
            self.flash("an interactive terminal needs a real terminal; this one cannot be suspended", error=True)
            return
        cmd = cmd or self.shell_for(container)
        size = self.size
        try:
            if attach:
                session = await self.fleet.containers.attach(container.host, container.id)
            else:
                session = await self.fleet.containers.exec(container.host, container.id, cmd, rows=size.height,
                                                     cols=size.width)
        except FleetError as exc:
            self.flash(f"{'attach to' if attach else 'shell in'} {container.name} on {container.host}: {exc}",
                       error=True)
            return
        what = "attached to the main process (detach: ctrl-p ctrl-q)" if attach else \
            f"{' '.join(cmd)} (exit the shell to return)"
        from dockyard.ui.shell import run_interactive

        with self.suspend():
            os.write(1, f"[dockyard] {safe(container.name)} on {safe(container.host)}: {what}\r\n".encode())
            await run_interactive(session)
        code = await session.exit_code()
        explained = session.explain_exit(code)
        if explained:
            self.flash(explained, error=True)
        elif attach:
            self.flash(f"detached from {container.name} on {container.host}")
        else:
            self.flash(f"shell in {container.name} on {container.host} ended (exit {code})")

    def shell_for(self, container: Container) -> list[str]:
        """The shell to run: a per-host, then per-image override from the config, else sh."""
        shells = self.config.ui.shells
        for key in (f"host:{container.host}", f"image:{container.image}", f"image:{container.image.split(':')[0]}"):
            if key in shells:
                return shells[key].split()
        return ["sh"]

def run_app(config: Config, readonly: bool | None = None, pane: str = "containers",
            prefetch: Prefetch | None = None) -> int:
    guard = HangupGuard()  # watching from before the first frame: a hang-up may come at any time
    guard.install()
    app = DockyardApp(config, readonly=readonly, pane=pane, prefetch=prefetch)
    app.hangup_guard = guard
    code = app.run() or 0
    # The terminal is restored and the fleet closed: tearing down the interpreter's objects (what
    # gc.freeze kept, hundreds of hosts' sessions) took ~0.9 s at 100 hosts and shows nothing.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
