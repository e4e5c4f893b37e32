"""What is wrong right now, and where: problems computed from the live cache and from events.

Who uses what:

| caller             | uses                                                                   |
|--------------------|------------------------------------------------------------------------|
| Problems pane, header | `fleet.problems.problems()`, `.count()`, `.refresh_reclaimable()`   |
| `dockyard problems` | `check(fleet, hosts)` (one pass: listings, the daemons' event history) |
| tests              | the pure rules (`container_problems`, `swarm_problems`, …) and both    |

Cost (a fleet of thousands of containers, hundreds of hosts): nothing is polled per container.
The live watch reads the event-fed cache when it changes, keeps a note per container that an
event named (`die`, `oom`, `kill`/`stop`, `health_status`, `start`), and inspects only those
containers and the few whose listing looks wrong (restarting, exited non-zero, unhealthy) — once
per event, coalesced. While a problem or a note exists it re-checks them every `RECHECK_EVERY`
seconds so a problem that clears leaves by itself; an idle healthy fleet costs nothing. A
daemon's `/system/df` is slow on big hosts: it is read only when the Problems view is shown or
the CLI asks, at most once per `reclaimable_every` per host.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from dockyard.config.model import ProblemsConfig
from dockyard.fleet.errors import FleetError
from dockyard.fleet.events import FleetEvent, read_history
from dockyard.fleet.models import HostState, HostStatus
from dockyard.fleet.resource import FleetAccess
from dockyard.tasks import cancel_and_wait
from dockyard.textfmt import human_size, natural_key, rfc3339_seconds

if TYPE_CHECKING:
    from dockyard.fleet.events import EventHistory
    from dockyard.fleet.models import Container, SwarmSnapshot
    from dockyard.fleet.session import HostSession
    from dockyard.fleet.swarm import SwarmController


class HealthFleet(FleetAccess, Protocol):
    """What problems need of the fleet beyond a resource's part: the event history, the swarms
    (and `freshness`, when the fleet has it)."""

    history: EventHistory
    swarm: SwarmController

log = logging.getLogger("dockyard.problems")

SEVERITIES = ("critical", "error", "warning")  # worst first
KINDS = ("host-unreachable", "node-down", "restart-loop", "oom-killed", "unhealthy", "service-degraded", "exited",
         "version-skew", "reclaimable", "outdated")
RECHECK_EVERY = 5.0  # while a problem or a note exists: windows expire, thresholds pass
USER_STOP_WINDOW = 60.0  # a die this soon after a client's kill/stop was asked for (docker stop -t 30 …)
_DOWN_STATES = (HostState.UNREACHABLE, HostState.AUTH_FAILED, HostState.HOST_KEY_UNKNOWN,
                HostState.HOST_KEY_CHANGED, HostState.UNSUPPORTED)
_EXIT_CODE = re.compile(r"^(?:Exited|Restarting) \((-?\d+)\)")
_RUNNING_POLICIES = ("always", "unless-stopped", "on-failure")
# the container events a note is kept for; health_status carries ": healthy" / ": unhealthy"
_NOTED = ("die", "oom", "kill", "stop", "start", "restart", "destroy", "health_status")


@dataclass(frozen=True)
class Problem:
    severity: str  # critical, error, warning
    kind: str  # one of KINDS
    host: str  # the host it is on (a swarm's: the manager it was read through, or the node's own host)
    object: str  # host, container, service, node, swarm, image
    name: str
    since: float | None  # unix seconds; None when unknown
    detail: str
    id: str = ""  # the container's, service's or node's ID
    swarm: str = ""  # a service's or node's swarm (its SWARM name)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.kind, self.host, self.object, self.id or self.name)

    def rank(self, host_order: Mapping[str, int] | None = None) -> tuple:
        """Worst first: severity, then kind, then host (config order), then name."""
        return (SEVERITIES.index(self.severity), KINDS.index(self.kind) if self.kind in KINDS else len(KINDS),
                (host_order or {}).get(self.host, 0), self.host, self.name)

    def to_json(self) -> dict[str, Any]:
        from dockyard.fleet.events import rfc3339_ns

        out: dict[str, Any] = {"severity": self.severity, "kind": self.kind, "host": self.host,
                               "object": self.object, "name": self.name,
                               "since": rfc3339_ns(int(self.since * 1e9)) if self.since else None,
                               "detail": self.detail}
        if self.id:
            out["id"] = self.id
        if self.swarm:
            out["swarm"] = self.swarm
        return out


def span(seconds: float) -> str:
    """12s, 4m10s, 3h05m, 2d4h: how long, compactly."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600}h"


def sort_problems(problems: Iterable[Problem], host_order: Mapping[str, int] | None = None) -> list[Problem]:
    return sorted(problems, key=lambda p: p.rank(host_order))


# ---------------------------------------------------------------------- hosts


def host_problem(status: HostStatus | HostSession) -> Problem | None:
    """A host that cannot be asked: unreachable, refusing (auth, host key) or an unsupported API.
    (Its name, state, reason and down_since: a HostStatus, or the session itself, which costs
    nothing to read — a status counts the host's containers.)"""
    down = status.state in _DOWN_STATES or (status.state == HostState.CONNECTING and status.down_since)
    if not down:
        return None
    what = {HostState.UNSUPPORTED: "unsupported API", HostState.AUTH_FAILED: "refusing (authentication)",
            HostState.HOST_KEY_UNKNOWN: "refusing (unknown host key)",
            HostState.HOST_KEY_CHANGED: "refusing (host key changed)"}.get(status.state, "unreachable")
    if status.state == HostState.CONNECTING:
        what = "unreachable, reconnecting"
    detail = f"{what}: {status.reason}" if status.reason else what
    return Problem("critical", "host-unreachable", status.name, "host", status.name, status.down_since, detail)


# ---------------------------------------------------------------------- containers


@dataclass
class ContainerNote:
    """What a container's events said lately (only containers an event named have one)."""

    dies: deque = field(default_factory=lambda: deque(maxlen=64))  # (time, exit code) not asked for by a client
    stop_asked: float = 0.0  # a client's kill/stop/restart
    last_die: float = 0.0
    last_exit: int | None = None
    last_die_by_user: bool = False
    oom_at: float = 0.0
    health: str = ""  # healthy, unhealthy, starting
    health_at: float = 0.0
    started: float = 0.0
    touched: float = 0.0  # the last event

    def feed(self, event: FleetEvent) -> None:
        t = event.seconds
        self.touched = max(self.touched, t)
        action = event.action
        if action in ("kill", "stop", "restart"):
            self.stop_asked = t
        elif action == "die":
            code = _int(event.attributes.get("exitCode"))
            by_user = 0 < t - self.stop_asked <= USER_STOP_WINDOW or t == self.stop_asked
            self.last_die, self.last_exit, self.last_die_by_user = t, code, by_user
            if not by_user:
                self.dies.append((t, code))
        elif action == "oom":
            self.oom_at = t
        elif action == "start":
            self.started = t
        elif action.startswith("health_status"):
            self.health = action.partition(":")[2].strip()
            self.health_at = t

    def recent_dies(self, now: float, window: float) -> list[tuple[float, int | None]]:
        return [d for d in self.dies if now - d[0] <= window]

    def matters(self, now: float, window: float) -> bool:
        """Whether the note still says something (else it is dropped)."""
        return now - self.touched <= window or self.health == "unhealthy"


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def exit_code_of(c: Container) -> int | None:
    found = _EXIT_CODE.match(c.status)
    return int(found.group(1)) if found else None


def suspicious(c: Container) -> bool:
    """Whether a listed container may have a problem (then, and only then, it is inspected)."""
    if c.state in ("restarting", "dead"):
        return True
    if "(unhealthy)" in c.status:
        return True
    return c.state == "exited" and (exit_code_of(c) or 0) != 0


def _first_line(text: str, width: int = 160) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= width else line[: width - 1] + "…"


def container_problems(c: Container, inspected: Mapping[str, Any] | None, note: ContainerNote | None,
                       limits: ProblemsConfig, now: float) -> list[Problem]:
    """The problems of one container from its listing, its inspect (if any) and its note (if any)."""
    out: list[Problem] = []
    state_info = (inspected or {}).get("State") or {}
    host_config = (inspected or {}).get("HostConfig") or {}
    policy = host_config.get("RestartPolicy") or {}
    policy_name = policy.get("Name") or "no"
    restart_count = (inspected or {}).get("RestartCount")
    finished = rfc3339_seconds(state_info.get("FinishedAt"))
    if finished is not None and finished <= 0:
        finished = None
    window = limits.restart_loop_window
    recent = note.recent_dies(now, window) if note is not None else []

    def add(severity: str, kind: str, since: float | None, detail: str) -> None:
        out.append(Problem(severity, kind, c.host, "container", c.name, since, detail, id=c.id))

    # restart loop: restarting now, or dying again and again (no client asked) while it should run
    looping = c.state == "restarting" or (len(recent) >= limits.restart_loop_count
                                          and c.state in ("running", "restarting", "created"))
    if looping and not (note is not None and note.last_die_by_user and c.state != "restarting"):
        parts = []
        if len(recent) >= 2:
            parts.append(f"restarted {len(recent)} times in {span(now - recent[0][0])}")
        else:
            parts.append("restarting")
        code = recent[-1][1] if recent else exit_code_of(c)
        if code is not None:
            parts.append(f"last exit code {code}")
        if isinstance(restart_count, int):
            parts.append(f"RestartCount {restart_count}")
        parts.append(f"restart policy {policy_name}")
        add("error", "restart-loop", recent[0][0] if recent else finished, ", ".join(parts))

    # OOM-killed: the kernel killed it (the flag stays until it starts again), or an oom event lately
    oom_flag = bool(state_info.get("OOMKilled")) and c.state in ("exited", "dead", "restarting")
    oom_event = note is not None and note.oom_at and now - note.oom_at <= window
    if oom_flag or oom_event:
        limit = host_config.get("Memory") or 0
        detail = "killed by the kernel: out of memory"
        if limit:
            detail += f" (memory limit {human_size(limit)})"
        code = state_info.get("ExitCode") if oom_flag else (note.last_exit if note else None)
        if code is not None:
            detail += f", exit code {code}"
        add("error", "oom-killed", (note.oom_at if oom_event and note else None) or finished, detail)

    # unhealthy: the listing says so (the daemon's own verdict); the last probe's output says why
    health = state_info.get("Health") or {}
    if c.state == "running" and ("(unhealthy)" in c.status or health.get("Status") == "unhealthy"):
        log_entries = health.get("Log") or []
        last = log_entries[-1] if log_entries else {}
        streak = health.get("FailingStreak")
        detail = "health check failing"
        if isinstance(streak, int) and streak:
            detail += f" {streak} time{'s' * (streak != 1)} in a row"
        if last:
            output = _first_line(last.get("Output") or "")
            detail += f"; last probe: exit {last.get('ExitCode')}" + (f": {output}" if output else " (no output)")
        since = note.health_at if note is not None and note.health == "unhealthy" and note.health_at else None
        if since is None and log_entries and isinstance(streak, int) and streak:
            failing = log_entries[-min(streak, len(log_entries)):]
            since = rfc3339_seconds(failing[0].get("Start"))
        add("error", "unhealthy", since, detail)

    # exited non-zero while it should run, or not stopped by a client
    if c.state in ("exited", "dead") and not (oom_flag or oom_event):
        code = state_info.get("ExitCode") if inspected else exit_code_of(c)
        if c.state == "dead":
            add("error", "exited", finished, "dead (the daemon could not stop or remove it cleanly)"
                + (f": {_first_line(state_info.get('Error') or '')}" if state_info.get("Error") else ""))
        elif code:
            gave_up = policy_name == "on-failure" and inspected is not None
            # a client's stop after the last die (of a restarting container) is a user's stop too;
            # always/unless-stopped: an exited one was stopped by a user (or the daemon restarts it)
            unasked = (note is not None and note.last_die and not note.last_die_by_user and note.last_exit
                       and note.stop_asked < note.last_die and policy_name not in ("always", "unless-stopped"))
            if gave_up:
                tries = policy.get("MaximumRetryCount") or 0
                add("error", "exited", finished, f"exit code {code}; restart policy on-failure"
                    + (f":{tries} gave up after {restart_count} restarts" if tries else ""))
            elif unasked:
                add("warning", "exited", note.last_die if note else finished,
                    f"exit code {code}, not stopped by a user (restart policy {policy_name})")
    return out


# ---------------------------------------------------------------------- swarm


def swarm_problems(snapshot: SwarmSnapshot, limits: ProblemsConfig, now: float,
                   node_hosts: Mapping[str, str] | None = None,
                   first_seen_below: dict[tuple[str, str], float] | None = None) -> list[Problem]:
    """Nodes down, managers unreachable, services below their desired replicas for longer than
    `service_degraded_after` (with the last task error), daemons on different engine versions.
    `node_hosts` maps node IDs to configured host names; `first_seen_below` remembers, across
    calls, when a service was first seen below (the live watch passes its own)."""
    out: list[Problem] = []
    swarm = snapshot.swarm
    via = snapshot.host or (swarm.managers[0] if swarm.managers else "")
    node_hosts = node_hosts or {}
    for node in snapshot.nodes:
        host = node_hosts.get(node.id, via)
        if node.state in ("down", "disconnected", "unknown"):
            out.append(Problem("critical", "node-down", host, "node", node.hostname, None,
                               f"node {node.state} ({node.role}, availability {node.availability})",
                               id=node.id, swarm=swarm.name))
        elif node.manager_status == "unreachable":
            out.append(Problem("critical", "node-down", host, "node", node.hostname, None,
                               "manager unreachable", id=node.id, swarm=swarm.name))
    tasks_of: dict[str, list] = {}
    for task in snapshot.tasks:
        tasks_of.setdefault(task.service_id, []).append(task)
    seen = set()
    for service in snapshot.services:
        if service.mode not in ("replicated", "global") or service.running >= service.desired:
            continue
        key = (swarm.id, service.id)
        seen.add(key)
        waiting = [t for t in tasks_of.get(service.id, []) if t.desired == "running" and t.state != "running"]
        since_tasks = min((s for s in (rfc3339_seconds(t.since) for t in waiting) if s), default=None)
        first = first_seen_below.setdefault(key, now) if first_seen_below is not None else now
        since = min(since_tasks, first) if since_tasks else first
        if now - since < limits.service_degraded_after:
            continue
        failed = sorted((t for t in tasks_of.get(service.id, []) if t.error or t.message and t.state != "running"),
                        key=lambda t: t.since or "")
        detail = f"{service.running}/{service.desired} replicas running for {span(now - since)}"
        if failed:
            last = failed[-1]
            detail += f"; last task {last.state}: {_first_line(last.error or last.message)}"
        out.append(Problem("error", "service-degraded", via, "service", service.name, since, detail,
                           id=service.id, swarm=swarm.name))
    if first_seen_below is not None:
        for key in [k for k in first_seen_below if k[0] == swarm.id and k not in seen]:
            del first_seen_below[key]
    engines: dict[str, list[str]] = {}
    for node in snapshot.nodes:
        if node.engine:
            engines.setdefault(node.engine, []).append(node.hostname)
    if len(engines) > 1:
        detail = "engine versions differ: " + "; ".join(  # oldest first: 20.10.5 before 20.10.24
            f"{v} on {', '.join(sorted(h, key=natural_key))}"
            for v, h in sorted(engines.items(), key=lambda item: natural_key(item[0])))
        out.append(Problem("warning", "version-skew", via, "swarm", swarm.name, None, detail, id=swarm.id,
                           swarm=swarm.name))
    return out


def node_hosts_of(fleet: HealthFleet) -> dict[str, str]:
    """Swarm node ID -> the configured host that is that node."""
    from dockyard.fleet.swarm import host_swarm

    out = {}
    for session in fleet.sessions.values():
        member = host_swarm(session.info)
        if member.node_id:
            out[member.node_id] = session.name
    return out


# ---------------------------------------------------------------------- images


def outdated_problem(c: Container, freshness: Any) -> Problem | None:
    """A container whose image's tag now points elsewhere in its registry (fleet/freshness.py)."""
    if freshness is None or freshness.state != "outdated":
        return None
    running = (freshness.running_digest or "?")[:19]
    serves = (freshness.registry_digest or "?")[:19]
    return Problem("warning", "outdated", c.host, "container", c.name, freshness.checked_at,
                   f"{freshness.reference}: the registry serves {serves}, it runs {running}", id=c.id)


# ---------------------------------------------------------------------- disk


def reclaimable_bytes(df: Mapping[str, Any]) -> dict[str, int]:
    """What `docker system prune` (with volumes and build cache) could free, by part."""
    images = sum(max(0, int(i.get("Size") or 0) - max(0, int(i.get("SharedSize") or 0)))
                 for i in df.get("Images") or [] if not i.get("Containers"))
    containers = sum(int(c.get("SizeRw") or 0) for c in df.get("Containers") or []
                     if c.get("State") not in ("running", "paused", "restarting"))
    volumes = sum(max(0, int((v.get("UsageData") or {}).get("Size") or 0)) for v in df.get("Volumes") or []
                  if (v.get("UsageData") or {}).get("RefCount") == 0)
    cache = sum(int(b.get("Size") or 0) for b in df.get("BuildCache") or [] if not b.get("InUse") and not b.get("Shared"))
    return {"images": images, "stopped containers": containers, "unused volumes": volumes, "build cache": cache}


def reclaimable_problem(host: str, df: Mapping[str, Any], limits: ProblemsConfig, now: float) -> Problem | None:
    parts = reclaimable_bytes(df)
    total = sum(parts.values())
    if total < limits.reclaimable_gb * 1e9:
        return None
    detail = f"{human_size(total)} reclaimable: " + ", ".join(f"{k} {human_size(v)}" for k, v in parts.items() if v)
    return Problem("warning", "reclaimable", host, "host", host, None, detail)


# ---------------------------------------------------------------------- the live watch


class ProblemWatch:
    """The live fleet's problems, kept up to date from its cache changes and event history."""

    def __init__(self, fleet: HealthFleet, limits: ProblemsConfig):
        self.fleet = fleet
        self.limits = limits
        self.notes: dict[tuple[str, str], ContainerNote] = {}
        self._inspected: dict[tuple[str, str], dict[str, Any]] = {}
        self._to_inspect: set[tuple[str, str]] = set()
        self._by_source: dict[str, list[Problem]] = {}  # "hosts", "containers:HOST", "swarm", "df:HOST"
        self._below: dict[tuple[str, str], float] = {}
        self._df_at: dict[str, float] = {}
        self._outdated_hosts: set[str] = set()  # hosts with an outdated container: re-judged as their rows change
        self._current: list[Problem] = []
        self.version = 0  # bumped whenever the list changes
        self._kick: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._df_task: asyncio.Task[None] | None = None
        self._unsubscribe = None

    # ------------------------------------------------------------------ reading

    def problems(self, hosts: Iterable[str] | None = None) -> list[Problem]:
        """Every current problem, worst first (only these hosts' when given)."""
        wanted = set(hosts) if hosts else None
        return [p for p in self._current if wanted is None or p.host in wanted]

    def count(self, hosts: Iterable[str] | None = None) -> int:
        return len(self.problems(hosts))

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        if self._task is not None:
            return
        self._kick = asyncio.Event()
        self._unsubscribe = self.fleet.subscribe(self._on_change)
        self.fleet.history.listen(self._on_event)
        self._task = asyncio.create_task(self._run(), name="problems")
        self._hosts_changed()

    async def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        tasks = [t for t in (self._task, self._df_task) if t is not None]
        self._task = self._df_task = None
        if tasks:
            await cancel_and_wait(tasks, "problems")

    # ------------------------------------------------------------------ what changed

    def _on_event(self, event: FleetEvent) -> None:
        if event.type != "container" or not event.id or not event.action.startswith(_NOTED):
            return
        key = (event.host, event.id)
        if event.action == "destroy":
            self.notes.pop(key, None)
            self._inspected.pop(key, None)
            return
        self.notes.setdefault(key, ContainerNote()).feed(event)
        if event.action in ("die", "oom") or event.action.startswith("health_status"):
            self._to_inspect.add(key)
            self._wake()

    def _on_change(self, change) -> None:
        kinds = {kind for _, kind in change.changed}
        if "host" in kinds:
            self._hosts_changed()
            for host in change.hosts("host"):
                self._scan(host)
        for host in change.hosts("containers") - change.hosts("host"):
            self._scan(host)
        if "swarm" in kinds:
            self._swarm_changed()
        for host in change.hosts("freshness") | (change.hosts("containers") & self._outdated_hosts):
            self._outdated(host)
        self._publish()

    def _wake(self) -> None:
        if self._kick is not None:
            self._kick.set()

    # ------------------------------------------------------------------ computing

    def _hosts_changed(self) -> None:
        self._by_source["hosts"] = [p for p in map(host_problem, self.fleet.sessions.values()) if p is not None]
        self._publish()

    def _scan(self, host: str) -> None:
        """Re-evaluate one host's containers from its cache: only suspicious or noted ones."""
        session = self.fleet.sessions.get(host)
        source = f"containers:{host}"
        if session is None or not session.rows_current:
            self._by_source.pop(source, None)
            return
        now = time.time()
        found: list[Problem] = []
        present = set()
        for c in session.cache.items("containers"):
            key = (host, c.id)
            note = self.notes.get(key)
            if note is not None and not note.matters(now, self.limits.restart_loop_window):
                del self.notes[key]
                note = None
            if note is None and not suspicious(c):
                self._inspected.pop(key, None)
                continue
            present.add(key)
            inspected = self._inspected.get(key)
            if inspected is None and key not in self._to_inspect:
                self._to_inspect.add(key)
                self._wake()
            found.extend(container_problems(c, inspected, note, self.limits, now))
        for key in [k for k in self.notes if k[0] == host and k not in present]:
            if now - self.notes[key].touched > 5.0:  # listed by now, or gone: forget
                del self.notes[key]
        self._by_source[source] = found

    def _outdated(self, host: str) -> None:
        """The host's containers that run an outdated image (after a freshness check covered it)."""
        session = self.fleet.sessions.get(host)
        freshness = getattr(self.fleet, "freshness", None)
        if session is None or freshness is None or not session.rows_current:
            self._by_source.pop(f"outdated:{host}", None)
            return
        found = [p for p in (outdated_problem(c, freshness.state_of(host, c.id))
                             for c in session.cache.items("containers")) if p is not None]
        self._by_source[f"outdated:{host}"] = found
        (self._outdated_hosts.add if found else self._outdated_hosts.discard)(host)

    def _swarm_changed(self) -> None:
        now = time.time()
        node_hosts = node_hosts_of(self.fleet)
        found: list[Problem] = []
        for snap in self.fleet.swarm.snapshots():
            found.extend(swarm_problems(snap, self.limits, now, node_hosts, self._below))
        self._by_source["swarm"] = found

    def _publish(self) -> None:
        fresh = sort_problems((p for ps in self._by_source.values() for p in ps),
                              {name: i for i, name in enumerate(self.fleet.sessions)})
        if fresh != self._current:
            self._current = fresh
            self.version += 1
            self.fleet.changed("", "problems")

    def _busy(self) -> bool:
        """Something may change with time alone: a note, a container problem, a degraded service."""
        return bool(self.notes or self._below or any(
            ps for source, ps in self._by_source.items() if source.startswith("containers:")))

    async def _run(self) -> None:
        assert self._kick is not None
        while True:
            timeout = RECHECK_EVERY if self._busy() else None
            waiter = asyncio.ensure_future(self._kick.wait())
            try:
                done, _ = await asyncio.wait({waiter}, timeout=timeout)
            finally:
                waiter.cancel()
            await asyncio.sleep(0.2)  # an event's burst (oom, die, start…) and its listing: one inspect
            self._kick.clear()
            try:
                await self._inspect_pending()
                hosts = {h for h, _ in self.notes} | {s.partition(":")[2] for s in self._by_source
                                                      if s.startswith("containers:")}
                for host in hosts:
                    self._scan(host)
                if self._below or "swarm" in self._by_source:
                    self._swarm_changed()
                self._publish()
            except Exception:  # noqa: BLE001 - the watch must outlive one bad answer
                log.exception("problems: re-evaluating failed")

    async def _inspect_pending(self) -> None:
        keys, self._to_inspect = list(self._to_inspect), set()
        if not keys:
            return

        async def one(key: tuple[str, str]) -> None:
            host, cid = key
            try:
                self._inspected[key] = await self.fleet.call(host, lambda c: c.get(f"containers/{cid}/json"))
            except FleetError:
                self._inspected.pop(key, None)  # gone (404) or the host is away: the listing decides

        for start in range(0, len(keys), 32):  # bounded: a burst of thousands of events
            await asyncio.gather(*(one(k) for k in keys[start:start + 32]))

    # ------------------------------------------------------------------ disk, lazily

    def refresh_reclaimable(self, force: bool = False) -> None:
        """Read `/system/df` of the online hosts not read within `reclaimable_every` (in the
        background; the Problems view asks when it is shown)."""
        if self._df_task is not None and not self._df_task.done():
            return
        now = time.time()
        hosts = [s.name for s in self.fleet.sessions.values() if s.state == HostState.ONLINE
                 and (force or now - self._df_at.get(s.name, 0) >= self.limits.reclaimable_every)]
        if hosts:
            self._df_task = asyncio.create_task(self._read_df(hosts), name="problems:df")

    async def _read_df(self, hosts: list[str]) -> None:
        limit = asyncio.Semaphore(4)

        async def one(host: str) -> None:
            async with limit:
                try:
                    df = await self.fleet.call(host, lambda c: c.get("system/df"), timeout=120)
                except FleetError:
                    return
            self._df_at[host] = time.time()
            problem = reclaimable_problem(host, df, self.limits, time.time())
            self._by_source[f"df:{host}"] = [problem] if problem else []
            self._publish()

        await asyncio.gather(*(one(h) for h in hosts))


# ---------------------------------------------------------------------- one check (the CLI)


@dataclass
class CheckResult:
    problems: list[Problem]
    errors: list[dict[str, str]]


async def check(fleet: HealthFleet, hosts: Sequence[str] | None, limits: ProblemsConfig,
                reclaimable: bool = True) -> CheckResult:
    """Every problem of the selected hosts now, in one pass: each host's listing, its daemon's
    event history over the restart-loop window (what its 256-event ring holds), an inspect of the
    containers that look wrong or that an event named, the swarms, and `/system/df`."""
    await fleet.wait_settled()
    now = time.time()
    sessions = fleet.selected(hosts)
    problems: list[Problem] = []
    errors: list[dict[str, str]] = []
    for session in sessions:
        problem = host_problem(session.status())
        if problem is not None:
            problems.append(problem)
            errors.append({"host": session.name, "error": problem.detail})

    async def one(host: str) -> list[Problem]:
        containers = await fleet.call(host, lambda c: c.list_containers(all=True))
        notes: dict[str, ContainerNote] = {}
        try:
            history = await read_history(fleet, host, now - limits.restart_loop_window, now,
                                         {"type": ["container"]})
        except FleetError:
            history = []
        for event in history:
            if event.id and event.action.startswith(_NOTED):
                notes.setdefault(event.id, ContainerNote()).feed(event)
        out: list[Problem] = []
        wanted = [c for c in containers if suspicious(c) or c.id in notes]

        async def inspect(c: Container) -> tuple[Container, dict[str, Any] | None]:
            try:
                return c, await fleet.call(host, lambda d: d.get(f"containers/{c.id}/json"))
            except FleetError:
                return c, None

        for c, inspected in await asyncio.gather(*(inspect(c) for c in wanted)):
            out.extend(container_problems(c, inspected, notes.get(c.id), limits, now))
        if reclaimable:
            try:
                df = await fleet.call(host, lambda d: d.get("system/df"), timeout=60)
            except FleetError:
                df = None
            problem = reclaimable_problem(host, df, limits, now) if df else None
            if problem is not None:
                out.append(problem)
        return out

    online = [s.name for s in sessions if s.state == HostState.ONLINE]

    async def guarded(host: str) -> list[Problem]:
        try:
            return await one(host)
        except FleetError as exc:
            errors.append({"host": host, "error": str(exc)})
            problems.append(Problem("critical", "host-unreachable", host, "host", host, now, str(exc)))
            return []

    for found in await asyncio.gather(*(guarded(h) for h in online)):
        problems.extend(found)
    freshness = getattr(fleet, "freshness", None)
    if freshness is not None and online:
        report = await freshness.check(hosts=online)  # registries' errors are theirs, not a host's
        problems.extend(p for p in (outdated_problem(r.container, r.freshness) for r in report.rows) if p)
    # swarms: the ones the selected hosts are in
    selected = {s.name for s in sessions}
    await fleet.swarm.discover([s.name for s in sessions if s.state == HostState.ONLINE])
    node_hosts = node_hosts_of(fleet)
    for swarm in fleet.swarm.swarms():
        if not selected & {*swarm.managers, *swarm.workers}:
            continue
        snapshot = await fleet.swarm.load(swarm)
        if snapshot.error:
            errors.append({"host": swarm.managers[0] if swarm.managers else "", "error": snapshot.error})
            continue
        problems.extend(p for p in swarm_problems(snapshot, limits, now, node_hosts) if not hosts or p.host in selected)
    return CheckResult(sort_problems(problems, {n: i for i, n in enumerate(fleet.sessions)}), errors)


__all__ = ["CheckResult", "ContainerNote", "Problem", "ProblemWatch", "check", "container_problems",
           "host_problem", "outdated_problem", "reclaimable_problem", "swarm_problems"]
