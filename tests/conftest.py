"""Shared fixtures: the real test lab (tests/lab/).

The `lab` fixture is session-scoped and lazy: it starts on the first test that asks for it
(directly or through another fixture), so `pytest tests/test_config.py` never starts a daemon.
If the lab cannot start, every test that needs it errors with the component's log tail; it is
never skipped.

    lab            the running Lab (d1/d2/d3, registry, target/jump sshd, agent, TLS + SSH material)
    lab_config     path of a Dockyard config (tmp_path/dockyard.toml) with the default lab hosts
    made           (daemon, container name) pairs a test creates, removed afterwards
    fresh_daemon   a separate started dockerd (unix only, image loaded) for kill/restart tests
    daemon_factory callable(tcp=False, tls=False, image=True) -> more separate daemons
    fresh_sshd     a separate sshd (its docker_socket is lab.d1.socket) for freeze tests;
                   thawed and stopped afterwards
    swarm, swarm_services, swarm_registry   the swarm lab (tests/swarm_lab.py), services made
                   there (removed afterwards), a private registry its nodes pull from with a login
    podman         Podman's Docker-compatible API service (tests/podman_lab.py), the lab image loaded
    engine         parametrized: lab.d1 (dockerd) and `podman`, for suites that must hold for both
                   implementations of the Docker Engine API

A test whose fixtures include one of these (LAB_FIXTURES) is marked `lab`; `pytest -m "not lab"`
runs the others as any user with no Docker (a parametrize argument must not take one of these
names). A run stopped by SIGTERM/SIGHUP stops its labs first, and a lab whose run died anyway is
reaped by the next lab start (tests/lab/owner.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))

# Tests talk to loopback only: never let a registry list include Docker Hub.
os.environ["DOCKYARD_NO_DOCKER_HUB"] = "1"
# ... and never write into the real home's state directory.
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="dockyard-state-")

import lab as _lab  # noqa: E402  (tests/lab/; `from lab import IMAGE` works in test modules)
import podman_lab as _podman_lab  # noqa: E402


@pytest.fixture(scope="session")
def lab():
    if os.geteuid() != 0:
        raise RuntimeError("the test lab runs dockerd and sshd: run the tests as root (see .ci/run)")
    the_lab = _lab.Lab.start()  # raises LabError with the failing component's log tail
    try:
        yield the_lab
    finally:
        the_lab.stop()


@pytest.fixture
def lab_config(tmp_path: Path, lab) -> Path:
    return lab.write_config(tmp_path / "dockyard.toml")


@pytest.fixture
def daemon_factory(lab):
    made: list[_lab.Daemon] = []

    def make(*, tcp: bool = False, tls: bool = False, image: bool = True) -> _lab.Daemon:
        d = lab.new_daemon(tcp=tcp, tls=tls, image=image)
        made.append(d)
        return d

    yield make
    for d in made:
        d.stop()
        lab.extra_daemons.remove(d)
        shutil.rmtree(d.dir, ignore_errors=True)


@pytest.fixture
def made(lab):
    """Containers a test creates: (daemon, name) pairs, removed afterwards."""
    created: list[tuple[object, str]] = []
    yield created
    for daemon, name in created:
        daemon.docker("rm", "-f", name, check=False)


@pytest.fixture
def fresh_daemon(daemon_factory) -> _lab.Daemon:
    return daemon_factory()


@pytest.fixture
def fresh_sshd(lab):
    s = lab.new_sshd(docker_socket=lab.d1.socket)
    try:
        yield s
    finally:
        s.thaw()
        s.stop()
        lab.extra_sshds.remove(s)
        shutil.rmtree(s.dir, ignore_errors=True)


# --- the fault suite's figures (README "Reliability"): `pytest -m faults` prints them at the end

_FAULT_FIGURES: dict[str, str] = {}


@pytest.fixture
def fault_figures() -> dict[str, str]:
    """Tests of the fault suite put what they measured here (name -> one line)."""
    return _FAULT_FIGURES


def pytest_terminal_summary(terminalreporter) -> None:
    if _FAULT_FIGURES:
        terminalreporter.section("fault suite figures")
        for name, line in _FAULT_FIGURES.items():
            terminalreporter.write_line(f"{name}: {line}")


@pytest.fixture(scope="session")
def swarm():
    """Swarms A (a1, a2 managers; a3 worker) and B (b1) on loopback (tests/swarm_lab.py)."""
    import swarm_lab

    if os.geteuid() != 0:
        raise RuntimeError("the swarm lab runs dockerd: run the tests as root (see .ci/run)")
    the_swarms = swarm_lab.SwarmLab.start()
    try:
        yield the_swarms
    finally:
        the_swarms.stop()


@pytest.fixture
def swarm_services(swarm):
    """`make(name, swarm="A"|"B", **create_service options)`: services in the swarm lab, removed afterwards."""
    made: list[tuple[str, str]] = []

    def make(name: str, swarm_name: str = "A", **kw) -> str:
        made.append((name, swarm_name))
        swarm.create_service(name, swarm=swarm_name, **kw)
        return name

    yield make
    for name, swarm_name in made:
        swarm.remove_service(name, swarm_name)


class PrivateRegistry:
    """A registry on 127.0.0.1 that wants a login (htpasswd), and a `docker login` to it kept in a
    DOCKER_CONFIG of its own (`docker_config`). `push()` puts the lab image there under a fresh
    tag that no swarm node holds, so a node must pull it (with credentials) to run it."""

    def __init__(self, swarm, directory: Path):
        import registry_lab

        self.swarm = swarm
        self.password = "pw-" + uuid.uuid4().hex
        self.server = registry_lab.RegistryServer(swarm.root, "reg-private", htpasswd={"carol": self.password})
        self.docker_config = directory / "docker"
        self.docker_config.mkdir()
        self.server.start()
        try:
            self._docker("login", self.host, "-u", "carol", "--password-stdin", input=self.password)
        except BaseException:
            self.server.stop()
            raise

    @property
    def host(self) -> str:
        return self.server.host

    def _docker(self, *args: str, input: str | None = None) -> None:
        subprocess.run(["docker", "--config", str(self.docker_config), "-H", f"unix://{self.swarm.a1.daemon.socket}",
                        *args], input=input, capture_output=True, text=True, check=True, timeout=60)

    def push(self) -> str:
        ref = f"{self.host}/private/busybox:{uuid.uuid4().hex[:8]}"
        self._docker("tag", _lab.IMAGE, ref)
        self._docker("push", ref)
        self._docker("rmi", ref)  # a1 pushed it: without this, a1 would run it without pulling
        return ref


@pytest.fixture(scope="session")
def swarm_registry(swarm, tmp_path_factory):
    """A private registry for the swarm lab's nodes (see PrivateRegistry)."""
    registry = PrivateRegistry(swarm, tmp_path_factory.mktemp("swarm-registry"))
    try:
        yield registry
    finally:
        registry.server.stop()


ENGINES = ("dockerd", "podman")

# Fixtures that start (or hand out parts of) a lab: a test whose fixture closure holds one is marked
# `lab`, so `pytest -m "not lab"` (the quick checks, README "Tests") runs as any user without Docker.
LAB_FIXTURES = frozenset({
    "lab", "lab_config", "made", "daemon_factory", "fresh_daemon", "fresh_sshd",
    "swarm", "swarm_services", "swarm_registry", "podman", "engine",
})


def pytest_configure(config) -> None:
    """SIGTERM/SIGHUP (a `timeout`, a closed terminal) stop this run's labs before it exits
    (tests/lab/owner.py); ^C stays pytest's KeyboardInterrupt, whose teardown stops them."""
    _lab.owner.stop_on_signals()


def pytest_collection_modifyitems(config, items) -> None:
    """Mark every test that needs the lab (through a fixture, or a module that starts lab parts itself
    and says so with `pytestmark = pytest.mark.lab`) as `lab`."""
    for item in items:
        if LAB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.lab)


def pytest_collection_finish(session) -> None:
    """Podman comes up while the dockerd lab does (not after it) when a collected test needs it."""
    if os.geteuid() == 0 and any({"podman", "engine"} & set(item.fixturenames) for item in session.items):
        _podman_lab.start_in_background()


@pytest.fixture(scope="session")
def podman(lab):
    p = _podman_lab.started()  # raises LabError with the service's log tail if it failed
    try:
        p.load_image_from(lab.d1)  # docker save | podman load
        yield p
    finally:
        p.stop()


@pytest.fixture(params=ENGINES)
def engine(request, lab) -> _lab.Daemon:
    """One host of each implementation of the Docker Engine API (same interface: `docker()`,
    `run_container()`, `socket`)."""
    return request.getfixturevalue("podman") if request.param == "podman" else lab.d1
