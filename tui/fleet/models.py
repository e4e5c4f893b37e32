"""What the fleet hands upwards: plain dataclasses, no aiodocker or asyncssh types.

The UI and the CLI read only these (and the exceptions in `tui.fleet.errors`).
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class HostState(str, enum.Enum):
    CONNECTING = "connecting"
    ONLINE = "online"
    UNREACHABLE = "unreachable"
    AUTH_FAILED = "auth-failed"
    HOST_KEY_UNKNOWN = "host-key-unknown"
    HOST_KEY_CHANGED = "host-key-changed"
    DISABLED = "disabled"


@dataclass(frozen=True)
class HostKeyOffer:
    """An SSH key awaiting the user's decision (unknown) or refused (changed)."""

    hop: str
    host: str
    port: int
    key_type: str
    fingerprint: str  # "SHA256:…"
    changed: bool


@dataclass(frozen=True)
class HostStatus:
    """One row of `dockyard hosts`: config facts, connection state, daemon facts."""

    name: str
    url: str
    transport: str
    state: HostState
    reason: str | None = None
    host_key: HostKeyOffer | None = None
    server_version: str | None = None
    api_version: str | None = None
    os: str | None = None
    arch: str | None = None
    cpus: int | None = None
    memory: int | None = None  # bytes
    containers: int | None = None
    containers_running: int | None = None
    images: int | None = None
    latency_ms: float | None = None
    readonly: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    source: str = "config"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state.value
        return data


@dataclass(frozen=True)
class Port:
    private: int
    type: str
    public: int | None = None
    ip: str | None = None

    def __str__(self) -> str:
        if self.public is None:
            return f"{self.private}/{self.type}"
        ip = self.ip or ""
        ip = f"[{ip}]" if ":" in ip else ip
        return f"{ip}:{self.public}->{self.private}/{self.type}"


@dataclass(frozen=True)
class Container:
    host: str
    id: str
    name: str
    image: str
    state: str  # created, running, paused, restarting, removing, exited, dead
    status: str  # "Up 5 minutes", "Exited (0) 2 hours ago"
    created: int  # unix seconds
    ports: tuple[Port, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    command: str = ""
    image_id: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.host, self.id)

    @property
    def project(self) -> str | None:
        return self.labels.get("com.docker.compose.project")

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host, "id": self.id, "name": self.name, "image": self.image,
            "state": self.state, "status": self.status, "created": self.created,
            "ports": [str(p) for p in self.ports], "labels": dict(self.labels),
        }


@dataclass(frozen=True)
class Image:
    host: str
    id: str
    tags: tuple[str, ...]
    size: int
    created: int
    containers: int = -1  # -1: unknown
    digests: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.host, self.id)

    def to_json(self) -> dict[str, Any]:
        return {"host": self.host, "id": self.id, "tags": list(self.tags), "size": self.size,
                "created": self.created}


@dataclass(frozen=True)
class Volume:
    host: str
    name: str
    driver: str
    mountpoint: str
    created: str | None = None
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.host, self.name)


@dataclass(frozen=True)
class Network:
    host: str
    id: str
    name: str
    driver: str
    scope: str
    subnets: tuple[str, ...] = ()
    internal: bool = False
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.host, self.id)


@dataclass(frozen=True)
class HostResult(Generic[T]):
    """One host's answer to a fan-out call: a value or an error message, never both."""

    host: str
    value: T | None = None
    error: str | None = None
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class FleetChange:
    """A batch of cache changes: which (host, kind) pairs changed since the last batch.

    kind is one of "host", "containers", "images", "volumes", "networks".
    """

    changed: frozenset[tuple[str, str]]

    def hosts(self, kind: str) -> set[str]:
        return {h for h, k in self.changed if k == kind}


@dataclass(frozen=True)
class ActionResult:
    """Outcome of one mutating action on one object (bulk actions report one per object)."""

    host: str
    target: str
    action: str
    ok: bool
    error: str | None = None
