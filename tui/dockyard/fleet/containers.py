"""Containers across the fleet: list, lifecycle actions (one host or many), run, inspect, top,
rename, commit, logs, exec and attach.

| operation                      | daemon API                                  | read-only |
|--------------------------------|---------------------------------------------|-----------|
| list / inspect / top / logs    | containers/json, …/{id}/json, …/top, …/logs  | allowed   |
| action / bulk_action           | containers/{id}/start, stop, kill, DELETE … | refused   |
| run / rename / commit          | containers/create + start, …/rename, commit | refused   |
| exec / attach                  | exec, containers/{id}/attach (hijacked)      | refused   |
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from dockyard.fleet.docker_api import DockerClient
from dockyard.fleet.errors import DaemonError, FleetError
from dockyard.fleet.execs import ExecSession, open_attach, open_exec
from dockyard.fleet.logs import LogLine, LogNotice, LogSource, merged_logs
from dockyard.fleet.models import ActionResult, Container, HostResult
from dockyard.fleet.resource import Resource
from dockyard.fleet.runspec import RunSpec

CONTAINER_ACTIONS = ("start", "stop", "restart", "pause", "unpause", "kill", "remove")


class Containers(Resource):
    def list(self, *, all: bool = True, hosts: Iterable[str] | None = None,
             filters: dict[str, list[str]] | None = None) -> AsyncIterator[HostResult[list[Container]]]:
        """`docker ps` of every selected host, as a fan-out."""
        return self.fleet.fan_out(lambda c: c.list_containers(all=all, filters=filters), hosts)

    async def action(self, host: str, container_id: str, action: str, **options: Any) -> None:
        """One of CONTAINER_ACTIONS on one container; `options` go to the daemon (timeout, force, signal)."""
        if action not in CONTAINER_ACTIONS:
            raise FleetError(f"unknown container action {action!r}")
        self.fleet.check_writable(host)
        limit = None
        if action in ("stop", "restart"):  # the daemon waits for the grace period before it kills
            grace = options.get("timeout")  # None: the container's own StopTimeout (10 s unless set)
            limit = self.fleet.host_config(host).request_timeout + (60 if grace is None else grace)
        await self.fleet.call(host, lambda c: c.container_action(container_id, action, limit=limit, **options),
                              timeout=limit)

    async def bulk_action(self, targets: Iterable[tuple[str, str]], action: str,
                          **options: Any) -> list[ActionResult]:
        """Apply `action` to (host, id) pairs across hosts at once; one result per container."""
        async def one(host: str, cid: str) -> ActionResult:
            try:
                await self.action(host, cid, action, **options)
            except FleetError as exc:
                return ActionResult(host, cid, action, False, str(exc))
            return ActionResult(host, cid, action, True)
        return list(await asyncio.gather(*(one(h, c) for h, c in targets)))

    async def inspect(self, host: str, container_id: str) -> dict[str, Any]:
        """`docker inspect` of one container, as the daemon returns it."""
        return await self.fleet.call(host, lambda c: c.inspect_container(container_id))

    async def top(self, host: str, container_id: str) -> tuple[list[str], list[list[str]]]:
        """`docker top`: (column titles, process rows)."""
        return await self.fleet.call(host, lambda c: c.container_top(container_id))

    async def run(self, hosts: Iterable[str], spec: RunSpec) -> list[ActionResult]:
        """Create and start the same container on several hosts at once; one result per host."""
        errors = spec.validate()
        if errors:
            raise FleetError("; ".join(f"{k}: {v}" for k, v in errors.items()))
        body = spec.body()

        async def create_and_start(c: DockerClient) -> str:
            created = await c.create_container(body, name=spec.name)
            cid = created["Id"]
            await c.container_action(cid, "start")
            return cid

        async def one(host: str) -> ActionResult:
            try:
                self.fleet.check_writable(host)
                cid = await self.fleet.call(host, create_and_start)
            except DaemonError as exc:
                message = exc.message
                if exc.status == 404 and "image" in message.lower():
                    message = f"image {spec.image} is not on {host}: pull it first"
                return ActionResult(host, spec.name or spec.image, "run", False, message)
            except FleetError as exc:
                return ActionResult(host, spec.name or spec.image, "run", False, str(exc))
            return ActionResult(host, cid, "run", True)

        return list(await asyncio.gather(*(one(h) for h in dict.fromkeys(hosts))))

    async def rename(self, host: str, container_id: str, name: str) -> None:
        self.fleet.check_writable(host)
        await self.fleet.call(host, lambda c: c.rename_container(container_id, name))

    async def commit(self, host: str, container_id: str, repo: str, tag: str = "latest", message: str = "") -> str:
        """Commit a container to an image on its own host; returns the new image id."""
        self.fleet.check_writable(host)
        data = await self.fleet.call(host, lambda c: c.commit_container(container_id, repo, tag, message))
        return str(data.get("Id", ""))

    def logs(self, sources: Iterable[LogSource], **options: Any) -> AsyncIterator[LogLine | LogNotice]:
        """Follow the logs of containers on any hosts, merged in timestamp order (see dockyard.fleet.logs)."""
        return merged_logs(self.fleet, sources, **options)

    async def exec(self, host: str, container_id: str, cmd: Sequence[str], **options: Any) -> ExecSession:
        """An interactive exec (a shell) in a container on any host; counts as a change (read-only refuses)."""
        self.fleet.check_writable(host)
        return await self.fleet.call(host, lambda c: open_exec(c, host, container_id, cmd, **options))

    async def attach(self, host: str, container_id: str) -> ExecSession:
        """Attach to the main process (detach with ctrl-p ctrl-q); counts as a change."""
        self.fleet.check_writable(host)
        return await self.fleet.call(host, lambda c: open_attach(c, host, container_id))
