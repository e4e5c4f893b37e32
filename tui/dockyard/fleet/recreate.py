"""Recreate containers with the newer image of their reference, safely, one host at a time.

The replacement is made from the old container's own `inspect`, changing only the image: command,
entrypoint, env, labels (compose and stack labels too), user, workdir, hostname, healthcheck,
restart policy, resources, log driver (the whole HostConfig), mounts — binds, named volumes and the
old container's **anonymous volumes, re-attached** by name as compose does —, port bindings, and
every network with its aliases and static IP. What the old image itself set (its CMD, ENV, labels,
VOLUMEs…) is left for the new image to set, as `docker run` would: a value the container holds
only because the old image had it is not carried over, so a new image's new defaults apply.

Per container (each step undone if a later one fails):

| step | what                                                                               |
|------|------------------------------------------------------------------------------------|
| 1    | inspect; refuse a swarm task (→ `service update`), an `--rm` container (stopping it would delete it: no way back), a container created from an image ID |
| 2    | pull the reference on that host (optional), with the user's login for its registry  |
| 3    | the reference's image on the host is the container's own → nothing to do ("unchanged") |
| 4    | rename the old container aside (`NAME-dockyard-old-ID`)                              |
| 5    | create the replacement under NAME, connect its other networks                       |
| 6    | stop the old one (when it ran); start the new one; watch it for `grace` s, or until `healthy` (at most `health_timeout` s) when it has a healthcheck |
| 7    | it held: remove the old container (never its volumes). It exited, restarted or turned unhealthy: keep its last log lines, remove it, give the old one its name back, start it → "rolled-back" |

Across containers: `parallel` at a time (default 1); the first rollback or failure stops the rest
(reported "skipped"), like a rolling update. A container being recreated is finished (or rolled
back) even when the caller stops listening: a half-done recreate is never left behind.
Read-only refuses before anything is touched; `plan` (the dry run) changes nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dockyard.fleet.docker_api import DockerClient
from dockyard.fleet.errors import DaemonError, FleetError
from dockyard.fleet.models import Container, HostResult, Record, StreamEvent
from dockyard.fleet.images import Images
from dockyard.fleet.resource import FleetAccess, Resource
from dockyard.imageref import parse_image_ref
from dockyard.textfmt import short_id

DEFAULT_GRACE = 10.0  # s a replacement without a healthcheck must keep running
DEFAULT_HEALTH_TIMEOUT = 120.0  # s a replacement with a healthcheck has to become healthy
POLL_INTERVAL = 0.5
STOP_ALLOWANCE = 120.0  # s on top of the request timeout for stopping the old container (its own grace)
LOG_LINES = 20  # of a replacement that did not hold, for the rollback report
SWARM_LABELS = ("com.docker.swarm.task.id", "com.docker.swarm.service.name", "com.docker.swarm.service.id")
OUTCOMES = ("recreated", "unchanged", "rolled-back", "failed", "refused", "skipped")

Auth = dict[str, str] | str | None
AuthFor = Callable[[str], Awaitable[Auth]]  # reference -> X-Registry-Auth (the caller knows the logins)


@dataclass(frozen=True)
class RecreateReport(Record):
    """One container's outcome (one of OUTCOMES); `reason` says why when it is not "recreated"."""

    host: str
    name: str
    image: str  # the reference the container was created with (Config.Image)
    outcome: str
    old_id: str = ""
    new_id: str | None = None
    old_image: str = ""  # image IDs
    new_image: str | None = None
    old_digest: str | None = None  # repo@sha256 digests of those images for the reference's repository
    new_digest: str | None = None
    reason: str | None = None
    logs: tuple[str, ...] = ()  # the replacement's last log lines, when it was rolled back
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome in ("recreated", "unchanged")


@dataclass(frozen=True)
class RecreateEvent(StreamEvent):
    """Progress of one container: kind "step" (what is being done, in words), "pull" (a layer's
    bytes: `layer`, `current`, `total`), then one "result" carrying its `report`."""

    host: str
    name: str
    kind: str
    status: str = ""
    layer: str | None = None
    current: int | None = None
    total: int | None = None
    report: RecreateReport | None = None


@dataclass(frozen=True)
class RecreatePlan(Record):
    """What recreating one container would do (the dry run), or why it is refused."""

    host: str
    name: str
    id: str
    image: str
    state: str
    image_id: str
    digest: str | None = None
    refused: str | None = None
    keeps: tuple[str, ...] = ()  # what carries over, one line each ("env: FOO, BAR", "network app (alias web)")
    pull: bool = False
    tag_image: str | None = None  # the image the reference names on the host now (None: not there)


@dataclass
class _Spec:
    """The old container as the replacement needs it."""

    info: dict[str, Any]
    name: str
    reference: str
    running: bool
    body: dict[str, Any] = field(default_factory=dict)
    extra_networks: dict[str, dict[str, Any]] = field(default_factory=dict)  # connected after create
    keeps: tuple[str, ...] = ()


class _Failed(Exception):
    """A step failed: `outcome` and words for the report."""

    def __init__(self, reason: str, outcome: str = "failed"):
        super().__init__(reason)
        self.reason, self.outcome = reason, outcome


class Recreate(Resource):
    """`fleet.recreate`: find, plan (dry run) and run recreations."""

    def __init__(self, fleet: FleetAccess, grace: float = DEFAULT_GRACE,
                 health_timeout: float = DEFAULT_HEALTH_TIMEOUT):
        super().__init__(fleet)
        self.images = Images(fleet)  # pulls as `dockyard pull` does (progress, the login's header)
        self.grace = grace
        self.health_timeout = health_timeout
        self._background: set[asyncio.Task[Any]] = set()  # recreations finishing after their caller left

    # ------------------------------------------------------------------ which containers

    async def find(self, names: Sequence[str], hosts: Iterable[str] | None = None
                   ) -> tuple[list[Container], list[str], list[HostResult[Any]]]:
        """(containers, names matched nowhere, hosts that failed): each NAME (or ID prefix) on every
        selected host that has it, hosts in config order."""
        results = await self.fleet.gather(lambda c: c.list_containers(all=True), hosts)
        order = {h: i for i, h in enumerate(self.fleet.sessions)}
        found: list[Container] = []
        missing = []
        for wanted in dict.fromkeys(names):
            hits = []
            for r in results:
                if r.ok:  # per host as docker does: a name (or full ID) first, else one unique ID prefix
                    exact = [c for c in r.value if c.name == wanted or c.id == wanted]
                    prefix = [c for c in r.value if len(wanted) >= 4 and c.id.startswith(wanted)]
                    hits += exact or (prefix if len(prefix) == 1 else [])
            if not hits:
                missing.append(wanted)
            found += [c for c in hits if c not in found]
        found.sort(key=lambda c: (order.get(c.host, 0), c.name))
        return found, missing, [r for r in results if not r.ok]

    # ------------------------------------------------------------------ dry run

    async def plan(self, targets: Iterable[tuple[str, str]], *, pull: bool = False) -> list[RecreatePlan]:
        """What `run` would do to each (host, container) — nothing is changed, read-only allowed."""
        out = []
        for host, container in targets:
            try:
                spec = await self._inspect(host, container)
            except _Failed as exc:
                out.append(RecreatePlan(host, container, "", "", "", "", refused=exc.reason, pull=pull))
                continue
            info = spec.info
            refused = _refusal(info)
            if refused is None:
                try:
                    self.fleet.check_writable(host)
                except FleetError as exc:
                    refused = str(exc)
            digest = tag_image = None
            if refused is None:
                old_image = await self._image(host, info["Image"])
                digest = _repo_digest(old_image, spec.reference)
                _build(spec, old_image)
                try:
                    tag_image = (await self._image(host, spec.reference))["Id"]
                except DaemonError as exc:
                    if exc.status != 404:
                        raise
            out.append(RecreatePlan(host, spec.name, info["Id"], spec.reference, info["State"]["Status"],
                                    info["Image"], digest, refused, spec.keeps, pull, tag_image))
        return out

    # ------------------------------------------------------------------ the real thing

    def run(self, targets: Sequence[Container | tuple[str, str]], *, pull: bool = False, parallel: int = 1,
            auth: AuthFor | None = None) -> AsyncIterator[RecreateEvent]:
        """Recreate each container (a listed Container, or (host, container id or name)); events as they
        happen, one "result" each, in the order given host by host.

        Raises ReadOnlyError at once (nothing touched) if any target's host is read-only."""
        pairs = [(t.host, t.id, t.name) if isinstance(t, Container) else (t[0], t[1], t[1]) for t in targets]
        for host in dict.fromkeys(h for h, _, _ in pairs):
            self.fleet.check_writable(host)
        return self._run(pairs, pull, max(1, parallel), auth)

    async def _run(self, targets: list[tuple[str, str, str]], pull: bool, parallel: int,
                   auth: AuthFor | None) -> AsyncIterator[RecreateEvent]:
        queue: asyncio.Queue[RecreateEvent | None] = asyncio.Queue()
        pending = list(targets)
        stopped: list[str] = []  # why the rest is skipped (the first rollback or failure)

        async def worker() -> None:
            while pending and not stopped:
                host, container, name = pending.pop(0)
                job = asyncio.ensure_future(self._one(host, container, name, pull, auth, queue.put_nowait))
                self._background.add(job)
                job.add_done_callback(self._background.discard)
                report = await asyncio.shield(job)  # finished even if our caller stops listening
                if not report.ok and report.outcome != "refused" and not stopped:
                    stopped.append(f"not attempted: {report.name} on {report.host} {report.outcome}")

        async def all_workers() -> None:
            try:
                await asyncio.gather(*(worker() for _ in range(min(parallel, len(targets)) or 1)))
            finally:
                queue.put_nowait(None)

        runner = asyncio.ensure_future(all_workers())
        try:
            while True:
                event = await queue.get()
                if event is None:
                    break
                yield event
            await runner
        finally:
            if not runner.done():
                runner.cancel()
        for host, container, name in pending:
            report = RecreateReport(host, name, "", "skipped", old_id=container if name != container else "",
                                    reason=stopped[0] if stopped else "not attempted")
            yield RecreateEvent(host, name, "result", "skipped", report=report)

    async def wait_background(self, timeout: float | None = None) -> None:
        """Wait for recreations under way (also those whose caller stopped listening): the fleet
        waits for them before it closes its connections, so quitting never leaves one half done."""
        if self._background:
            await asyncio.wait(set(self._background), timeout=timeout)

    async def _one(self, host: str, container: str, name: str, pull: bool, auth: AuthFor | None,
                   emit: Callable[[RecreateEvent], None]) -> RecreateReport:
        start = time.perf_counter()
        fields: dict[str, Any] = {}

        def step(text: str) -> None:
            emit(RecreateEvent(host, name, "step", text))

        def done(outcome: str, reason: str | None = None, **more: Any) -> RecreateReport:
            fields.update(more)
            report = RecreateReport(host, name, fields.pop("image", ""), outcome, reason=reason,
                                    elapsed=time.perf_counter() - start, **fields)
            emit(RecreateEvent(host, name, "result", outcome, report=report))
            return report

        try:
            self.fleet.check_writable(host)
            spec = await self._inspect(host, container)
            name = spec.name
            info = spec.info
            fields.update(image=spec.reference, old_id=info["Id"], old_image=info["Image"])
            refused = _refusal(info)
            if refused:
                return done("refused", refused)
            if pull:
                fields["new_digest"] = await self._pull(host, name, spec.reference, auth, emit)
            old_image = await self._image(host, info["Image"])
            fields["old_digest"] = _repo_digest(old_image, spec.reference)
            try:
                new_image = await self._image(host, spec.reference)
            except DaemonError as exc:
                raise _Failed(f"image {spec.reference} is not on {host}: "
                              + ("the pull did not bring it" if pull else "pull it first (--pull)")
                              if exc.status == 404 else exc.message) from None
            fields["new_image"] = new_image["Id"]
            fields["new_digest"] = _repo_digest(new_image, spec.reference) or fields.get("new_digest")
            if new_image["Id"] == info["Image"]:
                fields.pop("new_image")
                return done("unchanged", f"already runs the image {spec.reference} names on {host} "
                                         f"({short_id(info['Image'])})")
            _build(spec, old_image)
            new_id, outcome, reason, logs = await self._replace(host, spec, step)
            return done(outcome, reason, new_id=new_id, logs=logs)
        except _Failed as exc:
            return done(exc.outcome, exc.reason)
        except FleetError as exc:
            return done("failed", str(exc))

    # ------------------------------------------------------------------ steps

    async def _inspect(self, host: str, container: str) -> _Spec:
        try:
            info = await self.fleet.call(host, lambda c: c.inspect_container(container))
        except DaemonError as exc:
            if exc.status == 404:
                raise _Failed(f"no container {container} on {host}", "failed") from None
            raise
        if not isinstance(info, dict) or not isinstance(info.get("Config"), dict) or "Id" not in info:
            raise _Failed(f"{host}: the daemon's inspect of {container} is not what the Docker API describes")
        state = info.get("State") or {}
        return _Spec(info, str(info.get("Name") or container).lstrip("/"), str(info["Config"].get("Image") or ""),
                     bool(state.get("Running") or state.get("Restarting")))

    async def _image(self, host: str, image: str) -> dict[str, Any]:
        return await self.fleet.call(host, lambda c: c.inspect_image(image))

    async def _pull(self, host: str, name: str, reference: str, auth: AuthFor | None,
                    emit: Callable[[RecreateEvent], None]) -> str | None:
        emit(RecreateEvent(host, name, "step", f"pulling {reference}"))
        credentials = await auth(reference) if auth is not None else None
        result = None
        async for ev in self.images.pull(reference, [host], auth=credentials):
            if ev.done:
                result = ev
            elif ev.kind == "layer" and ev.layer:
                emit(RecreateEvent(host, name, "pull", ev.status, layer=ev.layer, current=ev.current,
                                   total=ev.total))
            elif ev.status:
                emit(RecreateEvent(host, name, "step", ev.status))
        if result is None or not result.ok:
            hint = ""
            if credentials is None:
                registry = parse_image_ref(reference).registry_host
                hint = (f" (no credentials for {registry} were sent: `docker login {registry}` or a "
                        f"[[registries]] entry gives them)")
            raise _Failed(f"pull of {reference} failed: {result.error if result else 'no answer'}{hint}")
        return result.digest

    async def _replace(self, host: str, spec: _Spec, step: Callable[[str], None]
                       ) -> tuple[str | None, str, str | None, tuple[str, ...]]:
        """Steps 4–7: (new id, outcome, reason, logs). Every failure puts the old container back."""
        old_id = spec.info["Id"]
        aside = f"{spec.name}-dockyard-old-{old_id[:12]}"[:250]
        new_id: str | None = None
        renamed = stopped = False
        try:
            step(f"renaming the old container to {aside}")
            await self._call(host, lambda c: c.rename_container(old_id, aside))
            renamed = True
            step("creating the replacement")
            created = await self._call(host, lambda c: c.create_container(spec.body, name=spec.name))
            new_id = str(created["Id"])
            for network, endpoint in spec.extra_networks.items():
                await self._call(host, lambda c, n=network, e=endpoint: c.connect_network(n, new_id, endpoint=e))
            if spec.running:
                step("stopping the old container")
                limit = self.fleet.host_config(host).request_timeout + STOP_ALLOWANCE
                await self._call(host, lambda c: c.container_action(old_id, "stop", limit=limit), long=True)
                stopped = True
                step("starting the replacement")
                await self._call(host, lambda c: c.container_action(new_id, "start"))
                problem = await self._watch(host, new_id, step)
                if problem is not None:
                    step(f"rolling back: {problem}")
                    logs = await self._last_logs(host, new_id, bool(spec.info["Config"].get("Tty")))
                    await self._undo(host, spec, aside, new_id, stopped)
                    return new_id, "rolled-back", problem, logs
            step("removing the old container (its volumes stay)")
            await self._call(host, lambda c: c.container_action(old_id, "remove", force=True))
            return new_id, "recreated", None if spec.running else "created, not started: the old one was not running", ()
        except FleetError as exc:
            if not renamed:
                raise _Failed(f"renaming {spec.name} aside failed: {_words(exc)} (nothing changed)") from None
            try:
                await self._undo(host, spec, aside, new_id, stopped)
            except FleetError as again:
                raise _Failed(f"{_words(exc)}; putting the old container back failed too: {_words(again)} "
                              f"(it is {aside} on {host})") from None
            raise _Failed(f"{_words(exc)} (the old container is back as it was)") from None

    async def _undo(self, host: str, spec: _Spec, aside: str, new_id: str | None, stopped: bool) -> None:
        """The old container back under its name, running if it ran; the replacement gone."""
        old_id = spec.info["Id"]
        if new_id is not None:
            await self._call(host, lambda c: c.container_action(new_id, "remove", force=True))
        await self._call(host, lambda c: c.rename_container(old_id, spec.name))
        if stopped or spec.running:
            info = await self._call(host, lambda c: c.inspect_container(old_id))
            if not (info.get("State") or {}).get("Running"):
                await self._call(host, lambda c: c.container_action(old_id, "start"))

    async def _watch(self, host: str, cid: str, step: Callable[[str], None]) -> str | None:
        """None when the new container held; otherwise what went wrong, in words."""
        started = time.monotonic()
        first = await self._call(host, lambda c: c.inspect_container(cid))
        test = ((first.get("Config") or {}).get("Healthcheck") or {}).get("Test") or []
        # Podman reports an empty Health for a container without a healthcheck: judge by the check itself
        has_health = bool(((first.get("State") or {}).get("Health") or {}).get("Status")) or (
            bool(test) and test != ["NONE"])
        limit = self.health_timeout if has_health else self.grace
        step(f"watching it until healthy (at most {limit:g}s)" if has_health else f"watching it for {limit:g}s")
        info = first
        while True:
            state = info.get("State") or {}
            status = state.get("Status")
            health = (state.get("Health") or {}).get("Status")
            if status in ("exited", "dead", "removing"):
                return f"the replacement exited (code {state.get('ExitCode')})" + (f": {state['Error']}" if state.get("Error") else "")
            if state.get("Restarting") or status == "restarting" or int(info.get("RestartCount") or 0) > 0:
                return f"the replacement restarted (exit code {state.get('ExitCode')}, restart policy)"
            if health == "unhealthy":
                return "the replacement turned unhealthy" + _health_output(state)
            elapsed = time.monotonic() - started
            if has_health and health == "healthy":
                return None
            if elapsed >= limit:
                if has_health:
                    return f"the replacement was not healthy after {limit:g}s (health: {health or 'unknown'})"
                return None
            await asyncio.sleep(min(POLL_INTERVAL, max(0.0, limit - elapsed)))
            info = await self._call(host, lambda c: c.inspect_container(cid))

    async def _last_logs(self, host: str, cid: str, tty: bool) -> tuple[str, ...]:
        async def read(c: DockerClient) -> bytes:
            chunks = [chunk async for _, chunk in c.log_stream(cid, follow=False, tail=LOG_LINES, tty=tty)]
            return b"".join(chunks)
        try:
            raw = await self._call(host, read)
        except FleetError as exc:
            return (f"(its logs could not be read: {_words(exc)})",)
        lines = raw.decode("utf-8", errors="replace").splitlines()
        return tuple(lines[-LOG_LINES:])

    async def _call(self, host: str, fn: Callable[[DockerClient], Awaitable[Any]], long: bool = False) -> Any:
        """One request within the host's request timeout; `long` allows for a stop's grace period."""
        timeout = self.fleet.host_config(host).request_timeout + (STOP_ALLOWANCE if long else 0)
        return await self.fleet.call(host, fn, timeout=timeout)


# ---------------------------------------------------------------------- the replacement's config


def _refusal(info: dict[str, Any]) -> str | None:
    labels = (info.get("Config") or {}).get("Labels") or {}
    if any(k in labels for k in SWARM_LABELS):
        service = labels.get("com.docker.swarm.service.name") or "its service"
        return (f"a swarm task of service {service}: swarm replaces its tasks itself — "
                f"use `dockyard service update {service} --image REF` (Services pane: u)")
    if (info.get("HostConfig") or {}).get("AutoRemove"):
        return "started with --rm: stopping it would delete it, so it could not be rolled back"
    image = str((info.get("Config") or {}).get("Image") or "")
    if not image or image.startswith("sha256:") or image == info.get("Image"):
        return f"created from an image ID ({short_id(image) or '?'}), not a reference: there is no newer image to take"
    return None


def _build(spec: _Spec, old_image: dict[str, Any]) -> None:
    """Fill `spec.body` (containers/create), `spec.extra_networks` and `spec.keeps` from the old container."""
    info = spec.info
    image_config = old_image.get("Config") or {}
    config = _own_config(info["Config"], image_config, info["Id"])
    host_config = dict(info.get("HostConfig") or {})
    if host_config.get("Ulimits"):  # Podman reports "RLIMIT_NOFILE" but takes only "nofile", as dockerd does
        host_config["Ulimits"] = [dict(u, Name=str(u.get("Name", "")).lower().removeprefix("rlimit_"))
                                  for u in host_config["Ulimits"]]
    reattached = _reattach_anonymous(info, host_config)
    networks = (info.get("NetworkSettings") or {}).get("Networks") or {}
    mode = str(host_config.get("NetworkMode") or "")
    primary = mode if mode in networks else "bridge" if mode == "default" and "bridge" in networks else None
    if primary is None and len(networks) == 1 and not mode.startswith("container:"):
        primary = next(iter(networks))
    hostname = str(info["Config"].get("Hostname") or "")
    endpoints = {n: _endpoint(e, info["Id"], hostname) for n, e in networks.items()}
    body = dict(config)
    body["HostConfig"] = host_config
    if primary is not None:
        body["NetworkingConfig"] = {"EndpointsConfig": {primary: endpoints[primary]}}
    spec.body = body
    spec.extra_networks = {n: e for n, e in endpoints.items() if n != primary and not mode.startswith("container:")}
    keeps = []
    if config.get("Cmd") is not None or config.get("Entrypoint") is not None:
        keeps.append("command: " + " ".join(str(a) for a in (config.get("Entrypoint") or []) + (config.get("Cmd") or [])))
    env = [str(e).partition("=")[0] for e in config.get("Env") or []]
    if env:
        keeps.append("env: " + ", ".join(env))
    if config.get("Labels"):
        keeps.append(f"labels: {len(config['Labels'])} (" + ", ".join(sorted(config["Labels"]))[:200] + ")")
    restart = host_config.get("RestartPolicy") or {}
    if restart.get("Name") and restart.get("Name") != "no":
        keeps.append(f"restart: {restart['Name']}")
    for m in info.get("Mounts") or []:
        kind = m.get("Type")
        what = m.get("Source") if kind == "bind" else m.get("Name")
        extra = " (anonymous, re-attached)" if m.get("Name") in reattached else ""
        keeps.append(f"mount: {kind} {what} -> {m.get('Destination')}{extra}")
    for port, bindings in (host_config.get("PortBindings") or {}).items():
        for b in bindings or []:
            keeps.append(f"port: {b.get('HostIp') or ''}:{b.get('HostPort') or ''} -> {port}")
    for n, e in endpoints.items():
        extra = []
        if e.get("Aliases"):
            extra.append("aliases " + ", ".join(e["Aliases"]))
        ip = (e.get("IPAMConfig") or {}).get("IPv4Address") or (e.get("IPAMConfig") or {}).get("IPv6Address")
        if ip:
            extra.append(f"ip {ip}")
        keeps.append(f"network: {n}" + (f" ({'; '.join(extra)})" if extra else ""))
    if mode.startswith("container:"):
        keeps.append(f"network: {mode}")
    log = host_config.get("LogConfig") or {}
    if log.get("Type"):
        keeps.append(f"log driver: {log['Type']}")
    if config.get("Healthcheck"):
        keeps.append("healthcheck: " + " ".join(str(t) for t in config["Healthcheck"].get("Test") or []))
    spec.keeps = tuple(keeps)


def _own_config(config: dict[str, Any], image: dict[str, Any], container_id: str) -> dict[str, Any]:
    """The container's Config without what its old image supplied (the new image supplies it again),
    so a new image's CMD, ENV, labels… apply as they would for `docker run`."""
    out = {k: v for k, v in config.items() if k not in ("OnBuild", "ArgsEscaped")}
    if _same(out.get("Entrypoint"), image.get("Entrypoint")):
        out["Entrypoint"] = None
        if _same(out.get("Cmd"), image.get("Cmd")):
            out["Cmd"] = None
    # else: with its own entrypoint the daemon would not take the image's CMD either: keep Cmd as it is
    for key in ("WorkingDir", "User", "StopSignal"):
        if out.get(key) and out.get(key) == image.get(key):
            out[key] = ""
    for key in ("Healthcheck", "Shell"):
        if out.get(key) and out.get(key) == image.get(key):
            out[key] = None
    image_env = set(image.get("Env") or [])
    out["Env"] = [e for e in out.get("Env") or [] if e not in image_env]
    image_labels = image.get("Labels") or {}
    out["Labels"] = {k: v for k, v in (out.get("Labels") or {}).items() if image_labels.get(k) != v}
    for key in ("Volumes", "ExposedPorts"):
        theirs = image.get(key) or {}
        mine = {k: v for k, v in (out.get(key) or {}).items() if k not in theirs}
        out[key] = mine or None
    if out.get("Hostname") == container_id[:12]:
        out["Hostname"] = ""  # the daemon's default (the container's short ID): the new one gets its own
        out["Env"] = [e for e in out["Env"] if e != f"HOSTNAME={container_id[:12]}"]  # Podman sets it too
    return out


def _same(a: Any, b: Any) -> bool:
    return (a or None) == (b or None)


def _reattach_anonymous(info: dict[str, Any], host_config: dict[str, Any]) -> set[str]:
    """Mount the old container's anonymous volumes (image VOLUMEs, `-v /path`, `--mount` without a
    source) into the replacement by name, as compose does; returns their names."""
    taken = set()
    for bind in host_config.get("Binds") or []:
        parts = str(bind).split(":")
        taken.add(parts[1] if len(parts) > 1 else parts[0])
    mounts = []
    for m in host_config.get("Mounts") or []:
        if m.get("Type", "volume") == "volume" and not m.get("Source"):
            continue  # an anonymous --mount: replaced by its volume below
        taken.add(m.get("Target"))
        mounts.append(m)
    names = set()
    for m in info.get("Mounts") or []:
        if m.get("Type") != "volume" or not m.get("Name") or m.get("Destination") in taken:
            continue
        mounts.append({"Type": "volume", "Source": m["Name"], "Target": m["Destination"],
                       "ReadOnly": not m.get("RW", True)})
        names.add(m["Name"])
    host_config["Mounts"] = mounts or None
    return names


def _endpoint(settings: dict[str, Any], container_id: str, hostname: str) -> dict[str, Any]:
    """An EndpointSettings for create/connect: aliases (without the short ID and the hostname, which
    the daemon adds itself), static addresses, links, driver options — not what the daemon assigned
    (IP, MAC, endpoint)."""
    out: dict[str, Any] = {}
    aliases = [a for a in settings.get("Aliases") or [] if a not in (container_id[:12], container_id, hostname)]
    if aliases:
        out["Aliases"] = aliases
    if settings.get("IPAMConfig") is not None:
        out["IPAMConfig"] = {k: v for k, v in settings["IPAMConfig"].items() if v}
    for key in ("Links", "DriverOpts"):
        if settings.get(key) is not None:
            out[key] = settings[key]
    return out


def _repo_digest(image: dict[str, Any], reference: str) -> str | None:
    """The image's digest in the reference's repository (`sha256:…`), from its RepoDigests."""
    want = _normal_repo(reference)
    for item in image.get("RepoDigests") or []:
        repo, _, digest = str(item).partition("@")
        if digest and _normal_repo(repo) == want:
            return digest
    return None


def _normal_repo(reference: str) -> str:
    ref = parse_image_ref(reference)
    path = ref.path
    if ref.registry in (None, "docker.io", "index.docker.io") and "/" not in path:
        path = "library/" + path
    registry = "docker.io" if ref.registry in (None, "index.docker.io") else ref.registry
    return f"{registry}/{path}"


def _health_output(state: dict[str, Any]) -> str:
    log = (state.get("Health") or {}).get("Log") or []
    if not log:
        return ""
    last = str(log[-1].get("Output") or "").strip().splitlines()
    return f" (last check: {last[-1][:200]})" if last else ""


def _words(exc: FleetError) -> str:
    return exc.message if isinstance(exc, DaemonError) else str(exc)


__all__ = ["DEFAULT_GRACE", "DEFAULT_HEALTH_TIMEOUT", "OUTCOMES", "Recreate", "RecreateEvent", "RecreatePlan",
           "RecreateReport"]
