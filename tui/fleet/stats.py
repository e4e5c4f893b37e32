"""Live CPU/memory for the containers a user is looking at, and only those.

The daemon's cost grows with every open stats stream, so the UI tells `StatsWatcher`
which containers are on screen; streams for rows that scrolled away are cancelled
(their connections released, see `DockerClient._query`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui.fleet.errors import FleetError

if TYPE_CHECKING:
    from tui.fleet.session import HostSession

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
    """Keeps exactly one stats stream open per watched container."""

    def __init__(self, session_for: Callable[[str], HostSession], notify: Callable[[str, str], None]):
        self._session_for = session_for
        self._notify = notify
        self._tasks: dict[Key, asyncio.Task[None]] = {}
        self._wanted: dict[str, set[Key]] = {}
        self.latest: dict[Key, ContainerStats] = {}

    @property
    def watched(self) -> set[Key]:
        return set(self._tasks)

    def watch(self, keys: Iterable[Key], owner: str = "default") -> None:
        """Set what `owner` (a pane, a detail view) wants streamed; the union of all owners is."""
        self._wanted[owner] = set(keys)
        wanted = set().union(*self._wanted.values())
        for key in list(self._tasks):
            if key not in wanted:
                self._tasks.pop(key).cancel()
                self.latest.pop(key, None)
        for key in wanted - set(self._tasks):
            self._tasks[key] = asyncio.create_task(self._follow(key), name=f"stats:{key[0]}:{key[1][:12]}")

    async def stop(self) -> None:
        self._wanted.clear()
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _follow(self, key: Key) -> None:
        host, cid = key
        try:
            session = self._session_for(host)
            client = session.client
            if client is None:
                return
            async for sample in client.stats_stream(cid):
                if not sample.get("read", "").startswith("0001"):  # a stopped container's empty sample
                    self.latest[key] = stats_from_api(host, cid, sample)
                    self._notify(host, "stats")
        except (FleetError, OSError, ValueError) as exc:  # host went away: the row will go too
            del exc
        except Exception:  # noqa: BLE001 - aiohttp errors on a dropped link end this stream only
            pass
        finally:
            with contextlib.suppress(KeyError):
                if self._tasks.get(key) is asyncio.current_task():
                    del self._tasks[key]
