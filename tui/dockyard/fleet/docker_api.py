"""The Docker Engine API for one host: aiodocker with its stream leak fixed.

aiodocker 0.27's `_query` never releases the response, so a cancelled stream (events,
logs, stats) keeps its connection checked out; after ~100 the daemon's pool is dry
and every request hangs. `DockerClient._query` releases (or closes, if the body is
unfinished) in a `finally`. Raw API dicts are turned into `dockyard.fleet.models` here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import struct
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import aiodocker
import aiohttp

from aiodocker.types import SENTINEL
from multidict import CIMultiDict
from aiodocker.utils import httpize

from dockyard.fleet.errors import BadReply, DaemonError, HostUnavailable, UnsupportedAPI
from dockyard.fleet.from_api import (  # noqa: F401 - re-exported: the resources import them from here
    container_from_api, container_name, image_from_api, network_from_api, repo_tags, volume_from_api,
)
from dockyard.fleet.models import Container, Image, Network, Volume
from dockyard.fleet.pingstream import PingStream, Unusable
from dockyard.textfmt import short_id
from dockyard.transports import Transport, TransportError
from dockyard.transports.errors import InWords

T = TypeVar("T")
log = logging.getLogger("dockyard.docker_api")
# The Docker Engine API versions Dockyard speaks: 1.41 (Docker 20.10, and what Podman 4 reports) is
# the oldest with every request Dockyard makes (one-shot stats); a newer daemon is spoken to at
# MAX (daemons keep serving older versions, as the docker CLI relies on). Outside: HostState.UNSUPPORTED.
SUPPORTED_API = ((1, 41), (1, 47))


class DockerClient(aiodocker.Docker):
    """aiodocker.Docker over one of our transports, with streams that release their connection."""

    def __init__(self, host_name: str, transport: Transport, request_timeout: float):
        super().__init__(
            url=transport.base_url,
            connector=transport.connector,
            timeout=aiohttp.ClientTimeout(total=request_timeout, sock_connect=request_timeout),
        )
        self.host_name = host_name
        self._ping_url: Any = None
        self._transport = transport
        self._ping_stream: PingStream | None = None  # the liveness probe's kept-open connection
        self._ping_raw = True  # False once this host's transport or daemon can't do it (see `probe`)

    @property
    def closed(self) -> bool:
        """Closed (or its connector is): a request still running then fails inside aiohttp."""
        connector = self.session.connector
        return self.session.closed or connector is None or connector.closed

    async def _do_query(self, path, method: str, *, params=None, data=None, headers=None,
                        timeout: Any = SENTINEL, versioned_api: bool = True, **kwargs: Any) -> aiohttp.ClientResponse:
        """aiodocker's request, with an error reply read by its body: Podman answers a 404 with an
        empty `application/json` body, which aiodocker's own version fails to decode."""
        if versioned_api:
            await self._check_version()
        url = self._canonicalize_url(path, versioned_api=versioned_api)
        all_headers: CIMultiDict[str] = CIMultiDict(headers or {})
        all_headers.setdefault("Content-Type", "application/json")
        if timeout is SENTINEL:
            timeout = self._timeout
        elif isinstance(timeout, (int, float)):
            timeout = aiohttp.ClientTimeout(total=timeout, sock_read=timeout)
        try:
            response = await self.session.request(
                method, url, params=httpize(params), headers=httpize(all_headers), data=data,
                timeout=timeout or aiohttp.ClientTimeout(), **kwargs)
        except asyncio.TimeoutError:
            raise
        except aiohttp.ClientConnectionError as exc:
            raise aiodocker.DockerError(900, f"Cannot connect to Docker Engine via {self._connection_info} "
                                             f"[{exc}]") from exc
        if response.status >= 400:
            body = await response.read()
            response.close()
            raise aiodocker.DockerError(response.status, _error_message(body, response.reason))
        return response

    @asynccontextmanager
    async def _query(self, path, method="GET", **kwargs) -> AsyncIterator[aiohttp.ClientResponse]:
        try:
            response = await self._do_query(path, method, **kwargs)
        except aiodocker.DockerError as exc:
            if exc.status == 900:  # aiodocker's code for "could not connect"
                raise HostUnavailable(_connect_error(exc)) from None
            raise DaemonError(self.host_name, exc.status, str(exc.message)) from None
        try:
            yield response
        finally:
            if response.content.at_eof():
                response.release()
            else:
                response.close()  # unfinished body: the connection can't be reused

    async def _query_json(self, path, method: str = "GET", *, params=None, data=None, headers=None,
                          timeout: Any = SENTINEL, versioned_api: bool = True, **kwargs: Any) -> Any:
        """A reply decoded by its body, whatever its Content-Type says (aiodocker returns `''` for a
        chunked reply without one, as Podman sends `top` and one-shot stats). Empty → None;
        anything but JSON → BadReply naming the request."""
        if data is not None and not isinstance(data, (str, bytes)):
            data = json.dumps(data)
        async with self._query(path, method, params=params, data=data, headers=headers, timeout=timeout,
                               versioned_api=versioned_api, **kwargs) as response:
            body = await response.read()
        if not body.strip():
            return None
        try:
            return json.loads(body)
        except ValueError:
            raise BadReply(self.host_name, f"{method} /{path}", f"not JSON: {_excerpt(body)}") from None

    async def ping(self) -> float:
        """Round trip of `/_ping` in milliseconds.

        The liveness probe of every silent host: straight to aiohttp (measured ~0.2 ms of CPU a
        probe, against ~0.35-0.6 ms through aiodocker's request path)."""
        start = time.perf_counter()
        url = self._ping_url
        if url is None:
            url = self._ping_url = self._canonicalize_url("_ping", versioned_api=False)
        async with self.session.get(url) as resp:
            body = await resp.read()
        if resp.status >= 400:
            raise DaemonError(self.host_name, resp.status, _error_message(body, resp.reason))
        return (time.perf_counter() - start) * 1000

    async def probe(self) -> float:
        """Round trip of `/_ping` in milliseconds, for the liveness probe of a silent host: over
        a connection kept open for it where the transport offers one (fleet/pingstream.py: a third
        of the CPU of `ping`), else, or after a reply it cannot read, `ping`. A failure there is
        said by `ping` too: the ordinary request tells why the daemon can't be reached."""
        if not self._ping_raw:
            return await self.ping()
        start = time.perf_counter()
        stream = self._ping_stream
        try:
            if stream is None or stream.closed:
                self._ping_stream = stream = await self._transport.open_stream(PingStream)
                if stream is None:
                    self._ping_raw = False
                    return await self.ping()
            status = await stream.ask(self._ping_request())
        except Unusable as exc:
            log.info("%s: the probe's own connection read %s: probing with ordinary requests", self.host_name, exc)
            self._ping_raw = False
            return await self.ping()
        except (OSError, aiohttp.ClientError, TransportError):
            return await self.ping()  # says why, as any request would (the stream reopens next time)
        if status >= 400:
            return await self.ping()  # the daemon's error, read and said by the ordinary request
        return (time.perf_counter() - start) * 1000

    def _ping_request(self) -> bytes:
        url = self._ping_url
        if url is None:
            url = self._ping_url = self._canonicalize_url("_ping", versioned_api=False)
        return f"GET {url.raw_path_qs} HTTP/1.1\r\nHost: {url.raw_authority}\r\n\r\n".encode("latin-1")

    async def close(self) -> None:
        if self._ping_stream is not None:
            self._ping_stream.close()
            self._ping_stream = None
        await super().close()

    async def negotiate(self) -> dict[str, Any]:
        """Pins the API version to the highest both sides speak, so no call asks again; returns
        what the daemon said of itself (`/version`'s fields, or those its ping's headers carry).

        `/_ping` first: its `Api-Version` header is the daemon's own version, and a daemon that
        speaks one within SUPPORTED_API is spoken to at it (its minimum is at most its own).
        dockerd answers `/version` by running `runc --version` and `docker-init --version`: ~5 ms
        and two processes a request here, against 0.1 ms for a ping (500 hosts connecting were
        1,000 processes on the machine). `/version` only when the ping names no version or a newer
        one than Dockyard speaks: its `MinAPIVersion` then decides. A daemon outside
        SUPPORTED_API raises UnsupportedAPI (the host shows that state)."""
        async with self._query("_ping", versioned_api=False) as resp:
            await resp.read()
            version = version_from_ping(resp.headers)
        theirs = _api_tuple(version.get("ApiVersion"))
        if theirs is None or theirs > SUPPORTED_API[1]:
            version = await self.get("version", versioned_api=False)
        self.api_version = "v" + negotiated_api(self.host_name, version)
        return version

    async def get(self, path: str, expect: type = dict, *, versioned_api: bool = True, **params: Any) -> Any:
        """`GET path` as JSON of the `expect`ed type (a dict unless told); BadReply otherwise."""
        value = await self._query_json(path, params=params or None, versioned_api=versioned_api)
        return _expect(self.host_name, f"GET /{path}", value, expect)

    async def inspect_container(self, container_id: str) -> dict[str, Any]:
        return await self.get(f"containers/{container_id}/json")

    async def create_container(self, body: dict[str, Any], name: str | None = None) -> dict[str, Any]:
        params = {"name": name} if name else None
        return await self._query_json("containers/create", "POST", params=params, data=body)

    async def rename_container(self, container_id: str, name: str) -> None:
        await self._query_json(f"containers/{container_id}/rename", "POST", params={"name": name})

    async def commit_container(self, container_id: str, repo: str, tag: str, message: str = "") -> dict[str, Any]:
        params = {"container": container_id, "repo": repo, "tag": tag, "comment": message, "pause": "true"}
        return await self._query_json("commit", "POST", params=params)

    async def container_top(self, container_id: str) -> tuple[list[str], list[list[str]]]:
        """`docker top`: (titles, rows). Podman 4.3 sends each row as one string under one title
        ("PID   USER     COMMAND"): split on the title's columns, the last one keeping its spaces."""
        data = await self.get(f"containers/{container_id}/top")
        titles = [str(t) for t in data.get("Titles") or []]
        rows = data.get("Processes") or []
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise BadReply(self.host_name, f"GET /containers/{container_id}/top", "Processes is not a list of rows")
        rows = [[str(v) for v in r] for r in rows]
        if len(titles) == 1 and len(titles[0].split()) > 1 and all(len(r) == 1 for r in rows):
            titles = titles[0].split()
            rows = [r[0].split(None, len(titles) - 1) for r in rows]
        width = len(titles)
        return titles, [(r + ["-"] * width)[:width] if width else r for r in rows]

    async def one_shot_stats(self, container_id: str) -> dict[str, Any] | None:
        """One stats sample (`stream=0&one-shot=1`, no precpu): waits for the daemon's next collection.
        None: the daemon ended the reply with no sample (the container stopped or was removed while
        the request waited) — no sample, not a malformed reply."""
        path = f"containers/{container_id}/stats"
        raw = await self._query_json(path, params={"stream": "0", "one-shot": "1"})
        if raw is None:
            return None
        raw = _expect(self.host_name, f"GET /{path}", raw, dict)
        problem = _shape_problem(raw, STATS_SHAPE)
        if problem:
            raise BadReply(self.host_name, f"GET /containers/{short_id(container_id)}/stats", problem)
        return raw

    # ------------------------------------------------------------------ lists

    async def list_containers(self, all: bool = True, filters: dict[str, list[str]] | None = None) -> list[Container]:
        params: dict[str, Any] = {"all": "1" if all else "0"}
        if filters:
            params["filters"] = json.dumps(filters)
        raw = await self.get("containers/json", list, **params)
        return self._models("GET /containers/json", raw, container_from_api)

    async def list_images(self, all: bool = False) -> list[Image]:
        raw = await self.get("images/json", list, all="1" if all else "0")
        return self._models("GET /images/json", raw, image_from_api)

    async def list_volumes(self) -> list[Volume]:
        raw = await self.get("volumes")
        return self._models("GET /volumes", raw.get("Volumes") or [], volume_from_api)

    async def list_networks(self) -> list[Network]:
        raw = await self.get("networks", list)
        return self._models("GET /networks", raw, network_from_api)

    def _models(self, request: str, raw: list[Any], convert: Callable[[str, dict[str, Any]], T]) -> list[T]:
        """API dicts → models; an item of the wrong shape is a BadReply naming the request, not a crash."""
        try:
            return [convert(self.host_name, item) for item in raw]
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise BadReply(self.host_name, request, f"an item is not what the Docker API describes "
                                                    f"({type(exc).__name__}: {exc})") from None

    # ------------------------------------------------------------------ streams

    async def event_stream(self, since: float | None = None, on_open: Callable[[], None] | None = None,
                           on_bad: Callable[[str], None] | None = None,
                           params: dict[str, str] | None = None) -> AsyncIterator[dict[str, Any]]:
        """The daemon's events as dicts, until the daemon closes or the caller stops iterating.

        `on_open` runs once the daemon accepted the subscription, so a caller can list
        objects after it without missing an event in between; `on_bad` hears of each line
        that is not an event (it is skipped). `params`: since/until/filters as the API takes them.
        """
        params = {**({"since": f"{since:.9f}"} if since else {}), **(params or {})} or None
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None, sock_connect=self._timeout.sock_connect)
        async with self._query("events", params=params, timeout=timeout) as resp:
            if on_open is not None:
                on_open()
            async for line in resp.content:
                line = line.strip()
                if not line:
                    continue
                try:
                    event = json.loads(line)
                except ValueError:
                    event = None
                if isinstance(event, dict):
                    yield event
                elif on_bad is not None:  # skipped: the periodic reconcile corrects what it missed
                    on_bad(f"an event that is not a JSON object: {_excerpt(line)}")

    async def log_stream(self, container_id: str, *, follow: bool = True, tail: int | str = "all",
                         timestamps: bool = False, tty: bool = False,
                         since: str | None = None) -> AsyncIterator[tuple[str, bytes]]:
        """(stream, chunk) pairs where stream is 'stdout' or 'stderr' (aiodocker drops which)."""
        params = {"stdout": "1", "stderr": "1", "follow": "1" if follow else "0",
                  "tail": str(tail), "timestamps": "1" if timestamps else "0"}
        if since:
            params["since"] = since
        async for item in self._framed_logs(f"containers/{container_id}/logs", params, tty):
            yield item

    async def service_log_stream(self, service_id: str, *, follow: bool = True, tail: int | str = "all",
                                 since: str | None = None) -> AsyncIterator[tuple[str, bytes]]:
        """A swarm service's logs from every task, through a manager: each line carries its
        timestamp and `com.docker.swarm.node.id=…,…service.id=…,…task.id=…` before the text."""
        params = {"stdout": "1", "stderr": "1", "follow": "1" if follow else "0", "tail": str(tail),
                  "timestamps": "1", "details": "1"}
        if since:
            params["since"] = since
        async for item in self._framed_logs(f"services/{service_id}/logs", params, tty=False):
            yield item

    async def _framed_logs(self, path: str, params: dict[str, str], tty: bool) -> AsyncIterator[tuple[str, bytes]]:
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None, sock_connect=self._timeout.sock_connect)
        async with self._query(path, params=params, timeout=timeout) as resp:
            if tty:
                async for chunk in resp.content.iter_any():
                    yield "stdout", chunk
                return
            while True:
                try:
                    header = await resp.content.readexactly(8)
                except asyncio.IncompleteReadError:
                    return
                if header[0] > 2 or header[1:4] != b"\0\0\0":
                    raise BadReply(self.host_name, f"GET /{path}",
                                   f"not a multiplexed log stream (starts {_excerpt(header)})")
                kind, length = struct.unpack(">BxxxL", header)
                try:
                    payload = await resp.content.readexactly(length)
                except asyncio.IncompleteReadError as exc:  # the daemon went away mid-frame
                    payload = exc.partial
                yield ("stderr" if kind == 2 else "stdout"), payload

    async def stats_stream(self, container_id: str) -> AsyncIterator[dict[str, Any]]:
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None, sock_connect=self._timeout.sock_connect)
        async with self._query(f"containers/{container_id}/stats", params={"stream": "1"},
                               timeout=timeout) as resp:
            async for line in resp.content:
                if line.strip():
                    yield json.loads(line)

    # ------------------------------------------------------------------ actions

    async def container_action(self, container_id: str, action: str, *, limit: float | None = None,
                               **options: Any) -> None:
        """POST the action (DELETE for remove); `limit` replaces the request timeout (a stop waits
        the grace period: the caller, fleet/containers.py, adds it once for both layers)."""
        if action == "remove":
            params = {"force": "1" if options.get("force") else "0",
                      "v": "1" if options.get("volumes") else "0"}
            async with self._query(f"containers/{container_id}", "DELETE", params=params):
                return
        params: dict[str, str] = {}
        timeout = aiohttp.ClientTimeout(total=limit) if limit else self._timeout
        if action == "kill" and options.get("signal"):
            params["signal"] = str(options["signal"])
        if action in ("stop", "restart") and options.get("timeout") is not None:
            # without `t` the daemon honours the container's own StopTimeout (default 10 s)
            params["t"] = str(int(options["timeout"]))
        async with self._query(f"containers/{container_id}/{action}", "POST", params=params or None,
                               timeout=timeout):
            return


    # ------------------------------------------------------------------ images, volumes, networks
    # Raw API dicts in, raw dicts out: the resource modules turn them into models.

    def _long_timeout(self) -> aiohttp.ClientTimeout:
        """No total/read limit (pulls, saves and loads take as long as they take)."""
        return aiohttp.ClientTimeout(total=None, sock_read=None, sock_connect=self._timeout.sock_connect)

    async def json_stream(self, path: str, method: str = "POST", *, params: dict[str, Any] | None = None,
                          headers: dict[str, str] | None = None) -> AsyncIterator[dict[str, Any]]:
        """A JSON-lines progress stream (pull, push), one dict per line, without a total timeout."""
        async with self._query(path, method, params=params, headers=headers, timeout=self._long_timeout()) as resp:
            async for line in resp.content:
                line = line.strip()
                if line:
                    try:
                        yield json.loads(line)
                    except ValueError:
                        yield {"status": line.decode(errors="replace")}

    def pull_stream(self, repo: str, tag: str, auth_header: str) -> AsyncIterator[dict[str, Any]]:
        """`POST /images/create?fromImage=&tag=`: the daemon's pull progress."""
        return self.json_stream("images/create", params={"fromImage": repo, "tag": tag},
                                headers={"X-Registry-Auth": auth_header})

    def push_stream(self, repo: str, tag: str, auth_header: str) -> AsyncIterator[dict[str, Any]]:
        """`POST /images/{repo}/push?tag=` (the daemon insists on an X-Registry-Auth header)."""
        return self.json_stream(f"images/{repo}/push", params={"tag": tag},
                                headers={"X-Registry-Auth": auth_header})

    async def inspect_image(self, image: str) -> dict[str, Any]:
        return await self._query_json(f"images/{image}/json")

    async def image_history(self, image: str) -> list[dict[str, Any]]:
        return await self._query_json(f"images/{image}/history")

    async def tag_image(self, image: str, repo: str, tag: str) -> None:
        async with self._query(f"images/{image}/tag", "POST", params={"repo": repo, "tag": tag}):
            return

    async def remove_image(self, image: str, force: bool = False, noprune: bool = False) -> list[dict[str, Any]]:
        params = {"force": "1" if force else "0", "noprune": "1" if noprune else "0"}
        return await self._query_json(f"images/{image}", "DELETE", params=params)

    async def prune_images(self, filters: dict[str, list[str]]) -> dict[str, Any]:
        return await self._query_json("images/prune", "POST", params={"filters": json.dumps(filters)},
                                      timeout=self._long_timeout())

    async def system_df(self) -> dict[str, Any]:
        return await self._query_json("system/df", timeout=self._long_timeout())

    async def save_images(self, names: list[str], chunk_size: int = 1 << 18) -> AsyncIterator[bytes]:
        """`GET /images/get?names=a&names=b` (docker save) as a stream of chunks.

        aiodocker's `export_image` takes one name and `params` cannot repeat a key, so the
        query string is built here."""
        from urllib.parse import urlencode

        query = urlencode([("names", n) for n in names])
        async with self._query(f"images/get?{query}", timeout=self._long_timeout()) as resp:
            while True:
                chunk = await resp.content.read(chunk_size)
                if not chunk:
                    return
                yield chunk

    async def load_images(self, chunks: AsyncIterator[bytes]) -> list[dict[str, Any]]:
        """`POST /images/load` (docker load) fed from an async iterator; returns the daemon's messages.

        The daemon answers 200 even when the tarball is bad: errors come as `{"error": …}` lines."""
        async with self._query("images/load", "POST", params={"quiet": "1"}, data=chunks,
                               headers={"Content-Type": "application/x-tar"},
                               timeout=self._long_timeout()) as resp:
            body = await resp.read()
        messages = []
        for line in body.splitlines():
            line = line.strip()
            if line:
                try:
                    messages.append(json.loads(line))
                except ValueError:
                    messages.append({"stream": line.decode(errors="replace")})
        return messages

    async def create_volume(self, name: str, labels: dict[str, str] | None = None,
                            driver: str = "local") -> dict[str, Any]:
        body = {"Name": name, "Driver": driver, "Labels": dict(labels or {})}
        return await self._query_json("volumes/create", "POST", data=body)

    async def remove_volume(self, name: str, force: bool = False) -> None:
        async with self._query(f"volumes/{name}", "DELETE", params={"force": "1" if force else "0"}):
            return

    async def prune_volumes(self, filters: dict[str, list[str]] | None = None) -> dict[str, Any]:
        params = {"filters": json.dumps(filters)} if filters else None
        return await self._query_json("volumes/prune", "POST", params=params, timeout=self._long_timeout())

    async def raw_containers(self, filters: dict[str, list[str]] | None = None) -> list[dict[str, Any]]:
        """`containers/json?all=1` as the daemon sends it (with Mounts and NetworkSettings)."""
        params: dict[str, Any] = {"all": "1"}
        if filters:
            params["filters"] = json.dumps(filters)
        return await self._query_json("containers/json", params=params)

    async def create_network(self, name: str, *, internal: bool = True, labels: dict[str, str] | None = None,
                             driver: str = "bridge") -> dict[str, Any]:
        body = {"Name": name, "Driver": driver, "Internal": internal, "Labels": dict(labels or {}),
                "CheckDuplicate": True}
        return await self._query_json("networks/create", "POST", data=body)

    async def inspect_network(self, network: str) -> dict[str, Any]:
        return await self._query_json(f"networks/{network}")

    async def remove_network(self, network: str) -> None:
        async with self._query(f"networks/{network}", "DELETE"):
            return

    async def connect_network(self, network: str, container: str, endpoint: dict[str, Any] | None = None) -> None:
        """`endpoint`: the EndpointConfig (aliases, static addresses) the container gets on it."""
        body: dict[str, Any] = {"Container": container}
        if endpoint:
            body["EndpointConfig"] = endpoint
        await self._query_json(f"networks/{network}/connect", "POST", data=body)

    async def disconnect_network(self, network: str, container: str, force: bool = False) -> None:
        await self._query_json(f"networks/{network}/disconnect", "POST",
                               data={"Container": container, "Force": force})

    # ------------------------------------------------------------------ swarm (a manager answers these)
    # Raw API dicts in and out: dockyard/fleet/swarm.py turns them into models.

    async def swarm_list(self, kind: str, filters: dict[str, list[str]] | None = None,
                         **params: str) -> list[dict[str, Any]]:
        """`GET /services|tasks|nodes|secrets|configs` (a worker answers 503: not a manager)."""
        query: dict[str, str] = dict(params)
        if filters:
            query["filters"] = json.dumps(filters)
        return await self._query_json(kind, params=query or None)

    async def list_services(self, filters: dict[str, list[str]] | None = None) -> list[dict[str, Any]]:
        """Services with `ServiceStatus` (running/desired task counts, API 1.41)."""
        return await self.swarm_list("services", filters, status="true")

    async def inspect_service(self, service: str) -> dict[str, Any]:
        return await self._query_json(f"services/{service}")

    async def update_service(self, service_id: str, version: int, spec: dict[str, Any], *,
                             rollback: bool = False, auth_header: str | None = None) -> list[str]:
        """`POST /services/{id}/update?version=` with the whole new spec; returns the daemon's warnings.
        `rollback=True` asks the manager for the previous spec instead (the body is then ignored)."""
        params = {"version": str(version)}
        if rollback:
            params["rollback"] = "previous"
        headers = {"X-Registry-Auth": auth_header} if auth_header else None
        answer = await self._query_json(f"services/{service_id}/update", "POST", params=params, data=spec,
                                        headers=headers)
        return list((answer or {}).get("Warnings") or [])

    async def remove_service(self, service_id: str) -> None:
        async with self._query(f"services/{service_id}", "DELETE"):
            return

    async def inspect_node(self, node_id: str) -> dict[str, Any]:
        return await self._query_json(f"nodes/{node_id}")

    async def update_node(self, node_id: str, version: int, spec: dict[str, Any]) -> None:
        async with self._query(f"nodes/{node_id}/update", "POST", params={"version": str(version)},
                               data=json.dumps(spec), headers={"Content-Type": "application/json"}):
            return

    async def remove_swarm_object(self, kind: str, object_id: str) -> None:
        """DELETE /secrets/{id}, /configs/{id} or /networks/{id} (a stack's leftovers)."""
        async with self._query(f"{kind}/{object_id}", "DELETE"):
            return


def api_text(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def _api_tuple(value: Any) -> tuple[int, int] | None:
    try:
        major, minor = str(value).strip().split(".")[:2]
        return int(major), int(minor)
    except ValueError:
        return None


def version_from_ping(headers: Mapping[str, str]) -> dict[str, Any]:
    """`/version`'s fields that a ping's headers carry: `Api-Version`, `Ostype`, and the engine's
    version from `Server: Docker/20.10.24 (linux)` (Podman: `Libpod/4.3.1 (linux)`; another
    server's name there, a proxy's, says nothing about the daemon). No `Arch`: /info has it."""
    version: dict[str, Any] = {}
    if api := headers.get("Api-Version"):
        version["ApiVersion"] = api.strip()
    name, _, rest = (headers.get("Server") or "").partition("/")
    if name in ("Docker", "Libpod") and (engine := rest.split(" ", 1)[0]):
        version["Version"] = engine
    if os_type := headers.get("Ostype"):
        version["Os"] = os_type.strip()
    return version


def negotiated_api(host: str, version: dict[str, Any]) -> str:
    """The API version to speak with a daemon whose `/version` says `version`, or UnsupportedAPI."""
    low, high = SUPPORTED_API
    theirs = _api_tuple(version.get("ApiVersion"))
    if theirs is None:
        raise BadReply(host, "GET /version", f"no Docker API version in it ({_excerpt(json.dumps(version))})")
    their_min = _api_tuple(version.get("MinAPIVersion")) or theirs
    supported = f"Dockyard supports Docker Engine API {api_text(low)} to {api_text(high)}"
    if theirs < low:
        raise UnsupportedAPI(f"the daemon speaks Docker Engine API {api_text(theirs)}; {supported} "
                             f"(Docker 20.10 or newer, Podman 4 or newer)", version)
    if their_min > high:
        raise UnsupportedAPI(f"the daemon needs Docker Engine API {api_text(their_min)} or newer; {supported}",
                             version)
    return api_text(min(theirs, high))


# The fields of a stats sample Dockyard reads, with their JSON types: a field may be missing (Podman
# leaves some out; the UI shows "-"), but one that is there must have its type. "[]" is each item.
STATS_SHAPE: dict[str, Any] = {
    "read": str, "pids_stats": {"current": int},
    "cpu_stats": {"cpu_usage": {"total_usage": int, "percpu_usage": [int]}, "system_cpu_usage": int,
                  "online_cpus": int},
    "memory_stats": {"usage": int, "limit": int, "stats": {"inactive_file": int, "total_inactive_file": int}},
    "networks": {"[]": {"rx_bytes": int, "tx_bytes": int}},
    "blkio_stats": {"io_service_bytes_recursive": [{"op": str, "value": int}]},
}


def _shape_problem(value: Any, shape: Any, where: str = "") -> str | None:
    """Where `value` departs from `shape` (a type, a dict of fields, or a one-item list), or None."""
    if value is None and where:
        return None  # absent or null: shown as "-"
    if isinstance(shape, type):
        ok = isinstance(value, shape) and not (shape is int and isinstance(value, bool))
        return None if ok else f"{where or 'the reply'} is {type(value).__name__}, not {shape.__name__}"
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"{where or 'the reply'} is not a list"
        return next((p for i, v in enumerate(value) if (p := _shape_problem(v, shape[0], f"{where}[{i}]"))), None)
    if not isinstance(value, dict):
        return f"{where or 'the reply'} is not an object"
    if "[]" in shape:
        return next((p for k, v in value.items() if (p := _shape_problem(v, shape["[]"], f"{where}.{k}"))), None)
    return next((p for k, sub in shape.items()
                 if (p := _shape_problem(value.get(k), sub, f"{where}.{k}".lstrip(".")))), None)


def _expect(host: str, request: str, value: Any, kind: type) -> Any:
    if not isinstance(value, kind):
        wanted = {dict: "a JSON object", list: "a JSON list"}.get(kind, kind.__name__)
        got = "an empty reply" if value is None else f"{type(value).__name__} {_excerpt(json.dumps(value))}"
        raise BadReply(host, request, f"expected {wanted}, got {got}")
    return value


def _excerpt(body: bytes | str, limit: int = 80) -> str:
    """The start of a reply for an error message: printable characters only (a reply is data)."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    text = "".join(ch if ch.isprintable() else "?" for ch in text.strip())
    return repr(text[:limit] + ("…" if len(text) > limit else ""))


def _error_message(body: bytes, reason: str | None) -> str:
    """An error reply's words: its JSON `message`, else its text, else the HTTP reason."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])
    text = body.decode("utf-8", errors="replace").strip()
    if text and data is None:
        return "".join(ch if ch.isprintable() else "?" for ch in text[:300])
    return (reason or "error").lower()


def _connect_error(exc: aiodocker.DockerError) -> str:
    """Words for a failed connect, from the aiohttp error aiodocker wrapped."""
    cause = exc.__context__
    if isinstance(cause, aiohttp.ClientConnectorCertificateError):
        cert_error = cause.certificate_error
        detail = getattr(cert_error, "verify_message", None) or str(cert_error)
        return f"TLS certificate verification failed for {cause.host}:{cause.port}: {detail}"
    if isinstance(cause, aiohttp.ClientSSLError):
        return f"TLS handshake with {cause.host}:{cause.port} failed: {cause.os_error}"
    if isinstance(cause, aiohttp.ClientConnectorError):
        err = cause.os_error
        if isinstance(err, InWords):  # a unix or SSH transport said what it tried where
            return str(err)
        what = os.strerror(err.errno) if getattr(err, "errno", None) else str(err)
        return f"cannot connect to {cause.host}:{cause.port}: {what}"
    if isinstance(cause, aiohttp.ServerDisconnectedError):
        return "the daemon closed the connection before answering"
    if isinstance(cause, aiohttp.ClientOSError) and cause.errno:
        return f"connection to the daemon failed: {os.strerror(cause.errno)}"
    if isinstance(cause, aiohttp.ClientConnectionError):  # not aiodocker's "via http://docker" placeholder
        return f"connection to the daemon failed: {cause}" if str(cause) else "connection to the daemon lost"
    return str(exc.message).strip()
