"""A small Docker API server for faults no real daemon produces: malformed or unexpected replies
(tests/fake_daemon.py is the other impostor: well-formed replies full of hostile names).

It answers `/_ping`, `/version`, `/info` and the lists correctly (one running container,
"victim"), and what a test asks for everywhere else: `MalformedDaemon(path, replies={"inspect": …})`.
It runs in the test's own event loop on a unix socket (aiohttp's server; loopback only by nature).

    REPLIES[kind] -> {endpoint: (status, content type or None, body)}

Endpoints: "inspect", "top", "stats", "logs", "events". A reply without a content type is sent
chunked without one (as Podman sends `top` and one-shot stats).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import web

VICTIM_ID = "f" * 64
VICTIM = {"Id": VICTIM_ID, "Names": ["/victim"], "Image": "fake/image:1", "ImageID": "sha256:" + "e" * 64,
          "Command": "sleep 300", "Created": 1_700_000_000, "State": "running", "Status": "Up 5 minutes",
          "Ports": [], "Labels": {}, "Mounts": [], "NetworkSettings": {"Networks": {}}}

Reply = tuple[int, "str | None", bytes]
NOT_JSON: Reply = (200, "application/json", b"<html><body>502 Bad Gateway [/oops]</body></html>")
# Bodies that are JSON but not what the Docker API describes, per endpoint.
REPLIES: dict[str, dict[str, Reply]] = {
    "not-json": {"inspect": NOT_JSON, "top": (200, None, b"PID CMD\n1 sleep"), "stats": (200, None, b"\x00\x01garbage"),
                 "logs": (200, "text/plain", b"plain text where frames belong\n" * 3),
                 "events": (200, "application/json", b"{not json\n")},
    "wrong-shape": {"inspect": (200, "application/json", b"[1, 2, 3]"),
                    "top": (200, None, b'"PID CMD"'), "stats": (200, None, b"[]"),
                    "logs": (200, None, b"\x07\x00\x00\x00\x00\x00\x00\x05hello"),
                    "events": (200, "application/json", b'["die", "start"]\n42\n')},
    "wrong-types": {"inspect": (200, "application/json",
                                json.dumps({"Id": VICTIM_ID, "Config": "x", "State": 5, "Mounts": {"a": 1},
                                            "NetworkSettings": [], "HostConfig": 7}).encode()),
                    "top": (200, None, json.dumps({"Titles": "PID", "Processes": 7}).encode()),
                    "stats": (200, None, json.dumps({"read": "now", "cpu_stats": "busy", "memory_stats": {"usage": "lots"},
                                                     "networks": [1], "blkio_stats": 3}).encode()),
                    "logs": (200, None, b""),
                    "events": (200, "application/json",
                               json.dumps({"Type": "container", "Action": 5, "Actor": "x"}).encode() + b"\n")},
    "empty": {"inspect": (200, "application/json", b""), "top": (200, None, b""), "stats": (200, None, b""),
              "logs": (200, None, b""), "events": (200, "application/json", b"")},
}


class MalformedDaemon:
    def __init__(self, path: str, replies: dict[str, Reply] | None = None, api_version: str = "1.41",
                 min_api_version: str = "1.12"):
        self.path = path
        self.replies = dict(replies or {})
        self.api_version, self.min_api_version = api_version, min_api_version
        self.requests: list[str] = []
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()  # ends the streams it holds open

    async def __aenter__(self) -> MalformedDaemon:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1)
        await self._runner.setup()
        await web.UnixSite(self._runner, self.path).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.requests.append(f"{request.method} {path}")
        parts = path.strip("/").split("/")
        if parts and parts[0].startswith("v1."):
            asked = parts[0][1:]
            parts = parts[1:]
            if (refused := self._refuses(asked)) is not None:
                return web.json_response({"message": refused}, status=400)
        route = "/".join(parts)
        if route == "_ping":  # with the headers dockerd sends: its own API version among them
            return web.Response(text="OK", headers={"Api-Version": self.api_version, "Ostype": "linux",
                                                    "Server": "Docker/0.0-fake (linux)"})
        if route == "version":
            return web.json_response({"Version": "0.0-fake", "ApiVersion": self.api_version,
                                      "MinAPIVersion": self.min_api_version, "Os": "linux", "Arch": "amd64"})
        if route == "info":
            return web.json_response({"Name": "fake", "NCPU": 1, "MemTotal": 1 << 30, "Containers": 1,
                                      "ContainersRunning": 1, "Images": 0})
        if route == "containers/json":
            return web.json_response([VICTIM])
        if route in ("images/json", "networks"):
            return web.json_response([])
        if route == "volumes":
            return web.json_response({"Volumes": []})
        kind = {"events": "events"}.get(route) or (parts[-1] if len(parts) == 3 and parts[0] == "containers" else "")
        kind = {"json": "inspect"}.get(kind, kind)
        if kind in self.replies:
            return await self._send(request, *self.replies[kind], hold=kind in ("events", "logs"))
        return web.json_response({"message": f"fake daemon: no {route}"}, status=404)

    def _refuses(self, asked: str) -> str | None:
        """dockerd's words for a request at an API version outside what it serves (api/server/middleware)."""
        def key(v: str) -> tuple[int, ...]:
            return tuple(int(p) for p in v.split("."))
        if key(asked) < key(self.min_api_version):
            return (f"client version {asked} is too old. Minimum supported API version is {self.min_api_version}, "
                    "please upgrade your client to a newer version")
        if key(asked) > key(self.api_version):
            return f"client version {asked} is too new. Maximum supported API version is {self.api_version}"
        return None

    async def _send(self, request: web.Request, status: int, content_type: str | None, body: bytes,
                    hold: bool) -> web.StreamResponse:
        """Chunked, with exactly the content type given (none: no header at all)."""
        response = web.StreamResponse(status=status)
        response.enable_chunked_encoding()
        if content_type is None:
            response.headers.popall("Content-Type", None)
        else:
            response.content_type = content_type
        await response.prepare(request)
        if body:
            await response.write(body)
        if hold:  # a stream stays open, as a follow does
            await self._closing.wait()
        with contextlib.suppress(ConnectionError):  # the client may have gone first
            await response.write_eof()
        return response


def host_entry(name: str, path: str, **extra: Any) -> dict[str, Any]:
    """A config host table for a fake daemon (for `Lab.config_toml(hosts=[…])`-style writers)."""
    return {"name": name, "url": f"unix://{path}", **extra}
