"""Live CPU/memory for the containers a user is looking at, and only those.

The UI tells `StatsWatcher` which containers are on screen (and the Hosts pane which
hosts it totals); each host's watched containers are sampled together in bursts of
one-shot requests, and rows that scrolled away stop being sampled.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dockyard.fleet.errors import BadReply, FleetError
from dockyard.tasks import cancel_and_wait

if TYPE_CHECKING:
    from dockyard.fleet.session import HostSession

Key = tuple[str, str]  # (host, container id)


@dataclass(frozen=True)
class ContainerStats:
    host: str
    id: str
    cpu_percent: float | None
    mem_usage: int | None
    mem_limit: int | None
    net_rx: int = 0
    net_tx: int = 0
    blk_read: int = 0
    blk_write: int = 0
    pids: int | None = None
    at: float = 0.0

    @property
    def mem_percent(self) -> float | None:
        if not self.mem_usage or not self.mem_limit:
            return None
        return self.mem_usage / self.mem_limit * 100


def stats_from_api(host: str, cid: str, s: dict[str, Any]) -> ContainerStats:
    """Docker CLI's formulas: CPU% from the sample and its predecessor, memory minus page cache."""
    cpu, pre = s.get("cpu_stats") or {}, s.get("precpu_stats") or {}
    cpu_pct = None
    cpu_delta = (cpu.get("cpu_usage") or {}).get("total_usage", 0) - (pre.get("cpu_usage") or {}).get("total_usage", 0)
    sys_delta = cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
    if pre.get("system_cpu_usage") and sys_delta > 0 and cpu_delta >= 0:
        online = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or []) or 1
        cpu_pct = cpu_delta / sys_delta * online * 100.0
    mem = s.get("memory_stats") or {}
    usage = mem.get("usage")
    if usage is not None:
        detail = mem.get("stats") or {}
        cache = detail.get("inactive_file", detail.get("total_inactive_file", 0))
        usage = max(0, usage - cache)
    rx = tx = 0
    for net in (s.get("networks") or {}).values():
        rx += net.get("rx_bytes", 0)
        tx += net.get("tx_bytes", 0)
    rd = wr = 0
    for entry in ((s.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []):
        op = str(entry.get("op", "")).lower()
        if op == "read":
            rd += entry.get("value", 0)
        elif op == "write":
            wr += entry.get("value", 0)
    return ContainerStats(host, cid, cpu_pct, usage, mem.get("limit"), rx, tx, rd, wr,
                          (s.get("pids_stats") or {}).get("current"), time.time())


class StatsWatcher:
    """CPU/memory of the watched containers, sampled in bursts per host.

    A one-shot stats request waits for the daemon's collector, which ticks once a second;
    requests issued together share a tick, trickled ones pay one each, and a stats *stream*
    per container costs most (measured on dockerd 20.10: 40 one-shots together every 5 s
    +2.1 % daemon CPU, every 2 s +5.7 %, 40 streams +8.3 %). One-shot replies carry no
    `precpu_stats`, so CPU % needs two samples of the same container. Hence, per host:

    - every watched container that is due is requested in one burst;
    - a container seen for the first time is due at once (new keys wait `gather` seconds for
      others arriving with them: a scroll brings a screenful), and again one tick after its
      first burst, so CPU % shows ~2 s after a pane does;
    - then every `interval` (`refresh` unless its owners asked otherwise: a detail view asks for
      a faster one, the Hosts pane's totals for a slower one; the fastest wish wins).

    Owners (the Containers pane's visible rows, the Hosts pane's totals, a detail view)
    each state their whole wish; a host no owner wants has no task and costs nothing.
    """

    refresh = 5.0  # s between samples of a container on screen
    tick = 1.0  # the daemon's stats collector period
    gather = 0.15  # s a burst waits for more new keys
    request_timeout = 5.0
    max_burst = 100  # requests at once per host (the Hosts pane's totals of a big host come in waves)
    # Requests at once over the whole fleet: each holds a connection (a descriptor) for ~1 s. The
    # Hosts pane of 500 hosts shows ~40 hosts, ~400 containers: they come in waves of this many.
    max_in_flight = 64

    def __init__(self, session_for: Callable[[str], HostSession], notify: Callable[[str, str], None]):
        self._session_for = session_for
        self._notify = notify
        self._wanted: dict[str, tuple[set[Key], float]] = {}
        self._pollers: dict[str, asyncio.Task[None]] = {}
        self._wake: dict[str, asyncio.Event] = {}
        self._previous: dict[Key, tuple[int, int]] = {}  # (cpu total usage, system usage)
        self._asked: dict[Key, tuple[float, int]] = {}  # (when its last burst was sent, bursts so far)
        self.latest: dict[Key, ContainerStats] = {}
        self.bursts: list[tuple[str, float, int]] = []  # (host, sent at, size): the last 100, for tests/bench
        self._in_flight: asyncio.Semaphore | None = None

    @property
    def watched(self) -> set[Key]:
        return set().union(*(keys for keys, _ in self._wanted.values())) if self._wanted else set()

    def watch(self, keys: Iterable[Key], owner: str = "default", interval: float | None = None) -> None:
        """Set what `owner` wants sampled (every `interval` s, default `refresh`); the union is sampled."""
        self._wanted[owner] = (set(keys), interval or 0.0)
        wanted = self.watched
        for key in [k for k in self.latest if k not in wanted]:
            self.latest.pop(key, None)
        for key in [k for k in self._asked if k not in wanted]:
            self._asked.pop(key, None)
            self._previous.pop(key, None)
        hosts = {h for h, _ in wanted}
        for host in set(self._pollers) - hosts:  # nobody looks at this host any more: stop at once
            self._pollers.pop(host).cancel()
            self._wake.pop(host, None)
        for host in hosts:
            if host in self._pollers:
                self._wake[host].set()
            else:
                self._wake[host] = asyncio.Event()
                self._pollers[host] = asyncio.create_task(self._poll(host), name=f"stats:{host}")

    async def stop(self) -> None:
        self._wanted.clear()
        tasks = list(self._pollers.values())
        self._pollers.clear()
        await cancel_and_wait(tasks, "stats")

    def _plan(self, host: str) -> dict[Key, float]:
        """This host's keys with their interval: the fastest owner's, else `refresh`."""
        plan: dict[Key, float] = {}
        for keys, interval in self._wanted.values():
            for key in keys:
                if key[0] == host:
                    plan[key] = min(plan.get(key, interval or self.refresh), interval or self.refresh)
        return plan

    def _due(self, key: Key, interval: float) -> tuple[float, float]:
        """(when `key` is due, how early it may join a burst): new at once, the 2nd sample a tick
        after the 1st (no earlier: CPU % needs two collector ticks), then every `interval`, or up
        to half of it early so that rows sampled in different bursts converge into one."""
        asked = self._asked.get(key)
        if asked is None:
            return 0.0, 0.0
        sent, attempts = asked
        if attempts < 2:
            return sent + self.tick, 0.0
        if attempts == 2 and interval > self.refresh:
            # A slow wish (the Hosts pane's totals: every running container of ~40 hosts) would
            # sample all its hosts in one burst each period; each host keeps its own phase instead.
            return sent + interval * (1 + zlib.crc32(key[0].encode()) % 1000 / 1000), 0.0
        return sent + interval, interval / 2

    async def _poll(self, host: str) -> None:
        loop = asyncio.get_running_loop()
        wake = self._wake[host]
        fresh = True  # a new poller's first burst: its keys came in one wish, nothing to gather
        try:
            while plan := self._plan(host):
                now = loop.time()
                first = min(self._due(key, interval)[0] for key, interval in plan.items())
                if first > now:
                    wake.clear()
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(wake.wait(), first - now)
                    continue
                if not fresh and any(key not in self._asked for key in plan):
                    await asyncio.sleep(self.gather)  # a scroll: its keys arrive in a few wishes
                    plan = self._plan(host)
                    now = loop.time()
                burst = []
                for key, interval in plan.items():
                    due, early = self._due(key, interval)
                    if due - early <= now:
                        burst.append(key)
                if burst:
                    fresh = False
                    await self._burst(host, burst, now)
        finally:
            if self._pollers.get(host) is asyncio.current_task():
                del self._pollers[host]
                self._wake.pop(host, None)

    async def _burst(self, host: str, keys: list[Key], sent: float) -> None:
        for key in keys:
            self._asked[key] = (sent, self._asked.get(key, (0.0, 0))[1] + 1)
        self.bursts = [*self.bursts[-99:], (host, time.time(), len(keys))]
        results: list[bool] = []
        for start in range(0, len(keys), self.max_burst):
            results += await asyncio.gather(*(self._sample(key) for key in keys[start:start + self.max_burst]))
        if any(results):
            self._notify(host, "stats")

    async def _sample(self, key: Key) -> bool:
        """One one-shot sample; True when it changed what `latest` shows."""
        host, cid = key
        if self._in_flight is None:
            self._in_flight = asyncio.Semaphore(self.max_in_flight)
        try:
            session = self._session_for(host)
            async with self._in_flight:
                if key not in self._asked:
                    return False  # scrolled away while it waited
                raw = await session.call(lambda c: c.one_shot_stats(cid), timeout=self.request_timeout)
        except BadReply as exc:  # the row keeps "-"; the user hears why once
            session.warn(f"stats: {exc.detail}")
            return False
        except (FleetError, OSError, ValueError):
            return False  # host or container went away: its row goes too
        if not isinstance(raw, dict) or str(raw.get("read", "")).startswith("0001"):
            return False  # a stopped container's empty sample
        if key not in self._asked:
            return False  # nobody wants it any more
        cpu = raw.get("cpu_stats") or {}
        total = int((cpu.get("cpu_usage") or {}).get("total_usage", 0))
        system = int(cpu.get("system_cpu_usage", 0))
        previous = self._previous.get(key)
        self._previous[key] = (total, system)
        if previous is not None:
            raw = dict(raw)
            raw["precpu_stats"] = {"cpu_usage": {"total_usage": previous[0]}, "system_cpu_usage": previous[1]}
        self.latest[key] = stats_from_api(host, cid, raw)
        return True
