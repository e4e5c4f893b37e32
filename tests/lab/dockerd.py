"""dockerd on loopback: its own data/exec roots, no bridge, and the lab's busybox image."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import tarfile
import threading
from pathlib import Path
from typing import Iterable
from urllib.parse import quote

from .servers import (READY_TIMEOUT, STOP_TIMEOUT, LabError, PortServer, _clean_env, _comm, _kill_pids,
                      _pids_mentioning, _run, _spawn, _stop_proc, _tcp_accepts, _umount_under, _wait_until,
                      descendants, free_port, log_tail, unix_http)
from .tls import TLSFiles

IMAGE = "dockyard-test/busybox:latest"
BUSYBOX = "/bin/busybox"  # from busybox-static: no libc needed inside a FROM scratch image
DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
CMD ["sh"]
"""

# Never give a lab daemon a bridge or let it touch the host's firewall / forwarding.
DOCKERD_NET_FLAGS = (
    "--bridge=none",
    "--iptables=false",
    "--ip-masq=false",
    "--ip-forward=false",
    "--ip6tables=false",
)

_image_ctx_lock = threading.Lock()


def _image_context_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(BUSYBOX, arcname="busybox")
        data = DOCKERFILE.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class Daemon(PortServer):
    """One dockerd with its own data/exec roots under `root/name`.

    `tcp=True` adds a plain `-H tcp://127.0.0.1:PORT`; passing `tls=TLSFiles` makes that listener
    TLS with client-certificate verification (the unix socket stays plain).
    """

    def __init__(self, root: str | Path, name: str, *, tcp: bool = False, tls: TLSFiles | None = None):
        self.name = name
        self.dir = Path(root) / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.socket = str(self.dir / "docker.sock")
        if len(self.socket) > 100:
            raise LabError(f"socket path too long for a unix socket: {self.socket}")
        self.tls = tls is not None
        self.tls_files = tls
        self.tcp_port: int | None = free_port() if (tcp or tls is not None) else None
        self.log_path = str(self.dir / "dockerd.log")
        self.docker_config = str(Path(root) / "docker-config")  # isolated CLI config for docker()
        self.proc: subprocess.Popen | None = None
        self._started = False
        (self.dir / "daemon.json").write_text("{}\n")  # never read /etc/docker/daemon.json

    # -- identity

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    @property
    def url(self) -> str:
        """The unix URL (`unix:///…/docker.sock`)."""
        return f"unix://{self.socket}"

    @property
    def tcp_url(self) -> str | None:
        return f"tcp://127.0.0.1:{self.tcp_port}" if self.tcp_port else None

    def __repr__(self) -> str:
        return f"<Daemon {self.name} pid={self.pid} socket={self.socket} tcp={self.tcp_port} tls={self.tls}>"

    # -- lifecycle

    def command(self) -> list[str]:
        cmd = [
            "dockerd",
            "--config-file", str(self.dir / "daemon.json"),
            "--host", f"unix://{self.socket}",
            "--data-root", str(self.dir / "data"),
            "--exec-root", str(self.dir / "exec"),
            "--pidfile", str(self.dir / "docker.pid"),
            *DOCKERD_NET_FLAGS,
            "--shutdown-timeout", "2",
        ]
        if self.tcp_port:
            cmd += ["--host", f"tcp://127.0.0.1:{self.tcp_port}"]
        if self.tls_files is not None:
            t = self.tls_files
            cmd += ["--tlsverify", "--tlscacert", t.ca, "--tlscert", t.server_cert, "--tlskey", t.server_key]
        return cmd

    def start(self, timeout: float = READY_TIMEOUT) -> "Daemon":
        """Start (or restart, same dirs and port) and wait until `_ping` answers on the unix socket."""
        if self.running:
            return self
        return self._start_on_free_port(timeout)

    def _start(self, timeout: float) -> "Daemon":
        self.proc = _spawn(self.command(), Path(self.log_path))
        _wait_until(self.ping, what=f"dockerd {self.name}", proc=self.proc, log_path=self.log_path, timeout=timeout)
        if self.tcp_port:
            _wait_until(lambda: _tcp_accepts(self.tcp_port), what=f"dockerd {self.name} tcp",
                        proc=self.proc, log_path=self.log_path, timeout=timeout)
        self._started = True
        return self

    def _move_port(self) -> bool:
        if self._started or not self.tcp_port:
            return False  # a restart keeps its port (configs point at it); only a first start moves
        self.tcp_port = free_port()
        return True

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def ping(self) -> bool:
        status, body = unix_http(self.socket, "GET", "/_ping", timeout=2)
        return status == 200 and body == b"OK"

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Kill its containers (fast: busybox as pid 1 ignores SIGTERM), SIGTERM dockerd, SIGKILL
        after `timeout`; then end leftover shims/containers of this daemon and unmount its dirs."""
        if self.running:
            try:
                status, body = unix_http(self.socket, "GET", "/containers/json", timeout=3)
                ids = [c["Id"] for c in json.loads(body)] if status == 200 else []
                for cid in ids:
                    unix_http(self.socket, "POST", f"/containers/{cid}/kill", timeout=5)
            except Exception:  # noqa: BLE001 - best effort; SIGTERM below still stops them
                pass
        _stop_proc(self.proc, timeout)
        self._sweep()

    def freeze(self) -> None:
        """SIGSTOP dockerd: its socket still accepts (the kernel does that), nothing answers."""
        if not self.running:
            raise LabError(f"dockerd {self.name} is not running")
        os.kill(self.proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        if self.running:
            os.kill(self.proc.pid, signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL dockerd (a crash) and its containerd; container shims and containers survive,
        as after a real crash, and the next `start()` reconnects to / cleans them up."""
        if not self.running:
            return
        children = descendants(self.proc.pid)
        self.proc.kill()
        self.proc.wait()
        # containerd gets SIGKILL from the kernel when dockerd dies (Pdeathsig) but may still be
        # exiting - or linger as a zombie when pid 1 does not reap. A restarted dockerd that finds
        # its pid in containerd.pid "is still running" and waits 15 s for a socket that never comes.
        containerd = [p for p in children if _comm(p) == "containerd"]
        _kill_pids(containerd)
        Path(self.dir, "exec", "containerd", "containerd.pid").unlink(missing_ok=True)

    def _sweep(self) -> None:
        _kill_pids(_pids_mentioning(str(self.dir) + "/"))
        _umount_under(str(self.dir))

    # -- using it

    def cli_args(self, transport: str = "unix") -> list[str]:
        """`docker` global options that reach this daemon over `transport` ('unix' or 'tcp')."""
        if transport == "unix":
            return ["-H", self.url]
        if not self.tcp_port:
            raise LabError(f"{self.name} has no tcp listener")
        args = ["-H", self.tcp_url]
        if self.tls_files is not None:
            t = self.tls_files
            args += ["--tlsverify", "--tlscacert", t.ca, "--tlscert", t.client_cert, "--tlskey", t.client_key]
        return args

    def docker(self, *args: str, check: bool = True, transport: str = "unix",
               input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run the docker CLI against this daemon; text output in `.stdout` / `.stderr`."""
        env = _clean_env(DOCKER_CONFIG=self.docker_config, DOCKER_BUILDKIT="0")
        return _run(["docker", *self.cli_args(transport), *args], check=check, env=env,
                    input=input, timeout=timeout)

    def run_container(self, name: str | None, *cmd: str, labels: dict[str, str] | None = None,
                      image: str = IMAGE, detach: bool = True, stop_timeout: int = 1,
                      args: Iterable[str] = ()) -> str:
        """Create and start a container (always `--network none`); returns its full id.

        `detach=False` waits for it to exit (read its output with `docker("logs", id)`).
        `stop_timeout=1`: `sleep` as pid 1 ignores SIGTERM, so stop/restart would wait 10 s.
        """
        opts = ["--network", "none", "--stop-timeout", str(stop_timeout)]
        if name:
            opts += ["--name", name]
        for k, v in (labels or {}).items():
            opts += ["--label", f"{k}={v}"]
        opts += list(args)
        if detach:
            return self.docker("run", "-d", *opts, image, *cmd).stdout.strip()
        cid = self.docker("create", *opts, image, *cmd).stdout.strip()
        self.docker("start", "-a", cid)
        return cid

    def run(self, *cmd: str, image: str = IMAGE) -> str:
        """`docker run --rm --network none IMAGE cmd…` and return its stdout."""
        return self.docker("run", "--rm", "--network", "none", image, *cmd).stdout

    def ensure_image(self) -> None:
        """Build IMAGE here unless present: a FROM scratch busybox, no network needed (~0.5 s).
        Uses the build API directly (classic builder), so no buildx/BuildKit is involved."""
        status, _ = unix_http(self.socket, "GET", f"/images/{IMAGE}/json")
        if status == 200:
            return
        with _image_ctx_lock:
            tar = _image_context_tar()
        status, body = unix_http(
            self.socket, "POST", f"/build?t={quote(IMAGE)}&rm=1&forcerm=1&q=1", body=tar,
            headers={"Content-Type": "application/x-tar"}, timeout=120,
        )
        errors = []
        for line in body.decode(errors="replace").splitlines():
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if "error" in msg:
                errors.append(msg["error"])
        if status != 200 or errors:
            raise LabError(f"building {IMAGE} on {self.name} failed ({status}): {errors or body[:500]!r}\n"
                           f"{log_tail(self.log_path)}")
