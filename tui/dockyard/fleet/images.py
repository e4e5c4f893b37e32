"""Images across the fleet: list, pull, push, tag, remove, history, inspect, prune, drift, transfer.

| operation            | daemon API                                       | read-only |
|----------------------|--------------------------------------------------|-----------|
| pull / push          | images/create, images/{name}/push (JSON lines)   | refused   |
| transfer             | images/get (source) → images/load (targets)      | targets refused, the source may be read-only |
| tag / remove / prune | images/{name}/tag, DELETE images/…, images/prune | refused (a dry run is allowed) |
| list / drift / history / inspect | images/json, …/history, …/json       | allowed   |

Multi-host operations check every host up front and raise `ReadOnlyError` before touching any;
after that, one host's failure is that host's result and never stops the others.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from dockyard.fleet.docker_api import DockerClient, repo_tags
from dockyard.fleet.models import (
    DriftRow,
    HistoryEntry,
    HostResult,
    Image,
    ImagePrune,
    ImageRemoval,
    PrunedImage,
    PullProgress,
    TransferProgress,
)
from dockyard.fleet.resource import Resource
from dockyard.fleet.streams import encode_auth, merge, message_error, stream_error
from dockyard.fleet.transfer import Transfer
from dockyard.imageref import parse_image_ref
from dockyard.textfmt import natural_key

Auth = dict[str, str] | str | None  # X-Registry-Auth: a dict, an encoded header, or anonymous


class Images(Resource):
    def list(self, *, hosts: Iterable[str] | None = None) -> AsyncIterator[HostResult[list[Image]]]:
        """`docker images` of every selected host, as a fan-out."""
        return self.fleet.fan_out(lambda c: c.list_images(), hosts)

    # ------------------------------------------------------------------ pull / push

    def pull(self, image: str, hosts: Iterable[str] | None, *, auth: Auth = None) -> AsyncIterator[PullProgress]:
        """Pull `image` onto several hosts at once.

        Yields per-layer and per-host progress as the daemons report it, then exactly one
        `kind="result"` event per host (ok + image id, or the error in words). Raises
        ReadOnlyError at once (nothing pulled) if any selected host is read-only."""
        targets = self.fleet.writable_hosts(hosts)
        header = encode_auth(auth)
        return merge([self._stream("pull", host, image, header) for host in targets])

    def push(self, host: str, image: str, *, auth: Auth = None) -> AsyncIterator[PullProgress]:
        """Push `image` from `host` to its registry; per-layer progress, then one result (with digest)."""
        self.fleet.check_writable(host)
        return self._stream("push", host, image, encode_auth(auth))

    async def _stream(self, action: str, host: str, image: str, header: str) -> AsyncIterator[PullProgress]:
        start = time.perf_counter()
        ref = parse_image_ref(image)
        repo, tag = ref.repository, ref.ref
        error: str | None = None
        digest: str | None = None
        try:
            client = await self.fleet.client(host)
            stream = client.pull_stream(repo, tag, header) if action == "pull" else client.push_stream(repo, tag, header)
            async for msg in stream:
                problem = message_error(msg)
                if problem is not None:
                    error = problem
                    continue
                aux = msg.get("aux") or {}
                if aux.get("Digest"):
                    digest = aux["Digest"]
                status = str(msg.get("status") or "")
                if status.startswith("Digest: "):
                    digest = status[len("Digest: "):].strip()
                detail = msg.get("progressDetail") or {}
                layer = msg.get("id")
                is_layer = bool(layer) and layer != tag and not status.startswith(("Pulling from", "The push refers"))
                if not status and not is_layer:
                    continue
                yield PullProgress(host, image, "layer" if is_layer else "status", status=status,
                                   layer=layer if is_layer else None, current=detail.get("current"),
                                   total=detail.get("total"), elapsed=time.perf_counter() - start, action=action)
            image_id = None
            if error is None and action == "pull":
                image_id = (await self.inspect(host, image))["Id"]
        except Exception as exc:  # noqa: BLE001 - a host's failure is its result
            error = stream_error(exc)
        if error is not None:
            yield PullProgress(host, image, "result", status="failed", ok=False, error=error,
                               elapsed=time.perf_counter() - start, action=action)
        else:
            yield PullProgress(host, image, "result", status="done", ok=True, image_id=image_id, digest=digest,
                               elapsed=time.perf_counter() - start, action=action)

    def transfer(self, images: Sequence[str] | str, source: str,
                 targets: Iterable[str]) -> AsyncIterator[TransferProgress]:
        """Copy images host→host without a registry (see dockyard.fleet.transfer).

        Yields progress events (bytes, throughput) and one result per target, verified by image ID.
        Raises FleetError/ReadOnlyError at once for a bad request or a read-only target (the source may be)."""
        return Transfer(self.fleet, images, source, targets).run()

    # ------------------------------------------------------------------ single-host actions

    async def tag(self, host: str, image: str, repo: str, tag: str = "latest") -> None:
        self.fleet.check_writable(host)
        await self.fleet.call(host, lambda c: c.tag_image(image, repo, tag))

    async def remove(self, host: str, image: str, force: bool = False) -> ImageRemoval:
        """`docker rmi`; without force the daemon refuses an image a container uses (its message says which)."""
        self.fleet.check_writable(host)
        items = await self.fleet.call(host, lambda c: c.remove_image(image, force=force))
        return ImageRemoval(host, image, untagged=tuple(i["Untagged"] for i in items if i.get("Untagged")),
                            deleted=tuple(i["Deleted"] for i in items if i.get("Deleted")))

    async def history(self, host: str, image: str) -> list[HistoryEntry]:
        raw = await self.fleet.call(host, lambda c: c.image_history(image))
        return [HistoryEntry(id=h.get("Id", ""), created=int(h.get("Created") or 0),
                             created_by=h.get("CreatedBy", "") or "", size=int(h.get("Size") or 0),
                             tags=tuple(h.get("Tags") or ()), comment=h.get("Comment", "") or "")
                for h in raw]

    async def inspect(self, host: str, image: str) -> dict[str, Any]:
        return await self.fleet.call(host, lambda c: c.inspect_image(image))

    # ------------------------------------------------------------------ prune

    async def prune(self, hosts: Iterable[str] | None = None, *, dangling_only: bool = True,
                    dry_run: bool = False) -> list[HostResult[ImagePrune]]:
        """Remove dangling (untagged) or all unused images, per host; `dry_run` only says what would go.

        The dry run applies the daemon's rule to `system/df`: an image goes when no container
        (running or not) uses it and, with `dangling_only`, it has no tag."""
        if dry_run:
            names = [s.name for s in self.fleet.selected(hosts)]
        else:
            names = self.fleet.writable_hosts(hosts)

        async def one(client: DockerClient) -> ImagePrune:
            candidates = await _prune_candidates(client, dangling_only)
            if dry_run:
                return ImagePrune(client.host_name, True, dangling_only, images=tuple(p for p, _ in candidates),
                                  space_reclaimed=sum(unique for _, unique in candidates))
            before = {i["Id"]: i for i in (await client.system_df()).get("Images") or []}
            report = await client.prune_images({"dangling": ["true" if dangling_only else "false"]})
            items = report.get("ImagesDeleted") or []
            deleted = tuple(i["Deleted"] for i in items if i.get("Deleted"))
            gone = [PrunedImage(i, repo_tags(before[i]), int(before[i].get("Size") or 0)) for i in deleted if i in before]
            return ImagePrune(client.host_name, False, dangling_only, images=tuple(gone),
                              untagged=tuple(i["Untagged"] for i in items if i.get("Untagged")),
                              deleted=deleted, space_reclaimed=int(report.get("SpaceReclaimed") or 0))

        return [r async for r in self.fleet.fan_out(one, names, timeout=300)]

    # ------------------------------------------------------------------ drift

    async def drift_report(self, hosts: Iterable[str] | None = None) -> tuple[list[DriftRow], list[HostResult[Any]]]:
        """(rows, failed hosts): every repository:tag across the answering hosts."""
        results = await self.fleet.gather(lambda c: c.list_images(), hosts)
        answered = [r.host for r in results if r.ok]
        order = {name: i for i, name in enumerate(self.fleet.sessions)}
        answered.sort(key=lambda h: order.get(h, 0))
        by_tag: dict[str, dict[str, str]] = {}
        for r in results:
            if r.ok:
                for image in r.value:
                    for tag in image.tags:
                        by_tag.setdefault(tag, {})[r.host] = image.id
        rows = []
        for ref, where in by_tag.items():
            ordered = {h: where[h] for h in answered if h in where}
            rows.append(DriftRow(ref, ordered, tuple(h for h in answered if h not in where)))
        rows.sort(key=lambda r: (not r.drifted, natural_key(r.reference)))
        return rows, [r for r in results if not r.ok]

    async def drift(self, hosts: Iterable[str] | None = None) -> list[DriftRow]:
        """Every repository:tag: which hosts have it with which image id; drifted rows first."""
        return (await self.drift_report(hosts))[0]


async def _prune_candidates(client: DockerClient, dangling_only: bool) -> list[tuple[PrunedImage, int]]:
    """(image, unique size) for the images `POST /images/prune` would remove, from `system/df`
    (which counts the containers using each image and the size it shares with others)."""
    df = await client.system_df()
    out = []
    for raw in df.get("Images") or []:
        if int(raw.get("Containers") or 0) > 0:
            continue
        tags = repo_tags(raw)
        if dangling_only and tags:
            continue
        shared = int(raw.get("SharedSize") or 0)
        size = int(raw.get("Size") or 0)
        out.append((PrunedImage(raw["Id"], tags, size), size - max(shared, 0)))
    return sorted(out, key=lambda p: p[0].id)
