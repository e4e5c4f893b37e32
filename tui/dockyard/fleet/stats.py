"""Live CPU/memory for the containers a user is looking at, and only those.

The daemon's cost grows with every open stats stream, so the UI tells `StatsWatcher`
which containers are on screen; streams for rows that scrolled away are cancelled
(their connections released, see `DockerClient._query`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dockyard.fleet.errors import FleetError
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
    """CPU/memory for the watched containers, by polling one-shot samples under a request budget.

    A stats *stream* costs the daemon (and containerd's shims) a collection every second
    per container (measured: 40 streams raised a daemon from 3 % to 13 % CPU). Here each
    host gets at most `per_host_rate` one-shot requests a second, spread evenly, and CPU %
    is computed from a container's consecutive samples. Watched sets come per owner
    (the Containers pane, a detail view); an owner may ask for a faster `interval`.
    """

    min_interval = 2.0
    per_host_rate = 3.0

    def __init__(self, session_for: Callable[[str], HostSession], notify: Callable[[str, str], None]):
        self._session_for = session_for
        self._notify = notify
        self._wanted: dict[str, tuple[set[Key], float]] = {}
        self._pollers: dict[str, asyncio.Task[None]] = {}
        self._previous: dict[Key, tuple[int, int]] = {}  # (cpu total usage, system usage)
        self.latest: dict[Key, ContainerStats] = {}

    @property
    def watched(self) -> set[Key]:
        return set().union(*(keys for keys, _ in self._wanted.values())) if self._wanted else set()

    def watch(self, keys: Iterable[Key], owner: str = "default", interval: float | None = None) -> None:
        """Set what `owner` wants sampled; the union of all owners is polled.

        Keys without an `interval` share the host's request budget; an owner that names an
        interval (a detail view, one container) gets it regardless of the budget.
        """
        self._wanted[owner] = (set(keys), interval or 0.0)
        wanted = self.watched
        for key in list(self.latest):
            if key not in wanted:
                self.latest.pop(key, None)
                self._previous.pop(key, None)
        for host in {h for h, _ in wanted} - set(self._pollers):
            self._pollers[host] = asyncio.create_task(self._poll(host), name=f"stats:{host}")

    async def stop(self) -> None:
        self._wanted.clear()
        tasks = list(self._pollers.values())
        self._pollers.clear()
        await cancel_and_wait(tasks, "stats")

    def _plan(self, host: str) -> list[tuple[Key, float]]:
        """This host's keys with their interval: an explicit one (fastest owner wins), else the budget's."""
        explicit: dict[Key, float] = {}
        shared: set[Key] = set()
        for keys, interval in self._wanted.values():
            for key in keys:
                if key[0] != host:
                    continue
                if interval:
                    explicit[key] = min(explicit.get(key, interval), interval)
                else:
                    shared.add(key)
        shared -= set(explicit)
        budget = max(self.min_interval, len(shared) / self.per_host_rate)
        return sorted({**{k: budget for k in shared}, **explicit}.items())

    async def _poll(self, host: str) -> None:
        loop = asyncio.get_running_loop()
        last: dict[Key, float] = {}  # when each key was last sampled
        first_seen: dict[Key, float] = {}
        try:
            while True:
                plan = dict(self._plan(host))
                if not plan:
                    return
                for key in list(first_seen):
                    if key not in plan:
                        first_seen.pop(key, None)
                        last.pop(key, None)
                now = loop.time()
                for key in plan:
                    first_seen.setdefault(key, now)
                # when each key is due: new keys at once; an interval that shrank applies right away
                due = {k: (last[k] + plan[k] if k in last else first_seen[k]) for k in plan}
                ready = [k for k in plan if due[k] <= now]
                if not ready:
                    await asyncio.sleep(min(min(due.values()) - now, 0.5))  # re-plan at least twice a second
                    continue
                # an owner that asked for an interval (a detail view) goes before the shared budget
                wanted_fast = self._explicit_keys(host)
                explicit = [k for k in ready if k in wanted_fast]
                key = min(explicit or ready, key=due.get)
                last[key] = now
                await self._sample(key)
                await asyncio.sleep(1 / self.per_host_rate)
        finally:
            if self._pollers.get(host) is asyncio.current_task():
                del self._pollers[host]

    def _explicit_keys(self, host: str) -> set[Key]:
        return {k for keys, interval in self._wanted.values() if interval for k in keys if k[0] == host}

    async def _sample(self, key: Key) -> None:
        host, cid = key
        try:
            session = self._session_for(host)
            raw = await session.call(lambda c: c.get(f"containers/{cid}/stats", stream="0", **{"one-shot": "1"}),
                                     timeout=10)
        except (FleetError, OSError, ValueError):
            return  # host or container went away: its row goes too
        if not isinstance(raw, dict) or str(raw.get("read", "")).startswith("0001"):
            return  # a stopped container's empty sample
        cpu = raw.get("cpu_stats") or {}
        total = int((cpu.get("cpu_usage") or {}).get("total_usage", 0))
        system = int(cpu.get("system_cpu_usage", 0))
        previous = self._previous.get(key)
        self._previous[key] = (total, system)
        if previous is not None:
            raw = dict(raw)
            raw["precpu_stats"] = {"cpu_usage": {"total_usage": previous[0]}, "system_cpu_usage": previous[1]}
        if key in self.watched:
            self.latest[key] = stats_from_api(host, cid, raw)
            self._notify(host, "stats")
