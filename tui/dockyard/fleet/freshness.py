"""Freshness: which containers run an image older than what the registry now serves for its tag.

For each distinct image reference in use across the fleet (the container's `Config.Image`, as it
was created: `nginx:1.27`, `reg:5000/app:2`), the reference's registry is asked ONCE for the tag's
current digest (`RegistryClient.probe`: a HEAD with the OCI index + manifest and Docker list +
manifest types in Accept; a GET only when the HEAD answer carries no digest), with the user's
credentials (`Registries`: `[[registries]]`, `docker login`, helpers). The answer is cached per
reference (`freshness_cache_minutes`, default 15). It is compared with the digests of the image
each CONTAINER runs (its image ID's RepoDigests for that repository) — not with the tag's image
on the host today: a host that pulled the new tag still runs its old containers on the old image.

States (`Freshness.state`):

| state      | meaning                                                                          |
|------------|----------------------------------------------------------------------------------|
| `current`  | a RepoDigest of the running image is the tag's digest, or a platform manifest of the tag's index |
| `outdated` | the registry serves something else for the tag now                               |
| `local`    | no registry digest for that repository: built, `docker load`ed, moved host to host (reason says which) |
| `pinned`   | created by digest (`app@sha256:…`): it follows no tag                             |
| `unknown`  | the registry did not say (reason: unreachable, unauthorised, rate limited, not found) |

Public API, `fleet.freshness` (a `FreshnessChecker`; no Textual, usable by the CLI, the TUI,
recreate and health):

| call                                   | gives                                                    |
|----------------------------------------|----------------------------------------------------------|
| `await check(refresh=False, hosts=None)` | asks what is due (cache expired; `refresh`: everything not rate limited), returns a `FreshnessReport` (rows, errors, requests) |
| `state_of(host, container_id)`         | its `Freshness`, or None when not known yet (no check has covered it) |
| `known(host, container_id)`            | what the last check said (O(1); the tables use it)       |
| `image_state(host, image_id, tag)`     | the same judgement for an image and one of its tags (Images pane) |
| `start(delay=60)`                      | live fleets: background checks after `delay` s, then every `BACKGROUND_INTERVAL` s (only what is due is asked) |
| `last_check`, `checking`, `requests`   | when the last check ended (epoch s), whether one runs, registry requests sent so far |

Observers hear `(host, "freshness")` in a `FleetChange` after a check for each host where a state changed.
429 is honoured: no request to that registry before its `Retry-After` (60 s when it gives none);
a failed probe is cached like an answer, so nothing retries in a loop.
"""

from __future__ import annotations

import asyncio
import functools
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dockyard.fleet.errors import FleetError
from dockyard.fleet.models import Container, Image
from dockyard.imageref import DOCKER_HUB, canonical_repository, parse_image_ref
from dockyard.registry.models import INDEX_TYPES
from dockyard.textfmt import natural_key

if TYPE_CHECKING:
    from dockyard.fleet.resource import FleetAccess
    from dockyard.registry import Registries, RegistryClient

CURRENT, OUTDATED, LOCAL, PINNED, UNKNOWN = "current", "outdated", "local", "pinned", "unknown"
STATES = (CURRENT, OUTDATED, LOCAL, PINNED, UNKNOWN)
DEFAULT_CACHE_SECONDS = 15 * 60
FIRST_CHECK_DELAY = 60.0  # the first minute belongs to the first rows and stats
BACKGROUND_INTERVAL = 30.0  # how often the background looks for what is due (asks only that)
RATE_LIMIT_WAIT = 60.0  # after a 429 without Retry-After
CONCURRENCY = 16  # registry requests in flight at once
INSPECT_CONCURRENCY = 8  # per host, for containers listed by image ID
_IMAGE_ID = re.compile(r"^(sha256:)?[0-9a-f]{12,64}$")
LOCAL_REASON = "no registry digest: built or loaded on this host (docker build, docker load, a host-to-host transfer)"


@dataclass(frozen=True)
class Freshness:
    """One container's (or image tag's) freshness. Digests are full (`sha256:…`)."""

    state: str  # one of STATES
    reference: str  # canonical reference (`docker.io/library/nginx:latest`), as created
    running_digest: str | None = None  # the running image's digest for that repository
    registry_digest: str | None = None  # what the registry serves for the tag
    checked_at: float | None = None  # epoch seconds of the registry's answer
    reason: str | None = None  # why local / pinned / unknown, in words

    def to_json(self) -> dict[str, Any]:
        return {"status": self.state, "reference": self.reference, "running_digest": self.running_digest,
                "registry_digest": self.registry_digest, "checked_at": self.checked_at, "reason": self.reason}


@dataclass(frozen=True)
class FreshnessRow:
    container: Container
    freshness: Freshness


@dataclass
class FreshnessReport:
    """What one `check` found: a row per container of the hosts that answered, and every failure
    in words (a host that did not answer, a registry that did not)."""

    rows: list[FreshnessRow] = field(default_factory=list)
    # {"host", "error"} for a host that did not answer; {"registry", "reference", "error"} for a
    # registry that did not (its containers are `unknown`, with the same words as their reason)
    errors: list[dict[str, str]] = field(default_factory=list)
    requests: int = 0  # registry requests this check sent
    started: float = 0.0
    finished: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds: list, inspect, registry, judge


@dataclass
class _Probe:
    """A registry's answer for one reference (or why there is none), and until when it holds."""

    digest: str | None
    media_type: str | None
    checked_at: float  # epoch
    expires: float  # monotonic
    error: str | None = None
    platforms: frozenset[str] | None = None  # an index's manifest digests, once read


@dataclass
class _View:
    """One host's containers and images as a check listed them (non-live fleets; a live host whose
    images the cache did not hold yet: images only)."""

    containers: dict[str, Container]
    images: dict[str, Image]


@functools.lru_cache(maxsize=4096)
def _split(reference: str) -> tuple[str, str | None, str | None]:
    """(canonical repository, tag, digest) of a reference as written (cached: a fleet uses few
    references for many containers, and a check judges every container)."""
    ref = parse_image_ref(reference)
    return canonical_repository(ref), ref.tag, ref.digest


@functools.lru_cache(maxsize=4096)
def _repository_of(name: str) -> str:
    return canonical_repository(parse_image_ref(name))


def _is_image_id(text: str, image_id: str = "") -> bool:
    """Whether a container's IMAGE is an image ID rather than a reference: `sha256:…`, 64 hex, or a
    prefix of the container's own image ID (a 12-hex-character repository name stays a name)."""
    if not _IMAGE_ID.match(text):
        return False
    bare = text.removeprefix("sha256:")
    if text.startswith("sha256:") or len(bare) == 64:
        return True
    return bool(image_id) and image_id.removeprefix("sha256:").startswith(bare)


def _category(exc: Exception) -> str:
    from dockyard.registry import (CredentialError, Denied, NotFound, RateLimited, Unauthorized)

    if isinstance(exc, RateLimited):
        return "rate limited"
    if isinstance(exc, (Unauthorized, Denied, CredentialError)):
        return "unauthorised"
    if isinstance(exc, NotFound):
        return "not in the registry"
    return "registry unreachable"


class FreshnessChecker:
    """`fleet.freshness` (see the module docstring)."""

    def __init__(self, fleet: FleetAccess, registries: Registries | None = None):
        self.fleet = fleet
        self.registries = registries  # the app shares its own; else one is made on first use
        self._own_registries = False
        minutes = getattr(fleet.config, "freshness_cache_minutes", None)
        self.cache_seconds = float(minutes) * 60 if minutes else float(DEFAULT_CACHE_SECONDS)
        self._probes: dict[str, _Probe] = {}  # canonical repository:tag -> answer
        self._indexes: dict[tuple[str, str], frozenset[str]] = {}  # (repository, index digest) -> manifests
        self._inflight: dict[str, asyncio.Future] = {}
        self._blocked: dict[str, tuple[float, float]] = {}  # registry host -> (monotonic until, epoch until)
        self._created_as: dict[tuple[str, str], str] = {}  # (host, id) -> Config.Image, for rows listed by ID
        self._views: dict[str, _View] = {}  # non-live fleets: what the last check listed
        self._judged: dict[tuple[str, str], Freshness] = {}  # what the last check said, to tell what changed
        self._adhoc: dict[str, RegistryClient] = {}
        self._sem: asyncio.Semaphore | None = None
        self._task: asyncio.Task | None = None
        self.requests = 0
        self.last_check: float | None = None
        self.last_started: float | None = None  # epoch s when the last (or current) check began
        self.checking = False
        self.last_errors: list[dict[str, str]] = []
        self.last_phases: dict[str, float] = {}  # the last check's seconds per phase (bench, status lines)

    # ------------------------------------------------------------------ lifecycle

    def start(self, delay: float = FIRST_CHECK_DELAY, interval: float = BACKGROUND_INTERVAL) -> None:
        """Background checks (live fleets): the first after `delay` s, then every `interval` s."""
        if self._task is None:
            self._task = asyncio.ensure_future(self._background(delay, interval))

    async def _background(self, delay: float, interval: float) -> None:
        await asyncio.sleep(delay)
        while True:
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a surprise must not end the background checks
                self.last_errors = [{"error": f"freshness check failed: {type(exc).__name__}: {exc}"}]
            await asyncio.sleep(interval)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except BaseException:  # noqa: BLE001 - cancelled, or it had failed: closing either way
                pass
            self._task = None
        clients, self._adhoc = list(self._adhoc.values()), {}
        for client in clients:
            await client.close()
        if self._own_registries and self.registries is not None:
            await self.registries.close()
            self.registries = None

    # ------------------------------------------------------------------ reading

    def _container(self, host: str, container_id: str) -> Container | None:
        if self.fleet.live:
            session = self.fleet.sessions.get(host)
            return session.cache.get("containers", container_id) if session is not None else None
        view = self._views.get(host)
        return view.containers.get(container_id) if view is not None else None

    def _image(self, host: str, image_id: str) -> Image | None:
        if self.fleet.live:
            session = self.fleet.sessions.get(host)
            if session is None:
                return None
            if "images" in session.cache.loaded:
                return session.cache.get("images", image_id)
        view = self._views.get(host)  # non-live; or a live host whose images were not listed yet
        return view.images.get(image_id) if view is not None else None

    def reference_of(self, c: Container) -> str | None:
        """The reference `c` was created with (`Config.Image`); None while unknown (listed by ID, not
        inspected yet)."""
        if c.image and not _is_image_id(c.image, c.image_id):
            return c.image
        return self._created_as.get((c.host, c.id))

    def state_of(self, host: str, container_id: str) -> Freshness | None:
        """The container's freshness; None when no check has covered it yet."""
        c = self._container(host, container_id)
        if c is None:
            return None
        reference = self.reference_of(c)
        if reference is None:
            return None
        return self._judge(reference, self._image(host, c.image_id))

    def known(self, host: str, container_id: str) -> Freshness | None:
        """What the last check said about the container (a dict lookup: for tables of thousands of rows)."""
        return self._judged.get((host, container_id))

    def image_state(self, host: str, image_id: str, tag: str) -> Freshness | None:
        """The freshness of `image_id` under `tag` (`repo:tag`) on `host`: the Images pane's."""
        return self._judge(tag, self._image(host, image_id))

    def _judge(self, reference: str, image: Image | None) -> Freshness | None:
        if _is_image_id(reference):
            return Freshness(LOCAL, reference, reason="created from an image ID, not a reference: no tag to follow")
        repo, tag, digest = _split(reference)
        shown = f"{repo}:{tag or 'latest'}" if digest is None else f"{repo}@{digest}"
        if digest is not None:
            return Freshness(PINNED, shown, running_digest=digest,
                             reason="created by digest: it follows no tag, a newer push cannot change it")
        if image is None:
            return None
        if repo.startswith("localhost/"):
            return Freshness(LOCAL, shown, reason="built or loaded on this host (Podman names those localhost/…)")
        mine = self._running_digests(repo, image)
        if not mine:
            if image.digests:
                others = ", ".join(sorted({d.partition("@")[0] for d in image.digests}))
                return Freshness(LOCAL, shown, reason=f"never pulled from {repo}: its registry digests are for "
                                                      f"{others} (tagged on this host)")
            return Freshness(LOCAL, shown, reason=LOCAL_REASON)
        probe = self._probes.get(shown)
        if probe is None:
            return None
        running = mine[0]
        if probe.error is not None:
            return Freshness(UNKNOWN, shown, running_digest=running, checked_at=probe.checked_at, reason=probe.error)
        if probe.digest in mine:
            return Freshness(CURRENT, shown, running_digest=probe.digest, registry_digest=probe.digest,
                             checked_at=probe.checked_at)
        platforms = probe.platforms if probe.platforms is not None else self._indexes.get((repo, probe.digest or ""))
        matched = next((d for d in mine if d in (platforms or ())), None)
        if matched is not None:
            return Freshness(CURRENT, shown, running_digest=matched, registry_digest=probe.digest,
                             checked_at=probe.checked_at, reason="matches its platform's manifest in the tag's index")
        if probe.media_type in INDEX_TYPES and platforms is None:
            return None  # the check under way reads the index (needed only now)
        return Freshness(OUTDATED, shown, running_digest=running, registry_digest=probe.digest,
                         checked_at=probe.checked_at)

    @staticmethod
    def _running_digests(repo: str, image: Image) -> list[str]:
        """Every RepoDigest of `image` for `repo` (an image may have several; each counts)."""
        out = []
        for entry in image.digests:
            name, at, digest = entry.partition("@")
            if at and _repository_of(name) == repo:
                out.append(digest)
        return out

    # ------------------------------------------------------------------ checking

    async def check(self, refresh: bool = False, hosts: Iterable[str] | None = None) -> FreshnessReport:
        """Ask the registries what is due and judge every container of the selected hosts.

        `refresh`: ask again even what is cached (not a registry that rate limited us: that waits
        for its Retry-After). Never raises for a host or registry failure: those are `errors`."""
        report = FreshnessReport(started=time.time())
        self.last_started = report.started
        before = self.requests
        self.checking = True
        try:
            sessions = self.fleet.selected(hosts)
            names = [s.name for s in sessions]
            t0 = time.perf_counter()
            containers = await self._gather(names, report)
            t1 = time.perf_counter()
            await self._resolve_created_as(containers, report)
            t2 = time.perf_counter()
            due = self._due(containers, refresh)
            users: dict[str, list[Container]] = {key: [] for key in due}
            for c in containers:
                key = self._key_of(c)
                if key in users:
                    users[key].append(c)

            async def one(key: str) -> None:
                await self._probe(key)
                await self._read_indexes(users[key])
                self._publish(users[key])  # its containers' marks show now, not after the slowest registry

            await asyncio.gather(*(one(key) for key in due))
            await self._read_indexes(containers)
            t3 = time.perf_counter()
            seen_errors: set[str] = set()
            for c in containers:
                state = self.state_of(c.host, c.id)
                if state is None:
                    state = Freshness(UNKNOWN, self.reference_of(c) or c.image, reason="not checked")
                if state.state == UNKNOWN and state.reason and state.reason not in seen_errors:
                    seen_errors.add(state.reason)
                    report.errors.append({"registry": state.reference.partition("/")[0],
                                          "reference": state.reference, "error": state.reason})
                report.rows.append(FreshnessRow(c, state))
            report.phases = {"list": t1 - t0, "inspect": t2 - t1, "registry": t3 - t2,
                             "judge": time.perf_counter() - t3}
        finally:
            self.checking = False
        report.requests = self.requests - before
        report.finished = self.last_check = time.time()
        self.last_errors = list(report.errors)
        self.last_phases = dict(report.phases)
        judged = {(row.container.host, row.container.id): row.freshness for row in report.rows}
        changed = {host for (host, cid), state in judged.items() if self._judged.get((host, cid)) != state}
        changed |= {host for (host, cid) in self._judged if host in names and (host, cid) not in judged}
        self._judged = {k: v for k, v in self._judged.items() if k[0] not in names} | judged
        self._tell(changed)
        return report

    def _publish(self, containers: list[Container]) -> None:
        """Judge these containers now (one reference's answer landed) and tell observers."""
        changed = set()
        for c in containers:
            state = self.state_of(c.host, c.id)
            if state is not None and self._judged.get(c.key) != state:
                self._judged[c.key] = state
                changed.add(c.host)
        self._tell(changed)

    def _tell(self, hosts: set[str]) -> None:
        for name in sorted(hosts):  # only hosts whose states changed: a quiet fleet hears nothing
            self.fleet.changed(name, "freshness")  # the fleet's own batching

    def _key_of(self, c: Container) -> str | None:
        """The canonical `repository:tag` a container follows (None: by digest or ID, or unknown yet)."""
        reference = self.reference_of(c)
        if reference is None or _is_image_id(reference):
            return None
        repo, tag, digest = _split(reference)
        return None if digest is not None else f"{repo}:{tag or 'latest'}"

    async def _gather(self, hosts: list[str], report: FreshnessReport) -> list[Container]:
        """Every container of these hosts: the live cache, or one listing of containers and images."""
        out: list[Container] = []
        if self.fleet.live:
            unlisted = []
            for name in hosts:
                session = self.fleet.session(name)
                if not session.rows_current or "containers" not in session.cache.loaded:
                    report.errors.append({"host": name, "error": session.describe_state()})
                    continue
                if "images" not in session.cache.loaded:
                    unlisted.append(name)  # its rows are up, its images not yet (a check asked for at once)
                out.extend(session.cache.items("containers"))
            # not a burst to every such host at once (a check soon after 500 hosts connected): a
            # few hosts at a time, in the fleet's background slots, as their reconciles list them
            async def listing_of(name: str) -> None:
                session = self.fleet.session(name)
                try:
                    async with session.links.background_slot():
                        if "images" in session.cache.loaded:
                            return  # its reconcile listed them while this waited: the cache has them
                        images = await session.call(lambda client: client.list_images())
                except FleetError as exc:
                    report.errors.append({"host": name, "error": str(exc)})
                    return
                except Exception as exc:  # noqa: BLE001 - one host's surprise must not sink the check
                    report.errors.append({"host": name, "error": f"unexpected error: {type(exc).__name__}: {exc}"})
                    return
                self._views[name] = _View({}, {i.id: i for i in images})

            await asyncio.gather(*(listing_of(name) for name in unlisted))
            return out

        async def listing(client: Any) -> tuple[list[Container], list[Image]]:
            return await asyncio.gather(client.list_containers(all=True), client.list_images())

        async for result in self.fleet.fan_out(listing, hosts):
            if not result.ok:
                report.errors.append({"host": result.host, "error": str(result.error)})
                continue
            listed, images = result.value
            self._views[result.host] = _View({c.id: c for c in listed}, {i.id: i for i in images})
            out.extend(listed)
        order = {name: i for i, name in enumerate(hosts)}
        out.sort(key=lambda c: (order.get(c.host, 0), natural_key(c.name)))
        return out

    async def _resolve_created_as(self, containers: list[Container], report: FreshnessReport) -> None:
        """`Config.Image` of containers the daemon lists by image ID (their tag moved on the host
        since they were created): one inspect each, once per container."""
        wanted: dict[str, list[Container]] = {}
        for c in containers:
            if self.reference_of(c) is None:
                wanted.setdefault(c.host, []).append(c)

        async def host_inspects(host: str, items: list[Container]) -> None:
            sem = asyncio.Semaphore(INSPECT_CONCURRENCY)

            async def one(c: Container) -> None:
                async with sem:
                    try:
                        raw = await self.fleet.call(host, lambda client, cid=c.id: client.inspect_container(cid))
                    except Exception as exc:  # noqa: BLE001 - that container stays "not checked"
                        report.errors.append({"host": host, "error": f"inspect {c.name}: {exc}"})
                        return
                config = raw.get("Config") if isinstance(raw, dict) else None
                image = config.get("Image") if isinstance(config, dict) else None
                self._created_as[(host, c.id)] = str(image or c.image)

            await asyncio.gather(*(one(c) for c in items))

        await asyncio.gather(*(host_inspects(h, items) for h, items in wanted.items()))

    def _due(self, containers: list[Container], refresh: bool) -> list[str]:
        """References (canonical `repository:tag`) to ask about now: in use by a container whose image
        came from a registry, and not cached (or `refresh`)."""
        now = time.monotonic()
        due: dict[str, None] = {}
        for c in containers:
            reference = self.reference_of(c)
            if reference is None or _is_image_id(reference):
                continue
            repo, tag, digest = _split(reference)
            if digest is not None or repo.startswith("localhost/"):
                continue
            image = self._image(c.host, c.image_id)
            if image is None or not self._running_digests(repo, image):
                continue  # local: nothing to ask a registry about
            key = f"{repo}:{tag or 'latest'}"
            probe = self._probes.get(key)
            if probe is None or refresh or now >= probe.expires:
                due[key] = None
        return list(due)

    async def _probe(self, key: str) -> None:
        """Ask once; concurrent askers for the same reference share the answer."""
        running = self._inflight.get(key)
        if running is not None:
            await running
            return
        future = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            self._probes[key] = await self._ask(key)
        finally:
            del self._inflight[key]
            future.set_result(None)

    async def _ask(self, key: str) -> _Probe:
        from dockyard.registry import RateLimited, RegistryError

        repo, _, tag = key.rpartition(":")
        host, _, path = repo.partition("/")
        now, wall = time.monotonic(), time.time()
        blocked = self._blocked.get(host)
        if blocked is not None and now < blocked[0]:
            old = self._probes.get(key)
            reason = (f"rate limited: registry {host} asked to wait; next check after "
                      f"{time.strftime('%H:%M:%S', time.localtime(blocked[1]))}")
            if old is not None and old.error is None:
                return old  # keep the last good answer until we may ask again
            return _Probe(None, None, wall, blocked[0], error=reason)
        if self._sem is None:
            self._sem = asyncio.Semaphore(CONCURRENCY)
        async with self._sem:
            try:
                client = self._client(host)
                self.requests += 1
                digest, media_type = await client.probe(path, tag)
            except RateLimited as exc:
                wait = exc.retry_after if exc.retry_after is not None else RATE_LIMIT_WAIT
                self._blocked[host] = (time.monotonic() + wait, time.time() + wait)
                until = time.strftime("%H:%M:%S", time.localtime(time.time() + wait))
                return _Probe(None, None, wall, time.monotonic() + max(wait, self.cache_seconds),
                              error=f"rate limited: {exc.message}; next check after {until}")
            except RegistryError as exc:
                return _Probe(None, None, wall, time.monotonic() + self.cache_seconds,
                              error=f"{_category(exc)}: {exc.message}")
            except ValueError as exc:  # BadReference: a name the registry API cannot take
                return _Probe(None, None, wall, time.monotonic() + self.cache_seconds,
                              error=f"not a registry reference: {exc}")
        return _Probe(digest, media_type, wall, time.monotonic() + self.cache_seconds)

    async def _read_indexes(self, containers: list[Container]) -> None:
        """A multi-arch tag whose index digest no running image has: read the index (one GET per
        index digest, ever) to see whether a platform manifest inside it is what runs."""
        wanted: set[str] = set()
        for c in containers:
            reference = self.reference_of(c)
            if reference is None or _is_image_id(reference):
                continue
            repo, tag, digest = _split(reference)
            probe = self._probes.get(f"{repo}:{tag or 'latest'}")
            if digest is not None or probe is None or probe.error is not None or probe.platforms is not None:
                continue
            if probe.media_type not in INDEX_TYPES:
                continue
            image = self._image(c.host, c.image_id)
            mine = self._running_digests(repo, image) if image is not None else []
            if mine and probe.digest not in mine:
                wanted.add(f"{repo}:{tag or 'latest'}")

        async def read(key: str) -> None:
            from dockyard.registry import RegistryError

            probe = self._probes[key]
            repo = key.rpartition(":")[0]
            host, _, path = repo.partition("/")
            cached = self._indexes.get((repo, probe.digest or ""))
            if cached is None:
                try:
                    self.requests += 1
                    manifest = await self._client(host).manifest(path, probe.digest or "", config=False)
                    cached = frozenset(p.digest for p in manifest.platforms)
                except (RegistryError, ValueError) as exc:
                    probe.error = f"{_category(exc) if isinstance(exc, RegistryError) else 'bad index'}: {exc}"
                    return
                self._indexes[(repo, probe.digest or "")] = cached
            probe.platforms = cached

        await asyncio.gather(*(read(k) for k in sorted(wanted)))

    # ------------------------------------------------------------------ registries

    def _client(self, host: str) -> RegistryClient:
        """The client for a registry host: the user's entry for it (credentials included), else an
        anonymous one (plain HTTP on loopback, as the Docker daemon allows by default)."""
        if self.registries is None:
            from dockyard.registry import Registries

            self.registries = Registries(self.fleet.config, readonly=True)
            self._own_registries = True
        entry = self.registries.find(host)
        if entry is not None:
            return self.registries.client(entry.name)
        client = self._adhoc.get(host)
        if client is None:
            from dockyard.config.model import RegistryConfig
            from dockyard.registry import RegistryClient
            from dockyard.registry.registries import DOCKER_HUB as HUB_CONFIG, _is_loopback

            if host == DOCKER_HUB:
                from dockyard.registry import Unreachable
                from dockyard.registry.registries import docker_hub_enabled

                if not docker_hub_enabled(self.registries.env):  # an air-gapped site said so: never ask it
                    raise Unreachable("Docker Hub is switched off here (DOCKYARD_NO_DOCKER_HUB=1)", registry=host)
                config = HUB_CONFIG
            else:
                local = _is_loopback(host)
                config = RegistryConfig(name=host, url=("http://" if local else "https://") + host,
                                        credentials="docker", insecure=local)
            client = self._adhoc[host] = RegistryClient(config, credentials=self.registries.credentials,
                                                        readonly=True)
        return client
