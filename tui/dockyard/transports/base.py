"""A transport gives the Docker client an aiohttp connector and a base URL.

The fleet opens one per host and closes it on disconnect; `on_lost` lets a transport
with a long-lived link (SSH) report that the link died before any request notices.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable

import aiohttp


class Transport:
    """Owns the connector (and for SSH the SSH connection) of one host."""

    kind = "base"

    def __init__(self, base_url: str, connector: aiohttp.BaseConnector):
        self.base_url = base_url
        self.connector = connector
        self.on_lost: Callable[[str], None] | None = None

    async def close(self) -> None:
        await self.connector.close()

    def _lost(self, reason: str) -> None:
        if self.on_lost is not None:
            self.on_lost(reason)


def make_ssl_context(ca: str | None, cert: str | None, key: str | None, verify: bool) -> ssl.SSLContext:
    """Client TLS context: verify the daemon with `ca` (or system CAs), present cert/key."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx
