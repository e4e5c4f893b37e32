"""What the Images, Volumes and Networks panes do: dialogs in front of the controller's operations.

A mixin of `DockyardApp`, kept apart so app.py stays the shell. Every operation goes
through `Fleet` (which enforces read-only); results and errors come back as flashes or
in a progress screen, host by host.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual import work

from dockyard.fleet import FleetError, HostState, Image
from dockyard.textfmt import ago, human_size, safe
from dockyard.ui.dialogs.ask import AskDialog, Field, Flag
from dockyard.ui.dialogs.confirm import ConfirmDialog, Option
from dockyard.ui.dialogs.info import TextDialog
from dockyard.ui.dialogs.progress import ProgressScreen, Reporter

if TYPE_CHECKING:
    from dockyard.ui.app import DockyardApp


class ObjectActions:
    """Mixin for DockyardApp."""

    # ------------------------------------------------------------------ helpers

    def _online_hosts(self: DockyardApp, writable: bool = True) -> list[str]:
        return [h.name for h in self.fleet.hosts()
                if h.state == HostState.ONLINE and not (writable and (h.readonly or self.readonly))]

    def _default_hosts(self: DockyardApp) -> list[str]:
        return [self.scope] if self.scope else self._online_hosts()

    # ------------------------------------------------------------------ images: pull / push / transfer

    def images_pull(self: DockyardApp, reference: str = "") -> None:
        ref = "" if reference.startswith("<none>") else reference

        def go(values: dict | None) -> None:
            if values:
                self._pull(values["image"], values["hosts"])

        self.push_screen(AskDialog("Pull an image onto hosts", [Field("image", "Image", ref, "repo[:tag] or repo@sha256:…")],
                                   hosts=self._online_hosts(), selected=self._default_hosts(), ok="Pull"), go)

    def _pull(self: DockyardApp, image: str, hosts: list[str]) -> None:
        async def run(report: Reporter) -> str:
            ok = failed = 0
            layers: dict[tuple[str, str], tuple[int, int]] = {}
            auth = await self.find_registry_auth(image)
            async for ev in self.fleet.images.pull(image, hosts, auth=auth):
                if ev.kind == "layer" and ev.layer:
                    report(ev.host, ev.status, ev.current, ev.total, layer=ev.layer[:12])
                    if ev.total:
                        layers[(ev.host, ev.layer)] = (ev.current or 0, ev.total)
                    done = [v for (h, _), v in layers.items() if h == ev.host]
                    report(ev.host, "pulling", sum(c for c, _ in done), sum(t for _, t in done) or None)
                elif ev.kind == "status":
                    report(ev.host, ev.status)
                elif ev.kind == "result":
                    if ev.ok:
                        ok += 1
                        report(ev.host, f"done: {(ev.image_id or '')[7:19]} in {ev.elapsed:.1f}s", final=True)
                    else:
                        failed += 1
                        report(ev.host, f"failed: {ev.error}", final=False)
            return f"{image}: pulled on {ok} host(s)" + (f", failed on {failed}" if failed else "")

        self.push_screen(ProgressScreen(f"Pull {image} onto {', '.join(hosts)}", run))

    def images_push(self: DockyardApp, chosen: list[tuple[Image, str]]) -> None:
        if not chosen:
            return
        image, ref = chosen[0]
        if ref.startswith("<none>"):
            self.flash("tag the image first (t): a push needs repository:tag", error=True)
            return

        def go(values: dict | None) -> None:
            if not values:
                return
            target = values["reference"]
            if target != ref:
                self._tag_then_push(image.host, image.id, ref, target)
            else:
                self._push(image.host, target)

        self.push_screen(AskDialog(f"Push from {image.host}", [Field("reference", "Push as", ref,
                                                                    "registry/repo:tag (tagged first if different)")],
                                   ok="Push", note="Credentials: the registry's entry in the config or the Docker "
                                                   "credential store."), go)

    @work(group="actions")
    async def _tag_then_push(self: DockyardApp, host: str, image_id: str, ref: str, target: str) -> None:
        repo, _, tag = target.rpartition(":") if ":" in target.split("/")[-1] else (target, "", "latest")
        try:
            await self.fleet.images.tag(host, image_id, repo, tag or "latest")
        except FleetError as exc:
            self.flash(f"tag {target} on {host}: {exc}", error=True)
            return
        self._push(host, f"{repo}:{tag or 'latest'}")

    def _push(self: DockyardApp, host: str, reference: str) -> None:
        async def run(report: Reporter) -> str:
            result = "no answer"
            async for ev in self.fleet.images.push(host, reference, auth=await self.find_registry_auth(reference)):
                if ev.kind == "layer" and ev.layer:
                    report(host, ev.status, ev.current, ev.total, layer=ev.layer[:12])
                elif ev.kind == "status":
                    report(host, ev.status)
                elif ev.kind == "result":
                    report(host, f"pushed {ev.digest or ''}" if ev.ok else f"failed: {ev.error}", final=bool(ev.ok))
                    result = f"{reference}: pushed from {host}" if ev.ok else f"push failed: {ev.error}"
            return result

        self.push_screen(ProgressScreen(f"Push {reference} from {host}", run))

    def images_transfer(self: DockyardApp, chosen: list[tuple[Image, str]]) -> None:
        if not chosen:
            return
        sources = {image.host for image, _ in chosen}
        if len(sources) > 1:
            self.flash("transfer: mark images of one source host only", error=True)
            return
        source = sources.pop()
        refs = [ref if not ref.startswith("<none>") else image.id for image, ref in chosen]
        targets = [h for h in self._online_hosts() if h != source]

        def go(values: dict | None) -> None:
            if values:
                self._transfer(refs, source, values["hosts"])

        self.push_screen(AskDialog(f"Copy {', '.join(refs)} from {source} (no registry: save → load)", [],
                                   hosts=targets, selected=[], ok="Transfer"), go)

    def _transfer(self: DockyardApp, refs: list[str], source: str, targets: list[str]) -> None:
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
                        ids = ", ".join(f"{r} = {i[7:19]}" for r, i in ev.image_ids.items())
                        report(ev.target, f"verified {ids}", final=True)
                    else:
                        report(ev.target, f"failed: {ev.error}", final=False)
            return f"copied to {ok} of {len(targets)} host(s)"

        self.push_screen(ProgressScreen(f"Transfer {', '.join(refs)}: {source} → {', '.join(targets)}", run))

    # ------------------------------------------------------------------ images: tag / remove / prune / history

    def images_tag(self: DockyardApp, chosen: list[tuple[Image, str]]) -> None:
        if not chosen:
            return
        image, ref = chosen[0]

        def go(values: dict | None) -> None:
            if values:
                self._tag(image.host, image.id, values["reference"])

        self.push_screen(AskDialog(f"Tag {short(image.id)} on {image.host}",
                                   [Field("reference", "New tag", "" if ref.startswith("<none>") else ref,
                                          "repo:tag")], ok="Tag"), go)

    @work(group="actions")
    async def _tag(self: DockyardApp, host: str, image_id: str, reference: str) -> None:
        repo, _, tag = reference.rpartition(":") if ":" in reference.split("/")[-1] else (reference, "", "latest")
        try:
            await self.fleet.images.tag(host, image_id, repo, tag or "latest")
            self.flash(f"tagged {short(image_id)} as {repo}:{tag or 'latest'} on {host}")
        except FleetError as exc:
            self.flash(f"tag on {host}: {exc}", error=True)

    def images_remove(self: DockyardApp, chosen: list[tuple[Image, str]]) -> None:
        if not chosen:
            return
        hosts = Counter(image.host for image, _ in chosen)
        title = f"Remove {len(chosen)} image(s): " + ", ".join(f"{n} on {h}" for h, n in sorted(hosts.items())) + "?"

        def go(result: dict | None) -> None:
            if result is not None:
                self._remove_images(chosen, result.get("force", False))

        self.push_screen(ConfirmDialog(title, [(image.host, f"{ref}  {short(image.id)}  {human_size(image.size)}")
                                               for image, ref in chosen], "Remove",
                                       [Option("force", "Force (also untag every tag, remove even if used)")]), go)

    @work(group="actions")
    async def _remove_images(self: DockyardApp, chosen: list[tuple[Image, str]], force: bool) -> None:
        for image, ref in chosen:
            target = image.id if force or ref.startswith("<none>") else ref
            try:
                removal = await self.fleet.images.remove(image.host, target, force=force)
                self.flash(f"removed {ref} on {image.host} ({len(removal.deleted)} layer(s) deleted, "
                           f"{len(removal.untagged)} untagged)")
            except FleetError as exc:
                self.flash(f"remove {ref} on {image.host}: {exc}", error=True)

    def images_prune(self: DockyardApp) -> None:
        def go(values: dict | None) -> None:
            if values:
                self._prune_dry_run(values["hosts"], not values.get("unused", False))

        self.push_screen(AskDialog("Prune images — a dry run first shows what would go", [],
                                   flags=[Flag("unused", "All unused images (not only dangling)")],
                                   hosts=self._online_hosts(), selected=self._default_hosts(), ok="Dry run"), go)

    @work(group="actions")
    async def _prune_dry_run(self: DockyardApp, hosts: list[str], dangling_only: bool) -> None:
        results = await self.fleet.images.prune(hosts, dangling_only=dangling_only, dry_run=True)
        lines, total = [], 0
        for r in results:
            if not r.ok:
                lines.append((r.host, f"error: {r.error}"))
                continue
            total += r.value.space_reclaimed
            for img in r.value.images:
                lines.append((r.host, f"{', '.join(img.tags) or '<none>'}  {short(img.id)}  {human_size(img.size)}"))
        if not lines:
            self.flash("nothing to prune")
            return
        kind = "dangling" if dangling_only else "unused"

        def go(result: dict | None) -> None:
            if result is not None:
                self._prune_images(hosts, dangling_only)

        self.push_screen(ConfirmDialog(f"Prune {kind} images on {', '.join(hosts)}: {len(lines)} image(s), "
                                       f"about {human_size(total)} reclaimed?", lines, "Prune"), go)

    @work(group="actions")
    async def _prune_images(self: DockyardApp, hosts: list[str], dangling_only: bool) -> None:
        for r in await self.fleet.images.prune(hosts, dangling_only=dangling_only):
            if r.ok:
                self.flash(f"pruned {len(r.value.deleted)} image layer(s) on {r.host}, "
                           f"{human_size(r.value.space_reclaimed)} reclaimed")
            else:
                self.flash(f"prune on {r.host}: {r.error}", error=True)

    @work(group="details")
    async def images_history(self: DockyardApp, image: Image, ref: str) -> None:
        try:
            entries = await self.fleet.images.history(image.host, image.id)
        except FleetError as exc:
            self.flash(f"history: {exc}", error=True)
            return
        table = Table(box=None, padding=(0, 1))
        for col in ("IMAGE", "CREATED", "SIZE", "CREATED BY"):
            table.add_column(col, no_wrap=col != "CREATED BY")
        for e in entries:
            table.add_row(safe(e.id[7:19] if e.id.startswith("sha256:") else e.id), ago(e.created),
                          human_size(e.size), Text(safe(e.created_by)))
        self.push_screen(TextDialog(f"History of {ref} on {image.host}", table))

    @work(group="details")
    async def images_inspect(self: DockyardApp, image: Image, ref: str) -> None:
        try:
            data = await self.fleet.images.inspect(image.host, image.id)
        except FleetError as exc:
            self.flash(f"inspect: {exc}", error=True)
            return
        from rich.syntax import Syntax

        self.push_screen(TextDialog(f"{ref} on {image.host}", Syntax(safe_json(data), "json", word_wrap=True)))

    # ------------------------------------------------------------------ volumes

    def volumes_create(self: DockyardApp) -> None:
        def go(values: dict | None) -> None:
            if values:
                self._volume_create(values["name"], values["hosts"])

        self.push_screen(AskDialog("Create a volume", [Field("name", "Name", "", "data")],
                                   hosts=self._online_hosts(), selected=self._default_hosts()[:1], ok="Create"), go)

    @work(group="actions")
    async def _volume_create(self: DockyardApp, name: str, hosts: list[str]) -> None:
        for host in hosts:
            try:
                await self.fleet.volumes.create(host, name)
                self.flash(f"created volume {name} on {host}")
            except FleetError as exc:
                self.flash(f"create volume on {host}: {exc}", error=True)

    def volumes_remove(self: DockyardApp, chosen: list) -> None:
        if not chosen:
            return
        in_use = [v for v in chosen if v.used_by]
        title = f"Remove {len(chosen)} volume(s)?" + (
            f" {len(in_use)} in use: refused unless forced." if in_use else "")

        def go(result: dict | None) -> None:
            if result is not None:
                self._volumes_remove(chosen, result.get("force", False))

        self.push_screen(ConfirmDialog(title, [(v.host, f"{v.name}" + (f"  (used by {', '.join(v.used_by)})"
                                                                      if v.used_by else "")) for v in chosen],
                                       "Remove", [Option("force", "Force (even if a container uses it)")]), go)

    @work(group="actions")
    async def _volumes_remove(self: DockyardApp, chosen: list, force: bool) -> None:
        for v in chosen:
            try:
                await self.fleet.volumes.remove(v.host, v.name, force=force)
                self.flash(f"removed volume {v.name} on {v.host}")
            except FleetError as exc:
                self.flash(f"remove volume {v.name} on {v.host}: {exc}", error=True)

    @work(group="actions")
    async def volumes_prune(self: DockyardApp, hosts: list[str]) -> None:
        lines, total = [], 0
        for host in hosts:
            try:
                plan = await self.fleet.volumes.prune(host, dry_run=True)
            except FleetError as exc:
                lines.append((host, f"error: {exc}"))
                continue
            total += plan.space_reclaimed
            lines += [(host, name) for name in plan.volumes]
        if not lines:
            self.flash("no unused volumes to prune")
            return

        def go(result: dict | None) -> None:
            if result is not None:
                self._volumes_prune(hosts)

        self.push_screen(ConfirmDialog(f"Prune {len(lines)} unused volume(s), about {human_size(total)}? "
                                       "Their data is lost.", lines, "Prune"), go)

    @work(group="actions")
    async def _volumes_prune(self: DockyardApp, hosts: list[str]) -> None:
        for host in hosts:
            try:
                done = await self.fleet.volumes.prune(host)
                self.flash(f"pruned {len(done.volumes)} volume(s) on {host}, {human_size(done.space_reclaimed)}")
            except FleetError as exc:
                self.flash(f"prune volumes on {host}: {exc}", error=True)

    # ------------------------------------------------------------------ networks

    def networks_create(self: DockyardApp) -> None:
        def go(values: dict | None) -> None:
            if values:
                self._network_create(values["name"], values["hosts"], values.get("internal", True))

        self.push_screen(AskDialog("Create a network", [Field("name", "Name", "", "backend")],
                                   flags=[Flag("internal", "Internal (no route outside the host)", True)],
                                   hosts=self._online_hosts(), selected=self._default_hosts()[:1], ok="Create"), go)

    @work(group="actions")
    async def _network_create(self: DockyardApp, name: str, hosts: list[str], internal: bool) -> None:
        for host in hosts:
            try:
                await self.fleet.networks.create(host, name, internal=internal)
                self.flash(f"created network {name} on {host}")
            except FleetError as exc:
                self.flash(f"create network on {host}: {exc}", error=True)

    def networks_remove(self: DockyardApp, chosen: list) -> None:
        if not chosen:
            return

        def go(result: dict | None) -> None:
            if result is not None:
                self._networks_remove(chosen)

        self.push_screen(ConfirmDialog(f"Remove {len(chosen)} network(s)?", [(n.host, n.name) for n in chosen],
                                       "Remove"), go)

    @work(group="actions")
    async def _networks_remove(self: DockyardApp, chosen: list) -> None:
        for n in chosen:
            try:
                await self.fleet.networks.remove(n.host, n.id)
                self.flash(f"removed network {n.name} on {n.host}")
            except FleetError as exc:
                self.flash(f"remove network {n.name} on {n.host}: {exc}", error=True)

    def networks_connect(self: DockyardApp, network, connect: bool) -> None:
        names = sorted(c.name for c in self.fleet.cached("containers", [network.host]))

        def go(values: dict | None) -> None:
            if values:
                self._network_connect(network, values["container"], connect)

        verb = "Connect" if connect else "Disconnect"
        self.push_screen(AskDialog(f"{verb} a container {'to' if connect else 'from'} {network.name} on {network.host}",
                                   [Field("container", "Container", "", ", ".join(names[:5]))], ok=verb), go)

    @work(group="actions")
    async def _network_connect(self: DockyardApp, network, container: str, connect: bool) -> None:
        try:
            if connect:
                await self.fleet.networks.connect(network.host, network.id, container)
            else:
                await self.fleet.networks.disconnect(network.host, network.id, container)
            self.flash(f"{'connected' if connect else 'disconnected'} {container} "
                       f"{'to' if connect else 'from'} {network.name} on {network.host}")
        except FleetError as exc:
            self.flash(f"{network.name} on {network.host}: {exc}", error=True)

    @work(group="details")
    async def networks_inspect(self: DockyardApp, network) -> None:
        try:
            data = await self.fleet.networks.inspect(network.host, network.id)
        except FleetError as exc:
            self.flash(f"inspect: {exc}", error=True)
            return
        from rich.syntax import Syntax

        self.push_screen(TextDialog(f"Network {network.name} on {network.host}",
                                    Syntax(safe_json(data), "json", word_wrap=True)))


def short(image_id: str) -> str:
    return image_id.split(":")[-1][:12]


def safe_json(data: object) -> str:
    """Pretty JSON whose strings can't carry control characters to the terminal."""
    return json.dumps(data, indent=2, ensure_ascii=True)
