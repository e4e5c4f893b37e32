"""The first container listing, asked for while the TUI is still importing: standard library only.

Launch → first rows is imports (Textual, then aiohttp/aiodocker: ~0.45 s here) followed by a
connect, an events subscription and a listing (~0.1-0.2 s), one after the other. The daemon's
part needs none of those imports: a thread sends `GET /containers/json?all=1` over a plain
socket the moment the configuration is read, and the daemon answers on its own core while this
process imports. The session seeds its cache with the answer (`HostSession.seed`) so the first
frame after the fleet loads already has rows; its own listing, right after it subscribes to
events, replaces them ~0.1 s later, so nothing shown is older than the start-up.

Plain unix sockets and plain tcp only: TLS and SSH hosts connect the normal way (a TLS context
or an SSH handshake in a thread would compete with the imports for the GIL and gain little).
A prefetch that fails, is late or answers something odd is simply not used.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from dockyard.fleet.from_api import container_from_api

if TYPE_CHECKING:
    from dockyard.config.model import HostConfig
    from dockyard.fleet.models import Container

# The oldest API version Dockyard speaks (docker_api.SUPPORTED_API): every daemon it supports
# answers it, and the listing's shape is the same at every version since.
LISTING = "/v1.41/containers/json?all=1"
MAX_HOSTS = 8  # threads; the first screen holds ~40 rows, and more hosts would only slow the imports
TIMEOUT = 3.0
FIRST_FRAME_WAIT = 0.1  # s the first frame may wait for listings still on their way
MAX_BODY = 64 << 20


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def _connection(host: HostConfig) -> http.client.HTTPConnection | None:
    """The host's daemon as transports/direct.py reaches it (the same address and default port)."""
    timeout = min(TIMEOUT, host.connect_timeout)
    endpoint = host.endpoint
    if endpoint.scheme == "unix":
        return _UnixConnection(endpoint.socket_path, timeout)
    if endpoint.scheme == "tcp" and not endpoint.tls:
        return http.client.HTTPConnection(endpoint.address, endpoint.port, timeout=timeout)
    return None


class Prefetch:
    """One thread per eligible host; `containers(name)` is what it listed, once it has."""

    def __init__(self, hosts: Iterable[HostConfig]):
        self._raw: dict[str, list[dict[str, Any]]] = {}  # written by the threads, each its own key
        self._models: dict[str, list[Container] | None] = {}
        self._threads: dict[str, threading.Thread] = {}
        for host in hosts:
            if len(self._threads) >= MAX_HOSTS:
                break
            if host.enabled and (conn := _connection(host)) is not None:
                thread = threading.Thread(target=self._fetch, args=(host.name, conn), daemon=True,
                                          name=f"prefetch:{host.name}")
                self._threads[host.name] = thread
                thread.start()

    def _fetch(self, name: str, conn: http.client.HTTPConnection) -> None:
        try:
            conn.request("GET", LISTING, headers={"Accept": "application/json"})
            reply = conn.getresponse()
            body = reply.read(MAX_BODY + 1)
            if reply.status == 200 and len(body) <= MAX_BODY:
                raw = json.loads(body)
                if isinstance(raw, list) and all(isinstance(c, dict) for c in raw):
                    self._raw[name] = raw
        except (OSError, http.client.HTTPException, ValueError):
            pass  # the session's own connect will say what is wrong
        finally:
            conn.close()

    def containers(self, name: str) -> list[Container] | None:
        """The host's prefetched containers if they have arrived (never waits; None if not)."""
        if name not in self._models:
            raw = self._raw.get(name)
            if raw is None:
                return None  # not (yet) answered: the session lists the normal way
            try:
                self._models[name] = [container_from_api(name, c) for c in raw]
            except (KeyError, TypeError, ValueError, AttributeError, IndexError):
                self._models[name] = None  # a shape the session's own listing will report in words
        return self._models[name]

    def wait(self, seconds: float = FIRST_FRAME_WAIT) -> None:
        """Give listings still on their way up to `seconds` in all (the first frame waits this
        little for rows a local daemon sends in ~25 ms; a slow or hung one is not waited for)."""
        deadline = time.monotonic() + seconds
        for thread in self._threads.values():
            thread.join(max(0.0, deadline - time.monotonic()))

    def pending(self) -> bool:
        return any(t.is_alive() for t in self._threads.values())
