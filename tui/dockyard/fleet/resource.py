"""The base of every resource module (containers, images, volumes, networks, swarm, freshness, …).

A resource is a thin view of the fleet for one kind of Docker object: its methods take host
names, reach a daemon through `call` / `client` / `fan_out`, and refuse changes through
`check_writable` before touching anything. It sees the fleet only through `FleetAccess`, the part
of the controller a resource may use; `Fleet` (controller.py) is its one implementation. So no
resource module imports the controller, and fleet/ has no import circle (tests/test_layers.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from dockyard.config.model import Config, HostConfig
    from dockyard.fleet.docker_api import DockerClient
    from dockyard.fleet.models import FleetChange, HostResult
    from dockyard.fleet.session import HostSession

T = TypeVar("T")


class FleetAccess(Protocol):
    """What a resource may use of the fleet."""

    config: Config
    readonly: bool  # the whole fleet (a host may be read-only on its own: check_writable says)
    live: bool  # sessions keep caches fed by events (the TUI), not one-shot (the CLI)
    sessions: Mapping[str, HostSession]

    def session(self, name: str) -> HostSession: ...

    def selected(self, hosts: Iterable[str] | None) -> list[HostSession]:
        """The sessions of these hosts, or of every enabled host when none are named."""
        ...

    def host_config(self, name: str) -> HostConfig: ...

    async def call(self, host: str, fn: Callable[[DockerClient], Awaitable[T]],
                   timeout: float | None = None) -> T:
        """`fn(client)` on one host once it is online, within its request timeout (or `timeout`)."""
        ...

    async def client(self, host: str) -> DockerClient:
        """The host's client, for streams that outlive a request timeout."""
        ...

    def fan_out(self, fn: Callable[[DockerClient], Awaitable[T]], hosts: Iterable[str] | None = None,
                timeout: float | None = None) -> AsyncIterator[HostResult[T]]:
        """`fn(client)` on every selected host at once; each host's result as it lands."""
        ...

    async def gather(self, fn: Callable[[DockerClient], Awaitable[T]],
                     hosts: Iterable[str] | None = None) -> list[HostResult[T]]: ...

    def cached(self, kind: str, hosts: Iterable[str] | None = None) -> list[Any]:
        """The live cache's objects of `kind` (containers, images, …) from online hosts."""
        ...

    def check_writable(self, host: str) -> None:
        """ReadOnlyError when the fleet or this host is read-only."""
        ...

    def writable_hosts(self, hosts: Iterable[str] | None) -> list[str]: ...

    def changed(self, host: str, kind: str) -> None:
        """Tell the fleet's observers that `kind` changed on `host` (batched)."""
        ...

    def subscribe(self, observer: Callable[[FleetChange], Any]) -> Callable[[], None]: ...

    async def wait_settled(self, timeout: float | None = None, hosts: Iterable[str] | None = None) -> None: ...


class Resource:
    """Holds the fleet it works on; `Fleet.__init__` builds one of each."""

    def __init__(self, fleet: FleetAccess):
        self.fleet = fleet
