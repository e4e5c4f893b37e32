"""A Docker API impostor on a unix socket whose every name is hostile (tests/hostile.py).

A real dockerd refuses such container, image, volume and network names; a compromised or buggy
daemon (or a proxy in front of one) does not have to. Enough of the Engine API for the panes and
the CLI: _ping, version, info, lists, inspect, logs, stats, an events stream that stays open.
Runs in its own thread and event loop, so a blocking test (the CLI as a subprocess) can use it.
"""

from __future__ import annotations

import asyncio
import json
import re
import struct
import threading

from aiohttp import web
from hostile import HOSTILE

ID = "f" * 64


def _names() -> list[str]:
    return list(HOSTILE)


def containers() -> list[dict]:
    return [{"Id": f"{i:02d}" + ID[2:], "Names": ["/" + name], "Image": name, "ImageID": "sha256:" + ID,
             "Command": name, "Created": 1700000000, "State": "running", "Status": "Up " + name,
             "Ports": [], "Labels": {"com.docker.compose.project": name, name: name},
             "Mounts": [{"Type": "volume", "Name": name}], "NetworkSettings": {"Networks": {name: {}}}}
            for i, name in enumerate(_names())]


def images() -> list[dict]:
    return [{"Id": f"sha256:{i:02d}" + ID[2:], "RepoTags": [f"{name}:{name}"], "RepoDigests": [],
             "Created": 1700000000, "Size": 1234, "Containers": 1, "Labels": {name: name}}
            for i, name in enumerate(_names())]


def volumes() -> dict:
    return {"Volumes": [{"Name": name, "Driver": name, "Mountpoint": "/" + name, "CreatedAt": name,
                         "Labels": {name: name}} for name in _names()], "Warnings": []}


def networks() -> list[dict]:
    return [{"Id": f"{i:02d}" + ID[2:], "Name": name, "Driver": name, "Scope": name,
             "IPAM": {"Config": [{"Subnet": name}]}, "Internal": False, "Labels": {name: name}}
            for i, name in enumerate(_names())]


def inspect(cid: str) -> dict:
    name = _names()[int(cid[:2]) % len(HOSTILE)]
    return {"Id": cid, "Name": "/" + name, "Created": "2024-01-01T00:00:00Z", "Path": name, "Args": [name],
            "State": {"Status": "running", "Running": True, "StartedAt": "2024-01-01T00:00:00Z"},
            "Image": "sha256:" + ID, "Config": {"Image": name, "Env": [f"{name}={name}"], "Labels": {name: name},
                                                 "Cmd": [name], "Hostname": name},
            "Mounts": [{"Type": "volume", "Name": name, "Destination": "/" + name}],
            "NetworkSettings": {"Ports": {}, "Networks": {name: {"IPAddress": name}}},
            "HostConfig": {"NetworkMode": name}}


class FakeDaemon:
    def __init__(self, socket_path: str):
        self.socket_path = socket_path
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._runner: web.AppRunner | None = None
        self._streams: set[asyncio.Task] = set()  # open /events handlers, ended on stop
        self._thread = threading.Thread(target=self._serve, daemon=True, name="fake-daemon")

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self) -> FakeDaemon:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake daemon did not start")
        return self

    def stop(self) -> None:
        async def down() -> None:
            for task in self._streams:
                task.cancel()
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(down(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.UnixSite(self._runner, self.socket_path).start())
        self._ready.set()
        self._loop.run_forever()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = re.sub(r"^/v[0-9.]+/", "/", request.path)
        if path == "/_ping":
            return web.Response(text="OK")
        if path == "/version":
            return web.json_response({"Version": HOSTILE[0], "ApiVersion": "1.41", "MinAPIVersion": "1.12",
                                      "Os": HOSTILE[5], "Arch": HOSTILE[6]})
        if path == "/info":
            return web.json_response({"Name": HOSTILE[1], "NCPU": 2, "MemTotal": 2**30, "Containers": len(HOSTILE),
                                      "ContainersRunning": len(HOSTILE), "Images": len(HOSTILE),
                                      "OperatingSystem": HOSTILE[3], "ServerVersion": HOSTILE[0],
                                      "Swarm": {"LocalNodeState": "inactive"}})
        if path == "/events":
            resp = web.StreamResponse(headers={"Content-Type": "application/json"})
            await resp.prepare(request)
            self._streams.add(asyncio.current_task())
            while True:  # open until the client goes; nothing ever happens here
                await asyncio.sleep(3600)
        lists = {"/containers/json": containers, "/images/json": images, "/volumes": volumes,
                 "/networks": networks}
        if path in lists:
            return web.json_response(lists[path]())
        m = re.fullmatch(r"/containers/([0-9a-f]{64})/(json|logs|stats|top)", path)
        if m and m.group(2) == "json":
            return web.json_response(inspect(m.group(1)))
        if m and m.group(2) == "logs":
            body = b"".join(struct.pack(">BxxxL", 1, len(line)) + line
                            for line in ((h + "\n").encode("utf-8", "surrogatepass") for h in HOSTILE))
            return web.Response(body=body, content_type="application/vnd.docker.raw-stream")
        if m and m.group(2) == "stats":
            return web.json_response({"read": "2024-01-01T00:00:00Z", "cpu_stats": {}, "memory_stats": {},
                                      "pids_stats": {}, "networks": {}, "blkio_stats": {}})
        if m and m.group(2) == "top":
            return web.json_response({"Titles": ["PID", "CMD"], "Processes": [["1", h] for h in HOSTILE]})
        return web.json_response({"message": f"no such thing: {path} {HOSTILE[0]}"}, status=404,
                                 dumps=json.dumps)
