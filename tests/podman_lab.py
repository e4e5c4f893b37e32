"""Podman's Docker-compatible API service as a lab host: a second implementation of the Docker API.

Debian's podman 4.3.1 `podman system service` on a unix socket, with private storage (vfs, cgroupfs,
file events) under a short temp root, and the nofile/nproc ulimits in CONTAINERS_CONF without which
runc fails. Images come from a lab dockerd (`docker save | podman load`). Podman answers `top` and
one-shot stats without a Content-Type: the client reads bodies by content. `Podman` is a `lab.Daemon` to the tests:
`docker()`, `run_container()`, `run()` work the same (the docker CLI talks to Podman's socket), so a
test parametrized over both kinds of host uses one interface.

    p = Podman.create(); p.start(); p.load_image_from(lab.d1); ...; p.stop()

Loopback only: Podman gets no network configuration at all (containers run with `--network none`);
the service and every container/conmon it started are stopped by pid (never by name).
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import threading
import weakref
from pathlib import Path
from urllib.parse import quote

import lab as _lab

# Without the limits, runc fails here with "error setting rlimit type 7/6: operation not permitted".
# Network definitions (`docker network create`) go under the lab root, not /etc/cni/net.d.
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[network]
network_config_dir = "{net}"
"""
# Pulls only from the lab's registry on loopback (plain HTTP, as dockerd allows for 127.0.0.0/8), and a
# short name never resolves to a registry on the internet. "127.0.0.1" also matches "127.0.0.1:PORT".
REGISTRIES_CONF = """\
unqualified-search-registries = []
short-name-mode = "disabled"
[[registry]]
location = "127.0.0.1"
insecure = true
"""
# Podman (root) keeps a blob-info cache in this fixed directory whatever --root says: the service runs
# in its own mount namespace with the lab's directory mounted there (the namespace, and with it that
# mount and the containers' shm mounts, ends with the service's processes).
SYSTEM_CACHE = "/var/lib/containers/cache"
# Podman stores a `docker load`ed image under localhost/ (a short name resolves to it).
IMAGE_REF = "localhost/" + _lab.IMAGE

_live: "weakref.WeakSet[Podman]" = weakref.WeakSet()


class Podman(_lab.Daemon):
    """`podman system service` with its own root, runroot and tmpdir under `root/name`."""

    kind = "podman"

    def __init__(self, root: str | Path, name: str = "podman"):
        super().__init__(root, name)
        self.socket = str(self.dir / "podman.sock")
        self.log_path = str(self.dir / "podman.log")
        self.conf_path = self.dir / "containers.conf"
        self.conf_path.write_text(CONTAINERS_CONF.format(net=self.dir / "networks"))
        self.registries_path = self.dir / "registries.conf"
        self.registries_path.write_text(REGISTRIES_CONF)
        for sub in ("tmp", "networks", "cache"):
            (self.dir / sub).mkdir(exist_ok=True)
        self.owns_root: str | None = None  # removed by stop() when create() made it
        _live.add(self)

    @classmethod
    def create(cls) -> "Podman":
        """A Podman under its own short temp root (unix socket paths are limited to 108 bytes)."""
        root = tempfile.mkdtemp(prefix="dyp", dir="/tmp")
        _lab.owner.claim(root)
        p = cls(root)
        p.owns_root = root
        return p

    def command(self) -> list[str]:
        d = self.dir
        private_cache = f"mkdir -p {SYSTEM_CACHE} && mount --bind {d / 'cache'} {SYSTEM_CACHE} && exec \"$@\""
        return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", private_cache, "sh",
                "podman", "--root", str(d / "root"), "--runroot", str(d / "run"), "--storage-driver", "vfs",
                "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--tmpdir", str(d / "tmp"),
                "system", "service", "--time=0", f"unix://{self.socket}"]

    def start(self, timeout: float = _lab.READY_TIMEOUT) -> "Podman":
        if self.running:
            return self
        env = _lab._clean_env(CONTAINERS_CONF=str(self.conf_path),
                              CONTAINERS_REGISTRIES_CONF=str(self.registries_path))
        self.proc = _lab._spawn(self.command(), Path(self.log_path), env=env)
        _lab._wait_until(self.ping, what="podman system service", proc=self.proc, log_path=self.log_path,
                         timeout=timeout)
        self._started = True
        return self

    def ensure_image(self) -> None:
        raise _lab.LabError("podman does not build the lab image: use load_image_from(a dockerd)")

    def load_image_from(self, daemon: _lab.Daemon) -> None:
        """`docker save IMAGE | podman load`, through both APIs."""
        status, _ = _lab.unix_http(self.socket, "GET", f"/images/{quote(_lab.IMAGE, safe='')}/json")
        if status == 200:
            return
        status, tar = _lab.unix_http(daemon.socket, "GET", f"/images/get?names={quote(_lab.IMAGE)}", timeout=60)
        if status != 200:
            raise _lab.LabError(f"docker save of {_lab.IMAGE} on {daemon.name} failed ({status}): {tar[:300]!r}")
        status, body = _lab.unix_http(self.socket, "POST", "/images/load?quiet=1", body=tar,
                                      headers={"Content-Type": "application/x-tar"}, timeout=60)
        if status != 200 or b'"error' in body:
            raise _lab.LabError(f"podman load failed ({status}): {body[:500]!r}\n{_lab.log_tail(self.log_path)}")

    def stop(self, timeout: float = _lab.STOP_TIMEOUT) -> None:
        """The service by pid, then every conmon/container of this root (they outlive the service),
        then its mounts (container shm); removes the root if `create()` made it."""
        _lab._stop_proc(self.proc, timeout)
        self._sweep()
        if self.owns_root and not os.environ.get("DOCKYARD_LAB_KEEP"):
            shutil.rmtree(self.owns_root, ignore_errors=True)
        if self.owns_root:
            _lab.owner.release(self.owns_root)
        _live.discard(self)

    def kill(self) -> None:
        raise _lab.LabError("Podman.kill is not implemented (no test needs a Podman crash)")


# ---------------------------------------------------------------------- one per test session

_started: Podman | None = None
_start_error: BaseException | None = None
_start_done = threading.Event()
_start_lock = threading.Lock()


def start_in_background() -> None:
    """Begin starting the session's Podman now (a thread), so it comes up while the dockerd lab does."""
    with _start_lock:
        if _start_done.is_set() or getattr(start_in_background, "thread", None):
            return
        t = threading.Thread(target=_start, name="podman-lab", daemon=True)
        start_in_background.thread = t  # type: ignore[attr-defined]
        t.start()


def _start() -> None:
    global _started, _start_error
    p = Podman.create()
    try:
        p.start()
        _started = p
    except BaseException as exc:  # noqa: BLE001 - re-raised by started()
        _start_error = exc
        p.stop()
    finally:
        _start_done.set()


def started(timeout: float = 60) -> Podman:
    """The session's Podman (starting it now if nobody began); LabError with its log if it failed."""
    start_in_background()
    if not _start_done.wait(timeout):
        raise _lab.LabError("podman system service: not started within 60 s")
    if _start_error is not None:
        raise _start_error
    assert _started is not None
    return _started


@atexit.register
def _stop_leftovers() -> None:
    """Safety net: a Podman nobody stopped (crash, ^C) is stopped at interpreter exit."""
    for p in list(_live):
        p.stop()
