"""Docker API replies recorded from real engines (tests/replies/capture.py writes them), and a
fleet that answers from them for unit tests: no daemon, no root.

    reply("dockerd-20.10", "containers")       the parsed JSON of one recorded reply
    ReplayFleet({"d": "dockerd-20.10", ...})   a `FleetAccess` (fleet/resource.py) whose hosts answer
                                               with the recordings of those engines
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from dockyard.fleet.from_api import container_from_api, image_from_api
from dockyard.fleet.models import HostResult

HERE = Path(__file__).resolve().parent
ENGINES = ("dockerd-20.10", "podman-4")


@cache
def _text(engine: str, name: str) -> str:
    return (HERE / engine / f"{name}.json").read_text()


def reply(engine: str, name: str) -> Any:
    """A fresh copy each time: a test may change it."""
    return json.loads(_text(engine, name))


class ReplayClient:
    """The DockerClient methods the resources call, answered from one engine's recordings."""

    def __init__(self, host: str, engine: str):
        self.host_name, self.engine = host, engine

    async def list_containers(self, all: bool = True, filters: Any = None) -> list:
        return [container_from_api(self.host_name, c) for c in reply(self.engine, "containers")]

    async def list_images(self, all: bool = False) -> list:
        return [image_from_api(self.host_name, i) for i in reply(self.engine, "images")]

    async def raw_containers(self, filters: Any = None) -> list[dict[str, Any]]:
        return reply(self.engine, "containers")

    async def system_df(self) -> dict[str, Any]:
        return reply(self.engine, "system-df")

    async def image_history(self, image: str) -> list[dict[str, Any]]:
        return reply(self.engine, "image-history")

    async def get(self, path: str, expect: type = dict, **params: Any) -> Any:
        if path.startswith("containers/") and path.endswith("/json"):
            return reply(self.engine, "container-web")
        raise AssertionError(f"no recording for GET {path}")

    async def log_stream(self, container_id: str, **options: Any) -> AsyncIterator[tuple[str, bytes]]:
        for stream, text in reply(self.engine, "logs-chatty"):
            yield stream, text.encode()


class ReplaySession:
    def __init__(self, name: str, client: ReplayClient):
        self.name, self.client = name, client
        self.config = SimpleNamespace(name=name, enabled=True)

    async def call(self, fn: Callable[[Any], Awaitable[Any]], timeout: float | None = None) -> Any:
        return await fn(self.client)


class ReplayFleet:
    """A FleetAccess over recorded replies: host name -> engine recording directory."""

    config = None
    readonly = False
    live = False

    def __init__(self, hosts: dict[str, str]):
        self.sessions = {h: ReplaySession(h, ReplayClient(h, e)) for h, e in hosts.items()}
        self.changes: list[tuple[str, str]] = []

    def session(self, name: str) -> ReplaySession:
        return self.sessions[name]

    def selected(self, hosts: Iterable[str] | None) -> list[ReplaySession]:
        return [self.sessions[h] for h in hosts] if hosts else list(self.sessions.values())

    def host_config(self, name: str) -> Any:
        return self.sessions[name].config

    async def call(self, host: str, fn: Callable[[Any], Awaitable[Any]], timeout: float | None = None) -> Any:
        return await self.sessions[host].call(fn)

    async def client(self, host: str) -> ReplayClient:
        return self.sessions[host].client

    async def fan_out(self, fn, hosts=None, timeout=None) -> AsyncIterator[HostResult]:
        for s in self.selected(hosts):
            yield HostResult(s.name, value=await s.call(fn))

    async def gather(self, fn, hosts=None) -> list[HostResult]:
        return [r async for r in self.fan_out(fn, hosts)]

    def check_writable(self, host: str) -> None:
        raise AssertionError("a recorded reply is read, never changed")

    def writable_hosts(self, hosts: Iterable[str] | None) -> list[str]:
        raise AssertionError("a recorded reply is read, never changed")

    def changed(self, host: str, kind: str) -> None:
        self.changes.append((host, kind))

    def subscribe(self, observer) -> Callable[[], None]:
        return lambda: None

    async def wait_settled(self, timeout=None, hosts=None) -> None:
        return None
