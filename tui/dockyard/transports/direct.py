"""Unix socket and TCP (plain or TLS) transports: aiohttp's own connectors."""

from __future__ import annotations

import asyncio
import grp
import os
import pwd
import socket
import ssl
from collections.abc import Callable

import aiohttp

from dockyard.config.model import HostConfig
from dockyard.transports.base import PooledTCPConnector, PooledUnixConnector, Transport, make_ssl_context
from dockyard.transports.errors import InWords, Unreachable


class UnixTransport(Transport):
    kind = "unix"

    def __init__(self, path: str, keep_idle: int = 1, probe_stream: bool = True):
        connector = _UnixConnector(path, limit=0)
        # the probe's stream is the connection this host keeps: requests open their own (a connect
        # on a unix socket is cheap), so an idle host holds its events stream and that stream only
        connector.keep_idle = 0 if probe_stream else keep_idle
        super().__init__("http://docker", connector)
        self.path = path
        self.probe_stream = probe_stream

    async def open_stream(self, factory: Callable[[], asyncio.Protocol]) -> asyncio.Protocol | None:
        """Only where the descriptor plan has room for it (`Links.probe_streams`)."""
        if not self.probe_stream:
            return None
        _, protocol = await asyncio.get_running_loop().create_unix_connection(factory, self.path)
        return protocol


class _UnixConnector(PooledUnixConnector):
    """A socket that goes away after the first connect (dockerd stopped) is said as `_probe_socket`
    says it, not as a failed connect to the URL's placeholder host "docker:80"."""

    async def _create_connection(self, req, traces, timeout):  # type: ignore[override]
        try:
            return await super()._create_connection(req, traces, timeout)
        except aiohttp.ClientConnectorError as exc:
            raise aiohttp.ClientConnectorError(req.connection_key, InWords(socket_words(self.path, exc.os_error))) from None


class TCPTransport(Transport):
    kind = "tcp"

    def __init__(self, base_url: str, connector: aiohttp.BaseConnector, address: str = "", port: int = 0,
                 ssl_context: ssl.SSLContext | bool = False, probe_stream: bool = False):
        super().__init__(base_url, connector)
        self.address, self.port, self.ssl_context = address, port, ssl_context
        self.probe_stream = probe_stream

    async def open_stream(self, factory: Callable[[], asyncio.Protocol]) -> asyncio.Protocol | None:
        """Only where the descriptor plan has room for it (`Links.probe_streams`)."""
        if not self.probe_stream or not self.address:
            return None
        ssl_context = self.ssl_context or None
        _, protocol = await asyncio.get_running_loop().create_connection(
            factory, self.address, self.port, ssl=ssl_context,
            server_hostname=self.address if ssl_context is not None else None)
        return protocol


async def open_direct(host: HostConfig, keep_idle: int = 1, probe_stream: bool = True) -> Transport:
    """Build the connector; nothing is connected until the first request (a unix socket's failure
    to connect is said in words by `_UnixConnector`: no connection just to try one, which was 500
    extra connects to the daemons of a big fleet)."""
    endpoint = host.endpoint
    if endpoint.scheme == "unix":
        return UnixTransport(endpoint.socket_path, keep_idle, probe_stream)
    if host.tls is not None:
        try:
            ctx: ssl.SSLContext | bool = make_ssl_context(
                host.tls.ca, host.tls.cert, host.tls.key, host.tls.verify
            )
        except (OSError, ssl.SSLError) as exc:
            raise Unreachable(f"TLS files unusable: {exc}") from None
    else:
        ctx = False
    connector = PooledTCPConnector(ssl=ctx, limit=0, family=socket.AF_UNSPEC)
    connector.keep_idle = keep_idle
    transport = TCPTransport(endpoint.http_base, connector, endpoint.address, endpoint.port or 0, ctx, probe_stream)
    transport.kind = "tls" if host.tls is not None else "tcp"
    return transport


def socket_words(path: str, exc: OSError | asyncio.TimeoutError) -> str:
    """Why a local Docker socket could not be used, as docker's own messages say it."""
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return f"socket {path} did not accept a connection in time (is the daemon stuck?)"
    if isinstance(exc, FileNotFoundError):
        return f"socket {path} does not exist (is the daemon running?)"
    if isinstance(exc, PermissionError):
        return f"permission denied on socket {path}: {socket_users(path)}"
    if isinstance(exc, ConnectionRefusedError):
        return f"nothing listens on socket {path} (a stale socket file: is the daemon running?)"
    return f"cannot connect to socket {path}: {exc.strerror or exc or type(exc).__name__}"


def socket_users(path: str) -> str:
    """Who may use a socket: its owner and its group (`docker` for a system dockerd), and how to join."""
    try:
        st = os.stat(path)
    except OSError:
        return "only its owner may use it"
    owner = _name(pwd.getpwuid, st.st_uid)
    group = _name(grp.getgrgid, st.st_gid)
    if not st.st_mode & 0o060 or group == owner:
        return f"only {owner} may use it"
    return (f"only {owner} and members of the group {group!r} may use it "
            f"(add yourself: sudo usermod -aG {group} $USER, then log in again)")


def _name(lookup, ident: int) -> str:
    try:
        return lookup(ident)[0]
    except KeyError:
        return str(ident)

