"""The fleet's event history: every host's daemon events, merged in time order, and the gaps.

Who uses what:

| caller          | uses                                                                        |
|-----------------|-----------------------------------------------------------------------------|
| live sessions   | `EventHistory.record` for each decoded event, `stream_up`/`stream_down`     |
| problems        | `EventHistory.listen` (each kept event), fleet/problems.py                  |
| Events pane     | `EventHistory.events()`, `seq` (what is new since it last looked)           |
| `dockyard events` | `event_from_api`, `read_history`, `follow`                                |

A daemon replays at most its last 256 events (`since`), and a healthcheck makes three `exec_*`
events per probe: they would flood the history, so they are folded into a per-host count and
kept out (a filter that asks for them by name gets them). A host whose events stream breaks and
comes back leaves a gap record ("events missed on gamma 10:42:01–10:42:09"): the history says
it has a hole, and the session relists everything after the reconnect.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from dockyard.tasks import cancel_and_wait

if TYPE_CHECKING:
    from dockyard.fleet.resource import FleetAccess

log = logging.getLogger("dockyard.events")

DEFAULT_KEEP = 5000
GAP = "gap"  # the `type` of a gap record
# Health probes (and `docker exec`): three events per probe per container; folded, see above.
FOLDED_PREFIX = "exec_"


def rfc3339_ns(time_ns: int) -> str:
    """`2026-12-06T10:42:01.123456789Z`: RFC 3339 in UTC with nanoseconds (as the daemon's own)."""
    seconds, nanos = divmod(int(time_ns), 1_000_000_000)
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


def local_clock(time_ns: int, *, date: bool = False) -> str:
    """10:42:01 (local time), or with the date in front."""
    return time.strftime("%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S", time.localtime(time_ns / 1e9))


@dataclass(frozen=True)
class FleetEvent:
    """One daemon event (or a gap record, `type == "gap"`), as the history and the CLI keep it."""

    host: str
    time_ns: int
    type: str  # container, image, network, volume, daemon, service, node, secret, config; or "gap"
    action: str  # die, start, health_status: unhealthy, …
    id: str = ""
    name: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)
    seq: int = field(default=0, compare=False)  # the order the history received it in
    until_ns: int = 0  # a gap: when the stream was back

    @property
    def time(self) -> str:
        return rfc3339_ns(self.time_ns)

    @property
    def seconds(self) -> float:
        return self.time_ns / 1e9

    @property
    def is_gap(self) -> bool:
        return self.type == GAP

    @property
    def summary(self) -> str:
        """What a row's DETAIL says: a gap's words, else the attributes that matter."""
        if self.is_gap:
            return gap_text(self.host, self.time_ns, self.until_ns, self.attributes.get("reason", ""))
        skip = {"name", "image"} if self.type == "container" else {"name"}
        parts = [f"{k}={v}" for k, v in sorted(self.attributes.items()) if k not in skip and not k.startswith(
            ("com.docker.compose.", "org.opencontainers."))]
        if self.type == "container" and self.attributes.get("image"):
            parts.insert(0, f"image={self.attributes['image']}")
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"host": self.host, "time": self.time, "type": self.type, "action": self.action,
                               "id": self.id, "name": self.name, "attributes": dict(self.attributes)}
        if self.is_gap:
            out["until"] = rfc3339_ns(self.until_ns)
            out["detail"] = self.summary
        return out


def gap_text(host: str, start_ns: int, end_ns: int, reason: str = "") -> str:
    date = abs(end_ns - start_ns) > 20 * 3600 * 1e9 or abs(time.time_ns() - start_ns) > 20 * 3600 * 1e9
    text = f"events missed on {host} {local_clock(start_ns, date=date)}–{local_clock(end_ns)}"
    return f"{text} ({reason})" if reason else text


def gap_event(host: str, start_ns: int, end_ns: int, reason: str = "") -> FleetEvent:
    return FleetEvent(host, start_ns, GAP, "missed", attributes={"reason": reason} if reason else {},
                      until_ns=end_ns)


def event_from_api(host: str, raw: Any) -> FleetEvent | None:
    """A daemon's event (the /events JSON) as a FleetEvent; None when it is not of that shape."""
    if not isinstance(raw, dict):
        return None
    kind, action, actor = raw.get("Type"), raw.get("Action"), raw.get("Actor") or {}
    if not isinstance(kind, str) or not isinstance(action, str) or not isinstance(actor, dict):
        return None
    nanos = raw.get("timeNano")
    if not isinstance(nanos, int):
        seconds = raw.get("time")
        nanos = int(seconds * 1_000_000_000) if isinstance(seconds, (int, float)) else time.time_ns()
    attrs = actor.get("Attributes") or {}
    attributes = {str(k): str(v) for k, v in attrs.items()} if isinstance(attrs, dict) else {}
    object_id = str(actor.get("ID") or raw.get("id") or "")
    # a volume's ID is its name (and it has no `name` attribute): shown whole, not cut like an ID
    name = attributes.get("name") or (object_id if kind == "volume" else "")
    return FleetEvent(host, nanos, kind, action, object_id, name, attributes)


def folded(event: FleetEvent) -> bool:
    """Whether the history folds this event away (a health probe's or an exec's)."""
    return event.type == "container" and event.action.startswith(FOLDED_PREFIX)


# ---------------------------------------------------------------------- the live history


class EventHistory:
    """The last `keep` events of every host, in time order, with gap records.

    Fed by the live sessions (see the module docstring); `on_change(host)` runs once per kept
    event (the fleet batches those for the UI), listeners get each kept event as it comes.
    """

    def __init__(self, keep: int = DEFAULT_KEEP, on_change: Callable[[str], None] | None = None):
        self.keep = max(1, keep)
        self._on_change = on_change
        self._events: list[FleetEvent] = []  # sorted by (time_ns, seq)
        self._keys: list[tuple[int, int]] = []
        self.seq = 0  # of the last kept event
        self.folded: dict[str, int] = {}  # host -> exec_* events folded away
        self._down: dict[str, tuple[int, str]] = {}  # host -> (when its stream broke, why)
        self.opened: dict[str, int] = {}  # host -> when its events stream first opened (ns): read-back ends there
        self._listeners: list[Callable[[FleetEvent], None]] = []

    def listen(self, listener: Callable[[FleetEvent], None]) -> None:
        self._listeners.append(listener)

    def events(self, hosts: Iterable[str] | None = None) -> list[FleetEvent]:
        wanted = set(hosts) if hosts else None
        return [e for e in self._events if wanted is None or e.host in wanted]

    def __len__(self) -> int:
        return len(self._events)

    def record(self, host: str, raw: Any) -> FleetEvent | None:
        """A decoded event from `host`'s stream: kept (and returned) or folded (None)."""
        event = event_from_api(host, raw)
        if event is None:
            return None
        if folded(event):
            self.folded[host] = self.folded.get(host, 0) + 1
            return None
        return self._keep(event)

    def stream_up(self, host: str) -> None:
        """`host`'s events stream is open: if it had broken before, the time between is a gap."""
        self.opened.setdefault(host, time.time_ns())
        down = self._down.pop(host, None)
        if down is not None:
            self._keep(gap_event(host, down[0], time.time_ns(), down[1]))

    def stream_down(self, host: str, reason: str = "") -> None:
        """`host`'s events stream ended (the first break counts until it is back)."""
        self._down.setdefault(host, (time.time_ns(), reason))

    def read_back(self, batches: Iterable[tuple[str, Iterable[FleetEvent]]]) -> int:
        """Hosts' history from before their streams opened, as their daemons still hold it (read
        once), as (host, its events) pairs: kept in time order among the rest, each event once (a
        daemon's clock may run ahead of ours, so its live stream may already hold the last of them).
        No listener hears them: problems are about now, and these events are older than the state
        the cache was listed in. Returns how many were new.

        All hosts' batches in one merge, and `on_change` once per host: hundreds of hosts read back
        up to 256 events each into a history of `keep`, and a view rebuilds once, not per host.
        Once the history is full, what is older than all it keeps is dropped at once."""
        oldest = self._keys[0][0] if len(self._events) >= self.keep else None
        new: list[FleetEvent] = []
        hosts: list[str] = []
        for host, events in batches:
            events = [e for e in events if oldest is None or e.time_ns >= oldest]
            if not events:
                continue
            # what this host already holds in the same span (only there can the two overlap)
            lo = bisect.bisect_left(self._keys, (min(e.time_ns for e in events), 0))
            hi = bisect.bisect_right(self._keys, (max(e.time_ns for e in events), self.seq + 1))
            have = {(e.time_ns, e.type, e.action, e.id) for e in self._events[lo:hi] if e.host == host}
            fresh = [e for e in events if (e.time_ns, e.type, e.action, e.id) not in have]
            if fresh:
                new += fresh
                hosts.append(host)
        if not new:
            return 0
        new.sort(key=lambda e: e.time_ns)  # stable: a host's own order kept for equal times
        for event in new:
            self.seq += 1
            _with_seq(event, self.seq)
        if not self._events or new[-1].time_ns < self._keys[0][0]:
            merged = new + self._events  # all older than what is kept: the common case
        else:
            merged = list(heapq.merge(self._events, new, key=_time_order))
        if len(merged) > self.keep:
            del merged[:len(merged) - self.keep]
        self._events = merged
        self._keys = [_time_order(e) for e in merged]
        if self._on_change is not None:
            for host in hosts:
                self._on_change(host)
        return len(new)

    def _insert(self, event: FleetEvent) -> FleetEvent:
        self.seq += 1
        event = _with_seq(event, self.seq)
        key = (event.time_ns, event.seq)
        if not self._keys or key >= self._keys[-1]:
            self._events.append(event)
            self._keys.append(key)
        else:  # another host's clock or stream ran a little behind (or read back): keep time order
            at = bisect.bisect(self._keys, key)
            self._events.insert(at, event)
            self._keys.insert(at, key)
        if len(self._events) > self.keep + self.keep // 10:  # in batches: a view adds rows at its end
            drop = len(self._events) - self.keep  # and rebuilds once per keep/10 events, not per event
            del self._events[:drop]
            del self._keys[:drop]
        return event

    def _keep(self, event: FleetEvent) -> FleetEvent:
        event = self._insert(event)
        for listener in list(self._listeners):
            listener(event)
        if self._on_change is not None:
            self._on_change(event.host)
        return event



def _time_order(event: FleetEvent) -> tuple[int, int]:
    return event.time_ns, event.seq


def _with_seq(event: FleetEvent, seq: int) -> FleetEvent:
    object.__setattr__(event, "seq", seq)  # frozen for readers; numbered once, here, before anyone sees it
    return event


# ---------------------------------------------------------------------- reading a daemon's events (CLI, read-back)

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_moment(text: str, now: float | None = None) -> float:
    """`--since`/`--until` as `docker events` takes them: a duration back from now (10m, 90s, 2h,
    0s), a unix timestamp (1733480000 or 1733480000.5), or an RFC 3339 date/time. ValueError when
    none of these."""
    now = time.time() if now is None else now
    text = text.strip()
    found = _DURATION.match(text)
    if found:
        return now - float(found.group(1)) * _UNITS[found.group(2)]
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    try:
        value = text[:-1] + "+00:00" if text.endswith("Z") else text
        value = re.sub(r"(\.\d{1,6})\d*", r"\1", value)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not a time: use a duration (10m, 30s, 2h), a unix timestamp "
                         "or an RFC 3339 date/time (2026-12-06T10:42:00Z)") from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # local time, as docker reads it
    return moment.timestamp()


def wants_folded(filters: Mapping[str, list[str]] | None) -> bool:
    """A filter that names an exec_* event asks for them: they are not folded away then."""
    return any(v.startswith(FOLDED_PREFIX) for v in (filters or {}).get("event", []))


def _params(since: float | None, until: float | None, filters: Mapping[str, list[str]] | None) -> dict[str, str]:
    params: dict[str, str] = {}
    if since is not None:
        params["since"] = f"{max(since, 0.000000001):.9f}"
    if until is not None:
        params["until"] = f"{until:.9f}"
    if filters:
        params["filters"] = json.dumps({k: list(v) for k, v in filters.items()})
    return params


async def daemon_events(client: Any, *, since: float | None, until: float | None,
                        filters: Mapping[str, list[str]] | None = None,
                        on_open: Callable[[], None] | None = None) -> AsyncIterator[dict[str, Any]]:
    """The raw events of one daemon: its history from `since` (what its 256-event ring still
    holds), then live unless `until` ends it."""
    async for raw in client.event_stream(params=_params(since, until, filters), on_open=on_open):
        yield raw


async def read_history(fleet: FleetAccess, host: str, since: float | None, until: float,
                       filters: Mapping[str, list[str]] | None = None) -> list[FleetEvent]:
    """One host's events between `since` and `until`, as the daemon still has them."""
    client = await fleet.client(host)
    keep_folded = wants_folded(filters)
    out = []

    async def read() -> None:
        async for raw in daemon_events(client, since=since if since is not None else 1e-9, until=until,
                                       filters=filters):
            event = event_from_api(host, raw)
            if event is not None and (keep_folded or not folded(event)):
                out.append(event)

    limit = fleet.session(host).config.request_timeout
    try:
        await asyncio.wait_for(read(), limit)
    except asyncio.TimeoutError:
        from dockyard.fleet.errors import RequestTimeout

        raise RequestTimeout(f"no answer within {limit:g}s") from None
    return out


class ReadBack:
    """Each host's own events from before Dockyard connected (`window` s back), read once from its
    daemon into the history, so the Events view opens on the last hour rather than on nothing.

    Started by the Events view's first opening, not at launch: hundreds of hosts would each send
    up to 256 events while the fleet connects, for a view that may never open. A host whose events
    stream opens later (it was down) is read when it does. Reads run in background slots, like every
    request no user waits for; what they bring is merged in one go when the last read in flight
    ends (or every APPLY_EVERY s while a slow host is still answering): one merge and one view
    rebuild instead of one per host."""

    APPLY_EVERY = 1.0

    def __init__(self, fleet: FleetAccess, history: EventHistory, window: float):
        self.fleet, self.history, self.window = fleet, history, window
        self.since = time.time() - window
        self.started = False
        self._tasks: dict[str, asyncio.Future[None]] = {}
        self._in_flight = 0
        self._read: list[tuple[str, list[FleetEvent]]] = []
        self._apply_handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        if self.started or self.window <= 0:
            return
        self.started = True
        for host in list(self.history.opened):
            self.stream_up(host)

    def stream_up(self, host: str) -> None:
        """`host`'s events stream is open: read its history once, if the view asked for it."""
        if self.started and host not in self._tasks:
            self._in_flight += 1
            self._tasks[host] = asyncio.ensure_future(self._read_host(host))

    async def _read_host(self, host: str) -> None:
        try:
            until = self.history.opened[host] / 1e9
            if until > self.since:
                async with self.fleet.session(host).links.background_slot():
                    self._read.append((host, await read_history(self.fleet, host, self.since, until)))
        except Exception as exc:  # noqa: BLE001 - the live history goes on without it (a cancel is not one)
            log.info("%s: reading its event history back failed: %s", host, exc)
        finally:
            self._in_flight -= 1
        if self._in_flight == 0:
            self._apply()
        elif self._apply_handle is None and self._read:
            self._apply_handle = asyncio.get_running_loop().call_later(self.APPLY_EVERY, self._apply)

    def _apply(self) -> None:
        if self._apply_handle is not None:
            self._apply_handle.cancel()
            self._apply_handle = None
        read, self._read = self._read, []
        if read:
            self.history.read_back(read)

    async def close(self) -> None:
        if self._apply_handle is not None:
            self._apply_handle.cancel()
        await cancel_and_wait(list(self._tasks.values()), "reading events back")


def merge_in_time_order(per_host: Iterable[Iterable[FleetEvent]]) -> list[FleetEvent]:
    """Every host's events in one list, in time order (a host's own order kept for equal times)."""
    merged = [e for events in per_host for e in events]
    merged.sort(key=lambda e: e.time_ns)
    return merged
