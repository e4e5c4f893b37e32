"""Unix socket and TCP (plain or TLS) transports: aiohttp's own connectors."""

from __future__ import annotations

import os
import socket
import ssl
from urllib.parse import urlsplit

import aiohttp

from dockyard.config.model import HostConfig
from dockyard.transports.base import Transport, make_ssl_context
from dockyard.transports.errors import Unreachable


class UnixTransport(Transport):
    kind = "unix"

    def __init__(self, path: str):
        super().__init__("http://docker", aiohttp.UnixConnector(path, limit=0))
        self.path = path


class TCPTransport(Transport):
    kind = "tcp"


async def open_direct(host: HostConfig) -> Transport:
    """Build the connector; nothing is connected until the first request."""
    if host.scheme == "unix":
        path = host.url[len("unix://"):]
        if not os.path.exists(path):
            raise Unreachable(f"socket {path} does not exist")
        return UnixTransport(path)
    parts = urlsplit(host.url)
    hostname = parts.hostname or "localhost"
    if host.tls is not None:
        try:
            ctx: ssl.SSLContext | bool = make_ssl_context(
                host.tls.ca, host.tls.cert, host.tls.key, host.tls.verify
            )
        except (OSError, ssl.SSLError) as exc:
            raise Unreachable(f"TLS files unusable: {exc}") from None
        port = parts.port or 2376
        base = f"https://{_url_host(hostname)}:{port}"
    else:
        ctx = False
        port = parts.port or 2375
        base = f"http://{_url_host(hostname)}:{port}"
    connector = aiohttp.TCPConnector(ssl=ctx, limit=0, family=socket.AF_UNSPEC)
    transport = TCPTransport(base, connector)
    transport.kind = "tls" if host.tls is not None else "tcp"
    return transport


def _url_host(hostname: str) -> str:
    return f"[{hostname}]" if ":" in hostname else hostname
