"""What the fleet hands upwards: plain dataclasses, no aiodocker or asyncssh types.

The UI and the CLI read only these (and the exceptions in `dockyard.fleet.errors`).
"""

from __future__ import annotations

import enum
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Generic, TypeVar

from dockyard.fleet.status import same_since, status_at
from dockyard.lazy import lazy_names

T = TypeVar("T")

AVAILABILITIES = ("active", "pause", "drain")  # a swarm node's
ROLES = ("manager", "worker")


class Record:
    """A result whose JSON (the CLI's --json) is its fields as they are."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]


class StreamEvent(Record):
    """One event of a progress stream (pull, push, transfer): progress until `kind == "result"`."""

    kind: str

    @property
    def done(self) -> bool:
        return self.kind == "result"


class HostState(str, enum.Enum):
    CONNECTING = "connecting"
    ONLINE = "online"
    UNREACHABLE = "unreachable"
    AUTH_FAILED = "auth-failed"
    HOST_KEY_UNKNOWN = "host-key-unknown"
    HOST_KEY_CHANGED = "host-key-changed"
    UNSUPPORTED = "unsupported-api"  # its Docker Engine API version is outside SUPPORTED_API
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
    swarm_role: str | None = None  # "manager", "worker" or None (not in a swarm)
    swarm_id: str | None = None  # Swarm.Cluster.ID (a worker's comes from a configured manager)
    swarm_name: str | None = None  # the SWARM column's name for it
    down_since: float | None = None  # epoch seconds: not online since then (None: online, connecting first, disabled)
    warning: str | None = None  # the last unusable reply outside a request (an event, a stats sample)

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
    volumes: tuple[str, ...] = ()  # names of the volumes it mounts
    networks: tuple[str, ...] = ()  # names of the networks it is attached to
    # when the state in `status` began, estimated from it at listing time (fleet/status.py);
    # not compared: a listing that differs only by time passing is the same container
    since: float | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.host, self.id)

    def status_now(self, now: float | None = None) -> str:
        """STATUS as `docker ps` would print it at `now` (default: now), without asking the daemon."""
        return status_at(self.status, self.since, time.time() if now is None else now)

    def listed_again(self, fresh: Container) -> bool:
        """Whether `fresh` (a newer listing) says nothing new: equal but for the time passed."""
        if fresh.status == self.status:
            return fresh == self
        return same_since(self.status, self.since, fresh.status, fresh.since) and replace(fresh, status=self.status) == self

    @property
    def project(self) -> str | None:
        return self.labels.get("com.docker.compose.project")

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host, "id": self.id, "name": self.name, "image": self.image,
            "command": self.command, "state": self.state, "status": self.status, "created": self.created,
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

    kind is one of "host", "containers", "images", "volumes", "networks", "swarm" (a swarm's
    snapshot changed; the host is the manager it was read through), "freshness" (a freshness
    check covered the host, fleet/freshness.py), "events" (the host's events were added to the
    fleet's history) or "problems" (the list of problems changed; host ""). A host's raw swarm
    events go to the swarm controller directly, not through these batches.
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


# The rest load on first use: every frozen dataclass costs ~0.6 ms to make, and the first frame
# needs only the ones above (what a listing holds).
__getattr__ = lazy_names(__name__, globals(), {
    **dict.fromkeys(("PullProgress", "TransferProgress", "DriftRow", "HistoryEntry", "PrunedImage", "ImagePrune",
                     "ImageRemoval", "VolumeUsage", "VolumePrune"), "dockyard.fleet.reports"),
    **dict.fromkeys(("Swarm", "UpdateStatus", "SwarmService", "SwarmTask", "SwarmNode", "SwarmObject", "SwarmSnapshot",
                     "Stack"), "dockyard.fleet.swarm_models"),
})
