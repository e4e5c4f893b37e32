"""Swarms for the swarm tests: real dockerd nodes on loopback (`swarm init`/`join` with
`--listen-addr`/`--advertise-addr 127.0.0.1:PORT`, a distinct port per node; services publish no
ports, so their tasks run on `--bridge=none` daemons).

    A   a1 manager (leader), a2 manager, a3 worker     -> config hosts "a1", "a2", "a3"
    B   b1, a one-node swarm (manager)                  -> config host "b1"
    C   c1 manager, c2 worker on an OLDER dockerd       -> config hosts "c1", "c2"
        (only when a test asks: `start_skewed()`; the version-skew test)

C's c2 runs Debian 11's dockerd 20.10.5 (fetched, not installed, by tests/lab/fetch_old_dockerd.sh
into OLD_DOCKERD_DIR) beside the machine's dockerd: a real swarm whose daemons differ in version.

Each node is a `lab.Daemon` (same loopback-only flags, same stop-by-pid rules) with the busybox
image built in. What swarm would otherwise do to the machine is kept in check:
- the control plane listens on 127.0.0.1 only (`--listen-addr/--advertise-addr 127.0.0.1:PORT`,
  a free port per node);
- the `ingress` overlay network is removed right after init: it would open the VXLAN port
  (UDP 4789) on every address, and services here publish no ports anyway;
- each node gets its own `docker_gwbridge` network created beforehand with a unique bridge name
  (`gw<lab id><node>`), so nodes and parallel labs never share the machine-wide `docker_gwbridge`
  interface; teardown leaves the swarm (`swarm leave -f`) and deletes those links.

Plain module, no pytest: `python tests/swarm_lab.py` starts it and prints a config.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import weakref
import atexit
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import lab as _lab
from lab import IMAGE, Daemon, LabError, free_port, unix_http

NODES = ("a1", "a2", "a3", "b1")
MANAGERS = ("a1", "a2", "b1")
SWARM_OF = {"a1": "A", "a2": "A", "a3": "A", "b1": "B"}
SKEWED = ("c1", "c2")  # swarm C: c1 manager (this machine's dockerd), c2 worker (the older dockerd)

OLD_DOCKERD_DIR = os.environ.get("DOCKYARD_OLD_DOCKERD_DIR", "/var/cache/dockyard-tests/dockerd-bullseye")
FETCH_OLD_DOCKERD = Path(__file__).resolve().parent / "lab" / "fetch_old_dockerd.sh"


def old_dockerd() -> str:
    """The older dockerd's path, fetched first when missing (the script is a no-op when it is
    there); LabError with the script's output when it cannot be had."""
    binary = os.path.join(OLD_DOCKERD_DIR, "usr", "sbin", "dockerd")
    done = subprocess.run(["bash", str(FETCH_OLD_DOCKERD)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "DOCKYARD_OLD_DOCKERD_DIR": OLD_DOCKERD_DIR})
    if done.returncode != 0 or not os.access(binary, os.X_OK):
        raise LabError(f"no older dockerd for the version-skew swarm: {FETCH_OLD_DOCKERD} failed "
                       f"(exit {done.returncode}; `bash .ci/run` runs it on install):\n{done.stdout}{done.stderr}")
    return binary


def dockerd_version(binary: str = "dockerd") -> str:
    """`dockerd --version`'s number ("20.10.24+dfsg1"): what swarm reports as the node's EngineVersion."""
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout
    return out.split("version", 1)[1].split(",", 1)[0].strip()


class NodeDaemon(Daemon):
    """A lab dockerd in its own UTS namespace, so each node has its own hostname (swarm's HOSTNAME);
    `dockerd` names the binary (another version's), else the machine's `dockerd` on PATH."""

    def __init__(self, root: str | Path, name: str, *, dockerd: str = "dockerd", **kw: Any):
        super().__init__(root, name, **kw)
        self.dockerd = dockerd

    def command(self) -> list[str]:
        dockerd, *args = super().command()
        return ["unshare", "--uts", "--", "sh", "-c", f'hostname {self.name} && exec "$@"', "sh",
                self.dockerd if dockerd == "dockerd" else dockerd, *args]


class Node:
    """One swarm node: a lab Daemon plus its swarm listen port and private gateway bridge."""

    def __init__(self, daemon: Daemon, bridge: str):
        self.daemon = daemon
        self.name = daemon.name
        self.port = free_port()
        self.bridge = bridge  # the host link behind this node's docker_gwbridge network

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    def docker(self, *args: str, **kw: Any) -> subprocess.CompletedProcess:
        return self.daemon.docker(*args, **kw)

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10) -> tuple[int, Any]:
        """One Docker API call (JSON in and out) straight over the node's socket."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        status, raw = unix_http(self.daemon.socket, method, path, body=data, headers=headers, timeout=timeout)
        try:
            return status, json.loads(raw) if raw.strip() else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def info(self) -> dict[str, Any]:
        return self.api("GET", "/info")[1]

    def prepare(self, image: bool = True) -> None:
        """Started dockerd (with the image unless `image=False`: a node no task runs on), and its
        own gateway bridge before swarm makes one."""
        self.daemon.start()
        if image:
            self.daemon.ensure_image()
        status, body = self.api("POST", "/networks/create", {
            "Name": "docker_gwbridge", "Driver": "bridge", "CheckDuplicate": True,
            "Options": {"com.docker.network.bridge.name": self.bridge,
                        "com.docker.network.bridge.enable_icc": "false",
                        "com.docker.network.bridge.enable_ip_masquerade": "false"},
        })
        if status not in (201, 409):
            raise LabError(f"{self.name}: creating docker_gwbridge failed ({status}): {body}")

    def init(self) -> None:
        self.docker("swarm", "init", "--listen-addr", self.addr, "--advertise-addr", self.addr)
        # No routing mesh: the ingress overlay would bind UDP 4789 on all addresses.
        status, body = self.api("DELETE", "/networks/ingress")
        if status not in (204, 404):
            raise LabError(f"{self.name}: removing the ingress network failed ({status}): {body}")

    def join(self, manager: "Node", role: str) -> None:
        token = manager.docker("swarm", "join-token", "-q", role).stdout.strip()
        self.docker("swarm", "join", "--token", token, "--listen-addr", self.addr,
                    "--advertise-addr", self.addr, manager.addr)

    def leave(self) -> None:
        if self.daemon.running:
            self.docker("swarm", "leave", "-f", check=False, timeout=30)

    @property
    def node_id(self) -> str:
        """Its swarm node ID ("" when it is in no swarm)."""
        return (self.info().get("Swarm") or {}).get("NodeID") or ""

    def delete_bridge(self) -> None:
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)


_live: "weakref.WeakSet[SwarmLab]" = weakref.WeakSet()


class SwarmLab:
    """Swarm A (a1, a2 managers; a3 worker) and swarm B (b1). `SwarmLab.start()`, then `stop()`."""

    def __init__(self, root: str | None = None):
        self.root = root or tempfile.mkdtemp(prefix="dys", dir="/tmp")
        _lab.owner.claim(self.root)
        tag = Path(self.root).name[-8:]  # unique per lab: bridge names never collide
        self.nodes: dict[str, Node] = {
            n: Node(NodeDaemon(self.root, n), f"gw{tag}{n}") for n in NODES  # <= 15 chars (IFNAMSIZ)
        }
        self.startup_seconds: float | None = None
        self.skewed_seconds: float | None = None  # start_skewed()'s first start
        self._leave_order = ["a3", "a2", "a1", "b1"]  # workers before their managers
        self._stopped = False
        _live.add(self)

    def __getattr__(self, name: str) -> Node:
        nodes = self.__dict__.get("nodes") or {}
        if name in nodes:
            return nodes[name]
        raise AttributeError(name)

    @classmethod
    def start(cls, root: str | None = None) -> "SwarmLab":
        sw = cls(root)
        t0 = time.monotonic()
        try:
            with ThreadPoolExecutor(max_workers=len(NODES), thread_name_prefix="swarm") as pool:
                for f in [pool.submit(n.prepare) for n in sw.nodes.values()]:
                    f.result()
            sw.a1.init()
            sw.b1.init()
            sw.a2.join(sw.a1, "manager")
            sw.a3.join(sw.a1, "worker")
            sw.wait_nodes_ready()
        except BaseException:
            sw.stop()
            raise
        sw.startup_seconds = time.monotonic() - t0
        return sw

    def wait_nodes_ready(self, timeout: float = 30) -> None:
        def ready() -> bool:
            a = self.a1.api("GET", "/nodes")[1]
            return (isinstance(a, list) and len(a) == 3
                    and all(n["Status"]["State"] == "ready" for n in a))
        _lab._wait_until(ready, what="swarm A nodes ready", proc=None, log_path=self.a1.daemon.log_path,
                         timeout=timeout)

    # -- swarm C: one node on an older dockerd

    def start_skewed(self) -> tuple[Node, Node]:
        """Swarm C with c2 (the older dockerd) a ready worker of c1; started on first use, c2
        joined again when a test made it leave. Other swarm tests never pay for it."""
        if "c1" not in self.nodes:
            t0 = time.monotonic()
            old = old_dockerd()
            tag = Path(self.root).name[-8:]
            c1 = Node(NodeDaemon(self.root, "c1"), f"gw{tag}c1")
            c2 = Node(NodeDaemon(self.root, "c2", dockerd=old), f"gw{tag}c2")
            self.nodes.update(c1=c1, c2=c2)
            self._leave_order = ["c2", *self._leave_order, "c1"]
            with ThreadPoolExecutor(max_workers=2, thread_name_prefix="swarm-c") as pool:
                for f in [pool.submit(n.prepare, image=False) for n in (c1, c2)]:
                    f.result()
            self.c1.init()
            self.skewed_seconds = time.monotonic() - t0
        if not self.c2.node_id:
            self.c2.join(self.c1, "worker")
        self.wait_swarm_ready(self.c1, 2)
        return self.c1, self.c2

    def skewed_leave(self) -> None:
        """c2 leaves swarm C and c1 forgets it (`node rm`): C is c1 alone, on one version."""
        node_id = self.c2.node_id
        self.c2.docker("swarm", "leave")
        if node_id:  # --force: without it, rm waits for the managers to see the node down (~15 s)
            self.c1.docker("node", "rm", "--force", node_id)
        self.wait_swarm_ready(self.c1, 1)

    def wait_swarm_ready(self, manager: Node, count: int, timeout: float = 30) -> None:
        def ready() -> bool:
            nodes = manager.api("GET", "/nodes")[1]
            return (isinstance(nodes, list) and len(nodes) == count
                    and all(n["Status"]["State"] == "ready" for n in nodes))
        _lab._wait_until(ready, what=f"{count} nodes ready on {manager.name}", proc=None,
                         log_path=manager.daemon.log_path, timeout=timeout)

    # -- services

    def manager(self, swarm: str) -> Node:
        return self.a1 if swarm == "A" else self.b1

    def create_service(self, name: str, *, swarm: str = "A", replicas: int | None = 1, mode: str = "replicated",
                       labels: dict[str, str] | None = None, cmd: tuple[str, ...] = ("sleep", "100000"),
                       args: tuple[str, ...] = (), wait: bool = True) -> str:
        """`docker service create` (no published ports, no networks); returns its id.

        `wait` polls the tasks until `replicas` (or one per node, global) are running: faster than
        the CLI's own `--detach=false`, which watches for 5 s more after convergence."""
        manager = self.manager(swarm)
        # `sleep` as pid 1 ignores SIGTERM: KILL stops a task at once (rolling updates take seconds, not tens)
        opts = ["--name", name, "--stop-signal", "KILL", "--stop-grace-period", "1s", "--detach"]
        if mode == "global":
            opts += ["--mode", "global"]
        elif replicas is not None:
            opts += ["--replicas", str(replicas)]
        for k, v in (labels or {}).items():
            opts += ["--label", f"{k}={v}"]
        sid = manager.docker("service", "create", "--quiet", *opts, *args, IMAGE, *cmd).stdout.strip()
        if wait:
            want = replicas if mode == "replicated" else len(manager.api("GET", "/nodes")[1])
            self.wait_running(name, want or 0, swarm=swarm)
        return sid

    def running_tasks(self, service: str, swarm: str = "A") -> list[dict[str, Any]]:
        filters = json.dumps({"service": [service], "desired-state": ["running"]})
        from urllib.parse import quote

        status, tasks = self.manager(swarm).api("GET", f"/tasks?filters={quote(filters)}")
        if status != 200:
            raise LabError(f"listing tasks of {service} failed ({status}): {tasks}")
        return [t for t in tasks if t["Status"]["State"] == "running"]

    def wait_running(self, service: str, count: int, swarm: str = "A", timeout: float = 60) -> None:
        manager = self.manager(swarm)
        _lab._wait_until(lambda: len(self.running_tasks(service, swarm)) == count,
                         what=f"{count} running tasks of {service}", proc=None,
                         log_path=manager.daemon.log_path, timeout=timeout)

    def remove_service(self, name: str, swarm: str = "A") -> None:
        self.manager(swarm).docker("service", "rm", name, check=False)

    # -- configuration

    def host_entries(self, names: tuple[str, ...] = NODES, **extra: dict[str, Any]) -> list[dict[str, Any]]:
        """Config host tables for `Lab.config_toml(hosts=…)`; `extra={"a1": {"swarm": "prod"}}`."""
        return [{"name": n, "url": self.nodes[n].daemon.url, **(extra.get(n) or {})} for n in names]

    def config_toml(self, names: tuple[str, ...] = NODES, extra: dict[str, dict[str, Any]] | None = None,
                    **top: Any) -> str:
        lines = [f"# Dockyard configuration for the swarm lab at {self.root} (tests/swarm_lab.py)"]
        lines += [f"{k} = {_lab._toml_value(v)}" for k, v in top.items()]
        for entry in self.host_entries(names, **(extra or {})):
            lines += ["", "[[hosts]]"] + [f"{k} = {_lab._toml_value(v)}" for k, v in entry.items()]
        return "\n".join(lines) + "\n"

    def write_config(self, path: str | os.PathLike, *args: Any, **kw: Any) -> Path:
        p = Path(path)
        p.write_text(self.config_toml(*args, **kw))
        return p

    # -- teardown

    def stop(self) -> None:
        """Leave the swarms (workers first), stop every node by pid, delete the bridges, remove root."""
        if self._stopped:
            return
        self._stopped = True
        for name in self._leave_order:
            _quiet(self.nodes[name].leave)
        with ThreadPoolExecutor(max_workers=len(NODES)) as pool:
            list(pool.map(lambda n: _quiet(n.daemon.stop), self.nodes.values()))
        for n in self.nodes.values():
            n.delete_bridge()
        _lab._kill_pids(_lab._pids_mentioning(self.root + "/"))
        _lab._umount_under(self.root)
        if not os.environ.get("DOCKYARD_LAB_KEEP"):
            shutil.rmtree(self.root, ignore_errors=True)
        _lab.owner.release(self.root)
        _live.discard(self)

    def log_tails(self, lines: int = 15) -> str:
        return "\n".join(_lab.log_tail(n.daemon.log_path, lines) for n in self.nodes.values())


def _quiet(fn) -> None:
    try:
        fn()
    except Exception:  # noqa: BLE001 - keep tearing down the rest
        pass


@atexit.register
def _stop_leftovers() -> None:
    for sw in list(_live):
        sw.stop()


if __name__ == "__main__":
    _lab.owner.stop_on_signals()
    with_lab = SwarmLab.start()
    try:
        print(f"swarm lab up in {with_lab.startup_seconds:.1f} s at {with_lab.root}")
        print(with_lab.config_toml())
        input("Enter stops the swarm lab… ")
    finally:
        with_lab.stop()
