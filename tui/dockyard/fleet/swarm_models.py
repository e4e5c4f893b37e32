"""What the fleet reads from a swarm: swarms, services, tasks, nodes, secrets and configs, stacks.
Plain dataclasses, like models.py, which exports them too (they load when first used, not with
the first frame)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dockyard.fleet.models import Record
from dockyard.textfmt import short_id


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
