"""Host→host image transfer without a registry: one `docker save` stream from the source, fanned
out to a `docker load` on every target at once.

Each target has a bounded queue (`Sink`): memory stays flat whatever the image size, and the
slowest target sets the pace. A target that fails stops receiving; when all have failed the
source stops reading. Every target's result is verified by image ID against the source.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import TYPE_CHECKING

from dockyard.fleet.docker_api import DockerClient
from dockyard.fleet.errors import FleetError
from dockyard.fleet.models import TransferProgress
from dockyard.fleet.streams import message_error, stream_error
from dockyard.tasks import cancel_and_wait

if TYPE_CHECKING:
    from dockyard.fleet.resource import FleetAccess

# A transfer keeps at most this many chunks (each ≤ 256 KiB) queued per target.
TRANSFER_QUEUE_CHUNKS = 16
PROGRESS_EVERY = 0.25  # seconds between transfer progress events


class Sink:
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


class Transfer:
    """One transfer: the request is checked when built (raises at once), `run()` streams the events."""

    def __init__(self, fleet: FleetAccess, images: Sequence[str] | str, source: str, targets: Iterable[str]):
        self.fleet = fleet
        self.images = [images] if isinstance(images, str) else list(images)
        self.source = source
        self.targets = list(dict.fromkeys(targets))
        if not self.images:
            raise FleetError("no image to transfer")
        if not self.targets:
            raise FleetError("no target host to transfer to")
        fleet.session(source)
        if source in self.targets:
            raise FleetError(f"{source} is both the source and a target")
        for name in self.targets:
            fleet.check_writable(name)
        self.expected: dict[str, str] = {}  # reference -> image id on the source
        self.total = 0  # approximate bytes of the save stream (the images' sizes)
        self.read = 0
        self.sinks: list[Sink] = []
        self.events: asyncio.Queue[TransferProgress] = asyncio.Queue()
        self.source_error: str | None = None
        self.start = time.perf_counter()

    # ------------------------------------------------------------------ events

    def _rate(self, n: int) -> tuple[float, float]:
        elapsed = time.perf_counter() - self.start
        return elapsed, (n / elapsed if elapsed > 0 else 0.0)

    def result(self, target: str, *, error: str | None = None, ids: dict[str, str] | None = None,
               sent: int = 0) -> TransferProgress:
        elapsed, rate = self._rate(sent)
        return TransferProgress(self.source, "result", target=target, images=tuple(self.images), bytes=sent,
                                elapsed=elapsed, rate=rate, ok=error is None, error=error, image_ids=ids or {})

    def progress(self) -> TransferProgress:
        elapsed, rate = self._rate(self.read)
        return TransferProgress(self.source, "progress", images=tuple(self.images), bytes=self.read,
                                total=self.total, sent={s.name: s.sent for s in self.sinks}, elapsed=elapsed,
                                rate=rate)

    # ------------------------------------------------------------------ the run

    async def run(self) -> AsyncIterator[TransferProgress]:
        self.start = time.perf_counter()
        try:
            await self._inspect_source()
        except FleetError as exc:
            for t in self.targets:
                yield self.result(t, error=f"source {self.source}: {stream_error(exc)}")
            return
        for name, problem in await self._connect_targets():
            yield self.result(name, error=problem)
        if not self.sinks:
            return
        try:
            source = await self.fleet.client(self.source)
        except FleetError as exc:
            for s in self.sinks:
                yield self.result(s.name, error=f"source {self.source}: {exc}")
            return
        tasks = [asyncio.ensure_future(self._pump(source))] + [asyncio.ensure_future(self._load(s)) for s in self.sinks]
        try:
            pending = len(self.sinks)
            while pending:
                event = await self.events.get()
                if event.kind == "result":
                    pending -= 1
                yield event
        finally:
            await cancel_and_wait(tasks, f"transfer from {self.source}")

    async def _inspect_source(self) -> None:
        """What the targets must end up with, and roughly how many bytes that is."""
        infos = await asyncio.gather(*(self.fleet.call(self.source, lambda c, i=i: c.inspect_image(i))
                                       for i in self.images))
        self.expected = {ref: info["Id"] for ref, info in zip(self.images, infos)}
        self.total = sum(int(info.get("Size") or 0) for info in {i["Id"]: i for i in infos}.values())

    async def _connect_targets(self) -> list[tuple[str, str]]:
        """A sink per reachable target; (target, why not) for the others."""
        async def connect(name: str) -> DockerClient | str:
            try:
                return await self.fleet.client(name)
            except FleetError as exc:
                return str(exc)

        failed = []
        for name, client in zip(self.targets, await asyncio.gather(*(connect(t) for t in self.targets))):
            if isinstance(client, str):
                failed.append((name, client))
            else:
                self.sinks.append(Sink(name, client))
        return failed

    async def _pump(self, source: DockerClient) -> None:
        """Read the save stream once and feed every live sink; a source failure fails every target."""
        last = time.perf_counter()
        try:
            async for chunk in source.save_images(self.images):
                self.read += len(chunk)
                live = [s for s in self.sinks if not s.dead]
                if not live:
                    return  # every target failed: stop reading
                for s in live:
                    await s.put(chunk)
                now = time.perf_counter()
                if now - last >= PROGRESS_EVERY:
                    last = now
                    self.events.put_nowait(self.progress())
        except Exception as exc:  # noqa: BLE001 - becomes every target's error
            self.source_error = f"source {self.source}: {stream_error(exc)}"
            for s in self.sinks:
                s.fail(exc)
            return
        self.events.put_nowait(self.progress())
        for s in self.sinks:
            await s.put(None)

    async def _load(self, sink: Sink) -> None:
        """Load one target's stream, then verify what it holds; posts that target's result."""
        try:
            messages = await sink.client.load_images(sink.chunks())
            problems = [p for p in map(message_error, messages) if p]
            if problems:
                raise FleetError("; ".join(problems))
        except Exception as exc:  # noqa: BLE001
            sink.die()
            error = self.source_error or f"load failed: {stream_error(exc)}"
            self.events.put_nowait(self.result(sink.name, error=error, sent=sink.sent))
            return
        sink.die()
        try:
            ids = await self._verify(sink.name)
        except FleetError as exc:
            self.events.put_nowait(self.result(sink.name, error=stream_error(exc), sent=sink.sent))
            return
        self.events.put_nowait(self.result(sink.name, ids=ids, sent=sink.sent))

    async def _verify(self, target: str) -> dict[str, str]:
        ids: dict[str, str] = {}
        for ref, want in self.expected.items():
            got = (await self.fleet.call(target, lambda c, r=ref: c.inspect_image(r)))["Id"]
            if got != want:
                raise FleetError(f"verification failed: {ref} is {got[:19]} on {target}, "
                                 f"{want[:19]} on {self.source}")
            ids[ref] = got
        return ids
