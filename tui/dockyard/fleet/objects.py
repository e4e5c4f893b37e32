"""Images, volumes and networks across the fleet: pull, push, transfer, prune, drift, lifecycle.

`ObjectOps` is mixed into `Fleet`; every method uses the Fleet's sessions and fan-out.

| operation            | daemon API                                   | read-only |
|----------------------|----------------------------------------------|-----------|
| pull / push          | images/create, images/{name}/push (JSON lines)| refused   |
| transfer             | images/get (source) → images/load (targets)  | targets refused, source may be read-only |
| tag / remove / prune | images/{name}/tag, DELETE images/…, images/prune | refused (a dry run is allowed) |
| drift / history / inspect / volume_usage | images/json, system/df … | allowed |
| volumes / networks   | volumes/*, networks/*                        | changes refused |

Multi-host operations check every host up front and raise `ReadOnlyError` before touching any;
after that, one host's failure is that host's result and never stops the others.

Streams (pull, push, transfer) do not go through `HostSession.call` (whose request timeout would
cut a long pull short): they take the session's client once it is online and run without a
total timeout; a connection lost half-way becomes that host's error result.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import aiohttp

from dockyard.fleet.docker_api import DockerClient, network_from_api, volume_from_api
from dockyard.fleet.errors import DaemonError, FleetError
from dockyard.fleet.models import (
    DriftRow,
    HistoryEntry,
    HostResult,
    ImagePrune,
    ImageRemoval,
    Network,
    PrunedImage,
    PullProgress,
    TransferProgress,
    Volume,
    VolumePrune,
    VolumeUsage,
)

if TYPE_CHECKING:
    from dockyard.fleet.session import HostSession

# A transfer keeps at most this many chunks (each ≤ 256 KiB) queued per target: memory stays
# flat whatever the image size, and the slowest target sets the pace.
TRANSFER_QUEUE_CHUNKS = 16
PROGRESS_EVERY = 0.25  # seconds between transfer progress events


class VolumeInUse(FleetError):
    """A volume mounted by containers; removing it needs `force` (which removes those containers)."""

    def __init__(self, host: str, volume: str, containers: Sequence[str]):
        names = ", ".join(containers)
        super().__init__(f"{host}: volume {volume!r} is in use by container(s) {names}; "
                         f"remove them first, or force (which removes them too)")
        self.host, self.volume, self.containers = host, volume, tuple(containers)


# ---------------------------------------------------------------------- helpers


def split_reference(ref: str) -> tuple[str, str]:
    """`registry:5000/repo:tag` → ("registry:5000/repo", "tag"); no tag → "latest";
    a digest reference keeps the digest as the "tag" (`repo@sha256:…` → ("repo", "sha256:…"))."""
    if "@" in ref:
        repo, _, digest = ref.partition("@")
        return repo, digest
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        return ref[:colon], ref[colon + 1:]
    return ref, "latest"


def encode_auth(auth: dict[str, str] | str | None) -> str:
    """The X-Registry-Auth header: base64url(JSON) of {username, password, serveraddress} or
    {identitytoken}; an already encoded string passes through; None → anonymous ("{}")."""
    if isinstance(auth, str):
        return auth
    payload = json.dumps(auth or {}).encode()
    return base64.urlsafe_b64encode(payload).decode()


def _stream_error(exc: BaseException) -> str:
    if isinstance(exc, DaemonError):
        return exc.message
    if isinstance(exc, FleetError):
        return str(exc)
    if isinstance(exc, asyncio.TimeoutError):
        return "the daemon stopped answering"
    if isinstance(exc, aiohttp.ClientError):
        return f"connection lost: {exc}" if str(exc) else f"connection lost ({type(exc).__name__})"
    return f"unexpected error: {type(exc).__name__}: {exc}"


def _message_error(msg: dict[str, Any]) -> str | None:
    if "error" in msg or "errorDetail" in msg:
        detail = msg.get("errorDetail") or {}
        return str(detail.get("message") or msg.get("error") or "unknown error")
    return None


def _tags(raw: dict[str, Any]) -> tuple[str, ...]:
    return tuple(t for t in (raw.get("RepoTags") or []) if t != "<none>:<none>")


async def _merge(streams: Sequence[AsyncIterator[Any]]) -> AsyncIterator[Any]:
    """Interleave several async iterators, yielding items as they come."""
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=256)
    done = object()

    async def run(stream: AsyncIterator[Any]) -> None:
        try:
            async for item in stream:
                await queue.put(item)
        finally:
            await queue.put(done)

    tasks = [asyncio.ensure_future(run(s)) for s in streams]
    remaining = len(tasks)
    try:
        while remaining:
            item = await queue.get()
            if item is done:
                remaining -= 1
            else:
                yield item
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class _Sink:
    """One transfer target: a bounded queue of chunks feeding its `POST /images/load`."""

    def __init__(self, name: str, client: DockerClient):
        self.name = name
        self.client = client
        self.queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue(maxsize=TRANSFER_QUEUE_CHUNKS)
        self.sent = 0
        self.dead = False

    async def put(self, item: bytes | BaseException | None) -> None:
        if not self.dead:
            await self.queue.put(item)

    def fail(self, exc: BaseException) -> None:
        """Abort the upload: drop what is queued, leave the exception for `chunks()`."""
        self._drain()
        self.queue.put_nowait(exc)

    def die(self) -> None:
        """The load ended (or failed): stop queueing and free a producer blocked on a full queue."""
        self.dead = True
        self._drain()

    def _drain(self) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            item = await self.queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            self.sent += len(item)
            yield item


# ---------------------------------------------------------------------- the mixin


class ObjectOps:
    """Mixin for `Fleet` (see dockyard/fleet/controller.py)."""

    if TYPE_CHECKING:  # provided by Fleet
        readonly: bool
        sessions: dict[str, HostSession]

        def session(self, name: str) -> HostSession: ...
        def _targets(self, hosts: Iterable[str] | None) -> list[HostSession]: ...
        def check_writable(self, host: str) -> None: ...
        def fan_out(self, fn: Any, hosts: Iterable[str] | None = None,
                    timeout: float | None = None) -> AsyncIterator[HostResult[Any]]: ...
        async def gather(self, fn: Any, hosts: Iterable[str] | None = None) -> list[HostResult[Any]]: ...

    async def _client(self, host: str) -> DockerClient:
        """The host's client once online (waits for a connecting host); HostUnavailable otherwise."""
        async def itself(client: DockerClient) -> DockerClient:
            return client
        return await self.session(host).call(itself)

    async def _call(self, host: str, fn: Any, timeout: float | None = None) -> Any:
        return await self.session(host).call(fn, timeout)

    def _writable_targets(self, hosts: Iterable[str] | None) -> list[str]:
        names = [s.name for s in self._targets(hosts)]
        for name in names:
            self.check_writable(name)
        return names

    # ------------------------------------------------------------------ pull / push

    def pull(self, image: str, hosts: Iterable[str] | None, *,
             auth: dict[str, str] | str | None = None) -> AsyncIterator[PullProgress]:
        """Pull `image` onto several hosts at once.

        Yields per-layer and per-host progress as the daemons report it, then exactly one
        `kind="result"` event per host (ok + image id, or the error in words). Raises
        ReadOnlyError at once (nothing pulled) if any selected host is read-only."""
        targets = self._writable_targets(hosts)
        header = encode_auth(auth)
        return _merge([self._image_stream("pull", host, image, header) for host in targets])

    def push(self, host: str, image: str, *, auth: dict[str, str] | str | None = None) -> AsyncIterator[PullProgress]:
        """Push `image` from `host` to its registry; per-layer progress, then one result (with digest)."""
        self.check_writable(host)
        return self._image_stream("push", host, image, encode_auth(auth))

    async def _image_stream(self, action: str, host: str, image: str, header: str) -> AsyncIterator[PullProgress]:
        start = time.perf_counter()
        repo, tag = split_reference(image)
        error: str | None = None
        digest: str | None = None
        try:
            client = await self._client(host)
            stream = client.pull_stream(repo, tag, header) if action == "pull" else client.push_stream(repo, tag, header)
            async for msg in stream:
                problem = _message_error(msg)
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
                image_id = (await self._call(host, lambda c: c.inspect_image(image)))["Id"]
        except Exception as exc:  # noqa: BLE001 - a host's failure is its result
            error = _stream_error(exc)
        if error is not None:
            yield PullProgress(host, image, "result", status="failed", ok=False, error=error,
                               elapsed=time.perf_counter() - start, action=action)
        else:
            yield PullProgress(host, image, "result", status="done", ok=True, image_id=image_id, digest=digest,
                               elapsed=time.perf_counter() - start, action=action)

    # ------------------------------------------------------------------ single-host image actions

    async def tag(self, host: str, image: str, repo: str, tag: str = "latest") -> None:
        self.check_writable(host)
        await self._call(host, lambda c: c.tag_image(image, repo, tag))

    async def remove_image(self, host: str, image: str, force: bool = False) -> ImageRemoval:
        """`docker rmi`; without force the daemon refuses an image a container uses (its message says which)."""
        self.check_writable(host)
        items = await self._call(host, lambda c: c.remove_image(image, force=force))
        return ImageRemoval(host, image, untagged=tuple(i["Untagged"] for i in items if i.get("Untagged")),
                            deleted=tuple(i["Deleted"] for i in items if i.get("Deleted")))

    async def image_history(self, host: str, image: str) -> list[HistoryEntry]:
        raw = await self._call(host, lambda c: c.image_history(image))
        return [HistoryEntry(id=h.get("Id", ""), created=int(h.get("Created") or 0),
                             created_by=h.get("CreatedBy", "") or "", size=int(h.get("Size") or 0),
                             tags=tuple(h.get("Tags") or ()), comment=h.get("Comment", "") or "")
                for h in raw]

    async def inspect_image(self, host: str, image: str) -> dict[str, Any]:
        return await self._call(host, lambda c: c.inspect_image(image))

    # ------------------------------------------------------------------ prune

    async def prune_images(self, hosts: Iterable[str] | None = None, *, dangling_only: bool = True,
                           dry_run: bool = False) -> list[HostResult[ImagePrune]]:
        """Remove dangling (untagged) or all unused images, per host; `dry_run` only says what would go.

        The dry run applies the daemon's rule to `system/df`: an image goes when no container
        (running or not) uses it and, with `dangling_only`, it has no tag."""
        if dry_run:
            names = [s.name for s in self._targets(hosts)]
        else:
            names = self._writable_targets(hosts)

        async def one(client: DockerClient) -> ImagePrune:
            candidates = await _prune_candidates(client, dangling_only)
            if dry_run:
                return ImagePrune(client.host_name, True, dangling_only, images=tuple(p for p, _ in candidates),
                                  space_reclaimed=sum(unique for _, unique in candidates))
            before = {i["Id"]: i for i in (await client.system_df()).get("Images") or []}
            report = await client.prune_images({"dangling": ["true" if dangling_only else "false"]})
            items = report.get("ImagesDeleted") or []
            deleted = tuple(i["Deleted"] for i in items if i.get("Deleted"))
            gone = [PrunedImage(i, _tags(before[i]), int(before[i].get("Size") or 0)) for i in deleted if i in before]
            return ImagePrune(client.host_name, False, dangling_only, images=tuple(gone),
                              untagged=tuple(i["Untagged"] for i in items if i.get("Untagged")),
                              deleted=deleted, space_reclaimed=int(report.get("SpaceReclaimed") or 0))

        return [r async for r in self.fan_out(one, names, timeout=300)]

    # ------------------------------------------------------------------ drift

    async def drift_report(self, hosts: Iterable[str] | None = None) -> tuple[list[DriftRow], list[HostResult[Any]]]:
        """(rows, failed hosts): every repository:tag across the answering hosts."""
        results = await self.gather(lambda c: c.list_images(), hosts)
        answered = [r.host for r in results if r.ok]
        order = {name: i for i, name in enumerate(self.sessions)}
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
        rows.sort(key=lambda r: (not r.drifted, r.reference))
        return rows, [r for r in results if not r.ok]

    async def drift(self, hosts: Iterable[str] | None = None) -> list[DriftRow]:
        """Every repository:tag: which hosts have it with which image id; drifted rows first."""
        return (await self.drift_report(hosts))[0]

    # ------------------------------------------------------------------ transfer

    def transfer(self, images: Sequence[str] | str, source: str,
                 targets: Iterable[str]) -> AsyncIterator[TransferProgress]:
        """Copy images host→host without a registry: one `docker save` stream from `source` fanned
        out to a `docker load` on every target at once, through bounded queues (memory stays flat).

        Yields progress events (bytes, throughput) and one result per target, verified by image ID.
        Raises ReadOnlyError at once if a target is read-only (the source may be)."""
        images = [images] if isinstance(images, str) else list(images)
        target_names = list(dict.fromkeys(targets))
        if not images:
            raise FleetError("no image to transfer")
        if not target_names:
            raise FleetError("no target host to transfer to")
        self.session(source)
        if source in target_names:
            raise FleetError(f"{source} is both the source and a target")
        for name in target_names:
            self.check_writable(name)
        return self._transfer(images, source, target_names)

    async def _transfer(self, images: list[str], source: str, targets: list[str]) -> AsyncIterator[TransferProgress]:
        start = time.perf_counter()
        refs = tuple(images)

        def result(target: str, *, error: str | None = None, ids: dict[str, str] | None = None,
                   sent: int = 0) -> TransferProgress:
            elapsed = time.perf_counter() - start
            return TransferProgress(source, "result", target=target, images=refs, bytes=sent, elapsed=elapsed,
                                    rate=sent / elapsed if elapsed > 0 else 0.0, ok=error is None, error=error,
                                    image_ids=ids or {})

        # What the targets must end up with: reference -> image id on the source.
        try:
            infos = await asyncio.gather(*(self._call(source, lambda c, i=i: c.inspect_image(i)) for i in images))
        except FleetError as exc:
            for t in targets:
                yield result(t, error=f"source {source}: {_stream_error(exc)}")
            return
        expected = {ref: info["Id"] for ref, info in zip(images, infos)}
        total = sum(int(info.get("Size") or 0) for info in {i["Id"]: i for i in infos}.values())

        async def connect(name: str) -> DockerClient | str:
            try:
                return await self._client(name)
            except FleetError as exc:
                return str(exc)

        clients = await asyncio.gather(*(connect(t) for t in targets))
        sinks: list[_Sink] = []
        for name, client in zip(targets, clients):
            if isinstance(client, str):
                yield result(name, error=client)
            else:
                sinks.append(_Sink(name, client))
        if not sinks:
            return
        try:
            src = await self._client(source)
        except FleetError as exc:
            for s in sinks:
                yield result(s.name, error=f"source {source}: {exc}")
            return

        events: asyncio.Queue[TransferProgress] = asyncio.Queue()
        source_error: list[str] = []
        read = 0

        def progress() -> TransferProgress:
            elapsed = time.perf_counter() - start
            return TransferProgress(source, "progress", images=refs, bytes=read, total=total,
                                    sent={s.name: s.sent for s in sinks}, elapsed=elapsed,
                                    rate=read / elapsed if elapsed > 0 else 0.0)

        async def pump() -> None:
            nonlocal read
            last = time.perf_counter()
            try:
                async for chunk in src.save_images(images):
                    read += len(chunk)
                    live = [s for s in sinks if not s.dead]
                    if not live:
                        return  # every target failed: stop reading
                    for s in live:
                        await s.put(chunk)
                    now = time.perf_counter()
                    if now - last >= PROGRESS_EVERY:
                        last = now
                        events.put_nowait(progress())
            except Exception as exc:  # noqa: BLE001 - becomes every target's error
                source_error.append(f"source {source}: {_stream_error(exc)}")
                for s in sinks:
                    s.fail(exc)
                return
            events.put_nowait(progress())
            for s in sinks:
                await s.put(None)

        async def load(s: _Sink) -> None:
            try:
                messages = await s.client.load_images(s.chunks())
                problems = [p for p in map(_message_error, messages) if p]
                if problems:
                    raise FleetError("; ".join(problems))
            except Exception as exc:  # noqa: BLE001
                s.die()
                error = source_error[0] if source_error else f"load failed: {_stream_error(exc)}"
                events.put_nowait(result(s.name, error=error, sent=s.sent))
                return
            s.die()
            ids: dict[str, str] = {}
            try:
                for ref, want in expected.items():
                    got = (await self._call(s.name, lambda c, r=ref: c.inspect_image(r)))["Id"]
                    if got != want:
                        raise FleetError(f"verification failed: {ref} is {got[:19]} on {s.name}, "
                                         f"{want[:19]} on {source}")
                    ids[ref] = got
            except FleetError as exc:
                events.put_nowait(result(s.name, error=_stream_error(exc), sent=s.sent))
                return
            events.put_nowait(result(s.name, ids=ids, sent=s.sent))

        tasks = [asyncio.ensure_future(pump())] + [asyncio.ensure_future(load(s)) for s in sinks]
        try:
            pending = len(sinks)
            while pending:
                event = await events.get()
                if event.kind == "result":
                    pending -= 1
                yield event
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # ------------------------------------------------------------------ volumes

    async def create_volume(self, host: str, name: str, labels: dict[str, str] | None = None,
                            driver: str = "local") -> Volume:
        self.check_writable(host)
        raw = await self._call(host, lambda c: c.create_volume(name, labels, driver))
        return volume_from_api(host, raw)

    async def volume_users(self, host: str, name: str) -> list[str]:
        """Names of the containers (running or not) that mount volume `name`."""
        raw = await self._call(host, lambda c: c.raw_containers({"volume": [name]}))
        return sorted(_container_name(c) for c in raw)

    async def remove_volume(self, host: str, name: str, force: bool = False) -> list[str]:
        """Remove a volume. In use: refused (VolumeInUse names the containers) unless `force`,
        which removes those containers first. Returns the containers removed."""
        self.check_writable(host)
        users = await self._call(host, lambda c: c.raw_containers({"volume": [name]}))
        if users and not force:
            raise VolumeInUse(host, name, sorted(_container_name(c) for c in users))
        removed = []
        for c in users:
            await self._call(host, lambda cl, cid=c["Id"]: cl.container_action(cid, "remove", force=True))
            removed.append(_container_name(c))
        await self._call(host, lambda c: c.remove_volume(name, force=force))
        return sorted(removed)

    async def volume_usage(self, host: str) -> list[VolumeUsage]:
        """Every volume with its size (system df) and the containers that mount it."""
        df = await self._call(host, lambda c: c.system_df(), timeout=120)
        containers = await self._call(host, lambda c: c.raw_containers())
        users: dict[str, list[str]] = {}
        for c in containers:
            for m in c.get("Mounts") or []:
                if m.get("Type") == "volume" and m.get("Name"):
                    users.setdefault(m["Name"], []).append(_container_name(c))
        out = []
        for v in df.get("Volumes") or []:
            usage = v.get("UsageData") or {}
            out.append(VolumeUsage(host=host, name=v["Name"], driver=v.get("Driver", ""),
                                   mountpoint=v.get("Mountpoint", ""), size=int(usage.get("Size", -1)),
                                   ref_count=int(usage.get("RefCount", -1)),
                                   used_by=tuple(sorted(users.get(v["Name"], ()))),
                                   labels={str(k): str(val) for k, val in (v.get("Labels") or {}).items()},
                                   created=v.get("CreatedAt")))
        return sorted(out, key=lambda v: v.name)

    def volumes_usage(self, hosts: Iterable[str] | None = None) -> AsyncIterator[HostResult[list[VolumeUsage]]]:
        """`volume_usage` of every selected host, as a fan-out (for the Volumes pane)."""
        async def one(client: DockerClient) -> list[VolumeUsage]:
            return await self.volume_usage(client.host_name)
        return self.fan_out(one, hosts, timeout=120)

    async def prune_volumes(self, host: str, dry_run: bool = False) -> VolumePrune:
        """Remove every volume no container uses; `dry_run` lists them (with their sizes) instead."""
        if not dry_run:
            self.check_writable(host)
        usage = await self.volume_usage(host)
        unused = [v for v in usage if not v.used_by]
        if dry_run:
            return VolumePrune(host, True, tuple(v.name for v in unused), sum(max(v.size, 0) for v in unused))
        client = await self._client(host)
        # API 1.42+ prunes only anonymous volumes unless asked for all; keep one meaning everywhere
        filters = {"all": ["true"]} if _api_at_least(client, 1, 42) else None
        report = await self._call(host, lambda c: c.prune_volumes(filters), timeout=120)
        return VolumePrune(host, False, tuple(sorted(report.get("VolumesDeleted") or [])),
                           int(report.get("SpaceReclaimed") or 0))

    # ------------------------------------------------------------------ networks

    async def create_network(self, host: str, name: str, *, internal: bool = True,
                             labels: dict[str, str] | None = None, driver: str = "bridge") -> Network:
        self.check_writable(host)
        created = await self._call(host, lambda c: c.create_network(name, internal=internal, labels=labels,
                                                                      driver=driver))
        raw = await self._call(host, lambda c: c.inspect_network(created["Id"]))
        return network_from_api(host, raw)

    async def remove_network(self, host: str, network: str) -> None:
        self.check_writable(host)
        await self._call(host, lambda c: c.remove_network(network))

    async def connect(self, host: str, network: str, container: str) -> None:
        self.check_writable(host)
        await self._call(host, lambda c: c.connect_network(network, container))

    async def disconnect(self, host: str, network: str, container: str, force: bool = False) -> None:
        self.check_writable(host)
        await self._call(host, lambda c: c.disconnect_network(network, container, force))

    async def inspect_network(self, host: str, network: str) -> dict[str, Any]:
        return await self._call(host, lambda c: c.inspect_network(network))

    async def network_containers(self, host: str, network: str) -> list[str]:
        """Names of the containers attached to `network` (running or not; inspect shows only running)."""
        raw = await self._call(host, lambda c: c.raw_containers({"network": [network]}))
        return sorted(_container_name(c) for c in raw)


# ---------------------------------------------------------------------- module helpers


def _container_name(raw: dict[str, Any]) -> str:
    names = raw.get("Names") or []
    return names[0].lstrip("/") if names else raw.get("Id", "")[:12]


def _api_at_least(client: DockerClient, major: int, minor: int) -> bool:
    try:
        got = tuple(int(p) for p in str(client.api_version).lstrip("v").split("."))
    except ValueError:
        return False
    return got >= (major, minor)


async def _prune_candidates(client: DockerClient, dangling_only: bool) -> list[tuple[PrunedImage, int]]:
    """(image, unique size) for the images `POST /images/prune` would remove, from `system/df`
    (which counts the containers using each image and the size it shares with others)."""
    df = await client.system_df()
    out = []
    for raw in df.get("Images") or []:
        if int(raw.get("Containers") or 0) > 0:
            continue
        tags = _tags(raw)
        if dangling_only and tags:
            continue
        shared = int(raw.get("SharedSize") or 0)
        size = int(raw.get("Size") or 0)
        out.append((PrunedImage(raw["Id"], tags, size), size - max(shared, 0)))
    return sorted(out, key=lambda p: p[0].id)


__all__ = ["ObjectOps", "VolumeInUse", "encode_auth", "split_reference"]
