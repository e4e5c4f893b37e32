"""A transport gives the Docker client an aiohttp connector and a base URL.

The fleet opens one per host and closes it on disconnect; `on_lost` lets a transport
with a long-lived link (SSH) report that the link died before any request notices.

Descriptors are what a big fleet runs out of first (500 hosts on a soft `ulimit -n` of 1,024):
every connector here keeps at most `keep_idle` idle connections per daemon (`PooledConnector`),
so a burst of concurrent requests (a screenful of stats samples) leaves one reusable connection
behind, not one per request until aiohttp's keep-alive timeout.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable

import aiohttp


class PooledConnector(aiohttp.BaseConnector):
    """An aiohttp connector that pools at most `keep_idle` idle connections per endpoint.

    aiohttp pools every released connection until its keep-alive timeout (15 s): N requests at
    once leave N descriptors open. Extra ones are closed as they come back instead. With
    `keep_idle = 0` every request gets its own connection (cheap on a unix socket), for a fleet
    whose descriptor limit cannot hold one idle connection per host. Relies on aiohttp's
    `_release`/`_conns` (aiohttp's version range is pinned in pyproject)."""

    keep_idle = 1

    def _release(self, key, protocol, *, should_close: bool = False) -> None:  # type: ignore[override]
        super()._release(key, protocol, should_close=should_close)
        idle = self._conns.get(key)
        while idle and len(idle) > self.keep_idle:
            extra, _ = idle.popleft()  # the oldest goes; the one just used stays warm
            extra.close()
        if idle is not None and not idle:
            del self._conns[key]


class PooledUnixConnector(PooledConnector, aiohttp.UnixConnector):
    pass


class PooledTCPConnector(PooledConnector, aiohttp.TCPConnector):
    pass


class Transport:
    """Owns the connector (and for SSH the SSH connection) of one host."""

    kind = "base"

    def __init__(self, base_url: str, connector: aiohttp.BaseConnector):
        self.base_url = base_url
        self.connector = connector
        self.on_lost: Callable[[str], None] | None = None

    async def close(self) -> None:
        await self.connector.close()

    async def open_stream(self, factory: Callable[[], asyncio.Protocol]) -> asyncio.Protocol | None:
        """A new raw byte stream to the daemon for `factory`'s protocol (the liveness probe keeps
        one open: a few bytes a probe, without the HTTP client's machinery), or None where this
        transport has none to spare (then the probe is an ordinary request)."""
        return None

    def _lost(self, reason: str) -> None:
        """Tell the owner once: the first reason is the one (the links under it die after it)."""
        if self.on_lost is not None:
            on_lost, self.on_lost = self.on_lost, None
            on_lost(reason)


def make_ssl_context(ca: str | None, cert: str | None, key: str | None, verify: bool) -> ssl.SSLContext:
    """Client TLS context: verify the daemon with `ca` (or system CAs), present cert/key."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx
