"""What the transports of one fleet share: descriptors, SSH handshakes, jump connections.

One `Links` per fleet. Hundreds of hosts make per-host costs add up:

| shared thing            | why                                                                        |
|-------------------------|----------------------------------------------------------------------------|
| `probe_streams`         | a unix/tcp host's liveness probe keeps a connection of its own (if it fits) |
| `keep_idle`             | idle connections pooled per daemon (1, or 0 when the descriptor limit is    |
|                         | too low to hold one per host: every request then opens its own)            |
| `handshakes`            | SSH hosts connecting at once (default 16): sshd's default `MaxStartups      |
|                         | 10:30:100` drops new connections past 10 unauthenticated ones; unix/tcp    |
|                         | hosts too (DIRECT_CONNECTS): 500 `/version` at once made a daemon answer   |
|                         | none within connect_timeout, a queue answers them all                      |
| `jumps`                 | one connection per distinct jump hop (chain prefix), reference counted:     |
|                         | 100 hosts behind a bastion are one login to it, not 100 (as ControlMaster) |
| `ssh_keepalive`         | seconds between SSH keepalives, longer for a big fleet                     |
| `ssh_probed`            | the fleet's liveness probe runs over each host's own SSH connection: that  |
|                         | connection sends no keepalive of its own (jump hops still do)             |
| `requests`              | requests in flight over the fleet (each may need a descriptor)             |
| `background`            | hosts doing background work at once (BACKGROUND): a reconcile's listings   |
|                         | and /info, a freshness check's image listings; 500 hosts never at once     |

No asyncssh here: the jump pool holds whatever the SSH transport opens (`open_fn`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from typing import Any

from dockyard.tasks import within
from dockyard.transports.errors import Unreachable

DEFAULT_SSH_HANDSHAKES = 16
DIRECT_CONNECTS = 128
BACKGROUND = 8
BACKGROUND_DEFER = 10.0  # s background work waits at most for the hosts queued to connect
FAILED_ATTEMPT_SHARED_FOR = 1.0  # s: hosts asking for a hop right after its connect failed get that failure
IDLE_HOP_LINGER = 10.0  # s a jump connection nobody uses stays open (a reconnect picks it up again)


class _Hop:
    """One shared jump connection: who uses it, who hears when it is lost."""

    def __init__(self) -> None:
        self.conn: Any = None
        self.close_conn: Callable[[], Awaitable[None]] | None = None
        self.users = 0
        self.opening: asyncio.Future[Any] | None = None
        self.failure: BaseException | None = None
        self.failed_at = 0.0
        self.listeners: dict[int, Callable[[str], None]] = {}
        self.linger: asyncio.TimerHandle | None = None


class Links:
    """Fleet-wide transport state; see the module docstring."""

    def __init__(self, *, keep_idle: int = 1, ssh_handshakes: int = DEFAULT_SSH_HANDSHAKES,
                 ssh_keepalive: float = 1.0, requests: int = 256, probe_streams: bool = True,
                 ssh_probed: bool = False) -> None:
        self.keep_idle = keep_idle
        # A host's probe (every ping_every s of silence) crosses its own SSH connection: it finds a
        # dead or frozen link as soon as a keepalive would (at 200 hosts sooner), and a keepalive
        # beside it was a second packet exchange per host (a quarter of a 200-host fleet's idle CPU)
        self.ssh_probed = ssh_probed
        self.probe_streams = probe_streams
        self.ssh_handshakes = max(1, ssh_handshakes)
        self.ssh_keepalive = ssh_keepalive
        self.requests = max(1, requests)
        self._handshakes: asyncio.Semaphore | None = None
        self._direct: asyncio.Semaphore | None = None
        self._requests: asyncio.Semaphore | None = None
        self._background: asyncio.Semaphore | None = None
        self._queued = 0  # hosts waiting for a connect slot (a fleet connecting together)
        self._no_queue = asyncio.Event()
        self._no_queue.set()
        self._hops: dict[Hashable, _Hop] = {}
        self.hop_connects = 0  # jump connections opened so far (tests and the bench read it)

    @contextlib.asynccontextmanager
    async def connect_slot(self, ssh: bool) -> AsyncIterator[Callable[[], None]]:
        """A slot to connect a host in (an SSH host's hops' handshakes and logins; a unix/tcp host's
        first request). The wait for it is not part of the host's connect_timeout. Yields `release`,
        to give the slot back before the block ends (an SSH host, once its handshakes are done)."""
        if self._handshakes is None or self._direct is None:
            self._handshakes = asyncio.Semaphore(self.ssh_handshakes)
            self._direct = asyncio.Semaphore(DIRECT_CONNECTS)
        slots = self._handshakes if ssh else self._direct
        self._queued += 1
        self._no_queue.clear()
        try:
            await slots.acquire()
        finally:
            self._queued -= 1
            if not self._queued:
                self._no_queue.set()
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                slots.release()

        try:
            yield release
        finally:
            release()

    @contextlib.asynccontextmanager
    async def request_slot(self) -> AsyncIterator[None]:
        """A slot for one request in flight (streams hold none: each is one per host, counted apart)."""
        if self._requests is None:
            self._requests = asyncio.Semaphore(self.requests)
        async with self._requests:
            yield

    @contextlib.asynccontextmanager
    async def background_slot(self) -> AsyncIterator[None]:
        """A slot for background work on one host (what no user is waiting for): BACKGROUND hosts at a
        time, and none while hosts queue to connect (at most BACKGROUND_DEFER s): a fleet connecting
        together shows every host's rows before any host's details."""
        if self._queued:
            with contextlib.suppress(asyncio.TimeoutError):
                await within(self._no_queue.wait(), BACKGROUND_DEFER)
        if self._background is None:
            self._background = asyncio.Semaphore(BACKGROUND)
        async with self._background:
            yield

    # ------------------------------------------------------------------ shared jump hops

    async def acquire_hop(self, key: Hashable, open_fn: Callable[[], Awaitable[tuple[Any, Callable[[], Awaitable[None]]]]],
                          on_lost: Callable[[str], None]) -> Any:
        """The connection for the hop `key`, opened by `open_fn` unless one is open or opening.

        Everyone asking while it opens waits for the same attempt; a failed attempt is the answer
        for those who ask within FAILED_ATTEMPT_SHARED_FOR s after it (one attempt for all, not one
        each; an unreachable hop, that is: a host key or a login may be decided meanwhile). `on_lost` hears once when the connection is lost. Pair with `release_hop`."""
        loop = asyncio.get_running_loop()
        hop = self._hops.setdefault(key, _Hop())
        while hop.conn is None:
            if hop.opening is None:
                if hop.failure is not None and loop.time() - hop.failed_at < FAILED_ATTEMPT_SHARED_FOR:
                    raise hop.failure
                hop.opening = asyncio.ensure_future(self._open(hop, open_fn))
            await asyncio.shield(hop.opening)  # raises the attempt's failure for every waiter
        if hop.linger is not None:
            hop.linger.cancel()
            hop.linger = None
        hop.users += 1
        hop.listeners[id(on_lost)] = on_lost
        return hop.conn

    async def _open(self, hop: _Hop, open_fn: Callable[[], Awaitable[tuple[Any, Callable[[], Awaitable[None]]]]]) -> None:
        try:
            conn, close = await open_fn()
        except Unreachable as exc:  # not a host key or a login: those change when the user acts
            hop.failure, hop.failed_at = exc, asyncio.get_running_loop().time()
            raise
        finally:
            hop.opening = None
        self.hop_connects += 1
        hop.conn, hop.close_conn, hop.failure = conn, close, None
        if hop.users == 0:  # its askers may all have given up meanwhile: close it unless one comes
            hop.linger = asyncio.get_running_loop().call_later(IDLE_HOP_LINGER, self._close_idle, hop, conn)

    def hop_lost(self, key: Hashable, conn: Any, reason: str) -> None:
        """The hop's connection `conn` died: every host behind it hears the same `reason`, once."""
        hop = self._hops.get(key)
        if hop is None or hop.conn is not conn:
            return
        hop.conn = None
        listeners, hop.listeners = list(hop.listeners.values()), {}
        hop.users = 0
        for listener in listeners:
            listener(reason)

    def release_hop(self, key: Hashable, conn: Any, on_lost: Callable[[str], None]) -> None:
        """A host is done with the hop; the last one out lets it linger, then closes it."""
        hop = self._hops.get(key)
        if hop is None or hop.conn is not conn:
            return
        hop.listeners.pop(id(on_lost), None)
        hop.users = max(0, hop.users - 1)
        if hop.users == 0 and hop.linger is None:
            hop.linger = asyncio.get_running_loop().call_later(IDLE_HOP_LINGER, self._close_idle, hop, conn)

    def _close_idle(self, hop: _Hop, conn: Any) -> None:
        if hop.conn is conn and hop.users == 0:
            hop.linger = None
            hop.conn = None
            if hop.close_conn is not None:
                asyncio.ensure_future(hop.close_conn())

    async def close(self) -> None:
        """Close every jump connection (the fleet is closing)."""
        closes = []
        for hop in self._hops.values():
            if hop.linger is not None:
                hop.linger.cancel()
            if hop.conn is not None and hop.close_conn is not None:
                closes.append(hop.close_conn())
            hop.conn = None
        self._hops.clear()
        if closes:
            await asyncio.gather(*closes, return_exceptions=True)
