"""Images pane: every image of every host, a drift view by tag, pull/push/transfer/prune.

Drift view (`v`): one row per repository:tag with the hosts that have it; a tag that
points at different image IDs on different hosts is marked DRIFT.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual import work

from dockyard.fleet import FleetError, Image
from dockyard.imageref import split_tag
from dockyard.textfmt import ago, human_size, natural_key, safe, short_id
from dockyard.ui.dialogs.ask import AskDialog, Field, Flag
from dockyard.ui.dialogs.confirm import ConfirmDialog, Option
from dockyard.ui.dialogs.info import InspectDialog, TextDialog
from dockyard.ui.dialogs.progress import ProgressScreen, Reporter
from dockyard.ui import freshness as freshness_ui
from dockyard.ui.panes.base import Column, Pane, Row, cell, host_order, key_table, mark_cell

if TYPE_CHECKING:  # the controller and the registry client load after the first frame
    from dockyard.fleet import Fleet
    from dockyard.fleet.freshness import Freshness
    from dockyard.registry import Registries


def image_rows(image: Image, users: int, marked: bool, show_dangling: bool,
               update: Callable[[str], Freshness | None] | None = None) -> list[Row]:
    """One row per tag of an image (an untagged one shows as <none>:<none> when dangling ones are shown);
    `update(tag)`: that tag's freshness on this host (the `↑` column, the `update:` filter term)."""
    rows = []
    for ref in list(image.tags) or (["<none>:<none>"] if show_dangling else []):
        texts = [image.host, ref, short_id(image.id), human_size(image.size), ago(image.created), str(users)]
        fresh = update(ref) if update is not None and not ref.startswith("<none>") else None
        cells = (mark_cell(marked),) + tuple(cell(t, "dim" if ref.startswith("<none>") else "") for t in texts)
        cells = cells[:3] + (freshness_ui.mark(fresh),) + cells[3:]  # after REPOSITORY:TAG
        rows.append(Row(f"{image.host}\x00{image.id}\x00{ref}", cells, {
            "host": image.host, "ref": ref, "id": image.id, "size": image.size, "created": -image.created,
            "used": users, "update": freshness_ui.SORT_RANK.get(fresh.state) if fresh is not None else None},
            (image, ref), texts, {"host": image.host, "image": ref, "labels": image.labels, "name": ref,
                                  "update": fresh.state if fresh is not None else None}))
    return rows


def drift_rows(images: Iterable[Image]) -> list[Row]:
    """One row per repository:tag across hosts; DRIFT when hosts hold different image IDs for it."""
    by_ref: dict[str, dict[str, str]] = defaultdict(dict)
    hosts_seen: set[str] = set()
    for image in images:
        hosts_seen.add(image.host)
        for ref in image.tags:
            by_ref[ref][image.host] = image.id
    rows = []
    for ref in sorted(by_ref, key=natural_key):
        hosts = by_ref[ref]
        ids = sorted(set(hosts.values()))
        drifted = len(ids) > 1
        missing = sorted(hosts_seen - set(hosts))
        ids_text = ", ".join(f"{short_id(i)} ({', '.join(h for h, v in sorted(hosts.items()) if v == i)})"
                             for i in ids) if drifted else short_id(ids[0])
        texts = [ref, "DRIFT" if drifted else "same", ", ".join(sorted(hosts)), ids_text, ", ".join(missing)]
        style = "bold red" if drifted else ""
        cells = (cell(" "),) + tuple(cell(t, style if i in (0, 1, 3) else "") for i, t in enumerate(texts))
        rows.append(Row(f"drift\x00{ref}", cells, {"ref": ref, "state": not drifted, "hosts": len(hosts),
                                                   "ids": len(ids), "missing": len(missing)}, (None, ref),
                        texts, {"image": ref, "name": ref}))
    return rows


def ask_pull(pane: Pane, reference: str = "") -> None:
    """The pull dialog (an image onto chosen hosts), then its progress host by host; the Registries pane uses it too."""
    ref = "" if reference.startswith("<none>") else reference

    async def run(image: str, hosts: list[str], report: Reporter) -> str:
        ok = failed = 0
        layers: dict[tuple[str, str], tuple[int, int]] = {}
        async for ev in pane.fleet.images.pull(image, hosts, auth=await pane.registry_auth(image)):
            if ev.kind == "layer" and ev.layer:
                report(ev.host, ev.status, ev.current, ev.total, layer=short_id(ev.layer))
                if ev.total:
                    layers[(ev.host, ev.layer)] = (ev.current or 0, ev.total)
                done = [v for (h, _), v in layers.items() if h == ev.host]
                report(ev.host, "pulling", sum(c for c, _ in done), sum(t for _, t in done) or None)
            elif ev.kind == "status":
                report(ev.host, ev.status)
            elif ev.kind == "result":
                if ev.ok:
                    ok += 1
                    report(ev.host, f"done: {short_id(ev.image_id)} in {ev.elapsed:.1f}s", final=True)
                else:
                    failed += 1
                    report(ev.host, f"failed: {ev.error}", final=False)
        return f"{image}: pulled on {ok} host(s)" + (f", failed on {failed}" if failed else "")

    def go(values: dict) -> None:
        image, hosts = values["image"], values["hosts"]
        pane.app.push_screen(ProgressScreen(f"Pull {image} onto {', '.join(hosts)}",
                                            lambda report: run(image, hosts, report)))

    pane.ask(AskDialog("Pull an image onto hosts", [Field("image", "Image", ref, "repo[:tag] or repo@sha256:…")],
                       hosts=pane.online_hosts(), selected=pane.default_hosts(), ok="Pull"), go)


class ImagesPane(Pane):
    pane_id = "images"
    noun = "images"
    kinds = frozenset({"images", "containers", "host", "freshness"})
    columns = (
        Column("mark", " ", 1), Column("host", "HOST"), Column("ref", "REPOSITORY:TAG"), Column("update", "↑", 1),
        Column("id", "IMAGE ID"),
        Column("size", "SIZE"), Column("created", "CREATED"), Column("used", "USED BY"),
    )
    drift_columns = (
        Column("mark", " ", 1), Column("ref", "REPOSITORY:TAG"), Column("state", "DRIFT"),
        Column("hosts", "HOSTS"), Column("ids", "IMAGE IDS"), Column("missing", "MISSING ON"),
    )
    BINDINGS = key_table("image", """
        space   mark             Mark
        v       toggle_drift     Drift view  drift
        d       toggle_dangling  Dangling    dangling
        p       pull             Pull
        P       push             Push
        t       tag              Tag
        T       transfer         Transfer
        h       history          History
        enter   inspect          Inspect
        ctrl+d  remove           Remove
        x       prune            Prune
        o       sort             Sort
    """)
    MUTATING = frozenset({"pull", "push", "tag", "transfer", "remove", "prune"})

    def mark_key(self, row: Row) -> tuple[str, str] | None:
        image = row.data[0] if row.data else None
        return (image.host, image.id) if image is not None else None

    def __init__(self, fleet: Fleet, registries: Registries) -> None:
        super().__init__(fleet, registries)
        self.drift_view = False
        self.show_dangling = False

    @property
    def active_columns(self):  # type: ignore[override]
        return self.drift_columns if self.drift_view else self.columns

    # ------------------------------------------------------------------ rows

    def images(self) -> list[Image]:
        return self.fleet.cached("images", self.scope_hosts())

    def build_rows(self) -> list[Row]:
        if self.drift_view:
            rows = drift_rows(self.images())
        else:
            used = Counter((c.host, c.image_id) for c in self.fleet.cached("containers", self.scope_hosts()))
            order = host_order(self.fleet)
            images = sorted(self.images(), key=lambda i: order.get(i.host, 0))
            self.keep_marks((i.host, i.id) for i in images)
            checked = self.fleet.freshness.last_check is not None
            rows = [row for i in images for row in image_rows(
                i, used[(i.host, i.id)], (i.host, i.id) in self.marked, self.show_dangling,
                (lambda ref, i=i: self.fleet.freshness.image_state(i.host, i.id, ref)) if checked else None)]
            rows.sort(key=lambda r: (order.get(r.sort_values["host"], 0), natural_key(r.sort_values["ref"])))
        return [row for row in rows if self.match(row.texts, row.fields)]

    def header_parts(self) -> list:
        return [("  ", ""), ("drift view" if self.drift_view else "per host", "dim")]

    def cursor_ref(self) -> str:
        row = self.cursor_row_data()
        return row.data[1] if row is not None and row.data else ""

    # ------------------------------------------------------------------ views

    def action_toggle_drift(self) -> None:
        self.drift_view = not self.drift_view
        self.reset_columns()
        self.sort_key = ""
        self.refresh_data()
        self.flash("drift view: one row per tag across hosts" if self.drift_view else "images per host")
        self.header_changed()

    def action_toggle_dangling(self) -> None:
        self.show_dangling = not self.show_dangling
        self.refresh_data()
        self.flash("showing dangling images" if self.show_dangling else "hiding dangling images")

    def row_chosen(self) -> None:
        if self.drift_view:
            ref = self.cursor_ref()
            self.drift_view = False
            self.reset_columns()
            self.post_message(self.FilterAsked(f"image:{ref}"))
        else:
            self.action_inspect()

    # ------------------------------------------------------------------ pull / push / transfer

    def action_pull(self) -> None:
        ask_pull(self, self.cursor_ref())

    def action_push(self) -> None:
        chosen = self.selected()
        if not chosen:
            return
        image, ref = chosen[0]
        if ref.startswith("<none>"):
            self.flash("tag the image first (t): a push needs repository:tag", error=True)
            return

        def go(values: dict) -> None:
            target = values["reference"]
            if target != ref:
                self._tag_then_push(image.host, image.id, target)
            else:
                self._push(image.host, target)

        self.ask(AskDialog(f"Push from {image.host}", [Field("reference", "Push as", ref,
                                                            "registry/repo:tag (tagged first if different)")],
                           ok="Push", note="Credentials: the registry's entry in the config or the Docker "
                                           "credential store."), go)

    @work(group="actions")
    async def _tag_then_push(self, host: str, image_id: str, target: str) -> None:
        repo, tag = split_tag(target)
        try:
            await self.fleet.images.tag(host, image_id, repo, tag)
        except FleetError as exc:
            self.flash(f"tag {target} on {host}: {exc}", error=True)
            return
        self._push(host, f"{repo}:{tag}")

    def _push(self, host: str, reference: str) -> None:
        async def run(report: Reporter) -> str:
            result = "no answer"
            async for ev in self.fleet.images.push(host, reference, auth=await self.registry_auth(reference)):
                if ev.kind == "layer" and ev.layer:
                    report(host, ev.status, ev.current, ev.total, layer=short_id(ev.layer))
                elif ev.kind == "status":
                    report(host, ev.status)
                elif ev.kind == "result":
                    report(host, f"pushed {ev.digest or ''}" if ev.ok else f"failed: {ev.error}", final=bool(ev.ok))
                    result = f"{reference}: pushed from {host}" if ev.ok else f"push failed: {ev.error}"
            return result

        self.app.push_screen(ProgressScreen(f"Push {reference} from {host}", run))

    def action_transfer(self) -> None:
        chosen = self.selected()
        if not chosen:
            return
        sources = {image.host for image, _ in chosen}
        if len(sources) > 1:
            self.flash("transfer: mark images of one source host only", error=True)
            return
        source = sources.pop()
        refs = [ref if not ref.startswith("<none>") else image.id for image, ref in chosen]
        targets = [h for h in self.online_hosts() if h != source]
        self.ask(AskDialog(f"Copy {', '.join(refs)} from {source} (no registry: save → load)", [],
                           hosts=targets, selected=[], ok="Transfer"),
                 lambda values: self._transfer(refs, source, values["hosts"]))

    def _transfer(self, refs: list[str], source: str, targets: list[str]) -> None:
        async def run(report: Reporter) -> str:
            ok = 0
            async for ev in self.fleet.images.transfer(refs, source, targets):
                if ev.kind == "progress":
                    for target in targets:
                        sent = ev.sent.get(target, 0)
                        report(target, f"{human_size(ev.rate)}/s", sent, ev.total)
                elif ev.kind == "result" and ev.target:
                    if ev.ok:
                        ok += 1
                        ids = ", ".join(f"{r} = {short_id(i)}" for r, i in ev.image_ids.items())
                        report(ev.target, f"verified {ids}", final=True)
                    else:
                        report(ev.target, f"failed: {ev.error}", final=False)
            return f"copied to {ok} of {len(targets)} host(s)"

        self.app.push_screen(ProgressScreen(f"Transfer {', '.join(refs)}: {source} → {', '.join(targets)}", run))

    # ------------------------------------------------------------------ tag / remove / prune

    def action_tag(self) -> None:
        chosen = self.selected()
        if not chosen:
            return
        image, ref = chosen[0]
        self.ask(AskDialog(f"Tag {short_id(image.id)} on {image.host}",
                           [Field("reference", "New tag", "" if ref.startswith("<none>") else ref, "repo:tag")],
                           ok="Tag"),
                 lambda values: self._tag(image.host, image.id, values["reference"]))

    @work(group="actions")
    async def _tag(self, host: str, image_id: str, reference: str) -> None:
        repo, tag = split_tag(reference)
        try:
            await self.fleet.images.tag(host, image_id, repo, tag)
            self.flash(f"tagged {short_id(image_id)} as {repo}:{tag} on {host}")
        except FleetError as exc:
            self.flash(f"tag on {host}: {exc}", error=True)

    def action_remove(self) -> None:
        chosen = self.selected()
        if not chosen:
            return
        hosts = Counter(image.host for image, _ in chosen)
        title = f"Remove {len(chosen)} image(s): " + ", ".join(f"{n} on {h}" for h, n in sorted(hosts.items())) + "?"
        self.ask(ConfirmDialog(title, [(image.host, f"{ref}  {short_id(image.id)}  {human_size(image.size)}")
                                       for image, ref in chosen], "Remove",
                               [Option("force", "Force (also untag every tag, remove even if used)")]),
                 lambda result: self._remove(chosen, result.get("force", False)))

    @work(group="actions")
    async def _remove(self, chosen: list[tuple[Image, str]], force: bool) -> None:
        for image, ref in chosen:
            target = image.id if force or ref.startswith("<none>") else ref
            try:
                removal = await self.fleet.images.remove(image.host, target, force=force)
                self.flash(f"removed {ref} on {image.host} ({len(removal.deleted)} layer(s) deleted, "
                           f"{len(removal.untagged)} untagged)")
            except FleetError as exc:
                self.flash(f"remove {ref} on {image.host}: {exc}", error=True)

    def action_prune(self) -> None:
        self.ask(AskDialog("Prune images — a dry run first shows what would go", [],
                           flags=[Flag("unused", "All unused images (not only dangling)")],
                           hosts=self.online_hosts(), selected=self.default_hosts(), ok="Dry run"),
                 lambda values: self._prune_dry_run(values["hosts"], not values.get("unused", False)))

    @work(group="actions")
    async def _prune_dry_run(self, hosts: list[str], dangling_only: bool) -> None:
        results = await self.fleet.images.prune(hosts, dangling_only=dangling_only, dry_run=True)
        lines, total = [], 0
        for r in results:
            if not r.ok:
                lines.append((r.host, f"error: {r.error}"))
                continue
            total += r.value.space_reclaimed
            for img in r.value.images:
                lines.append((r.host, f"{', '.join(img.tags) or '<none>'}  {short_id(img.id)}  {human_size(img.size)}"))
        if not lines:
            self.flash("nothing to prune")
            return
        kind = "dangling" if dangling_only else "unused"
        self.ask(ConfirmDialog(f"Prune {kind} images on {', '.join(hosts)}: {len(lines)} image(s), "
                               f"about {human_size(total)} reclaimed?", lines, "Prune"),
                 lambda _: self._prune(hosts, dangling_only))

    @work(group="actions")
    async def _prune(self, hosts: list[str], dangling_only: bool) -> None:
        for r in await self.fleet.images.prune(hosts, dangling_only=dangling_only):
            if r.ok:
                self.flash(f"pruned {len(r.value.deleted)} image layer(s) on {r.host}, "
                           f"{human_size(r.value.space_reclaimed)} reclaimed")
            else:
                self.flash(f"prune on {r.host}: {r.error}", error=True)

    # ------------------------------------------------------------------ history / inspect

    def action_history(self) -> None:
        chosen = self.selected()
        if chosen:
            self._history(*chosen[0])

    @work(group="details")
    async def _history(self, image: Image, ref: str) -> None:
        entries = await self.fetch(self.fleet.images.history(image.host, image.id), "history")
        if entries is None:
            return
        table = Table(box=None, padding=(0, 1))
        for col in ("IMAGE", "CREATED", "SIZE", "CREATED BY"):
            table.add_column(col, no_wrap=col != "CREATED BY")
        for e in entries:
            table.add_row(safe(short_id(e.id)), ago(e.created),
                          human_size(e.size), Text(safe(e.created_by)))
        self.app.push_screen(TextDialog(f"History of {ref} on {image.host}", table))

    def action_inspect(self) -> None:
        chosen = self.selected()
        if chosen:
            self._inspect(*chosen[0])

    @work(group="details")
    async def _inspect(self, image: Image, ref: str) -> None:
        data = await self.fetch(self.fleet.images.inspect(image.host, image.id), "inspect")
        if data is None:
            return
        self.app.push_screen(InspectDialog(f"{ref} on {image.host}", data))
