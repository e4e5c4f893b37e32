"""Volumes across the fleet: usage (size and users), create, remove, prune.

| operation        | daemon API                          | read-only |
|------------------|-------------------------------------|-----------|
| usage            | system/df, containers/json          | allowed   |
| create / remove  | volumes/create, DELETE volumes/{n}  | refused   |
| prune            | volumes/prune                       | refused (a dry run is allowed) |
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence

from dockyard.fleet.docker_api import DockerClient, container_name, volume_from_api
from dockyard.fleet.errors import FleetError
from dockyard.fleet.models import HostResult, Volume, VolumePrune, VolumeUsage
from dockyard.fleet.resource import Resource


class VolumeInUse(FleetError):
    """A volume mounted by containers; removing it needs `force` (which removes those containers)."""

    def __init__(self, host: str, volume: str, containers: Sequence[str]):
        names = ", ".join(containers)
        super().__init__(f"{host}: volume {volume!r} is in use by container(s) {names}; "
                         f"remove them first, or force (which removes them too)")
        self.host, self.volume, self.containers = host, volume, tuple(containers)


class Volumes(Resource):
    async def create(self, host: str, name: str, labels: dict[str, str] | None = None,
                     driver: str = "local") -> Volume:
        self.fleet.check_writable(host)
        raw = await self.fleet.call(host, lambda c: c.create_volume(name, labels, driver))
        return volume_from_api(host, raw)

    async def remove(self, host: str, name: str, force: bool = False) -> list[str]:
        """Remove a volume. In use: refused (VolumeInUse names the containers) unless `force`,
        which removes those containers first. Returns the containers removed."""
        self.fleet.check_writable(host)
        users = await self.fleet.call(host, lambda c: c.raw_containers({"volume": [name]}))
        if users and not force:
            raise VolumeInUse(host, name, sorted(container_name(c) for c in users))
        removed = []
        for c in users:
            await self.fleet.call(host, lambda cl, cid=c["Id"]: cl.container_action(cid, "remove", force=True))
            removed.append(container_name(c))
        await self.fleet.call(host, lambda c: c.remove_volume(name, force=force))
        return sorted(removed)

    async def usage(self, host: str) -> list[VolumeUsage]:
        """Every volume with its size (system df) and the containers that mount it."""
        df = await self.fleet.call(host, lambda c: c.system_df(), timeout=120)
        containers = await self.fleet.call(host, lambda c: c.raw_containers())
        users: dict[str, list[str]] = {}
        for c in containers:
            for m in c.get("Mounts") or []:
                if m.get("Type") == "volume" and m.get("Name"):
                    users.setdefault(m["Name"], []).append(container_name(c))
        out = []
        for v in df.get("Volumes") or []:
            usage = v.get("UsageData") or {}
            out.append(VolumeUsage(host=host, name=v["Name"], driver=v.get("Driver", ""),
                                   mountpoint=v.get("Mountpoint", ""), size=int(usage.get("Size", -1)),
                                   ref_count=int(usage.get("RefCount", -1)),
                                   used_by=tuple(sorted(users.get(v["Name"], ()))),
                                   labels={str(k): str(val) for k, val in (v.get("Labels") or {}).items()},
                                   created=v.get("CreatedAt")))
        return sorted(out, key=lambda v: v.name)

    def usage_by_host(self, hosts: Iterable[str] | None = None) -> AsyncIterator[HostResult[list[VolumeUsage]]]:
        """`usage` of every selected host, as a fan-out (for the Volumes pane)."""
        async def one(client: DockerClient) -> list[VolumeUsage]:
            return await self.usage(client.host_name)
        return self.fleet.fan_out(one, hosts, timeout=120)

    async def prune(self, host: str, dry_run: bool = False) -> VolumePrune:
        """Remove every volume no container uses; `dry_run` lists them (with their sizes) instead."""
        if not dry_run:
            self.fleet.check_writable(host)
        unused = [v for v in await self.usage(host) if not v.used_by]
        if dry_run:
            return VolumePrune(host, True, tuple(v.name for v in unused), sum(max(v.size, 0) for v in unused))
        client = await self.fleet.client(host)
        # API 1.42+ prunes only anonymous volumes unless asked for all; keep one meaning everywhere
        filters = {"all": ["true"]} if _api_at_least(client, 1, 42) else None
        report = await self.fleet.call(host, lambda c: c.prune_volumes(filters), timeout=120)
        return VolumePrune(host, False, tuple(sorted(report.get("VolumesDeleted") or [])),
                           int(report.get("SpaceReclaimed") or 0))


def _api_at_least(client: DockerClient, major: int, minor: int) -> bool:
    try:
        got = tuple(int(p) for p in str(client.api_version).lstrip("v").split("."))
    except ValueError:
        return False
    return got >= (major, minor)
