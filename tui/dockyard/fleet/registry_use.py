"""Which registries the fleet already uses: the ones its images and containers name, and the ones
the daemons are configured to reach without TLS (`/info` RegistryConfig). The Registries pane lists
them as candidates, so a registry every host pulls from is there without any configuration.

From the live cache only (no request of its own): images' tags, containers' image references, and
each online host's last `/info`. Docker Hub is left out (it is the registry list's own default).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dockyard.imageref import DOCKER_HUB, parse_image_ref

if TYPE_CHECKING:
    from dockyard.fleet.resource import FleetAccess

_HUB = {DOCKER_HUB, "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}


@dataclass(frozen=True)
class RegistryUse:
    registry: str  # host[:port], as image references write it
    hosts: tuple[str, ...]  # the daemons whose images or containers name it, or that list it as insecure
    insecure: bool  # plain HTTP: a daemon lists it as insecure, or it is on loopback (dockerd's default)


def _insecure(registry: str, names: set[str], cidrs: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    if registry in names:
        return True
    host = registry.rsplit(":", 1)[0].strip("[]") if not registry.endswith("]") else registry.strip("[]")
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or any(address in net for net in cidrs)


def registries_in_use(fleet: FleetAccess) -> list[RegistryUse]:
    """The registries (not Docker Hub) named by the fleet's images and containers or configured as
    insecure on its daemons, each with the hosts that use it; most used first."""
    users: dict[str, set[str]] = {}
    for image in fleet.cached("images"):
        for tag in image.tags:
            ref = parse_image_ref(tag)
            if ref.registry:
                users.setdefault(ref.registry, set()).add(image.host)
    for container in fleet.cached("containers"):
        if container.image and not container.image.startswith("sha256:"):
            ref = parse_image_ref(container.image)
            if ref.registry:
                users.setdefault(ref.registry, set()).add(container.host)
    insecure_names: set[str] = set()
    cidrs: list = []
    for session in fleet.selected(None):
        config = (session.info or {}).get("RegistryConfig") or {}
        for name, index in (config.get("IndexConfigs") or {}).items():
            if isinstance(index, dict) and index.get("Secure") is False and name not in _HUB:
                insecure_names.add(name)
                users.setdefault(name, set()).add(session.name)
        for cidr in config.get("InsecureRegistryCIDRs") or []:
            try:
                cidrs.append(ipaddress.ip_network(str(cidr), strict=False))
            except ValueError:
                continue
    found = [RegistryUse(name, tuple(sorted(hosts)), _insecure(name, insecure_names, cidrs))
             for name, hosts in users.items() if name not in _HUB]
    return sorted(found, key=lambda u: (-len(u.hosts), u.registry))
