"""The fleet controller: every host's session, fan-out calls, the live cache, observers.

Who uses what:

| caller        | uses                                                                     |
|---------------|--------------------------------------------------------------------------|
| headless CLI  | `Fleet(live=False)`, the resources (`containers.list`, `images.pull`, `swarm.load`, …) |
| Textual UI    | `Fleet(live=True)`, `subscribe`, `cached()`, the resources, host keys     |
| tests         | all of it, against the real lab                                           |

A fan-out yields one `HostResult` per host as soon as that host answers, so a slow or
dead host never delays the others; its error is a result like any other.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from dockyard.config.model import Config, HostConfig
from dockyard.fleet import descriptors
from dockyard.fleet.docker_api import DockerClient
from dockyard.fleet.errors import FleetError, ReadOnlyError, UnknownHost
from dockyard.fleet.containers import Containers
from dockyard.fleet.freshness import FreshnessChecker
from dockyard.fleet.images import Images
from dockyard.fleet.models import FleetChange, HostResult, HostState, HostStatus
from dockyard.fleet.networks import Networks
from dockyard.fleet.recreate import Recreate
from dockyard.fleet.events import EventHistory, ReadBack
from dockyard.fleet.problems import ProblemWatch
from dockyard.fleet.session import HostSession, Liveness, Timing
from dockyard.fleet.stats import ContainerStats, StatsWatcher
from dockyard.fleet.volumes import Volumes
from dockyard.textfmt import human_bytes_iec, human_size
from dockyard.fleet.swarm import SwarmController
from dockyard import transports  # transports.default_known_hosts: SSH code, loaded when first asked
from dockyard.transports import HostKeyProblem, HostKeyTrust, HostKeyUnknown, Links, PassphrasePrompt

if TYPE_CHECKING:
    from dockyard.fleet.prefetch import Prefetch

T = TypeVar("T")
log = logging.getLogger("dockyard.fleet")
Observer = Callable[[FleetChange], None]


class Fleet:
    """All sessions of a configuration. Use as `async with Fleet(config) as fleet:`.

    The operations on each kind of object are its resource: `fleet.containers`, `fleet.images`,
    `fleet.volumes`, `fleet.networks` (see the package docstring)."""

    def __init__(self, config: Config, *, live: bool = True, readonly: bool | None = None,
                 passphrase_prompt: PassphrasePrompt | None = None, timing: Timing | None = None,
                 batch_interval: float = 0.1, prefetch: Prefetch | None = None):
        self.config = config
        self._prefetch = prefetch  # the CLI's start-up listing (fleet/prefetch.py), seeds the caches
        self.live = live
        self.readonly = config.readonly if readonly is None else readonly
        self.trust = HostKeyTrust()
        self.batch_interval = batch_interval
        self._observers: list[Observer] = []
        self._pending: set[tuple[str, str]] = set()
        self._pending_pings: set[tuple[str, str]] = set()  # LATENCY changes: passed on once a second
        self._flush_handle: asyncio.TimerHandle | None = None
        self._ping_handle: asyncio.TimerHandle | None = None
        self._rows_seen: set[str] = set()  # hosts whose first container rows have been passed on
        self.stats = StatsWatcher(self.session, self.changed)
        # Descriptors and probes are planned for the fleet's size before anything connects.
        self.descriptors = descriptors.plan(config.hosts, live=live)
        self.notices: list[str] = [self.descriptors.warning] if self.descriptors.warning else []
        enabled = sum(1 for h in config.hosts if h.enabled)
        timing = timing or Timing.for_hosts(enabled)
        self.links = Links(keep_idle=self.descriptors.keep_idle, requests=self.descriptors.requests,
                           probe_streams=self.descriptors.probe_streams,
                           ssh_handshakes=config.ssh_handshakes,
                           ssh_keepalive=max(1.0, min(timing.ping_every, 5.0)), ssh_probed=live)
        self.liveness = Liveness.for_timing(timing)  # one probe clock for every host
        self.sessions: dict[str, HostSession] = {
            h.name: HostSession(h, live=live, trust=self.trust, notify=self.changed,
                                passphrase_prompt=passphrase_prompt, timing=timing,
                                readonly=self.readonly, links=self.links, liveness=self.liveness)
            for h in config.hosts
        }
        self.containers = Containers(self)
        self.images = Images(self)
        self.volumes = Volumes(self)
        self.networks = Networks(self)
        self.swarm = SwarmController(self)
        self.freshness = FreshnessChecker(self)
        self.recreate = Recreate(self, grace=config.recreate.grace, health_timeout=config.recreate.health_timeout)
        # live mode: every host's events kept fleet-wide (fleet/events.py), problems from them (fleet/problems.py)
        self.history = EventHistory(config.events.keep, on_change=lambda host: self.changed(host, "events"))
        self.read_back = ReadBack(self, self.history, config.events.read_back)  # the Events view starts it
        self.problems = ProblemWatch(self, config.problems)
        if live:
            for session in self.sessions.values():
                session.on_event, session.on_stream = self._heard_event, self._stream_changed

    async def __aenter__(self) -> Fleet:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def start(self) -> None:
        """Connect every enabled host concurrently (returns at once).

        The SSH transport is imported first when a host needs it: an import blocks the event loop
        (asyncssh: 0.34 s here, several seconds on a loaded machine), and done by the first SSH
        host's session it ran while the other hosts' connect_timeout clocks were already ticking,
        failing hosts that had answered in time."""
        if any(s.config.enabled and s.config.scheme == "ssh" for s in self.sessions.values()):
            import dockyard.transports.ssh  # noqa: F401
        for session in self.sessions.values():
            seed = self._prefetch.containers(session.name) if self._prefetch is not None else None
            if seed is not None:
                session.seed(seed)
            session.start()
        self._prefetch = None
        if self.live:
            self.swarm.start()
            self.freshness.start()
            self.problems.start()

    async def close(self, grace: float | None = None) -> bool:
        """Stop every session; with `grace`, wait at most that long and leave the rest behind.

        A bounded close is for a process about to end anyway (quit, the terminal hung up): it says
        goodbye to the daemons it can reach quickly and never waits on one that does not answer.
        Every session stops at once, not one after the other. Returns whether everything closed in time.
        """
        if grace is None:
            await self._close()
            return True
        closing = asyncio.ensure_future(self._close())
        done, _ = await asyncio.wait({closing}, timeout=grace)  # not wait_for: it would await the cancel
        return bool(done)

    async def _close(self) -> None:
        for handle in (self._flush_handle, self._ping_handle):
            if handle is not None:
                handle.cancel()
        await self.recreate.wait_background()  # a recreate is finished or rolled back, never cut in half
        await self.stats.stop()
        await self.problems.close()
        await self.read_back.close()
        await self.swarm.close()
        await self.freshness.close()
        await asyncio.gather(*(s.stop() for s in self.sessions.values()), return_exceptions=True)
        await self.links.close()

    async def wait_settled(self, timeout: float | None = None, hosts: Iterable[str] | None = None) -> None:
        """Wait until every (selected) host is online or has failed, at most `timeout` s."""
        sessions = [self.session(h) for h in hosts] if hosts else list(self.sessions.values())
        waits = [asyncio.ensure_future(s.wait_settled()) for s in sessions]
        if not waits:
            return
        done, pending = await asyncio.wait(waits, timeout=timeout)
        for w in pending:
            w.cancel()

    # ------------------------------------------------------------------ hosts

    def session(self, name: str) -> HostSession:
        try:
            return self.sessions[name]
        except KeyError:
            raise UnknownHost(f"no host named {name!r} (hosts: {', '.join(self.sessions) or 'none'})") from None

    def hosts(self) -> list[HostStatus]:
        return [self.swarm.annotate(s.status()) for s in self.sessions.values()]

    def hosts_awaiting_key_decision(self) -> list[str]:
        """Hosts whose (or whose jump hop's) unknown or changed host key waits for the user; asked
        after every batch of host changes, so it builds no status (500 of those were not cheap)."""
        return [s.name for s in self.sessions.values() if isinstance(s.problem, HostKeyProblem)]

    def host(self, name: str) -> HostStatus:
        return self.swarm.annotate(self.session(name).status())

    def host_config(self, name: str) -> HostConfig:
        return self.session(name).config

    def known_hosts_path(self, name: str) -> str:
        """Where accepting the host's pending key would save it (the hop's first user known_hosts)."""
        session = self.session(name)
        problem = session.problem
        if isinstance(problem, HostKeyUnknown) and problem.save_to:
            return problem.save_to
        return transports.default_known_hosts(session.config)

    async def host_details(self, name: str) -> list[tuple[str, list[tuple[str, str]]]]:
        """`docker info` and `docker system df` facts for one host, as titled (key, value) lists."""
        session = self.session(name)
        info = await session.call(lambda c: c.get("info"))
        df = await session.call(lambda c: c.get("system/df"))
        status = session.status()
        connection = [("URL", session.config.url), ("Transport", status.transport),
                      ("State", session.describe_state()),
                      ("Latency", f"{status.latency_ms:.1f} ms" if status.latency_ms is not None else "-"),
                      ("Read-only", "yes" if status.readonly else "no")]
        facts = {"NCPU": "CPUs", "MemTotal": "Memory", "ContainersRunning": "Running", "ContainersPaused": "Paused",
                 "ContainersStopped": "Stopped"}
        daemon = []
        for k in ("Name", "ServerVersion", "OperatingSystem", "KernelVersion", "Architecture", "NCPU", "MemTotal",
                  "Driver", "CgroupDriver", "CgroupVersion", "DockerRootDir", "Containers", "ContainersRunning",
                  "ContainersPaused", "ContainersStopped"):
            value = info.get(k)
            text = "-" if value is None else human_bytes_iec(value) if k == "MemTotal" else str(value)
            daemon.append((facts.get(k, k), text))
        # Images: what `docker images` lists, each image once — the Hosts pane's and `dockyard
        # hosts`' figure too (/info's own count includes intermediate layers)
        images = df.get("Images") or []
        daemon.append(("Images", str(len(images))))
        usage = []
        for label, key, size_key in (("Images", "Images", "Size"), ("Containers", "Containers", "SizeRw"),
                                     ("Volumes", "Volumes", None), ("Build cache", "BuildCache", "Size")):
            items = df.get(key) or []
            if key == "Images" and df.get("LayersSize") is not None:  # shared layers once, as docker system df
                total = int(df["LayersSize"])
            elif size_key:
                total = sum(int(i.get(size_key) or 0) for i in items)
            else:
                total = sum(max(0, int((i.get("UsageData") or {}).get("Size") or 0)) for i in items)
            usage.append((label, f"{len(items)} using {human_size(total)}"))
        return [("Connection", connection), ("Daemon (docker info)", daemon), ("Disk usage (docker system df)", usage)]

    async def reconnect(self, name: str) -> None:
        await self.session(name).reconnect()

    async def accept_host_key(self, name: str, *, save: bool) -> None:
        """Trust the unknown key the host (or one of its jump hops) offered, then reconnect.

        `save=False` trusts it for this run only; `save=True` appends it to known_hosts.
        A changed key is never accepted.
        """
        session = self.session(name)
        problem = session.problem
        if not isinstance(problem, HostKeyUnknown):
            raise FleetError(f"{name}: no unknown host key is awaiting a decision")
        if save:
            HostKeyTrust.save(problem, transports.default_known_hosts(session.config))
        self.trust.accept_once(problem)
        await session.reconnect()

    # ------------------------------------------------------------------ fan-out

    def selected(self, hosts: Iterable[str] | None) -> list[HostSession]:
        """The sessions of these hosts (each once), or of every enabled host when none are named."""
        if hosts:
            return [self.session(h) for h in dict.fromkeys(hosts)]
        return [s for s in self.sessions.values() if s.config.enabled]

    def writable_hosts(self, hosts: Iterable[str] | None) -> list[str]:
        """The selected hosts' names; ReadOnlyError before anything is done if one is read-only."""
        names = [s.name for s in self.selected(hosts)]
        for name in names:
            self.check_writable(name)
        return names

    async def call(self, host: str, fn: Callable[[DockerClient], Awaitable[T]], timeout: float | None = None) -> T:
        """`fn(client)` on one host once it is online, within its request timeout (or `timeout`)."""
        return await self.session(host).call(fn, timeout)

    async def client(self, host: str) -> DockerClient:
        """The host's client once online, for streams that must outlive a request timeout."""
        async def itself(client: DockerClient) -> DockerClient:
            return client
        return await self.call(host, itself)

    async def fan_out(self, fn: Callable[[DockerClient], Awaitable[T]],
                      hosts: Iterable[str] | None = None,
                      timeout: float | None = None) -> AsyncIterator[HostResult[T]]:
        """Run `fn(client)` on every selected host at once; yield each host's result as it lands."""
        sessions = self.selected(hosts)

        async def one(session: HostSession) -> HostResult[T]:
            start = time.perf_counter()
            try:
                value = await session.call(fn, timeout)
            except FleetError as exc:
                return HostResult(session.name, error=str(exc), elapsed=time.perf_counter() - start)
            except Exception as exc:  # noqa: BLE001 - one host's surprise must not sink the others
                return HostResult(session.name, error=f"unexpected error: {type(exc).__name__}: {exc}",
                                  elapsed=time.perf_counter() - start)
            return HostResult(session.name, value=value, elapsed=time.perf_counter() - start)

        tasks = [asyncio.ensure_future(one(s)) for s in sessions]
        try:
            for next_done in asyncio.as_completed(tasks):
                yield await next_done
        finally:
            for t in tasks:
                t.cancel()

    async def gather(self, fn: Callable[[DockerClient], Awaitable[T]],
                     hosts: Iterable[str] | None = None) -> list[HostResult[T]]:
        """Fan-out collected into a list, in the order hosts answered."""
        return [r async for r in self.fan_out(fn, hosts)]

    async def refresh_info(self, hosts: Iterable[str] | None = None) -> list[HostResult[None]]:
        """Fetch `/info` and latency of each online host (for `dockyard hosts`)."""
        async def one(session: HostSession) -> HostResult[None]:
            try:
                await session.refresh_info()
            except FleetError as exc:
                return HostResult(session.name, error=str(exc))
            return HostResult(session.name)
        return list(await asyncio.gather(*(one(s) for s in self.selected(hosts))))

    # ------------------------------------------------------------------ live cache

    def cached(self, kind: str, hosts: Iterable[str] | None = None) -> list[Any]:
        """Cached objects of `kind` from online hosts (live mode)."""
        out: list[Any] = []
        for s in self.selected(hosts):
            if s.rows_current:
                out.extend(s.cache.items(kind))
        return out

    def last_known(self, kind: str, hosts: Iterable[str] | None = None) -> list[tuple[HostStatus, list[Any]]]:
        """What hosts that are down held when last seen, with their status (state, down_since):
        an ops user must still see what ran there. Empty for hosts never listed."""
        out = []
        for s in self.selected(hosts):
            if not s.rows_current and s.state != HostState.DISABLED and kind in s.cache.loaded:
                out.append((s.status(), s.cache.items(kind)))
        return out

    def watch_stats(self, keys: Iterable[tuple[str, str]], owner: str = "default",
                    interval: float | None = None) -> None:
        """Sample CPU/memory of these (host, container id) pairs on behalf of `owner`.

        Each owner (the Containers pane, a detail view) states its whole wish, optionally
        with a faster `interval`; containers no owner wants any more stop being sampled.
        """
        self.stats.watch(keys, owner, interval)

    def container_stats(self, host: str, container_id: str) -> ContainerStats | None:
        return self.stats.latest.get((host, container_id))

    def subscribe(self, observer: Observer) -> Callable[[], None]:
        """Call `observer(FleetChange)` after changes, batched per `batch_interval`; returns unsubscribe."""
        self._observers.append(observer)
        return lambda: self._observers.remove(observer) if observer in self._observers else None

    def _heard_event(self, host: str, raw: dict[str, Any]) -> None:
        """A session's decoded event, into the history (whose failure must not end the stream)."""
        try:
            self.history.record(host, raw)
        except Exception:  # noqa: BLE001
            log.exception("%s: keeping an event failed", host)

    def _stream_changed(self, host: str, up: bool, reason: str) -> None:
        try:
            if up:
                self.history.stream_up(host)
                self.read_back.stream_up(host)
            else:
                self.history.stream_down(host, reason)
        except Exception:  # noqa: BLE001
            log.exception("%s: recording the events stream's state failed", host)

    def changed(self, host: str, kind: str) -> None:
        """Tell observers `kind` changed on `host`: batched per `batch_interval`, a host's first
        container rows and a swarm reload at once (sessions, stats and resources call this)."""
        if kind == "swarm-event":  # straight to the swarm controller: its reload loop coalesces them
            self.swarm.heard(host)
            return
        if kind == "ping":  # LATENCY of hundreds of hosts: one batch a second at most
            self._pending_pings.add((host, kind))
            if self._ping_handle is None:
                try:
                    self._ping_handle = asyncio.get_running_loop().call_later(1.0, self._flush_pings)
                except RuntimeError:
                    pass
            return
        self._pending.add((host, kind))
        first_rows = kind == "containers" and host not in self._rows_seen
        if first_rows:  # a host's first rows are what a user waits for: not batched
            if self._flush_soon(0):
                self._rows_seen.add(host)
        elif kind == "swarm":  # one per swarm reload, already coalesced: not batched a second time
            self._flush_soon(0)
        elif self._flush_handle is None:
            self._flush_soon(self.batch_interval)

    def _flush_soon(self, delay: float) -> bool:
        """Flush after `delay` s (0: at once, ahead of a batch already waiting); False outside a loop."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        if self._flush_handle is not None:
            if delay:
                return True
            self._flush_handle.cancel()
        self._flush_handle = loop.call_later(delay, self._flush)
        return True

    def _flush_pings(self) -> None:
        self._ping_handle = None
        self._pending |= self._pending_pings
        self._pending_pings.clear()
        self._flush()

    def _flush(self) -> None:
        self._flush_handle = None
        if not self._pending:
            return
        change = FleetChange(frozenset(self._pending))
        self._pending.clear()
        for observer in list(self._observers):
            observer(change)

    # ------------------------------------------------------------------ actions

    def is_online(self, host: str) -> bool:
        return self.session(host).state == HostState.ONLINE

    def online_hosts(self, hosts: Iterable[str] | None = None, *, writable: bool = False) -> list[str]:
        """The selected hosts that answer now; `writable`: only those that take changes (neither the
        fleet nor the host read-only). The UI asks this instead of repeating the rules."""
        return [s.name for s in self.selected(hosts)
                if s.state == HostState.ONLINE and not (writable and (self.readonly or s.readonly))]

    def check_writable(self, host: str) -> None:
        """Raise ReadOnlyError when the fleet or this host is read-only."""
        session = self.session(host)
        if self.readonly:
            raise ReadOnlyError("Dockyard is in read-only mode: no changes are made")
        if session.readonly:
            raise ReadOnlyError(f"host {host} is read-only: no changes are made")
