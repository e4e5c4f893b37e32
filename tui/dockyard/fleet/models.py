"""What the fleet hands upwards: plain dataclasses, no aiodocker or asyncssh types.

The UI and the CLI read only these (and the exceptions in `dockyard.fleet.errors`).
"""

from __future__ import annotations

import enum
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Generic, TypeVar

from dockyard.fleet.status import same_since, status_at
from dockyard.textfmt import short_id

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

    kind is one of "host", "containers", "images", "volumes", "networks" or "swarm" (a swarm's
    snapshot changed; the host is the manager it was read through). A host's raw swarm events go
    to the swarm controller directly, not through these batches.
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


# ---------------------------------------------------------------------- images, volumes, networks


@dataclass(frozen=True)
class PullProgress(StreamEvent):
    """One event of a pull (or push) onto one host.

    kind "layer": per-layer progress (`layer`, `status`, `current`/`total` bytes when known);
    kind "status": a host-level line ("Pulling from …", "Digest: …");
    kind "result": the host's final word — `ok` with `image_id` (and `digest`), or `error` in words.
    """

    host: str
    image: str
    kind: str
    status: str = ""
    layer: str | None = None
    current: int | None = None
    total: int | None = None
    ok: bool | None = None
    image_id: str | None = None
    digest: str | None = None
    error: str | None = None
    elapsed: float = 0.0
    action: str = "pull"  # or "push"


@dataclass(frozen=True)
class TransferProgress(StreamEvent):
    """One event of a host→host transfer.

    kind "progress": bytes read from the source so far (`bytes`, of about `total`), per target
    bytes sent (`sent`), throughput `rate` in bytes/s; `target` is None.
    kind "result": one target's final word — `ok` with the verified `image_ids` (reference → id),
    or `error` in words.
    """

    source: str
    kind: str
    target: str | None = None
    images: tuple[str, ...] = ()
    bytes: int = 0
    total: int | None = None
    sent: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    rate: float = 0.0
    ok: bool | None = None
    error: str | None = None
    image_ids: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DriftRow:
    """One repository:tag across the fleet: which host has it with which image id."""

    reference: str
    hosts: dict[str, str]  # host -> image id
    missing: tuple[str, ...] = ()  # answering hosts without this tag

    @property
    def ids(self) -> set[str]:
        return set(self.hosts.values())

    @property
    def drifted(self) -> bool:
        return len(self.ids) > 1

    def to_json(self) -> dict[str, Any]:
        return {"reference": self.reference, "hosts": dict(self.hosts), "missing": list(self.missing),
                "drifted": self.drifted}


@dataclass(frozen=True)
class HistoryEntry:
    """One layer of `docker history`."""

    id: str  # "<missing>" for layers pulled without their intermediate image
    created: int
    created_by: str
    size: int
    tags: tuple[str, ...] = ()
    comment: str = ""


@dataclass(frozen=True)
class PrunedImage:
    id: str
    tags: tuple[str, ...]
    size: int


@dataclass(frozen=True)
class ImagePrune(Record):
    """What an image prune removes (dry run: would remove) on one host.

    `images`: top-level images that go; `deleted`: every image id the daemon reported deleted
    (includes untagged parents); `space_reclaimed`: the daemon's figure, or for a dry run the
    sum of the images' unique sizes (layers only they use)."""

    host: str
    dry_run: bool
    dangling_only: bool
    images: tuple[PrunedImage, ...] = ()
    untagged: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    space_reclaimed: int = 0


@dataclass(frozen=True)
class ImageRemoval:
    host: str
    image: str
    untagged: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()


@dataclass(frozen=True)
class VolumeUsage:
    """A volume with its size (`docker system df -v`) and the containers that mount it."""

    host: str
    name: str
    driver: str
    mountpoint: str
    size: int  # bytes; -1 when the daemon does not know
    ref_count: int  # -1 when the daemon does not know
    used_by: tuple[str, ...] = ()  # container names
    labels: dict[str, str] = field(default_factory=dict)
    created: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.host, self.name)


@dataclass(frozen=True)
class VolumePrune(Record):
    host: str
    dry_run: bool
    volumes: tuple[str, ...] = ()
    space_reclaimed: int = 0


# ---------------------------------------------------------------------- swarm


@dataclass(frozen=True)
class Swarm:
    """One swarm as the fleet sees it: configured hosts grouped by `Swarm.Cluster.ID`.

    `name` is the SWARM column: a `swarm = "…"` host key, else the first manager host's name.
    `managers` are tried in order (the last one that answered first) when reading or changing it.
    """

    id: str
    name: str
    managers: tuple[str, ...]
    workers: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "managers": list(self.managers), "workers": list(self.workers)}


@dataclass(frozen=True)
class UpdateStatus:
    """A service's rolling update or rollback (`UpdateStatus` in the API)."""

    state: str  # updating, paused, completed, rollback_started, rollback_paused, rollback_completed
    message: str = ""
    started: str | None = None
    completed: str | None = None

    @property
    def active(self) -> bool:
        return self.state in ("updating", "rollback_started")

    @property
    def failed(self) -> bool:
        """Paused or rolled back: what `dockyard service update` exits non-zero on."""
        return self.state in ("paused", "rollback_started", "rollback_paused", "rollback_completed")


@dataclass(frozen=True)
class SwarmService:
    swarm: str
    host: str  # the manager it was read through
    id: str
    name: str
    mode: str  # replicated, global (replicated-job, global-job too)
    running: int
    desired: int
    image: str  # the reference without its pinned digest
    digest: str  # "sha256:…" pinned by the client that created it, or ""
    ports: tuple[str, ...] = ()
    created: str = ""
    updated: str = ""
    stack: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    update: UpdateStatus | None = None
    version: int = 0

    @property
    def key(self) -> tuple[str, str]:
        return (self.swarm, self.id)

    def to_json(self) -> dict[str, Any]:
        return {"swarm": self.swarm, "host": self.host, "name": self.name, "id": self.id, "mode": self.mode,
                "replicas": {"running": self.running, "desired": self.desired}, "image": self.image,
                "stack": self.stack, "updated": self.updated}


@dataclass(frozen=True)
class SwarmTask(Record):
    swarm: str
    id: str
    service_id: str
    service: str  # its service's name ("" when the service is gone)
    slot: int | None  # replicated services; global tasks have none
    node_id: str
    node: str  # the node's hostname ("" before it is assigned)
    desired: str  # running, shutdown, ready, …
    state: str  # new, pending, assigned, preparing, starting, running, complete, failed, shutdown, rejected…
    since: str  # when it entered `state` (RFC 3339)
    error: str = ""
    message: str = ""
    container_id: str = ""
    image: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.swarm, self.id)

    @property
    def name(self) -> str:
        """SERVICE.SLOT as `docker service ps` shows it (SERVICE.NODE for a global service)."""
        return f"{self.service}.{self.slot if self.slot is not None else short_id(self.node_id)}"


@dataclass(frozen=True)
class SwarmNode:
    swarm: str
    id: str
    hostname: str
    role: str  # manager, worker
    availability: str  # active, pause, drain
    state: str  # ready, down, unknown, disconnected
    manager_status: str  # leader, reachable, unreachable, "" for a worker
    engine: str
    addr: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    tasks: int = 0  # tasks that should run there now
    version: int = 0

    @property
    def key(self) -> tuple[str, str]:
        return (self.swarm, self.id)

    def to_json(self) -> dict[str, Any]:
        return {"swarm": self.swarm, "hostname": self.hostname, "id": self.id, "role": self.role,
                "availability": self.availability, "state": self.state, "manager_status": self.manager_status,
                "engine": self.engine}


@dataclass(frozen=True)
class SwarmObject(Record):
    """A secret or a config: its name and dates, never its content."""

    swarm: str
    kind: str  # "secret" or "config"
    id: str
    name: str
    created: str
    updated: str
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def stack(self) -> str | None:
        return self.labels.get("com.docker.stack.namespace")


@dataclass(frozen=True)
class SwarmSnapshot:
    """Everything read from one swarm at one moment, through one manager (`host`), or why not."""

    swarm: Swarm
    host: str | None = None
    services: tuple[SwarmService, ...] = ()
    tasks: tuple[SwarmTask, ...] = ()
    nodes: tuple[SwarmNode, ...] = ()
    secrets: tuple[SwarmObject, ...] = ()
    configs: tuple[SwarmObject, ...] = ()
    networks: tuple[tuple[str, str, str | None], ...] = ()  # (id, name, stack) of swarm-scoped networks
    error: str | None = None


@dataclass(frozen=True)
class Stack:
    """Services sharing a `com.docker.stack.namespace` label, with what else the stack owns."""

    swarm: str
    name: str
    services: tuple[SwarmService, ...]
    secrets: tuple[str, ...] = ()
    configs: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()

    @property
    def running(self) -> int:
        return sum(s.running for s in self.services)

    @property
    def desired(self) -> int:
        return sum(s.desired for s in self.services)
