"""Every swarm the fleet reaches: services, tasks, nodes, stacks, secrets and configs.

A configured host whose daemon is a swarm manager (`/info` → `Swarm.ControlAvailable`) gives access
to its swarm. Hosts of the same swarm (same `Swarm.Cluster.ID`) are one swarm, read and changed
through whichever manager answers: the last one that did first, then the others in config order.
A worker's `/info` carries no cluster ID: it belongs to the swarm whose manager node IDs its
`RemoteManagers` list names.

Who uses what:

| caller        | uses                                                                    |
|---------------|-------------------------------------------------------------------------|
| headless CLI  | `discover()`, `load()`, `find_service()`, actions, `follow_update()`     |
| Textual UI    | `snapshots()` (live cache), `watch()`, actions, `service_logs()`         |

Live mode: the cache follows `service`/`node`/`secret`/`config` events and the events of task
containers (label `com.docker.swarm.task.id`) on any configured node; it reloads every swarm on
the fleet's reconcile period, every `poll_every` seconds while a pane watches, and every
`update_poll` seconds while a rolling update runs (tasks on nodes that are not configured hosts
send no event anywhere we listen).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from dockyard.config.model import HostConfig
from dockyard.fleet.docker_api import DockerClient
from dockyard.fleet.errors import DaemonError, FleetError, HostUnavailable, RequestTimeout
from dockyard.fleet.logs import LogLine, LogNotice, LogSource, since_after, split_lines, timestamp_key
from dockyard.fleet.resource import Resource
from dockyard.fleet.streams import encode_auth
from dockyard.tasks import cancel_and_wait
from dockyard.imageref import parse_image_ref
from dockyard.fleet.models import (
    AVAILABILITIES,
    ROLES,
    ActionResult,
    FleetChange,
    HostResult,
    HostState,
    HostStatus,
    Stack,
    Swarm,
    SwarmNode,
    SwarmObject,
    SwarmService,
    SwarmSnapshot,
    SwarmTask,
    UpdateStatus,
)

if TYPE_CHECKING:
    from dockyard.fleet.resource import FleetAccess

log = logging.getLogger("dockyard.swarm")
T = TypeVar("T")
STACK_LABEL = "com.docker.stack.namespace"


NODE_UPDATE_ATTEMPTS = 5  # a node update that meets a newer version of the node is tried again


class SwarmError(FleetError):
    """No manager of a swarm could do what was asked; the message says what each one answered."""


class AmbiguousName(FleetError):
    """A service or node name found in several swarms: the caller must say which swarm."""


@dataclass(frozen=True)
class HostSwarm:
    """What one host's `/info` says about swarm membership."""

    role: str | None  # "manager", "worker", or None (not in a swarm)
    node_id: str = ""
    cluster_id: str = ""  # managers only
    manager_ids: tuple[str, ...] = ()  # node IDs of the managers it knows (workers: how we place it)
    error: str = ""  # LocalNodeState "error" and its message


def host_swarm(info: dict[str, Any] | None) -> HostSwarm:
    swarm = (info or {}).get("Swarm") or {}
    state = swarm.get("LocalNodeState") or "inactive"
    if state in ("inactive", "") or not swarm.get("NodeID"):
        return HostSwarm(None, error=str(swarm.get("Error") or "") if state == "error" else "")
    managers = tuple(m.get("NodeID", "") for m in swarm.get("RemoteManagers") or [] if m.get("NodeID"))
    if swarm.get("ControlAvailable"):
        return HostSwarm("manager", swarm["NodeID"], str((swarm.get("Cluster") or {}).get("ID") or ""), managers)
    return HostSwarm("worker", swarm["NodeID"], "", managers)


def group_swarms(hosts: Sequence[HostConfig], infos: dict[str, dict[str, Any]]) -> list[Swarm]:
    """Configured hosts grouped into swarms, in config order of their first host (pure: no I/O).

    Name: the first `swarm = "…"` key among its hosts, else its first manager host's name."""
    member = {h.name: host_swarm(infos.get(h.name)) for h in hosts}
    clusters: dict[str, list[HostConfig]] = {}
    manager_cluster: dict[str, str] = {}  # manager node id -> cluster id
    for h in hosts:
        m = member[h.name]
        if m.role == "manager" and m.cluster_id:
            clusters.setdefault(m.cluster_id, []).append(h)
            manager_cluster[m.node_id] = m.cluster_id
    workers: dict[str, list[str]] = {}
    for h in hosts:
        m = member[h.name]
        if m.role == "worker":
            cluster = next((manager_cluster[i] for i in m.manager_ids if i in manager_cluster), None)
            if cluster:
                workers.setdefault(cluster, []).append(h.name)
    out = []
    for cluster_id, managers in clusters.items():
        named = next((h.swarm for h in managers if getattr(h, "swarm", None)), None)
        out.append(Swarm(cluster_id, named or managers[0].name, tuple(h.name for h in managers),
                         tuple(workers.get(cluster_id, ()))))
    return out


# ---------------------------------------------------------------------- API dict -> model


def _image_parts(text: str) -> tuple[str, str]:
    """(reference without digest, digest or "") of a service's image: the CLI pins a digest."""
    ref = parse_image_ref(text)
    return str(replace(ref, digest=None)), ref.digest or ""


def _ports(service: dict[str, Any]) -> tuple[str, ...]:
    out = []
    for p in ((service.get("Endpoint") or {}).get("Ports") or []):
        published = p.get("PublishedPort")
        target = f"{p.get('TargetPort')}/{p.get('Protocol', 'tcp')}"
        out.append(f"*:{published}->{target}" if published else target)
    return tuple(out)


def _mode(spec: dict[str, Any]) -> str:
    mode = spec.get("Mode") or {}
    for key, name in (("Replicated", "replicated"), ("Global", "global"), ("ReplicatedJob", "replicated-job"),
                      ("GlobalJob", "global-job")):
        if key in mode:
            return name
    return "replicated"


def service_from_api(swarm: str, host: str, s: dict[str, Any], tasks: Sequence[SwarmTask] | None) -> SwarmService:
    spec = s.get("Spec") or {}
    image, digest = _image_parts(((spec.get("TaskTemplate") or {}).get("ContainerSpec") or {}).get("Image", ""))
    mode = _mode(spec)
    status = s.get("ServiceStatus") or {}
    mine = [t for t in tasks or () if t.service_id == s["ID"]]
    if tasks is not None:
        running = sum(1 for t in mine if t.desired == "running" and t.state == "running")
    else:
        running = int(status.get("RunningTasks") or 0)
    if mode == "replicated":
        desired = int(((spec.get("Mode") or {}).get("Replicated") or {}).get("Replicas") or 0)
    elif status.get("DesiredTasks") is not None:
        desired = int(status["DesiredTasks"])
    else:
        desired = sum(1 for t in mine if t.desired == "running")
    labels = {str(k): str(v) for k, v in (spec.get("Labels") or {}).items()}
    raw_update = s.get("UpdateStatus") or {}
    update = (UpdateStatus(raw_update.get("State", ""), raw_update.get("Message", ""), raw_update.get("StartedAt"),
                           raw_update.get("CompletedAt")) if raw_update.get("State") else None)
    return SwarmService(
        swarm=swarm, host=host, id=s["ID"], name=spec.get("Name", ""), mode=mode, running=running,
        desired=desired, image=image, digest=digest, ports=_ports(s), created=s.get("CreatedAt", ""),
        updated=s.get("UpdatedAt", ""), stack=labels.get(STACK_LABEL), labels=labels, update=update,
        version=int((s.get("Version") or {}).get("Index") or 0),
    )


def task_from_api(swarm: str, t: dict[str, Any], service_names: dict[str, str],
                  hostnames: dict[str, str]) -> SwarmTask:
    status = t.get("Status") or {}
    container = ((t.get("Spec") or {}).get("ContainerSpec") or {})
    return SwarmTask(
        swarm=swarm, id=t["ID"], service_id=t.get("ServiceID", ""),
        service=service_names.get(t.get("ServiceID", ""), ""), slot=t.get("Slot") or None,
        node_id=t.get("NodeID", ""), node=hostnames.get(t.get("NodeID", ""), ""),
        desired=t.get("DesiredState", ""), state=status.get("State", ""), since=status.get("Timestamp", ""),
        error=status.get("Err", "") or "", message=status.get("Message", "") or "",
        container_id=((status.get("ContainerStatus") or {}).get("ContainerID") or ""),
        image=_image_parts(container.get("Image", ""))[0],
    )


def node_from_api(swarm: str, n: dict[str, Any], tasks: Sequence[SwarmTask]) -> SwarmNode:
    spec = n.get("Spec") or {}
    desc = n.get("Description") or {}
    manager = n.get("ManagerStatus") or {}
    manager_status = "leader" if manager.get("Leader") else str(manager.get("Reachability") or "")
    return SwarmNode(
        swarm=swarm, id=n["ID"], hostname=desc.get("Hostname", ""), role=spec.get("Role", ""),
        availability=spec.get("Availability", ""), state=(n.get("Status") or {}).get("State", ""),
        manager_status=manager_status, engine=(desc.get("Engine") or {}).get("EngineVersion", ""),
        addr=(n.get("Status") or {}).get("Addr", ""),
        labels={str(k): str(v) for k, v in (spec.get("Labels") or {}).items()},
        tasks=sum(1 for t in tasks if t.node_id == n["ID"] and t.desired == "running"),
        version=int((n.get("Version") or {}).get("Index") or 0),
    )


def object_from_api(swarm: str, kind: str, o: dict[str, Any]) -> SwarmObject:
    spec = o.get("Spec") or {}
    return SwarmObject(swarm=swarm, kind=kind, id=o["ID"], name=spec.get("Name", ""), created=o.get("CreatedAt", ""),
                       updated=o.get("UpdatedAt", ""),
                       labels={str(k): str(v) for k, v in (spec.get("Labels") or {}).items()})


def stacks(snapshot: SwarmSnapshot) -> list[Stack]:
    """Services grouped by their stack label, with the stack's secrets, configs and networks."""
    names = sorted({s.stack for s in snapshot.services if s.stack}
                   | {o.stack for o in (*snapshot.secrets, *snapshot.configs) if o.stack}
                   | {stack for _, _, stack in snapshot.networks if stack})
    return [Stack(
        swarm=snapshot.swarm.name, name=name,
        services=tuple(sorted((s for s in snapshot.services if s.stack == name), key=lambda s: s.name)),
        secrets=tuple(o.name for o in snapshot.secrets if o.stack == name),
        configs=tuple(o.name for o in snapshot.configs if o.stack == name),
        networks=tuple(n for _, n, stack in snapshot.networks if stack == name),
    ) for name in names]


async def _itself(client: DockerClient) -> DockerClient:
    return client


def _failover_worthy(exc: BaseException, mutating: bool) -> bool:
    """Try the next manager? Not after a timeout of a change (it may have been applied)."""
    if isinstance(exc, HostUnavailable):
        return True
    if isinstance(exc, RequestTimeout):
        return not mutating
    # 503: "This node is not a swarm manager" / "The swarm does not have a leader"
    return isinstance(exc, DaemonError) and exc.status == 503


# ---------------------------------------------------------------------- the controller


def match_nodes(nodes: list[tuple[T, dict[str, Any]]], name: str) -> list[tuple[T, dict[str, Any]]]:
    """The nodes `name` names: those with that exact ID, else that hostname, else an ID
    beginning with it (the first of the three that matches any node, across all swarms)."""
    for named in (lambda n: n["ID"] == name,
                  lambda n: (n.get("Description") or {}).get("Hostname") == name,
                  lambda n: n["ID"].startswith(name)):
        hits = [(where, n) for where, n in nodes if named(n)]
        if hits:
            return hits
    return []


class SwarmController(Resource):
    """`fleet.swarm`: the swarms of a fleet, read and changed through their managers."""

    poll_every = 5.0  # s, while a pane watches
    update_poll = 0.5  # s, while a service updates or rolls back (tasks on unconfigured nodes send us no event)
    dirty_delay = 0.05  # coalesce an event burst into one reload
    # s after a swarm's last event: read it again (see `heard`); measured: the manager has a
    # killed task's new state 20–100 ms after the node's container event
    settle_delays = (0.15, 0.6)

    def __init__(self, fleet: FleetAccess):
        super().__init__(fleet)
        self._via: dict[str, str] = {}  # swarm id -> the manager host that answered last
        self._cache: dict[str, SwarmSnapshot] = {}  # swarm id -> last snapshot (live mode)
        self._watchers: set[str] = set()
        self._dirty: set[str] = set()  # swarm ids to reload
        self._settle: dict[str, list[float]] = {}  # swarm id -> when to read it again after its events (monotonic)
        self._kick: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._requested: dict[str, str] = {}  # service id -> its UpdatedAt just before our last change
        self._rechecking: dict[str, asyncio.Future[None]] = {}  # host -> refetching its /info after a role change
        self._grouped: tuple[tuple[dict[str, Any], ...], list[Swarm]] | None = None  # (each host's /info, swarms)

    # ------------------------------------------------------------------ membership

    def _infos(self) -> dict[str, dict[str, Any]]:
        return {name: s.info for name, s in self.fleet.sessions.items() if s.info}

    def swarms(self) -> list[Swarm]:
        """The swarms among the hosts whose `/info` is known (the last one seen, even if offline now).

        Asked after every batch of changes and for every Hosts row: grouped again only when an
        `/info` was replaced (500 hosts' grouping for each of 500 rows was a start-up's main cost)."""
        sessions = self.fleet.sessions.values()
        infos = tuple(s.info for s in sessions)  # held: an identity is never reused while compared
        grouped = self._grouped
        if grouped is None or len(grouped[0]) != len(infos) or any(a is not b for a, b in zip(grouped[0], infos)):
            grouped = self._grouped = (infos, group_swarms([s.config for s in sessions], self._infos()))
        return list(grouped[1])

    def swarm_of_host(self, host: str) -> Swarm | None:
        for swarm in self.swarms():
            if host in swarm.managers or host in swarm.workers:
                return swarm
        return None

    def annotate(self, status: HostStatus) -> HostStatus:
        """A Hosts row with its swarm role and swarm (a worker's swarm ID comes from its managers)."""
        member = host_swarm(self.fleet.sessions[status.name].info)
        if member.role is None:
            return status
        swarm = self.swarm_of_host(status.name)
        return replace(status, swarm_role=member.role,
                       swarm_id=member.cluster_id or (swarm.id if swarm else None),
                       swarm_name=swarm.name if swarm else None)

    async def discover(self, hosts: Iterable[str] | None = None) -> list[HostResult[None]]:
        """Fetch `/info` of every selected host not yet known (CLI mode); one result per host."""
        await self.fleet.wait_settled(hosts=hosts)

        async def one(session) -> HostResult[None]:
            try:
                if not session.info or session.state != HostState.ONLINE:
                    session.info = await session.call(lambda c: c.get("info"))
            except FleetError as exc:
                return HostResult(session.name, error=str(exc))
            return HostResult(session.name)

        return list(await asyncio.gather(*(one(s) for s in self.fleet.selected(hosts))))

    def find(self, name: str) -> Swarm:
        """A swarm by its name or ID (a unique ID prefix will do)."""
        swarms = self.swarms()
        for s in swarms:
            if s.name == name or s.id == name:
                return s
        matches = [s for s in swarms if s.id.startswith(name)]
        if len(matches) == 1:
            return matches[0]
        known = ", ".join(s.name for s in swarms) or "none"
        raise SwarmError(f"no swarm named {name!r} (swarms: {known})")

    # ------------------------------------------------------------------ through a manager

    def _order(self, swarm: Swarm) -> list[str]:
        last = self._via.get(swarm.id)
        return ([last] if last in swarm.managers else []) + [m for m in swarm.managers if m != last]

    async def call(self, swarm: Swarm, fn: Callable[[DockerClient], Awaitable[T]], *,
                   mutating: bool = False, timeout: float | None = None) -> tuple[str, T]:
        """Run `fn(client)` on the first manager that answers; (that host, its result)."""
        if mutating and self.fleet.readonly:
            self.fleet.check_writable(swarm.managers[0])
        failures = []
        for host in self._order(swarm):
            try:
                if mutating:
                    self.fleet.check_writable(host)
                value = await self.fleet.call(host, fn, timeout)
            except FleetError as exc:
                if not _failover_worthy(exc, mutating):
                    raise
                failures.append(f"{host}: {exc}")
                continue
            self._via[swarm.id] = host
            return host, value
        raise SwarmError(f"swarm {swarm.name}: no manager answered ({'; '.join(failures)})")

    async def load(self, swarm: Swarm) -> SwarmSnapshot:
        """Services, tasks, nodes, secrets, configs and swarm networks, all through one manager."""
        async def read(c: DockerClient) -> tuple[Any, ...]:
            return await asyncio.gather(
                c.list_services(), c.swarm_list("tasks"), c.swarm_list("nodes"), c.swarm_list("secrets"),
                c.swarm_list("configs"), c.swarm_list("networks", {"scope": ["swarm"]}))

        try:
            host, (services, tasks, nodes, secrets, configs, networks) = await self.call(swarm, read)
        except FleetError as exc:
            return SwarmSnapshot(swarm, error=str(exc))
        hostnames = {n["ID"]: (n.get("Description") or {}).get("Hostname", "") for n in nodes}
        names = {s["ID"]: (s.get("Spec") or {}).get("Name", "") for s in services}
        task_models = tuple(task_from_api(swarm.name, t, names, hostnames) for t in tasks)
        by_service: dict[str, list[SwarmTask]] = {s["ID"]: [] for s in services}
        for t in task_models:
            by_service.setdefault(t.service_id, []).append(t)
        return SwarmSnapshot(
            swarm=swarm, host=host,  # each service given only its own tasks: 200 × 1,000 is not free
            services=tuple(service_from_api(swarm.name, host, s, by_service[s["ID"]]) for s in services),
            tasks=task_models,
            nodes=tuple(node_from_api(swarm.name, n, task_models) for n in nodes),
            secrets=tuple(object_from_api(swarm.name, "secret", o) for o in secrets),
            configs=tuple(object_from_api(swarm.name, "config", o) for o in configs),
            networks=tuple((n["Id"], n.get("Name", ""), (n.get("Labels") or {}).get(STACK_LABEL))
                           for n in networks if n.get("Name") != "ingress"),
        )

    async def load_all(self, swarm: str | None = None) -> list[SwarmSnapshot]:
        """A fresh snapshot of every swarm (or the one named), read concurrently."""
        targets = [self.find(swarm)] if swarm else self.swarms()
        return list(await asyncio.gather(*(self.load(s) for s in targets)))

    # ------------------------------------------------------------------ live cache

    def start(self) -> None:
        """Follow the fleet's changes (live mode); returns at once."""
        if self._task is not None:
            return
        self._kick = asyncio.Event()
        self._unsubscribe = self.fleet.subscribe(self._on_change)
        self._task = asyncio.create_task(self._run(), name="swarm:live")

    async def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._task is not None:
            await cancel_and_wait([self._task, *self._rechecking.values()], "swarm")
            self._task = None

    def snapshots(self) -> list[SwarmSnapshot]:
        """The cached snapshot of every known swarm, in config order (live mode)."""
        return [self._cache[s.id] for s in self.swarms() if s.id in self._cache]

    def watch(self, owner: str, on: bool = True) -> None:
        """A pane showing swarm data asks for `poll_every` reloads while it is shown."""
        (self._watchers.add if on else self._watchers.discard)(owner)
        if on:
            self.refresh()

    def refresh(self, swarm_id: str | None = None) -> None:
        """Reload one swarm (or all) soon."""
        self._dirty.update([swarm_id] if swarm_id else [s.id for s in self.swarms()])
        if self._kick is not None:
            self._kick.set()

    def heard(self, host: str) -> None:
        """A swarm event on `host` (a service, node, secret or config changed, or a task's
        container did): reload its swarm now, not after the fleet's batch interval, and again
        `settle_delays` after the last such event (a node's container event can come before the
        manager has the task's new state, and no further event may follow)."""
        now = time.monotonic() + self.dirty_delay
        for swarm_id in self._mark_dirty({host}):
            if self.settle_delays:
                self._settle[swarm_id] = [now + delay for delay in self.settle_delays]

    def _on_change(self, change: FleetChange) -> None:
        self._mark_dirty(change.hosts("host"))

    def _mark_dirty(self, hosts: set[str]) -> list[str]:
        """Reload the swarms these hosts are in soon; their ids."""
        if not hosts or self._task is None:
            return []
        marked = [s.id for s in self.swarms() if hosts & {*s.managers, *s.workers} or s.id not in self._cache]
        self._dirty.update(marked)
        if self._dirty and self._kick is not None:
            self._kick.set()
        return marked

    def _period(self) -> float:
        if any(s.update is not None and s.update.active for snap in self._cache.values() for s in snap.services):
            return self.update_poll
        if self._watchers:
            return self.poll_every
        sessions = list(self.fleet.sessions.values())
        return sessions[0].timing.reconcile_every if sessions else 30.0

    async def _run(self) -> None:
        assert self._kick is not None
        while True:
            period = self._period()
            settle_at = min((due[0] for due in self._settle.values()), default=None)
            timeout = period if settle_at is None else min(period, max(0.0, settle_at - time.monotonic()))
            # asyncio.wait, not wait_for: 3.11's wait_for can swallow a cancel that lands as the
            # event is set, and closing the fleet then waited its whole grace for this task
            waiter = asyncio.ensure_future(self._kick.wait())
            try:
                done, _ = await asyncio.wait({waiter}, timeout=timeout)
            finally:
                waiter.cancel()
            if not done:
                if timeout < period:  # a swarm's events have settled: read it once more
                    now = time.monotonic()
                    for swarm_id, due in list(self._settle.items()):
                        if due[0] <= now + 0.001:
                            due.pop(0)
                            if not due:
                                del self._settle[swarm_id]
                            self._dirty.add(swarm_id)
                else:  # quiet for a whole period: reconcile every swarm
                    self._dirty.update(s.id for s in self.swarms())
                    self._settle.clear()
            await asyncio.sleep(self.dirty_delay)
            self._kick.clear()
            swarms = [s for s in self.swarms() if s.id in self._dirty]
            self._dirty.clear()
            if not swarms:
                continue
            try:
                fresh = await asyncio.gather(*(self.load(s) for s in swarms))
            except Exception:  # noqa: BLE001 - the live loop must outlive one bad answer
                log.exception("reloading swarms failed")
                continue
            for snap in fresh:
                if self._cache.get(snap.swarm.id) != snap:
                    self._cache[snap.swarm.id] = snap
                    self.fleet.changed(snap.host or snap.swarm.managers[0], "swarm")
            self._recheck_roles(fresh)
            known = {s.id for s in self.swarms()}
            for gone in [k for k in self._cache if k not in known]:
                del self._cache[gone]

    def _recheck_roles(self, snapshots: Iterable[SwarmSnapshot]) -> None:
        """A configured host promoted or demoted (its node's role in the swarm differs from what its
        `/info` said): fetch its `/info` again until it agrees, so it joins or leaves the managers
        now, not at the next reconcile (the node itself learns its new role a moment later)."""
        roles = {n.id: n.role for snap in snapshots for n in snap.nodes}
        for session in self.fleet.sessions.values():
            member = host_swarm(session.info)
            role = roles.get(member.node_id, member.role)
            if member.role is not None and role != member.role and session.name not in self._rechecking:
                task = self._rechecking[session.name] = asyncio.ensure_future(self._await_role(session, role))
                task.add_done_callback(lambda _, name=session.name: self._rechecking.pop(name, None))

    async def _await_role(self, session, role: str, tries: int = 20) -> None:
        for _ in range(tries):
            with contextlib.suppress(FleetError):
                await session.refresh_info()  # notifies "host": the swarms regroup
            if host_swarm(session.info).role == role:
                return
            await asyncio.sleep(0.5)

    # ------------------------------------------------------------------ finding things by name

    async def find_service(self, name: str, swarm: str | None = None) -> tuple[Swarm, dict[str, Any]]:
        """The swarm holding service `name` (or ID) and its fresh `inspect`; asks for a swarm when
        several hold one of that name."""
        targets = [self.find(swarm)] if swarm else self.swarms()
        if not targets:
            raise SwarmError("no swarm manager among the configured hosts")

        async def look(s: Swarm) -> tuple[Swarm, dict[str, Any] | None, str | None]:
            try:
                return s, (await self.call(s, lambda c: c.inspect_service(name)))[1], None
            except DaemonError as exc:
                if exc.status == 404:
                    return s, None, None
                return s, None, str(exc)
            except FleetError as exc:
                return s, None, str(exc)

        found = await asyncio.gather(*(look(s) for s in targets))
        hits = [(s, spec) for s, spec, _ in found if spec is not None]
        if len(hits) > 1:
            raise AmbiguousName(f"service {name!r} exists in swarms {', '.join(s.name for s, _ in hits)}: "
                                "say which with --swarm")
        if not hits:
            errors = "; ".join(e for _, _, e in found if e)
            raise SwarmError(f"no service named {name!r}" + (f" ({errors})" if errors else ""))
        return hits[0]

    async def find_node(self, name: str, swarm: str | None = None) -> tuple[Swarm, dict[str, Any]]:
        """A node by ID, hostname or ID prefix, in that order as `docker node inspect` resolves
        them (a hostname that happens to begin another node's ID is that host); a hostname shared
        by several nodes asks for the ID."""
        targets = [self.find(swarm)] if swarm else self.swarms()
        listed: list[tuple[Swarm, dict[str, Any]]] = []
        errors = []
        for s in targets:
            try:
                _, nodes = await self.call(s, lambda c: c.swarm_list("nodes"))
            except FleetError as exc:
                errors.append(str(exc))
                continue
            listed += [(s, n) for n in nodes]
        hits = match_nodes(listed, name)
        if len(hits) > 1:
            where = ", ".join(f"{n['ID'][:12]} in {s.name}" for s, n in hits)
            raise AmbiguousName(f"several nodes match {name!r} ({where}): give the node ID or --swarm")
        if not hits:
            raise SwarmError(f"no node named {name!r}" + (f" ({'; '.join(errors)})" if errors else ""))
        return hits[0]

    # ------------------------------------------------------------------ service actions

    async def _update(self, swarm: Swarm, service_id: str, change: Callable[[dict[str, Any]], None] | None,
                      *, rollback: bool = False, auth: dict[str, str] | None = None) -> list[str]:
        """Read the service's current spec and version, change it, send it back (warnings out).

        `auth`: registry credentials the nodes pull the image with (X-Registry-Auth); without
        them the manager keeps whatever the service was last given."""
        header = encode_auth(auth) if auth else None

        async def do(c: DockerClient) -> list[str]:
            current = await c.inspect_service(service_id)
            self._requested[current["ID"]] = current.get("UpdatedAt", "")
            spec = current["Spec"]
            if change is not None:
                change(spec)
            return await c.update_service(current["ID"], current["Version"]["Index"], spec, rollback=rollback,
                                          auth_header=header)

        _, warnings = await self.call(swarm, do, mutating=True)
        self._after_change(swarm)
        return warnings

    def _after_change(self, swarm: Swarm) -> None:
        if self._task is not None:
            self.refresh(swarm.id)

    async def scale(self, swarm: Swarm, service_id: str, replicas: int) -> list[str]:
        if replicas < 0:
            raise FleetError("replicas must be 0 or more")

        def set_replicas(spec: dict[str, Any]) -> None:
            mode = spec.get("Mode") or {}
            if "Replicated" not in mode:
                raise FleetError(f"service {spec.get('Name')} is not replicated ({_mode(spec)}): it cannot be scaled")
            mode["Replicated"]["Replicas"] = replicas

        return await self._update(swarm, service_id, set_replicas)

    async def update_image(self, swarm: Swarm, service_id: str, image: str, *,
                           auth: dict[str, str] | None = None) -> list[str]:
        """Start a rolling update to `image` (the manager replaces tasks per the service's UpdateConfig);
        `auth` (from `Registries.auth_for(image)`) lets every node pull a private image, as
        `docker service update --with-registry-auth` does."""
        if not image.strip():
            raise FleetError("an image reference is needed")

        def set_image(spec: dict[str, Any]) -> None:
            spec["TaskTemplate"]["ContainerSpec"]["Image"] = image.strip()

        return await self._update(swarm, service_id, set_image, auth=auth)

    async def force_update(self, swarm: Swarm, service_id: str) -> list[str]:
        """`docker service update --force`: every task is replaced although nothing changed."""
        def bump(spec: dict[str, Any]) -> None:
            template = spec["TaskTemplate"]
            template["ForceUpdate"] = int(template.get("ForceUpdate") or 0) + 1

        return await self._update(swarm, service_id, bump)

    async def rollback(self, swarm: Swarm, service_id: str) -> list[str]:
        """Back to the service's previous spec (the manager keeps one)."""
        return await self._update(swarm, service_id, None, rollback=True)

    async def remove_service(self, swarm: Swarm, service_id: str) -> None:
        await self.call(swarm, lambda c: c.remove_service(service_id), mutating=True)
        self._after_change(swarm)

    async def remove_stack(self, swarm: Swarm, stack: str, *, settle: float = 30.0) -> list[ActionResult]:
        """Remove every service of a stack, then its networks, secrets and configs (one result each).

        Networks stay in use until the services' tasks are gone: those are retried for `settle` s."""
        snapshot = await self.load(swarm)
        if snapshot.error:
            raise SwarmError(snapshot.error)
        found = [s for s in stacks(snapshot) if s.name == stack]
        if not found:
            raise SwarmError(f"no stack named {stack!r} in swarm {swarm.name}")
        results = []

        async def remove(kind: str, object_id: str, name: str, *, retry: bool = False) -> ActionResult:
            deadline = time.monotonic() + (settle if retry else 0)
            while True:
                try:
                    await self.call(swarm, lambda c: c.remove_swarm_object(kind, object_id), mutating=True)
                    return ActionResult(swarm.name, name, f"remove {kind[:-1]}", True)
                except FleetError as exc:
                    if not retry or time.monotonic() > deadline or isinstance(exc, SwarmError):
                        return ActionResult(swarm.name, name, f"remove {kind[:-1]}", False, str(exc))
                await asyncio.sleep(0.5)

        for s in snapshot.services:
            if s.stack == stack:
                results.append(await remove("services", s.id, s.name))
        for object_id, name, owner in snapshot.networks:
            if owner == stack:
                results.append(await remove("networks", object_id, name, retry=True))
        for o in (*snapshot.secrets, *snapshot.configs):
            if o.stack == stack:
                results.append(await remove(f"{o.kind}s", o.id, o.name, retry=True))
        self._after_change(swarm)
        return results

    async def follow_update(self, swarm: Swarm, service_id: str, *, every: float = 0.5,
                            timeout: float | None = None, grace: float = 3.0,
                            after: str | None = None) -> AsyncIterator[SwarmService | SwarmTask]:
        """Watch a rolling update: each task whose state changed (and a task that failed since the
        update began), then the service whenever its `UpdateStatus` changed; ends when the update completed, paused or rolled back.

        Only an update that started after `after` (default: the service's UpdatedAt just before
        this controller last changed it) counts: an older one's "completed" is history. A change
        that starts no rolling update ends once the tasks converge, after `grace` seconds."""
        after = timestamp_key(after if after is not None else self._requested.get(service_id, ""))
        seen: dict[str, tuple[str, str]] = {}
        last_state: str | None = None
        started = time.monotonic()
        while True:
            snapshot = await self.load(swarm)
            if snapshot.error:
                raise SwarmError(snapshot.error)
            service = next((s for s in snapshot.services if s.id == service_id or s.name == service_id), None)
            if service is None:
                raise SwarmError(f"service {service_id[:12]} was removed")
            for task in sorted((t for t in snapshot.tasks if t.service_id == service.id), key=lambda t: t.since):
                now = (task.desired, task.state)
                if seen.get(task.id) != now:
                    # a new task that failed at once (rejected: the node could not pull) is the news
                    if task.id in seen or task.desired == "running" or (task.error and timestamp_key(task.since) > after):
                        yield task
                    seen[task.id] = now
            current = service.update if service.update and timestamp_key(service.update.started or "") > after else None
            state = current.state if current else None
            if state != last_state:
                last_state = state
                yield service
            if state in ("completed", "paused", "rollback_completed", "rollback_paused"):
                return
            waited = time.monotonic() - started
            if state is None and waited > grace and service.running >= service.desired:
                return  # nothing to roll (same spec): converged
            if timeout is not None and waited > timeout:
                raise SwarmError(f"service {service.name}: update still {state or 'pending'} after {timeout:g}s")
            await asyncio.sleep(every)

    # ------------------------------------------------------------------ nodes

    async def update_node(self, swarm: Swarm, node_id: str, *, availability: str | None = None,
                          role: str | None = None, add_labels: dict[str, str] | None = None,
                          remove_labels: Iterable[str] = ()) -> None:
        """Drain/activate/pause, promote/demote, add/remove labels of one node."""
        if availability is not None and availability not in AVAILABILITIES:
            raise FleetError(f"availability must be one of {', '.join(AVAILABILITIES)}")
        if role is not None and role not in ROLES:
            raise FleetError(f"role must be one of {', '.join(ROLES)}")

        async def do(c: DockerClient) -> None:
            # Swarm's own role manager rewrites a node just promoted or demoted, so the version read
            # here can be stale by the time the update lands ("update out of sequence"): read again.
            for attempt in range(NODE_UPDATE_ATTEMPTS):
                node = await c.inspect_node(node_id)
                spec = dict(node["Spec"])
                if availability is not None:
                    spec["Availability"] = availability
                if role is not None:
                    spec["Role"] = role
                labels = dict(spec.get("Labels") or {})
                labels.update(add_labels or {})
                for key in remove_labels:
                    labels.pop(key, None)
                spec["Labels"] = labels
                try:
                    await c.update_node(node["ID"], node["Version"]["Index"], spec)
                    return
                except DaemonError as exc:
                    if "out of sequence" not in exc.message or attempt == NODE_UPDATE_ATTEMPTS - 1:
                        raise
                await asyncio.sleep(0.2 * (attempt + 1))

        await self.call(swarm, do, mutating=True)
        self._after_change(swarm)

    # ------------------------------------------------------------------ logs

    async def service_logs(self, swarm: Swarm, service_id: str, *, tail: int | str = 200, follow: bool = True,
                           since: str | None = None, retry_every: float = 2.0) -> AsyncIterator[LogLine | LogNotice]:
        """A service's logs from all its tasks through a manager, each line's source named
        SERVICE.SLOT@NODE; a broken stream says so and resumes after its last line."""
        sources: dict[str, LogSource] = {}
        names: dict[str, str] = {}  # task id -> SERVICE.SLOT@NODE
        last_ts: str | None = None
        service_source = LogSource(swarm.name, service_id, "service")

        async def refresh_names() -> None:
            snapshot = await self.load(swarm)
            for t in snapshot.tasks:
                if t.service_id == service_id:
                    names[t.id] = f"{t.name}@{t.node or t.node_id[:12]}"

        with contextlib.suppress(FleetError):
            await refresh_names()
        first = True
        while True:
            try:
                host, client = await self.call(swarm, _itself)
                if not first:
                    yield LogNotice(service_source, "resumed", broken=False)
                stream = client.service_log_stream(service_id, follow=follow, tail=tail if first else "all",
                                                   since=since_after(last_ts) if last_ts else since)
                async for stream_name, text, ts in split_lines(stream):
                    details, _, message = text.partition(" ")
                    attrs = dict(kv.split("=", 1) for kv in details.split(",") if "=" in kv)
                    task_id = attrs.get("com.docker.swarm.task.id", "")
                    if task_id not in names and task_id:
                        with contextlib.suppress(FleetError):
                            await refresh_names()
                    source = sources.get(task_id)
                    if source is None:
                        # named SWARM/SERVICE.SLOT@NODE, whichever manager streams it
                        source = sources[task_id] = LogSource(swarm.name, task_id, names.get(task_id, task_id[:12]))
                    last_ts = ts
                    yield LogLine(source, stream_name, ts, message)
                if not follow:
                    return
                reason = "the manager ended the stream"
            except DaemonError as exc:
                if exc.status == 404:
                    yield LogNotice(service_source, "service was removed", broken=True)
                    return
                reason = str(exc)
            except FleetError as exc:
                reason = str(exc)
            if not follow:
                yield LogNotice(service_source, f"logs unavailable: {reason}", broken=True)
                return
            first = False
            yield LogNotice(service_source, f"stream broke ({reason}); resuming when it can", broken=True)
            await asyncio.sleep(retry_every)
