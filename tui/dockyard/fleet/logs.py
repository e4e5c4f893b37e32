"""Logs of one or many containers on any hosts, merged into one stream ordered by time.

Each source follows its container with timestamps on; a short reorder window (the
"watermark") lets lines from different hosts interleave by timestamp while each
container's own order is kept exactly. The history (`tail`) is read first on its own, and
no line is released until every source's history is in: a host that answers later than
the window (SSH handshake, a loaded machine) would otherwise have its older lines merged
after the newer lines of the others. A source whose stream breaks (container
stopped, host dropped) says so and resumes from its last timestamp when it can, so
nothing is repeated or lost across the break.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import heapq
import itertools
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from dockyard.fleet.errors import BadReply, DaemonError, FleetError
from dockyard.tasks import cancel_and_wait

if TYPE_CHECKING:
    from dockyard.fleet.resource import FleetAccess


@dataclass(frozen=True, slots=True)
class LogSource:
    host: str
    container_id: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.host}/{self.name}"


@dataclass(frozen=True, slots=True)  # slots: a view holds 20,000 of these; no dict each for the GC to walk
class LogLine:
    source: LogSource
    stream: str  # "stdout" | "stderr"
    timestamp: str  # RFC 3339 with nanoseconds, as the daemon sent it
    text: str  # one line, without its newline; may hold ANSI colour codes (the UI decides)


@dataclass(frozen=True, slots=True)
class LogNotice:
    """A source's stream broke, resumed or ended; shown inline in the view. `stopped`: the
    container is not running (so nothing new comes until it starts), which is no failure."""

    source: LogSource
    message: str
    broken: bool
    stopped: bool = False


@dataclass(frozen=True, slots=True)
class _Mark:
    """A source's history has all arrived (`ended`: its stream is over for good)."""

    source: LogSource
    ended: bool


def timestamp_key(ts: str) -> str:
    """RFC 3339 timestamps sort as text once the fraction has a fixed width (9 digits, UTC)."""
    if "." in ts:
        head, frac = ts.split(".", 1)
        frac = frac.rstrip("Z")
        return f"{head}.{frac:0<9}Z"
    return ts.rstrip("Z") + ".000000000Z"


def since_after(ts: str) -> str:
    """A `since` value just after `ts`, so a resumed follow does not repeat the last line."""
    head, _, frac = timestamp_key(ts).rstrip("Z").partition(".")
    epoch = datetime.fromisoformat(head + "+00:00").timestamp()
    nanos = int(frac) + 1
    return f"{int(epoch) + nanos // 1_000_000_000}.{nanos % 1_000_000_000:09d}"


async def merged_logs(fleet: FleetAccess, sources: Iterable[LogSource], *, tail: int | str = 500, follow: bool = True,
                      since: str | None = None, window: float = 0.25, history_wait: float = 10.0,
                      retry_every: float = 2.0, resume: bool = True) -> AsyncIterator[LogLine | LogNotice]:
    """Yield lines of every source in timestamp order: the histories exactly, live lines within
    `window` seconds of lateness. A source whose history is not in after `history_wait` s (a
    frozen host) no longer holds the others back. A notice comes after the lines its source sent
    before it. `resume=False` (`docker logs -f`'s way, for scripts): a source ends when its
    container stops instead of waiting for it to start again."""
    sources = list(sources)
    queue: asyncio.Queue[LogLine | LogNotice | _Mark] = asyncio.Queue(maxsize=10000)
    tasks = [asyncio.create_task(_follow_source(fleet, s, queue, tail=tail, follow=follow, since=since,
                                                retry_every=retry_every, resume=resume)) for s in sources]
    live = len(tasks)
    heap: list[tuple[str, int, LogLine | LogNotice]] = []
    held: collections.Counter[LogSource] = collections.Counter()  # lines in the heap, per source
    last_key: dict[LogSource, str] = {}  # the newest line's sort key, per source
    arrivals: collections.deque[tuple[float, int]] = collections.deque()  # (arrival time, seq), in order
    released: set[int] = set()
    seq = itertools.count()
    loop = asyncio.get_running_loop()
    catching_up = collections.Counter(sources)  # sources whose history is still arriving
    history_deadline = loop.time() + history_wait
    try:
        while live or heap:
            now = loop.time()
            if catching_up and now >= history_deadline:
                catching_up.clear()
            release_at = arrivals[0][0] + window if arrivals else None
            if release_at is not None and catching_up:
                release_at = max(release_at, history_deadline)
            timeout = max(0.0, release_at - now) if release_at is not None else None
            item: LogLine | LogNotice | _Mark | str
            try:
                item = await asyncio.wait_for(queue.get(), timeout) if live else "flush"
            except asyncio.TimeoutError:
                item = "flush"
            if isinstance(item, _Mark):
                catching_up -= collections.Counter([item.source])
                live -= item.ended
            elif isinstance(item, LogNotice):
                if item.broken:  # nothing more comes from it for now: it holds no one back
                    catching_up -= collections.Counter([item.source])
                if held[item.source]:  # after the lines it sent before (an exited container's history)
                    n = next(seq)
                    heapq.heappush(heap, (last_key[item.source], n, item))
                    arrivals.append((loop.time(), n))
                else:
                    yield item
            elif isinstance(item, LogLine):
                n = next(seq)
                key = timestamp_key(item.timestamp)
                heapq.heappush(heap, (key, n, item))
                held[item.source] += 1
                last_key[item.source] = max(key, last_key.get(item.source, key))
                arrivals.append((loop.time(), n))
            # While the oldest held line has waited a full window (or the sources are done),
            # release the earliest timestamp: no line waits much longer than `window`.
            now = loop.time()
            if catching_up and now >= history_deadline:
                catching_up.clear()
            while heap and (not live or (not catching_up and arrivals[0][0] + window <= now)
                            or len(heap) >= 20000):
                _, n, line = heapq.heappop(heap)
                released.add(n)
                while arrivals and arrivals[0][1] in released:
                    released.discard(arrivals.popleft()[1])
                if isinstance(line, LogLine):
                    held[line.source] -= 1
                yield line
    finally:
        await cancel_and_wait(tasks, "logs")


async def _follow_source(fleet: FleetAccess, source: LogSource, queue: asyncio.Queue, *, tail: int | str, follow: bool,
                         since: str | None, retry_every: float, resume: bool = True) -> None:
    last_ts: str | None = None
    at_last_ts: list[tuple[str, str]] = []  # (stream, text) of the delivered lines stamped `last_ts`
    first = True
    quiet_resume = False  # the follow that continues right after the history: no "resumed" notice
    try:
        while True:
            try:
                session = fleet.session(source.host)
                info = await session.call(lambda c: c.get(f"containers/{source.container_id}/json"))
                tty = bool((info.get("Config") or {}).get("Tty"))
                running = (info.get("State") or {}).get("Running", False)
                if not first and not quiet_resume:
                    await queue.put(LogNotice(source, "resumed", broken=False))
                quiet_resume = False
                client = session.client
                if client is None:
                    raise FleetError("host is not online")
                history = first and follow and tail != 0  # read on its own: its end says this source is caught up
                if first and follow and not history:
                    await queue.put(_Mark(source, ended=False))  # no history asked for: nothing to wait for
                stream = client.log_stream(
                    source.container_id, follow=follow and not history, timestamps=True, tty=tty,
                    tail=tail if first else "all",
                    since=since_after(last_ts) if last_ts else since,
                )
                overlap = _Overlap(last_ts, at_last_ts if not first else [])
                async for line in split_lines(stream):
                    for stream_name, text, ts in overlap.feed(line):
                        at_last_ts = at_last_ts + [(stream_name, text)] if ts == last_ts else [(stream_name, text)]
                        last_ts = ts
                        await queue.put(LogLine(source, stream_name, ts, text))
                for stream_name, text, ts in overlap.feed(None):
                    at_last_ts = at_last_ts + [(stream_name, text)] if ts == last_ts else [(stream_name, text)]
                    last_ts = ts
                    await queue.put(LogLine(source, stream_name, ts, text))
                if history:  # then follow from just after its last line, as a resume does
                    await queue.put(_Mark(source, ended=False))
                    first, quiet_resume = False, True
                    continue
                if not follow:
                    return
                # Not a broken stream: the container is not running, so nothing new comes for now.
                if not resume:
                    return
                message = ("container stopped; its logs continue when it starts again" if running else
                           "container is not running; its logs continue if it starts")
                first = False
                await queue.put(LogNotice(source, message, broken=False, stopped=True))
                await _wait_until_running(fleet, source, retry_every)
                continue
            except BadReply as exc:  # retrying would read the same garbage again
                await queue.put(LogNotice(source, f"logs unreadable: {exc.detail}", broken=True))
                return
            except (FleetError, DaemonError, OSError) as exc:
                if isinstance(exc, DaemonError) and exc.status == 404:
                    await queue.put(LogNotice(source, "container was removed", broken=True))
                    return
                reason = str(exc)
                if not follow or not resume:
                    await queue.put(LogNotice(source, f"logs unavailable: {reason}", broken=True))
                    return
            except Exception as exc:  # noqa: BLE001 - a bug or a reply nobody foresaw: say so, never end in silence
                detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                await queue.put(LogNotice(source, f"logs stopped by an unexpected error ({detail}); "
                                                  "open the logs again to retry", broken=True))
                return
            first = False
            await queue.put(LogNotice(source, f"stream broke ({reason}); resuming when it can", broken=True))
            await _wait_until_running(fleet, source, retry_every)
    finally:
        with contextlib.suppress(asyncio.QueueFull):
            queue.put_nowait(_Mark(source, ended=True))


class _Overlap:
    """Drops the lines a resumed follow sends again.

    dockerd stamps lines to the nanosecond, so asking `since` just after the last line is enough.
    Podman shows whole seconds (while filtering `since` finer): the resumed stream starts in or
    before the lines delivered in that second, and repeats them up to the last one delivered.
    Its lines of that second are held until the repeat is found (the delivered lines again, up to
    the last) or a later second begins; what precedes the repeat is old too, what follows is new."""

    def __init__(self, ts: str | None, delivered: list[tuple[str, str]]):
        self.ts, self.delivered = ts, delivered
        self.held: list[tuple[str, str, str]] = []
        self.done = not delivered

    def feed(self, line: tuple[str, str, str] | None) -> list[tuple[str, str, str]]:
        """The lines to deliver now; `None` at the end of the stream releases what is held."""
        if self.done:
            return [line] if line else []
        later = [] if line is None else [line]
        if line is not None and line[2] == self.ts:
            self.held.append(line)
            later = []
            if line[:2] != self.delivered[-1] or self._matched(len(self.held) - 1) < len(self.delivered):
                return []  # the whole delivered run has not come again (yet)
        self.done = True
        ends = [e for e in range(len(self.held)) if self.held[e][:2] == self.delivered[-1]
                and self._matched(e) == min(e + 1, len(self.delivered))]
        return self.held[ends[-1] + 1:] + later if ends else self.held + later

    def _matched(self, end: int) -> int:
        """How many delivered lines, counted back from the last, `held` repeats ending at `end`."""
        n = 0
        while n <= end and n < len(self.delivered) and self.held[end - n][:2] == self.delivered[-1 - n]:
            n += 1
        return n


async def _wait_until_running(fleet: FleetAccess, source: LogSource, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        with contextlib.suppress(FleetError, DaemonError, OSError):
            info = await fleet.session(source.host).call(
                lambda c: c.get(f"containers/{source.container_id}/json"))
            if (info.get("State") or {}).get("Running"):
                return


async def split_lines(stream: AsyncIterator[tuple[str, bytes]]) -> AsyncIterator[tuple[str, str, str]]:
    """Split framed chunks into (stream, text, timestamp) lines; a line may span chunks."""
    partial: dict[str, bytes] = {"stdout": b"", "stderr": b""}
    async for name, chunk in stream:
        data = partial[name] + chunk
        *complete, partial[name] = data.split(b"\n")
        for raw in complete:
            yield _parse(name, raw)
    for name, rest in partial.items():
        if rest:
            yield _parse(name, rest)


def _parse(name: str, raw: bytes) -> tuple[str, str, str]:
    text = raw.decode("utf-8", errors="replace").rstrip("\r")
    ts, sep, rest = text.partition(" ")
    if not sep or not ts[:4].isdigit():
        return name, text, "0000-00-00T00:00:00.000000000Z"
    return name, rest, ts
