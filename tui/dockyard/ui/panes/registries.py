"""Registries pane: registries → repositories → tags → manifest, with pull onto hosts and delete.

Lists arrive page by page (the first page shows at once, the UI stays responsive while
the rest loads). Registries without a catalog (Docker Hub, GHCR, …) ask for a repository
name instead and remember the recent ones. `esc` goes back up a level.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.widgets import Static

from dockyard.registry import CatalogUnsupported, RegistryError
from dockyard.textfmt import ago, human_size, natural_key, safe
from dockyard.ui.dialogs.ask import AskDialog, Field
from dockyard.ui.dialogs.confirm import ConfirmDialog
from dockyard.ui.panes.base import Column, Pane, Row, cell, key_table
from dockyard.ui.panes.images import ask_pull

if TYPE_CHECKING:  # the controller and the registry client load after the first frame
    from dockyard.fleet import Fleet
    from dockyard.registry import Registries, RegistryClient

LEVEL_COLUMNS = {
    "registries": (Column("name", "REGISTRY"), Column("url", "URL"), Column("source", "SOURCE"),
                   Column("login", "LOGIN", grows=True), Column("latency", "LATENCY", grows=True)),
    "repos": (Column("name", "REPOSITORY"),),
    "tags": (Column("name", "TAG"), Column("digest", "DIGEST"), Column("size", "SIZE"), Column("created", "CREATED")),
    "manifest": (Column("kind", "KIND"), Column("name", "PLATFORM / LAYER"), Column("digest", "DIGEST"),
                 Column("size", "SIZE"), Column("media", "MEDIA TYPE")),
}


@dataclass
class Level:
    """One step down the browser: registries › repositories › tags › manifest."""

    kind: str  # registries | repos | tags | manifest
    registry: str = ""
    repo: str = ""
    tag: str = ""
    items: list = field(default_factory=list)
    loading: bool = False
    note: str = ""
    cursor: int = 0


ADD_ONE = ('add a registry: a [[registries]] table with url = "https://HOST[:PORT]" in the config '
           '(url = "http://HOST:PORT" for plain HTTP)')
ADD_HINT = ('"in use": registries the fleet\'s images name or its daemons reach without TLS — ' + ADD_ONE)


def tag_cells(facts: tuple[str, int | None, float | None, int] | str | None) -> list[str]:
    """DIGEST, SIZE, CREATED of a tag: `…` until its manifest is read (only rows on screen are)."""
    if facts is None:
        return ["…", "…", "…"]
    if isinstance(facts, str):
        return ["error: " + facts, "-", "-"]
    digest, size, created, platforms = facts
    shown = digest[:19] + "…" if len(digest) > 19 else digest
    return [shown, f"{platforms} platforms" if platforms else human_size(size), ago(created) if created else "-"]


def level_rows(level: Level, entries: list, status: dict[str, tuple[str, str]], recent: list[str],
               facts: dict | None = None) -> list[Row]:
    """The rows of one level; `recent` stands in for the repositories of a registry without a catalog;
    `facts` holds the tags' digest, size and created as far as they are read."""
    rows: list[Row] = []
    if level.kind == "registries":
        for e in entries:
            login, latency = status.get(e.name, ("checking…", "-"))
            texts = [e.name, e.config.url, e.source, login, latency]
            style = "red" if login.startswith("error") else ""
            rows.append(Row(e.name, tuple(cell(t, style if i == 3 else "") for i, t in enumerate(texts)),
                            {"name": e.name}, e, texts, {"name": e.name}))
    elif level.kind == "repos":
        for name in list(level.items) or list(recent):
            rows.append(Row(f"{level.kind}:{name}", (cell(name),), {"name": name}, name, [name],
                            {"name": name, "image": name}))
    elif level.kind == "tags":
        for name in level.items:
            texts = [name, *tag_cells((facts or {}).get((level.registry, level.repo, name)))]
            rows.append(Row(f"tags:{name}", tuple(cell(t, "dim" if t == "…" else "") for t in texts),
                            {"name": name}, name, texts, {"name": name, "image": name}))
    elif level.items:
        manifest = level.items[0]
        for p in manifest.platforms:
            texts = ["platform", str(p), p.digest, human_size(p.size), p.media_type]
            rows.append(Row(f"p:{p.digest}", tuple(cell(t) for t in texts), {"name": str(p)}, p, texts,
                            {"name": str(p)}))
        if manifest.config_digest:  # config and layers: always shown, whatever the filter
            created = ago(manifest.created_ts) if manifest.created_ts else "-"
            rows.append(Row("config", (cell("config"), cell(f"created {created}"), cell(manifest.config_digest),
                                       cell(human_size(manifest.config_size)), cell(manifest.config_media_type or "")),
                            {"name": "config"}, None))
        for i, layer in enumerate(manifest.layers):
            rows.append(Row(f"l:{i}:{layer.digest}", (cell("layer"), cell(f"#{i + 1}"), cell(layer.digest),
                                                      cell(human_size(layer.size)), cell(layer.media_type)),
                            {"name": layer.digest}, layer))
    return rows


class RegistriesPane(Pane):
    pane_id = "registries"
    kinds = frozenset({"images", "containers", "host"})  # the registries the fleet uses come from these
    columns = LEVEL_COLUMNS["registries"]
    BINDINGS = key_table("registry", """
        enter   open        Open
        p       pull        Pull onto hosts
        ctrl+d  delete      Delete manifest
        c       copy        Copy reference
        i       repository  Repository by name
        R       reload      Reload
    """)
    recent_limit = 10
    MUTATING = frozenset({"delete", "pull"})

    def __init__(self, fleet: Fleet, registries: Registries) -> None:
        super().__init__(fleet, registries)
        self.stack: list[Level] = [Level("registries")]
        self.status: dict[str, tuple[str, str]] = {}  # registry -> (login status, latency)
        self.recent: dict[str, list[str]] = {}
        self._loaded = False
        self._breadcrumb: Text | None = None
        # (registry, repository, tag) -> (digest, size, created, platforms) or an error; read for rows on screen
        self.tag_facts: dict[tuple[str, str, str], tuple[str, int | None, float | None, int] | str] = {}
        self._facts_asked: set[tuple[str, str, str]] = set()
        self._facts_timer = None

    @property
    def level(self) -> Level:
        return self.stack[-1]

    @property
    def active_columns(self):  # type: ignore[override]
        return LEVEL_COLUMNS[self.level.kind]

    @property
    def entries(self):
        """The registries, their clients and credentials live in the app's `Registries` (shared with pulls)."""
        return self.registries.entries

    def on_show(self) -> None:
        if not self._loaded:
            self._loaded = True
            self.recent = _load_recent()
            for w in self.registries.warnings:
                self.flash(w, error=True)
            self._ping_all()
        self.refresh_data()

    def client(self, name: str) -> RegistryClient:
        return self.registries.client(name)

    # ------------------------------------------------------------------ rows

    def build_rows(self) -> list[Row]:
        if self.level.kind == "registries" and self._loaded:
            self._adopt_in_use()
        rows = level_rows(self.level, self.entries, self.status, self.recent.get(self.level.registry, []),
                          self.tag_facts)
        return [row for row in rows if not row.texts or self.match(row.texts, row.fields)]

    def _adopt_in_use(self) -> None:
        """List the registries the fleet uses that are not listed yet, and ask each for its login status."""
        from dockyard.fleet.registry_use import registries_in_use

        added = self.registries.add_in_use([(u.registry, u.hosts, u.insecure) for u in registries_in_use(self.fleet)])
        if added:
            self._ping([e.name for e in added])

    def refresh_data(self, full: bool = True) -> None:
        wanted = [(c.key, c.label) for c in self.active_columns]
        if wanted != [(str(k.value), col.label.plain) for k, col in self.table.columns.items()]:
            self.reset_columns()
        super().refresh_data()
        self._update_title()
        if self.level.kind == "tags":
            self._want_tag_facts()

    DEFAULT_CSS = """
    RegistriesPane #registries-hint { dock: bottom; height: auto; max-height: 2; padding: 0 1; color: $text-muted; }
    """

    def compose(self):
        yield from super().compose()
        yield Static(ADD_ONE, id="registries-hint")

    def on_mount(self) -> None:
        self.watch(self.table, "scroll_y", lambda _: self._tag_facts_soon(), init=False)

    def _tag_facts_soon(self) -> None:
        """Scrolling: read the tags that came on screen once the scrolling pauses (nothing for rows passed by)."""
        if self.level.kind != "tags":
            return
        if self._facts_timer is not None:
            self._facts_timer.stop()
        self._facts_timer = self.set_timer(0.2, self._want_tag_facts)

    def _want_tag_facts(self) -> None:
        level = self.level
        if level.kind != "tags":
            return
        keys = [(level.registry, level.repo, row.data) for row in self.visible_rows()
                if isinstance(row.data, str)]
        wanted = [k for k in keys if k not in self.tag_facts and k not in self._facts_asked]
        if wanted:
            self._facts_asked.update(wanted)
            self._read_tag_facts(wanted)

    @work(group="registry-tag-facts")
    async def _read_tag_facts(self, keys: list[tuple[str, str, str]]) -> None:
        """Each tag's manifest (and config blob, for created), four at a time."""
        import asyncio

        limit = asyncio.Semaphore(4)

        async def one(key: tuple[str, str, str]) -> None:
            registry, repo, tag = key
            async with limit:
                try:
                    m = await self.client(registry).manifest(repo, tag)
                except RegistryError as exc:
                    self.tag_facts[key] = exc.message
                    return
                self.tag_facts[key] = (m.digest, m.total_size, m.created_ts, len(m.platforms) if m.is_index else 0)

        try:
            await asyncio.gather(*(one(k) for k in keys))
        finally:
            self._facts_asked.difference_update(keys)
        if self.level.kind == "tags":
            self.refresh_data()

    def _update_title(self) -> None:
        level = self.level
        crumbs = [("registries", "bold")]
        if level.registry:
            crumbs += [" › ", (safe(level.registry), "bold cyan")]
        if level.repo:
            crumbs += [" › ", (safe(level.repo), "bold")]
        if level.tag:
            crumbs += [":", (safe(level.tag), "bold yellow")]
        if level.kind == "manifest" and level.items:
            m = level.items[0]
            crumbs += [f"   {m.digest}  {human_size(m.total_size)}  {m.media_type}"]
            if m.created_ts:
                crumbs += [f"  created {ago(m.created_ts)}"]
        if level.loading:
            crumbs += [("   loading…", "yellow")]
        elif level.kind in ("repos", "tags"):
            crumbs += [(f"   {len(level.items)} {'repositories' if level.kind == 'repos' else 'tags'}", "dim")]
        if level.note:
            crumbs += [("   " + safe(level.note), "dim")]
        if self.is_mounted:
            hint = self.query_one("#registries-hint", Static)
            hint.display = level.kind == "registries"
            in_use = any(e.source.startswith("in use") for e in self.entries)
            hint.update(ADD_HINT if in_use else ADD_ONE)
        self._breadcrumb = Text.assemble(*crumbs, no_wrap=True, overflow="ellipsis")
        self.header_changed()

    def header_parts(self) -> list:
        return ["  ", self._breadcrumb] if self._breadcrumb is not None else []

    # ------------------------------------------------------------------ loading

    def _ping_all(self) -> None:
        self._ping([e.name for e in self.entries])

    @work(group="registry-ping")
    async def _ping(self, names: list[str]) -> None:
        import asyncio

        async def one(name: str) -> None:
            try:
                ping = await self.client(name).ping()
                self.status[name] = (ping.login_status, f"{ping.latency_ms:.0f} ms")
            except RegistryError as exc:
                self.status[name] = (f"error: {exc.message}", "-")
            if self.level.kind == "registries":
                self.refresh_data()

        await asyncio.gather(*(one(name) for name in names))

    @work(exclusive=True, group="registry-load")
    async def _load(self, level: Level) -> None:
        client = self.client(level.registry)
        level.loading = True
        self.refresh_data()
        shown = 0.0

        def page_arrived() -> None:
            # the first page at once, then at most three repaints a second while the rest streams in
            nonlocal shown
            now = time.monotonic()
            if not shown or now - shown >= 0.3:
                shown = now
                self.refresh_data()

        try:
            if level.kind == "repos":
                async for page in client.catalog_pages():
                    level.items.extend(page)
                    page_arrived()
            elif level.kind == "tags":
                async for page in client.tag_pages(level.repo):
                    level.items.extend(sorted(page, key=natural_key))
                    page_arrived()
            else:
                level.items = [await client.manifest(level.repo, level.tag)]
        except CatalogUnsupported:
            level.note = "this registry has no catalog: press i to open a repository by name"
            self.action_repository()
        except RegistryError as exc:
            level.note = f"error: {exc.message}"
            self.flash(f"{level.registry}: {exc.message}", error=True)
        finally:
            level.loading = False
            if self.stack and self.stack[-1] is level:
                self.refresh_data()

    def _push(self, level: Level) -> None:
        self.level.cursor = self.table.cursor_row
        self.stack.append(level)
        self.table.move_cursor(row=0)
        self.refresh_data()
        self._load(level)

    def back(self) -> bool:
        """Go up one level; False at the top (the app's esc then does its usual thing)."""
        if len(self.stack) == 1:
            return False
        self.workers.cancel_group(self, "registry-load")
        self.stack.pop()
        self.refresh_data()
        self.table.move_cursor(row=min(self.level.cursor, max(0, self.table.row_count - 1)))
        return True

    # ------------------------------------------------------------------ actions

    def row_chosen(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        row = self.cursor_row_data()
        if row is None:
            return
        level = self.level
        if level.kind == "registries":
            self._push(Level("repos", registry=row.key))
        elif level.kind == "repos":
            self._remember(level.registry, row.data)
            self._push(Level("tags", registry=level.registry, repo=row.data))
        elif level.kind == "tags":
            self._push(Level("manifest", registry=level.registry, repo=level.repo, tag=row.data))

    def action_repository(self) -> None:
        level = self.level
        if level.kind not in ("repos", "tags") or not level.registry:
            return
        def go(values: dict) -> None:
            name = values["repository"]
            self._remember(level.registry, name)
            while self.level.kind != "repos":
                self.stack.pop()
            self._push(Level("tags", registry=level.registry, repo=name))

        recent = ", ".join(self.recent.get(level.registry, [])[:5])
        self.ask(AskDialog(f"Open a repository on {level.registry}",
                           [Field("repository", "Repository", "", "namespace/name")],
                           note=f"recent: {recent}" if recent else "", ok="Open"), go)

    def _remember(self, registry: str, repo: str) -> None:
        recent = [r for r in self.recent.get(registry, []) if r != repo]
        self.recent[registry] = [repo, *recent][: self.recent_limit]
        _save_recent(self.recent)

    def action_reload(self) -> None:
        level = self.level
        if level.kind == "registries":
            self.status.clear()
            self._ping_all()
        else:
            level.items = []
            level.note = ""
            self._load(level)
        self.refresh_data()

    def _selected_reference(self) -> tuple[str, str, str] | None:
        """(registry, image reference, human label) for the cursor row at the tags or manifest level."""
        level = self.level
        row = self.cursor_row_data()
        if level.kind == "tags" and row is not None:
            client = self.client(level.registry)
            return level.registry, client.image_reference(level.repo, tag=row.data), f"{level.repo}:{row.data}"
        if level.kind == "manifest" and level.items:
            client = self.client(level.registry)
            if row is not None and row.key.startswith("p:"):
                return level.registry, client.image_reference(level.repo, digest=row.data.digest), \
                    f"{level.repo}:{level.tag} ({row.data})"
            return level.registry, client.image_reference(level.repo, tag=level.tag), f"{level.repo}:{level.tag}"
        return None

    def action_copy(self) -> None:
        chosen = self._selected_reference()
        if chosen is None:
            return
        self.app.copy_to_clipboard(chosen[1])
        self.flash(f"copied {chosen[1]}")

    def action_pull(self) -> None:
        chosen = self._selected_reference()
        if chosen is None:
            self.flash("open a repository and choose a tag (or a platform) to pull", error=True)
            return
        ask_pull(self, chosen[1])

    def action_delete(self) -> None:
        level = self.level
        if level.kind not in ("tags", "manifest"):
            return
        tag = self.cursor_row_data().data if level.kind == "tags" and self.cursor_row_data() else level.tag
        if not tag:
            return
        self._confirm_delete(level.registry, level.repo, tag)

    @work(group="registry-delete")
    async def _confirm_delete(self, registry: str, repo: str, tag: str) -> None:
        client = self.client(registry)
        try:
            digest = await client.resolve(repo, tag)
            siblings = await client.tags_for_digest(repo, digest) or [tag]
        except RegistryError as exc:
            self.flash(f"{registry}: {exc.message}", error=True)
            return
        lines = [(registry, f"{repo}:{t}") for t in sorted(siblings)]

        async def go(_: dict) -> None:
            try:
                await client.delete(repo, digest)
            except RegistryError as exc:
                self.flash(f"delete on {registry}: {exc.message}", error=True)
                return
            self.flash(f"deleted {repo}@{digest[:19]}… on {registry} ({len(siblings)} tag(s) gone)")
            if self.level.kind == "manifest":
                self.back()
            self.action_reload()

        self.ask(ConfirmDialog(
            f"Delete manifest {digest[:19]}… of {repo} on {registry}? Every tag on this digest goes too "
            f"({len(siblings)}):", lines, "Delete"), go)


def _recent_path() -> Path:
    """Recently opened repositories per registry (names only, no secrets), kept across runs."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(base) / "dockyard" / "recent-repositories.json"


def _load_recent() -> dict[str, list[str]]:
    try:
        data = json.loads(_recent_path().read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): [str(r) for r in v][:RegistriesPane.recent_limit] for k, v in data.items() if isinstance(v, list)}


def _save_recent(recent: dict[str, list[str]]) -> None:
    path = _recent_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(recent, indent=1))
    except OSError:
        pass  # remembering is a convenience; never an error
