"""Networks across the fleet: create, remove, connect, disconnect, inspect, who is attached.

| operation                     | daemon API                               | read-only |
|-------------------------------|------------------------------------------|-----------|
| inspect / containers          | networks/{id}, containers/json?network=  | allowed   |
| create / remove               | networks/create, DELETE networks/{id}     | refused   |
| connect / disconnect          | networks/{id}/connect, …/disconnect      | refused   |
"""

from __future__ import annotations

from typing import Any

from dockyard.fleet.docker_api import container_name, network_from_api
from dockyard.fleet.models import Network
from dockyard.fleet.resource import Resource


class Networks(Resource):
    async def create(self, host: str, name: str, *, internal: bool = True,
                     labels: dict[str, str] | None = None, driver: str = "bridge") -> Network:
        self.fleet.check_writable(host)
        created = await self.fleet.call(host, lambda c: c.create_network(name, internal=internal, labels=labels,
                                                                          driver=driver))
        return network_from_api(host, await self.inspect(host, created["Id"]))

    async def remove(self, host: str, network: str) -> None:
        self.fleet.check_writable(host)
        await self.fleet.call(host, lambda c: c.remove_network(network))

    async def connect(self, host: str, network: str, container: str) -> None:
        self.fleet.check_writable(host)
        await self.fleet.call(host, lambda c: c.connect_network(network, container))

    async def disconnect(self, host: str, network: str, container: str, force: bool = False) -> None:
        self.fleet.check_writable(host)
        await self.fleet.call(host, lambda c: c.disconnect_network(network, container, force))

    async def inspect(self, host: str, network: str) -> dict[str, Any]:
        return await self.fleet.call(host, lambda c: c.inspect_network(network))

    async def containers(self, host: str, network: str) -> list[str]:
        """Names of the containers attached to `network` (running or not; inspect shows only running)."""
        raw = await self.fleet.call(host, lambda c: c.raw_containers({"network": [network]}))
        return sorted(container_name(c) for c in raw)
