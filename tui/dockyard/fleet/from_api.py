"""Raw Docker API dicts -> `dockyard.fleet.models`: standard library only.

Apart from the client (docker_api.py, which needs aiohttp) so that the start-up prefetch
(prefetch.py) can turn its listing into the same models before aiohttp is even imported.
"""

from __future__ import annotations

import time
from typing import Any

from dockyard.fleet.models import Container, Image, Network, Port, Volume
from dockyard.fleet.status import since_from
from dockyard.textfmt import short_id


def _strs(d: dict[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (d or {}).items()}


def container_name(c: dict[str, Any]) -> str:
    """A raw `containers/json` entry's name (its short ID when it has none)."""
    names = c.get("Names") or []
    return names[0].lstrip("/") if names else short_id(c.get("Id"))


def repo_tags(i: dict[str, Any]) -> tuple[str, ...]:
    """A raw image's `repository:tag`s, without the `<none>:<none>` of an untagged one."""
    return tuple(t for t in (i.get("RepoTags") or []) if t != "<none>:<none>")


def container_from_api(host: str, c: dict[str, Any]) -> Container:
    name = container_name(c)
    ports = tuple(
        Port(private=p.get("PrivatePort", 0), type=p.get("Type", "tcp"), public=p.get("PublicPort"),
             ip=p.get("IP"))
        for p in c.get("Ports") or []
    )
    return Container(
        host=host, id=c["Id"], name=name, image=c.get("Image", ""), state=c.get("State", ""),
        status=c.get("Status", ""), created=int(c.get("Created", 0)), ports=ports,
        labels=_strs(c.get("Labels")), command=c.get("Command", ""), image_id=c.get("ImageID", ""),
        volumes=tuple(m["Name"] for m in c.get("Mounts") or [] if m.get("Type") == "volume" and m.get("Name")),
        networks=tuple(((c.get("NetworkSettings") or {}).get("Networks") or {}).keys()),
        since=since_from(str(c.get("Status", "")), time.time()),
    )


def image_from_api(host: str, i: dict[str, Any]) -> Image:
    tags = repo_tags(i)
    digests = tuple(d for d in (i.get("RepoDigests") or []) if d != "<none>@<none>")
    return Image(host=host, id=i["Id"], tags=tags, size=int(i.get("Size", 0)),
                 created=int(i.get("Created", 0)), containers=int(i.get("Containers", -1)),
                 digests=digests, labels=_strs(i.get("Labels")))


def volume_from_api(host: str, v: dict[str, Any]) -> Volume:
    return Volume(host=host, name=v["Name"], driver=v.get("Driver", ""), mountpoint=v.get("Mountpoint", ""),
                  created=v.get("CreatedAt"), labels=_strs(v.get("Labels")))


def network_from_api(host: str, n: dict[str, Any]) -> Network:
    subnets = tuple(cfg.get("Subnet", "") for cfg in ((n.get("IPAM") or {}).get("Config") or []) if cfg.get("Subnet"))
    return Network(host=host, id=n["Id"], name=n.get("Name", ""), driver=n.get("Driver", ""),
                   scope=n.get("Scope", ""), subnets=subnets, internal=bool(n.get("Internal")),
                   labels=_strs(n.get("Labels")))
