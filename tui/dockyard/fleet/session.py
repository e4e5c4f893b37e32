"""One host's session: connection state machine, reconnect with backoff, live cache.

A session owns its transport and Docker client. In live mode it follows the daemon's
events stream into `HostCache`, reconciles periodically and after every reconnect (so a
restarted daemon leaves no ghost or duplicate rows), and reconnects with capped
exponential backoff. States that need a person (unknown/changed host key, failed auth)
wait for `reconnect()` instead of retrying.

Liveness costs no request per host per second: every reply and every event counts as the daemon
being heard; a host silent for `ping_every` gets one `_ping` (at a random phase, so a fleet's
probes spread over time), and one that stays silent for `frozen_after` is shown down (a
SIGSTOPped daemon keeps its socket open: only silence tells). `Timing.for_hosts` stretches both
with the fleet's size. One clock per fleet (`Liveness`) starts every due probe in one event-loop
wake-up a tick: a timer per host cost more CPU than its probe. The cache keeps the last-known objects of a host that went down
(`down_since` says since when) until a reconnect's reconcile replaces them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp

from dockyard.config.model import HostConfig
from dockyard.fleet.cache import KINDS, LISTINGS, HostCache
from dockyard.fleet.docker_api import DockerClient
from dockyard.fleet.errors import BadReply, DaemonError, FleetError, HostUnavailable, RequestTimeout, UnsupportedAPI
from dockyard.fleet.models import Container, HostKeyOffer, HostState, HostStatus
from dockyard.tasks import cancel_and_wait, wait_within_grace, within
from dockyard.transports import (
    AuthFailed,
    HostKeyChanged,
    HostKeyProblem,
    HostKeyRefused,
    HostKeyTrust,
    HostKeyUnknown,
    Links,
    PassphrasePrompt,
    Transport,
    TransportError,
    connect_budget,
    open_transport,
)

if TYPE_CHECKING:
    from dockyard.transports.ssh import KeyLoader

log = logging.getLogger("dockyard.session")
# /info's Architecture is the kernel's (uname -m); /version's Arch, what docker shows, is Go's name
_GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "armv6l": "arm", "i686": "386", "i386": "386"}
T = TypeVar("T")

# What code that reads a reply raises when the reply's shape is not the documented one.
_SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError)

# Container event actions that change nothing a list shows.
_QUIET_ACTIONS = ("exec_", "top", "attach", "resize", "archive-path", "extract-to-dir", "export", "copy", "commit")

# The state a container event says its container is now in. dockerd sends "die" (and others)
# before its list shows the change, and nothing follows: a listing that disagrees is taken
# again. "kill" implies nothing (the signal may be caught); "die" follows if the process ends.
_IMPLIED_STATE = {"die": "stopped", "stop": "stopped", "start": "running", "restart": "running",
                  "unpause": "running", "pause": "paused", "destroy": "gone"}


class Timing:
    """Knobs for how often a session polls and how it backs off; tests shorten them."""

    backoff_initial = 0.5
    backoff_cap = 15.0
    reconcile_every = 30.0
    ping_every = 1.0  # a host silent this long gets a _ping (~0.3 ms of daemon work)
    frozen_after = 3.0  # silent this long, and a second probe unanswered: down (shown down within ~4-5 s)
    confirm_timeout = 1.0  # the second probe's wait
    latency_every = 30.0  # LATENCY is a _ping's round trip: one at least this often, busy or not
    dirty_delay = 0.05  # coalesce a burst of events into one list request
    # after a listing that contradicts its container's last event, list it again after each of
    # these (plus dirty_delay); then give up and leave it to the reconcile
    recheck_delays = (0.05, 0.1, 0.2, 0.4)

    # A fleet's probes together stay under this many a second (past PROBE_HOSTS hosts, a silent
    # host waits longer for its probe, up to PROBE_MAX_EVERY s); measured in bench/bench_scale.py.
    PROBES_PER_SECOND = 40.0
    PROBE_MAX_EVERY = 6.0
    PROBE_TIMEOUT = 2.0
    # The reconcile (5 listings, /info among them) is a safety net behind the events (a broken
    # stream reconciles at once when it comes back): a big fleet's stays under
    # RECONCILES_PER_SECOND hosts a second (200 hosts: each every 200 s; 4 a second was ~6 % of
    # the requests of an idle 200-host fleet).
    RECONCILES_PER_SECOND = 1.0

    @classmethod
    def for_hosts(cls, hosts: int) -> Timing:
        """The default knobs for a fleet of `hosts`: up to 40 hosts as the class says (a frozen
        daemon shown down within ~4 s); then probes spread so the fleet sends at most
        PROBES_PER_SECOND (500 hosts: one probe per host every 6 s, down within ~9 s: 6 s of
        silence, 2 s for the probe, 1 s for the confirming one)."""
        timing = cls()
        timing.reconcile_every = max(timing.reconcile_every, hosts / cls.RECONCILES_PER_SECOND)
        every = min(cls.PROBE_MAX_EVERY, hosts / cls.PROBES_PER_SECOND)
        if every > timing.ping_every:
            timing.ping_every = every
            timing.frozen_after = every + cls.PROBE_TIMEOUT
        return timing


class HostSession:
    def __init__(self, config: HostConfig, *, live: bool, trust: HostKeyTrust,
                 notify: Callable[[str, str], None], passphrase_prompt: PassphrasePrompt | None = None,
                 timing: Timing | None = None, readonly: bool = False, links: Links | None = None,
                 liveness: Liveness | None = None):
        self.config = config
        self.name = config.name
        self.live = live
        self.readonly = readonly or config.readonly
        self.trust = trust
        self.timing = timing or Timing()
        self.links = links or Links()  # what this host's transport shares with the fleet's others
        self.liveness = liveness or Liveness.for_timing(self.timing)  # the fleet's probe clock
        self.heard = 0.0  # monotonic time the daemon last answered anything (a reply, an event)
        self._attempt_started: float | None = None  # when the current connect attempt got its slot
        self._attempt_budget = 0.0
        self._notify_fleet = notify
        self._passphrase_prompt = passphrase_prompt
        self._key_loader: KeyLoader | None = None  # SSH only: made (and asyncssh imported) on first use
        self.cache = HostCache(self.name, self._notify)

        self.state = HostState.CONNECTING if config.enabled else HostState.DISABLED
        self.reason: str | None = None
        self.problem: HostKeyProblem | None = None
        self.version: dict[str, Any] = {}
        self.info: dict[str, Any] = {}
        # IMAGES everywhere is what `docker images` lists (each image once): /info's "Images"
        # also counts intermediate layers, so it is never shown as that figure
        self.image_count: int | None = None
        self.latency_ms: float | None = None
        self.warning: str | None = None  # the last problem with a reply no user request was waiting for
        self.down_since: float | None = None  # wall time the host stopped being online (None: online or never tried)

        self.seeded = False  # the cache holds the start-up prefetch's listing, shown while connecting
        self.client: DockerClient | None = None
        self._transport: Transport | None = None
        self._task: asyncio.Task[None] | None = None
        self._settled = asyncio.Event()  # set whenever state is not CONNECTING
        # Observers of the events stream (fleet/events.py keeps the history): each decoded event,
        # and the stream opening (True) or ending (False, why).
        self.on_event: Callable[[str, dict[str, Any]], None] | None = None
        self.on_stream: Callable[[str, bool, str], None] | None = None
        self._stream_open = False
        self._lost = asyncio.Event()
        if not config.enabled:
            self._settled.set()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        if self.config.enabled and self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"session:{self.name}")

    def seed(self, containers: list[Container]) -> None:
        """The start-up prefetch's listing (fleet/prefetch.py): rows to show while this session
        connects; its own first listing replaces them."""
        if "containers" not in self.cache.loaded:
            self.seeded = True
            self.cache.replace("containers", containers)

    @property
    def rows_current(self) -> bool:
        """Whether the cached rows stand for the host now (online, or seeded while connecting),
        rather than for what a host that is down held when last seen."""
        return self.state == HostState.ONLINE or (self.seeded and self.state == HostState.CONNECTING)

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait([self._task], self.name)
            self._task = None
        self._stream_changed(False, "disconnected")
        await self._teardown()

    async def reconnect(self) -> None:
        """Drop the connection (if any) and connect again now, skipping any backoff."""
        if not self.config.enabled:
            return
        await self.stop()
        self._set_state(HostState.CONNECTING)
        self.start()

    async def wait_settled(self, timeout: float | None = None) -> None:
        """Wait until the host is online or has failed (no longer connecting)."""
        await asyncio.wait_for(self._settled.wait(), timeout)

    # ------------------------------------------------------------------ requests

    async def call(self, fn: Callable[[DockerClient], Awaitable[T]], timeout: float | None = None) -> T:
        """Run `fn(client)` once the host is online, within the request timeout."""
        if self.state == HostState.CONNECTING:
            await self._wait_connecting()
        if self.state != HostState.ONLINE or self.client is None:
            raise HostUnavailable(self.describe_state())
        limit = timeout if timeout is not None else self.config.request_timeout
        client = self.client
        try:
            async with self.links.request_slot():  # a fleet-wide bound: each may need a descriptor
                result = await within(fn(client), limit)
        except asyncio.TimeoutError:
            raise RequestTimeout(f"no answer within {limit:g}s") from None
        except (aiohttp.ClientError, ConnectionError) as exc:
            raise HostUnavailable(f"connection failed: {exc}") from None
        except FleetError:
            raise
        except Exception as exc:
            if client is not self.client or client.closed:
                # the connection was closed under the request (the host went down, a reconnect):
                # aiohttp then fails in its own code, which says nothing about the daemon
                raise HostUnavailable(self.describe_state() if self.state != HostState.ONLINE
                                      else "connection closed while the request ran") from None
            if not isinstance(exc, _SHAPE_ERRORS) or _raised_inside_library(exc):
                log.error("%s: internal error in a request", self.name, exc_info=True)
                raise FleetError(f"internal error: {type(exc).__name__}: {exc}") from None
            # a reply of an unexpected shape met code that trusted it: words, not a traceback
            log.debug("%s: unexpected reply", self.name, exc_info=True)
            raise BadReply(self.name, "a request", f"not what the Docker API describes "
                                                   f"({type(exc).__name__}: {exc})") from None
        self.heard = time.monotonic()
        return result

    async def _wait_connecting(self) -> None:
        """Wait while this host connects: its attempt's budget (+2 s) once it has a connect slot,
        and for as long as it waits for one (hundreds of SSH hosts queue for 16 slots; each
        attempt is bounded, so the queue moves)."""
        while self.state == HostState.CONNECTING:
            started = self._attempt_started
            left = 1.0 if started is None else started + self._attempt_budget + 2 - time.monotonic()
            if left <= 0:
                return
            with contextlib.suppress(asyncio.TimeoutError):
                await self.wait_settled(left)

    def warn(self, what: str) -> None:
        """A reply that could not be used outside any user request (an event, a stats sample): the
        app shows it as a notice naming this host, once for each new text; nothing stops."""
        if what != self.warning:
            self.warning = what
            log.warning("%s: %s", self.name, what)
            self._notify("warning")

    def describe_state(self) -> str:
        if self.state == HostState.ONLINE:
            return "online"
        return self.state.value + (f": {self.reason}" if self.reason else "")

    def status(self) -> HostStatus:
        info = self.info
        counts = self.cache.counts() if self.live else None  # last known while down, like the rows
        offer = None
        if isinstance(self.problem, HostKeyProblem):
            p = self.problem
            offer = HostKeyOffer(p.hop, p.host, p.port, p.key_type, p.fingerprint,
                                 changed=isinstance(p, HostKeyChanged))
        return HostStatus(
            name=self.name, url=self.config.url, transport=self.config.transport_name,
            state=self.state, reason=self.reason, host_key=offer,
            # a ping's headers (fleet/docker_api.py: negotiate) carry no Arch; /info has it all
            server_version=self.version.get("Version") or info.get("ServerVersion"),
            api_version=self.version.get("ApiVersion"),
            os=self.version.get("Os") or info.get("OSType"),
            arch=self.version.get("Arch") or _GOARCH.get(info.get("Architecture"), info.get("Architecture")),
            cpus=info.get("NCPU"), memory=info.get("MemTotal"),
            containers=counts[0] if counts else info.get("Containers"),
            containers_running=counts[1] if counts else info.get("ContainersRunning"),
            images=counts[2] if counts and counts[2] is not None else self.image_count,
            latency_ms=self.latency_ms, readonly=self.readonly, labels=dict(self.config.labels),
            source=self.config.source, down_since=self.down_since, warning=self.warning,
        )

    async def refresh_info(self) -> None:
        """Fetch `/info` and measure latency (the CLI's `hosts` and the live loop use it)."""
        self.latency_ms = await self.call(lambda c: c.ping())
        self.info = await self.call(lambda c: c.get("info"))
        if not self.live:  # the live cache counts its own listing
            self.image_count = len(await self.call(lambda c: c.get("images/json", list)))
        self._notify("host")

    # ------------------------------------------------------------------ the loop

    def _notify(self, kind: str) -> None:
        self._notify_fleet(self.name, kind)

    def _set_state(self, state: HostState, reason: str | None = None,
                   problem: HostKeyProblem | None = None) -> None:
        changed = (state, reason) != (self.state, self.reason)
        if state != HostState.CONNECTING:
            self.seeded = False
        self.state, self.reason, self.problem = state, reason, problem
        if state in (HostState.ONLINE, HostState.DISABLED):
            self.down_since = None
        elif state != HostState.CONNECTING and self.down_since is None:
            self.down_since = time.time()
        if state == HostState.CONNECTING:
            self._settled.clear()
        else:
            self._settled.set()
        if changed:
            self._notify("host")

    async def _run(self) -> None:
        delay = self.timing.backoff_initial
        while True:
            self._set_state(HostState.CONNECTING, self.reason)
            budget = connect_budget(self.config)
            try:
                # a bounded number of hosts connect at once (links.py); waiting is not the budget's
                async with self.links.connect_slot(self.config.scheme == "ssh") as release:
                    self._attempt_started, self._attempt_budget = time.monotonic(), budget
                    try:
                        await asyncio.wait_for(self._connect(release), budget)
                    finally:
                        self._attempt_started = None
            except HostKeyUnknown as exc:
                await self._failed(HostState.HOST_KEY_UNKNOWN, str(exc), exc)
                return  # waits for accept_host_key() -> reconnect()
            except HostKeyChanged as exc:
                await self._failed(HostState.HOST_KEY_CHANGED, str(exc), exc)
                return
            except HostKeyRefused as exc:  # StrictHostKeyChecking yes: nothing to decide
                await self._failed(HostState.HOST_KEY_UNKNOWN, str(exc))
                return
            except AuthFailed as exc:
                await self._failed(HostState.AUTH_FAILED, str(exc))
                return
            except UnsupportedAPI as exc:
                await self._failed(HostState.UNSUPPORTED, str(exc))
                return  # retrying would only repeat it; reconnect() tries again (after an upgrade)
            except asyncio.TimeoutError:
                await self._failed(HostState.UNREACHABLE, f"no answer within connect_timeout ({budget:g}s)")
            except (TransportError, FleetError, aiohttp.ClientError, OSError) as exc:
                await self._failed(HostState.UNREACHABLE, _reason(exc))
            except Exception as exc:  # noqa: BLE001 - a bug (or a broken SSH install) must not leave it "connecting"
                log.exception("%s: connecting failed", self.name)
                await self._failed(HostState.UNREACHABLE, f"internal error: {type(exc).__name__}: {exc}")
            else:
                delay = self.timing.backoff_initial
                self._set_state(HostState.ONLINE)
                if not self.live:
                    return
                try:
                    reason = await self._follow()
                except (TransportError, FleetError, aiohttp.ClientError, OSError, *_SHAPE_ERRORS) as exc:
                    reason = _reason(exc)
                except Exception as exc:  # noqa: BLE001 - a bug must not leave a dead loop showing "online"
                    log.exception("%s: the live loop failed", self.name)
                    reason = f"internal error: {type(exc).__name__}: {exc}"
                self._stream_changed(False, reason)
                await self._failed(HostState.UNREACHABLE, reason)
            if not self.live:
                return
            # capped exponential backoff; reconnect() cancels this task to skip it
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.timing.backoff_cap)

    async def _failed(self, state: HostState, reason: str, problem: HostKeyProblem | None = None) -> None:
        self._set_state(state, reason, problem)  # first: a close that takes its time must not delay the news
        await self._teardown()
        log.info("%s: %s", self.name, self.describe_state())

    async def _connect(self, release_slot: Callable[[], None] = lambda: None) -> None:
        self._lost.clear()
        transport = await open_transport(self.config, self.trust, self._keys, self.links)
        self._transport = transport
        if self.config.scheme == "ssh":
            release_slot()  # the slot bounds SSH handshakes: they are done, the next host's may start
        transport.on_lost = self._on_transport_lost
        self.client = DockerClient(self.name, transport, self.config.request_timeout)
        try:
            self.version = await self.client.negotiate()
        except UnsupportedAPI as exc:
            self.version = exc.version  # its row still says which version it speaks
            raise
        # A round trip timed while the app is busy starting says little (~80 ms for a local socket):
        # latency is the idle `_ping` of the live loop (or of refresh_info).
        self.latency_ms = None

    def _keys(self) -> KeyLoader:
        """The identity files' loader (keeps decrypted keys for reconnects)."""
        if self._key_loader is None:
            from dockyard.transports.ssh import KeyLoader

            self._key_loader = KeyLoader(self.config, self._passphrase_prompt)
        return self._key_loader

    def _stream_changed(self, up: bool, reason: str = "") -> None:
        if up != self._stream_open:
            self._stream_open = up
            if self.on_stream is not None:
                self.on_stream(self.name, up, reason)

    def _on_transport_lost(self, reason: str) -> None:
        if not self._lost.is_set():  # the first reason is the one
            self._lost_reason = reason
            self._lost.set()

    async def _teardown(self) -> None:
        client, transport = self.client, self._transport
        self.client, self._transport = None, None
        if client is not None:  # the client first: it uses the transport
            await wait_within_grace([asyncio.create_task(client.close(), name="close client")], self.name)
        if transport is not None:
            transport.on_lost = None
            await wait_within_grace([asyncio.create_task(transport.close(), name="close transport")], self.name)

    async def _follow(self) -> str:
        """Follow events into the cache until the link is lost; returns why it ended."""
        assert self.client is not None
        return await _LiveLoop(self, self.client).run()

    def _bad_event(self, what: str) -> None:
        self.warn(f"events: skipped {what}")

    async def _reconcile_all(self, skip: tuple[str, ...] = ()) -> None:
        for kind in (*KINDS, "info"):
            if kind not in skip:
                await self._refresh(kind)

    async def _refresh(self, kind: str) -> None:
        if kind == "info":
            info, before = await self.call(lambda c: c.get("info")), self.info
            self.info = info
            if _steady(info) != _steady(before):  # every /info differs (its clock): only news repaint
                self._notify("host")
        else:
            self.cache.replace(kind, await self.call(LISTINGS[kind]))


class _Silent(Exception):
    """The daemon answered neither probe: the live loop ends with this reason."""


class _LiveLoop:
    """One connection's live loop: the events stream, the listings it triggers, the periodic
    reconcile and the liveness watchdog, run side by side until one of them ends.

    It lives as long as one connection: what it holds (containers waiting to be listed again,
    pending rechecks) means nothing after a reconnect, whose reconcile starts from scratch.
    """

    def __init__(self, session: HostSession, client: DockerClient):
        self.session = session
        self.client = client
        self.subscribed = asyncio.Event()
        # container id -> (the state its last event implies or None, rechecks done for that event)
        self.dirty: dict[str, tuple[str | None, int]] = {}
        self.rechecks: dict[str, asyncio.TimerHandle] = {}  # at most one pending recheck per container
        self.dirty_kinds: set[str] = set()
        self.kick = asyncio.Event()
        # Loops also check this flag: asyncio.wait_for (3.10/3.11) swallows a cancellation that
        # arrives as its answer does, and a loop that lost its cancel would run on for ever.
        self.stopping = asyncio.Event()
        self.settled = asyncio.Event()  # the first full listing is done
        # liveness (the fleet's `Liveness` clock reads `due`, runs `probe_round`)
        self.first_due = self.measured = 0.0  # the first probe's time; the last LATENCY measured
        self.verdict: asyncio.Future[str] | None = None  # set once the daemon counts as down

    async def run(self) -> str:
        """Run the loop's parts until the first ends; returns why the live loop ended."""
        session = self.session
        tasks = [asyncio.create_task(self.read_events()), asyncio.create_task(self.apply_dirty()),
                 asyncio.create_task(self.reconcile()), asyncio.create_task(session._lost.wait()),
                 asyncio.create_task(self.watchdog())]
        lost = tasks[3]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            return await self.why_ended(done.pop(), lost)
        finally:
            self.stopping.set()
            for handle in self.rechecks.values():
                handle.cancel()
            await cancel_and_wait(tasks, session.name)

    async def why_ended(self, first: asyncio.Task[Any], lost: asyncio.Task[Any]) -> str:
        """The reason to show for the part that ended first (raises what it raised)."""
        session = self.session
        if first is not lost and not first.cancelled() and first.exception() is not None:
            # a stream that broke may be the first sign of a lost link (a jump host's, shared by
            # many hosts): its reason, said by the transport a moment later, is the one to show
            await asyncio.wait({lost}, timeout=LINK_NEWS_WAIT)
            if session._lost.is_set():
                first = lost
        if first is lost:
            return getattr(session, "_lost_reason", "link lost")
        return first.result() or "stopped"

    # ---------------------------------------------------------------- events

    def opened(self) -> None:
        """The daemon accepted the subscription: the reconcile may start (no event is missed)."""
        self.subscribed.set()
        self.session._stream_changed(True)

    async def read_events(self) -> str:
        """Take every event the daemon sends; ends when the daemon closes the stream."""
        session = self.session
        async for ev in self.client.event_stream(on_open=self.opened, on_bad=session._bad_event):
            session.heard = time.monotonic()
            if session.on_event is not None:
                session.on_event(session.name, ev)
            self.take_event(ev)
        return "events stream closed by the daemon"

    def take_event(self, ev: dict[str, Any]) -> None:
        """Mark what one event changed (a container, a listing, /info) to be listed again soon,
        or tell the swarm controller; the listing itself is `apply_dirty`'s, so a burst costs one."""
        session = self.session
        kind, action, actor = ev.get("Type"), ev.get("Action") or "", ev.get("Actor") or {}
        if not (isinstance(kind, str) and isinstance(action, str) and isinstance(actor, dict)):
            session._bad_event(f"an event of the wrong shape: {str(ev)[:80]!r}")
            return
        if kind == "container":
            cid = actor.get("ID") or ev.get("id")
            if not isinstance(cid, str) or not cid or action.startswith(_QUIET_ACTIONS):
                return
            if "com.docker.swarm.task.id" in ((ev.get("Actor") or {}).get("Attributes") or {}):
                session._notify("swarm-event")  # a swarm task's container: its swarm reloads now
            if action == "destroy":  # gone now; the listing below undoes a stale one in flight
                session.cache.remove_container(cid)
            with contextlib.suppress(KeyError):
                self.rechecks.pop(cid).cancel()  # this event's listing comes first
            self.dirty[cid] = (_IMPLIED_STATE.get(action), 0)
            self.kick.set()
        elif f"{kind}s" in LISTINGS:
            self.dirty_kinds.add(f"{kind}s")
            self.kick.set()
        elif kind in ("service", "node", "secret", "config"):
            session._notify("swarm-event")  # the swarm controller reloads that swarm
        elif kind == "daemon":
            self.dirty_kinds.add("info")
            self.kick.set()

    # ---------------------------------------------------------------- listings

    async def apply_dirty(self) -> None:
        """List what events marked, a short while after the first of a burst (one request for many)."""
        while not self.stopping.is_set():
            await self.kick.wait()
            await asyncio.sleep(self.session.timing.dirty_delay)
            self.kick.clear()
            asked, kinds = dict(self.dirty), set(self.dirty_kinds)
            self.dirty.clear()
            self.dirty_kinds.clear()
            if asked:
                await self.list_containers(asked)
            for kind in kinds:
                await self.session._refresh(kind)

    async def list_containers(self, asked: dict[str, tuple[str | None, int]]) -> None:
        """List the marked containers into the cache; one whose row contradicts its last event
        (dockerd sends "die" before its list shows it) is listed again after a delay."""
        session = self.session
        ids = list(asked)
        found = await session.call(lambda c: c.list_containers(all=True, filters={"id": ids}))
        session.cache.update_containers(ids, found)
        rows = {c.id: c for c in found}
        delays = session.timing.recheck_delays
        for cid, (implied, done) in asked.items():
            if (implied is not None and not _shows(rows.get(cid), implied)
                    and done < len(delays) and cid not in self.dirty):
                self.rechecks[cid] = asyncio.get_running_loop().call_later(
                    delays[done], self.recheck, cid, implied, done + 1)

    def recheck(self, cid: str, implied: str, done: int) -> None:
        """Mark a container whose listing disagreed with its event to be listed again."""
        log.debug("%s: listing %.12s again (%d): its event said %s", self.session.name, cid, done, implied)
        self.rechecks.pop(cid, None)
        self.dirty.setdefault(cid, (implied, done))
        self.kick.set()

    async def reconcile(self) -> None:
        """Take every listing again now and then: the safety net behind the events (a gap in the
        stream, an event dockerd never sent). The first starts once subscribed, so nothing
        that happens after it is missed."""
        await self.subscribed.wait()
        # The first view needs the rows only: the other listings and /info (the daemon's most
        # expensive reply) wait for a background slot, so hundreds of hosts connecting together
        # show their rows first instead of sharing the daemons' and this process's CPU with them.
        session = self.session
        await session._refresh("containers")
        first = True
        while not self.stopping.is_set():
            async with session.links.background_slot():
                await session._reconcile_all(skip=("containers",) if first else ())
            first = False
            self.settled.set()
            # ±20 %: a fleet that connected together must not reconcile in one wave for ever
            await asyncio.sleep(self.session.timing.reconcile_every * random.uniform(0.8, 1.2))

    # ---------------------------------------------------------------- liveness

    async def watchdog(self) -> str:
        """Wait while the fleet's `Liveness` clock probes this host when it is due (see `due`);
        ends when the daemon counts as down (or a probe failed otherwise: raises that). The first
        probe waits a random part of ping_every: a fleet's probes spread over time instead of
        coming in waves."""
        session, timing = self.session, self.session.timing
        session.heard = self.measured = time.monotonic()
        self.first_due = session.heard + random.uniform(0.2, 1.0) * timing.ping_every
        self.verdict = verdict = asyncio.get_running_loop().create_future()
        session.liveness.add(self)
        try:
            return await verdict
        finally:
            session.liveness.discard(self)

    def due(self) -> float:
        """When this host's next probe is due: once silent for ping_every, and (for LATENCY) at
        least every latency_every; the first at its random phase."""
        timing = self.session.timing
        return min(self.first_due, self.session.heard + timing.ping_every, self.measured + timing.latency_every)

    async def probe_round(self) -> None:
        """One probe (and its confirmation) started by the fleet's clock; its verdict, if the
        daemon counts as down or the probe failed, ends `watchdog`. LATENCY shows the idle ping:
        only once the first listing (the start-up rush) is done, so no probe is sent for it before
        (a connecting fleet's replies say the daemons are alive)."""
        session, timing = self.session, self.session.timing
        self.first_due = float("inf")
        try:
            latency = await self.probe(max(0.2, session.heard + timing.frozen_after - time.monotonic()))
        except _Silent as exc:
            if self.verdict is not None and not self.verdict.done():
                self.verdict.set_result(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - the live loop ends with it, as with any part's failure
            if self.verdict is not None and not self.verdict.done():
                self.verdict.set_exception(exc)
            return
        if latency is None:
            return
        self.measured = time.monotonic()
        if self.settled.is_set():
            shown, session.latency_ms = session.latency_ms, latency
            if shown is None or round(shown, 1) != round(latency, 1):
                session._notify("ping")  # only the Hosts pane shows it

    async def probe(self, left: float) -> float | None:
        """One _ping within `left` s, confirmed once if unanswered: its round trip (ms), or None
        when the timeout came late because this process was starved of CPU (the silence may be
        ours: ask again). Raises _Silent when the daemon counts as down."""
        session = self.session
        sent = time.monotonic()
        try:
            return await session.call(lambda c: c.probe(), timeout=left)
        except RequestTimeout:
            if time.monotonic() - sent > left + STARVED:
                # the timeout itself came late: this process was starved of CPU (a loaded
                # machine), and the silence may be ours, not the daemon's; ask again
                log.info("%s: probe timed out %.1fs late; not taken as the daemon's silence",
                         session.name, time.monotonic() - sent - left)
                return None
            try:  # once more, briefly: a reply stuck behind a busy loop gets through now
                return await session.call(lambda c: c.probe(), timeout=session.timing.confirm_timeout)
            except RequestTimeout:
                # over SSH the probe is also the link's keepalive (transports/links.py): silence
                # there may be the link's, the machine's or its sshd's as much as the daemon's
                why = ("SSH link, host or daemon frozen" if session.config.scheme == "ssh"
                       else "daemon frozen or overloaded")
                raise _Silent(f"no answer for {time.monotonic() - session.heard:.1f}s ({why})") from None


class Liveness:
    """The liveness clock of a fleet: one loop wake-up a tick starts every probe that is due, for
    all hosts together, instead of a timer per host (200 hosts probed every 5 s were 40 wake-ups a
    second, each costing more CPU than the probe's own bytes). A probe starts up to half a tick
    early; its deadline is still the host's own (`frozen_after` since last heard), so the tick
    moves no detection bound."""

    def __init__(self, tick: float = 1.0):
        self.tick = tick
        self._loops: set[_LiveLoop] = set()
        self._probes: dict[_LiveLoop, asyncio.Task[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self.rounds = 0  # probes started so far (tests and the bench read it)

    @classmethod
    def for_timing(cls, timing: Timing) -> Liveness:
        """Ticks of at most a second, and at least two per `ping_every` (tests shorten it)."""
        return cls(min(1.0, timing.ping_every / 2))

    def add(self, live: _LiveLoop) -> None:
        self._loops.add(live)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="liveness")

    def discard(self, live: _LiveLoop) -> None:
        self._loops.discard(live)
        probe = self._probes.pop(live, None)
        if probe is not None:
            probe.cancel()
        if not self._loops and self._task is not None:
            self._task.cancel()  # nothing left to watch: no wake-ups at all
            self._task = None

    async def _run(self) -> None:
        while True:
            soon = time.monotonic() + self.tick / 2
            for live in self._loops:
                if live not in self._probes and live.due() <= soon:
                    self._start(live)
            await asyncio.sleep(self.tick)

    def _start(self, live: _LiveLoop) -> None:
        self.rounds += 1
        probe = asyncio.get_running_loop().create_task(live.probe_round(), name=f"probe:{live.session.name}")
        self._probes[live] = probe

        def done(_: asyncio.Task[None]) -> None:
            if self._probes.get(live) is probe:
                del self._probes[live]
        probe.add_done_callback(done)


# /info fields that change on every call or with every connection, and mean nothing to a pane.
_VOLATILE_INFO = frozenset({"SystemTime", "NGoroutines", "NFd", "NEventsListener"})


def _steady(info: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in info.items() if k not in _VOLATILE_INFO}


def _shows(row: Any, implied: str) -> bool:
    """Whether a container's listed row (None: not listed) agrees with the state an event implies."""
    if row is None:
        return implied in ("gone", "stopped")  # stopped and removed (--rm) before the listing
    if implied == "stopped":
        return row.state not in ("running", "paused")
    return row.state == implied


LINK_NEWS_WAIT = 0.2  # s a broken stream waits for the transport to say the link was lost (and why)
STARVED = 0.5  # s a timeout may fire late before the process counts as starved of CPU

_LIBRARIES = tuple(f"{os.sep}{name}{os.sep}" for name in ("aiohttp", "asyncio", "asyncssh", "multidict", "yarl"))


def _raised_inside_library(exc: BaseException) -> bool:
    """Whether `exc` came from a library's own code (its bug or misuse), not from code reading a reply."""
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    return last is not None and any(part in last for part in _LIBRARIES)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, DaemonError):
        return exc.message
    if isinstance(exc, aiohttp.ClientConnectorError):
        return str(exc.os_error) if exc.os_error else str(exc)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "daemon closed the connection"
    if isinstance(exc, _SHAPE_ERRORS) and not isinstance(exc, FleetError):
        return f"unexpected reply from the daemon ({type(exc).__name__}: {exc})"
    return str(exc) or type(exc).__name__
