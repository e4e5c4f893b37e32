"""The test lab: real Docker daemons, a registry and SSH servers, all on loopback.

Every test that talks to Docker uses these real components (see DESIGN.md, "Test lab").
Plain module, no pytest: `python -c "import lab; l = lab.Lab.start(); ...; l.stop()"` works too.

What `Lab.start()` brings up (concurrently, ~2-4 s):

    d1        dockerd, unix socket only                  -> config host "unix1"
    d2        dockerd, unix socket + plain tcp           -> "tcp2"; also the daemon behind "ssh"/"ssh-jump"
    d3        dockerd, unix socket + TLS tcp (mutual)    -> "tls3", and "unix3" (its unix socket)
    registry  docker-registry (distribution 2.8), http   -> [[registries]] "lab"
    target    sshd; `ssh` host = ssh://root@127.0.0.1:target.port, remote socket d2.socket
    jump      sshd used as the jump hop of "ssh-jump"
    agent     ssh-agent holding `agent_key` (SSH_AUTH_SOCK = agent_sock)

Rules kept here so no test has to remember them:
- loopback only: dockerd never gets a bridge (`--bridge=none --iptables=false ...`), containers run
  with `--network none`, every server binds 127.0.0.1;
- every process is stopped by its own pid (never by name: other labs may run on the same machine);
- the root is short (`/tmp/dylXXXXXXXX`) because unix socket paths are limited to 108 bytes.
"""

from __future__ import annotations

import atexit
import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterable

IMAGE = "dockyard-test/busybox:latest"
LAB_PASSPHRASE = "dockyard-lab-pass"
BUSYBOX = "/bin/busybox"  # from busybox-static: no libc needed inside a FROM scratch image
DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
CMD ["sh"]
"""
# The hosts `Lab.config_toml()` writes when not told otherwise: one per transport.
DEFAULT_HOSTS = ("unix1", "tcp2", "tls3", "ssh")
ALL_HOSTS = ("unix1", "tcp2", "tls3", "ssh", "ssh-jump", "unix3")

# Never give a lab daemon a bridge or let it touch the host's firewall / forwarding.
DOCKERD_NET_FLAGS = (
    "--bridge=none",
    "--iptables=false",
    "--ip-masq=false",
    "--ip-forward=false",
    "--ip6tables=false",
)
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


class LabError(RuntimeError):
    """A lab component failed; the message carries the tail of its log."""


# --------------------------------------------------------------------------- helpers


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_tail(path: str | os.PathLike | None, lines: int = 30) -> str:
    if not path:
        return "(no log)"
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as exc:
        return f"(cannot read {path}: {exc})"
    tail = text.splitlines()[-lines:]
    return f"--- last {len(tail)} lines of {path} ---\n" + "\n".join(tail)


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment for lab processes: no DOCKER_* / SSH_* leaking in from the caller."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DOCKER_", "SSH_")) and k not in ("BUILDKIT_PROGRESS",)
    }
    path = env.get("PATH", "")
    for d in ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        if d not in path.split(":"):
            path = f"{path}:{d}" if path else d
    env["PATH"] = path
    env.update(extra)
    return env


def _run(cmd: list[str], *, check: bool = True, **kw: Any) -> subprocess.CompletedProcess:
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("env", _clean_env())
    proc = subprocess.run(cmd, **kw)
    if check and proc.returncode != 0:
        raise LabError(
            f"command failed ({proc.returncode}): {' '.join(map(str, cmd))}\n"
            f"stdout: {proc.stdout!s:.2000}\nstderr: {proc.stderr!s:.2000}"
        )
    return proc


def _spawn(cmd: list[str], log_path: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start a server with stdout+stderr appended to its log, in its own session
    (a ^C at the terminal reaches pytest, which then stops the lab cleanly)."""
    log = open(log_path, "ab")
    try:
        log.write(f"\n==== {time.strftime('%H:%M:%S')} {' '.join(cmd)}\n".encode())
        log.flush()
        return subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env or _clean_env(),
            start_new_session=True,
        )
    finally:
        log.close()


def _wait_until(check, *, what: str, proc: subprocess.Popen | None, log_path, timeout: float) -> None:
    """Poll `check()` until it is truthy; fail early if `proc` died, with its log tail."""
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while True:
        try:
            if check():
                return
        except Exception as exc:  # noqa: BLE001 - remembered for the error message
            last_exc = exc
        if proc is not None and proc.poll() is not None:
            raise LabError(f"{what} exited with {proc.returncode} before it was ready\n{log_tail(log_path)}")
        if time.monotonic() > deadline:
            raise LabError(
                f"{what} not ready after {timeout:.0f} s (last error: {last_exc!r})\n{log_tail(log_path)}"
            )
        time.sleep(0.05)


def _log_size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _port_clash(path: str, offset: int) -> bool:
    """Did the server log "address already in use" since `offset`? (Another lab on this machine
    may take a port between `free_port()` and the server's bind; then we retry with a new one.)"""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return b"address already in use" in f.read().lower()
    except OSError:
        return False


PORT_RETRIES = 3


def _ppid_map() -> dict[int, int]:
    """pid -> ppid for every process, from /proc/*/stat."""
    out: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
        except OSError:
            continue
        # "pid (comm) state ppid ..." - comm may contain spaces and parentheses
        rest = stat[stat.rfind(")") + 2 :].split()
        out[int(entry)] = int(rest[1])
    return out


def descendants(pid: int) -> list[int]:
    """Every descendant of `pid` (children first, breadth-first)."""
    children: dict[int, list[int]] = {}
    for child, parent in _ppid_map().items():
        children.setdefault(parent, []).append(child)
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(0), []):
            found.append(child)
            todo.append(child)
    return found


def _pids_mentioning(text: str) -> list[int]:
    """Processes whose command line contains `text` (a unique lab path), plus their descendants."""
    me = os.getpid()
    hits = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            hits.append(int(entry))
    result: list[int] = []
    for pid in hits:
        for p in [pid, *descendants(pid)]:
            if p not in result and p != me:
                result.append(p)
    return result


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        return False


def _kill_pids(pids: Iterable[int]) -> None:
    """SIGKILL these pids (SIGKILL also ends stopped processes) and wait until they are gone."""
    pids = list(pids)
    for pid in pids:
        _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.02)


def _stop_proc(proc: subprocess.Popen | None, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM, then SIGKILL after `timeout`, and reap."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGCONT)  # a frozen process would never act on SIGTERM
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _umount_under(path: str) -> None:
    """Lazily unmount whatever dockerd left mounted below `path` (it bind-mounts its data root)."""
    prefix = path.rstrip("/") + "/"
    mounts = []
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                point = line.split()[4].encode().decode("unicode_escape")  # "\040" -> " "
                if point.startswith(prefix) or point == path:
                    mounts.append(point)
    except OSError:
        return
    for point in sorted(set(mounts), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 5.0):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def unix_http(
    sock_path: str, method: str, path: str, body: bytes | None = None,
    headers: dict[str, str] | None = None, timeout: float = 5.0,
) -> tuple[int, bytes]:
    """One HTTP request over a unix socket (the Docker API without any client library)."""
    conn = _UnixHTTPConnection(sock_path, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _tcp_accepts(port: int, banner: bytes | None = None) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
        if banner is None:
            return True
        s.settimeout(2)
        return s.recv(64).startswith(banner)


# --------------------------------------------------------------------------- TLS


class TLSFiles:
    """A test CA plus a server cert (127.0.0.1 / localhost) and a client cert, made with openssl."""

    _CNF = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""

    def __init__(self, directory: Path):
        self.dir = directory
        self.ca = str(directory / "ca.pem")
        self.ca_key = str(directory / "ca-key.pem")
        self.server_cert = str(directory / "server-cert.pem")
        self.server_key = str(directory / "server-key.pem")
        self.client_cert = str(directory / "cert.pem")
        self.client_key = str(directory / "key.pem")

    def create(self) -> "TLSFiles":
        d = self.dir
        d.mkdir(parents=True, exist_ok=True)
        cnf = d / "openssl.cnf"
        cnf.write_text(self._CNF)
        newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        _run(["openssl", "req", "-x509", *newkey, "-config", str(cnf), "-extensions", "ca",
              "-subj", "/CN=dockyard-lab-ca", "-days", "30",
              "-keyout", self.ca_key, "-out", self.ca])
        for ext, cn, cert, key in (
            ("server", "127.0.0.1", self.server_cert, self.server_key),
            ("client", "dockyard-lab-client", self.client_cert, self.client_key),
        ):
            csr = str(d / f"{ext}.csr")
            _run(["openssl", "req", "-new", *newkey, "-config", str(cnf), "-subj", f"/CN={cn}",
                  "-keyout", key, "-out", csr])
            _run(["openssl", "x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key,
                  "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", "30",
                  "-extfile", str(cnf), "-extensions", ext, "-out", cert])
        for key in (self.ca_key, self.server_key, self.client_key):
            os.chmod(key, 0o600)
        return self


# --------------------------------------------------------------------------- dockerd

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


class Daemon:
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
        for attempt in range(PORT_RETRIES):
            offset = _log_size(self.log_path)
            self.proc = _spawn(self.command(), Path(self.log_path))
            try:
                _wait_until(self.ping, what=f"dockerd {self.name}", proc=self.proc,
                            log_path=self.log_path, timeout=timeout)
                if self.tcp_port:
                    _wait_until(lambda: _tcp_accepts(self.tcp_port), what=f"dockerd {self.name} tcp",
                                proc=self.proc, log_path=self.log_path, timeout=timeout)
                self._started = True
                return self
            except LabError:
                _stop_proc(self.proc)
                # a restart keeps its port (configs point at it); only a first start moves
                if self._started or attempt == PORT_RETRIES - 1 or not self.tcp_port \
                        or not _port_clash(self.log_path, offset):
                    raise
                self.tcp_port = free_port()
        raise AssertionError("unreachable")

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
        from urllib.parse import quote

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


# --------------------------------------------------------------------------- registry


class Registry:
    """docker-registry (distribution 2.8) on http://127.0.0.1:PORT, deletes enabled."""

    def __init__(self, root: str | Path, name: str = "registry"):
        self.name = name
        self.dir = Path(root) / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.config_path = str(self.dir / "config.yml")
        self.log_path = str(self.dir / "registry.log")
        self.proc: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        """`127.0.0.1:PORT`, the prefix of image references (`{host}/repo:tag`)."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self, timeout: float = READY_TIMEOUT) -> "Registry":
        for attempt in range(PORT_RETRIES):
            offset = _log_size(self.log_path)
            try:
                return self._start(timeout)
            except LabError:
                _stop_proc(self.proc)
                if attempt == PORT_RETRIES - 1 or not _port_clash(self.log_path, offset):
                    raise
                self.port = free_port()
        raise AssertionError("unreachable")

    def _start(self, timeout: float) -> "Registry":
        Path(self.config_path).write_text(
            "version: 0.1\n"
            "log:\n  level: info\n"
            "storage:\n"
            f"  filesystem:\n    rootdirectory: {self.dir / 'data'}\n"
            "  delete:\n    enabled: true\n"
            "  maintenance:\n    uploadpurging:\n      enabled: false\n"
            "http:\n"
            f"  addr: 127.0.0.1:{self.port}\n"
            "  headers:\n    X-Content-Type-Options: [nosniff]\n"
            f"    X-Dockyard-Lab: [{self.dir}]\n"
        )
        self.proc = _spawn(["docker-registry", "serve", self.config_path], Path(self.log_path))

        def ready() -> bool:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/v2/")
                resp = conn.getresponse()
                # our header: not another lab's registry that happens to own this port
                return resp.status == 200 and resp.getheader("X-Dockyard-Lab") == str(self.dir)
            finally:
                conn.close()

        _wait_until(ready, what="docker-registry", proc=self.proc, log_path=self.log_path, timeout=timeout)
        return self

    def stop(self) -> None:
        _stop_proc(self.proc)


# --------------------------------------------------------------------------- ssh


def _keygen(path: Path, comment: str, passphrase: str = "") -> str:
    """An ed25519 key in OpenSSH format; returns the private key path."""
    if path.exists():
        return str(path)
    _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", comment, "-f", str(path)])
    return str(path)


class Sshd:
    """An OpenSSH server on 127.0.0.1:PORT with its own host key; logs in root by public key."""

    def __init__(self, root: str | Path, name: str, authorized_keys: str):
        self.name = name
        self.dir = Path(root) / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.authorized_keys = authorized_keys
        self.host_key = str(self.dir / "ssh_host_ed25519_key")
        self.host_key_pub = self.host_key + ".pub"
        self.config_path = str(self.dir / "sshd_config")
        self.log_path = str(self.dir / "sshd.log")
        self.pid_file = str(self.dir / "sshd.pid")
        self.known_hosts = str(self.dir / "known_hosts")  # just this server's line
        self.docker_socket: str | None = None  # the daemon socket tests reach through it (informative)
        self.proc: subprocess.Popen | None = None
        self._frozen: list[int] = []

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def known_hosts_line(self) -> str:
        keytype, b64 = Path(self.host_key_pub).read_text().split()[:2]
        return f"[127.0.0.1]:{self.port} {keytype} {b64}"

    def start(self, timeout: float = READY_TIMEOUT) -> "Sshd":
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation directory
        _keygen(Path(self.host_key), f"dockyard-lab-{self.name}-host")
        for attempt in range(PORT_RETRIES):
            offset = _log_size(self.log_path)
            try:
                return self._start(timeout)
            except LabError:
                _stop_proc(self.proc)
                if attempt == PORT_RETRIES - 1 or not _port_clash(self.log_path, offset):
                    raise
                self.port = free_port()
        raise AssertionError("unreachable")

    def _start(self, timeout: float) -> "Sshd":
        Path(self.config_path).write_text(
            f"ListenAddress 127.0.0.1\n"
            f"Port {self.port}\n"
            f"HostKey {self.host_key}\n"
            f"PidFile {self.pid_file}\n"
            f"AuthorizedKeysFile {self.authorized_keys}\n"
            "UsePAM no\n"
            "StrictModes no\n"
            "PermitRootLogin prohibit-password\n"
            "PubkeyAuthentication yes\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "AllowStreamLocalForwarding yes\n"
            "AllowTcpForwarding yes\n"
            "MaxSessions 50\n"
            "MaxStartups 100\n"
            "UseDNS no\n"
            "LogLevel VERBOSE\n"
        )
        Path(self.known_hosts).write_text(self.known_hosts_line() + "\n")
        Path(self.pid_file).unlink(missing_ok=True)
        self.proc = _spawn(["/usr/sbin/sshd", "-D", "-f", self.config_path, "-E", self.log_path],
                           Path(self.log_path))

        def ready() -> bool:
            # sshd writes its PidFile only after binding: a banner alone could come from another
            # lab's sshd that owns the port we were unlucky to pick.
            pid = Path(self.pid_file).read_text().strip() if os.path.exists(self.pid_file) else ""
            return pid == str(self.proc.pid) and _tcp_accepts(self.port, b"SSH-")

        _wait_until(ready, what=f"sshd {self.name}", proc=self.proc, log_path=self.log_path,
                    timeout=timeout)
        return self

    def freeze(self) -> None:
        """SIGSTOP the listener and every per-connection child: established connections go silent."""
        if not self.running:
            raise LabError(f"sshd {self.name} is not running")
        os.kill(self.proc.pid, signal.SIGSTOP)  # first, so it forks no new children meanwhile
        pids = descendants(self.proc.pid)
        for pid in pids:
            _signal(pid, signal.SIGSTOP)
        self._frozen = [self.proc.pid, *pids]

    def thaw(self) -> None:
        if self.proc is None:
            return
        pids = set(self._frozen) | {self.proc.pid, *descendants(self.proc.pid)}
        for pid in pids:
            _signal(pid, signal.SIGCONT)
        self._frozen = []

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """Stop the listener and its per-connection children (they would outlive it otherwise)."""
        if self.proc is None:
            return
        children = descendants(self.proc.pid) if self.running else []
        self.thaw()
        _stop_proc(self.proc)
        _kill_pids(children)
        _kill_pids(_pids_mentioning(self.config_path))


class Agent:
    """`ssh-agent -D -a ROOT/agent.sock` holding one key."""

    def __init__(self, root: str | Path, key: str):
        self.socket = str(Path(root) / "agent.sock")
        self.key = key
        self.log_path = str(Path(root) / "ssh-agent.log")
        self.proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self) -> "Agent":
        self.proc = _spawn(["ssh-agent", "-D", "-a", self.socket], Path(self.log_path))
        _wait_until(lambda: os.path.exists(self.socket), what="ssh-agent", proc=self.proc,
                    log_path=self.log_path, timeout=10)
        _run(["ssh-add", self.key], env=_clean_env(SSH_AUTH_SOCK=self.socket))
        return self

    def stop(self) -> None:
        _stop_proc(self.proc)


# --------------------------------------------------------------------------- the lab


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid TOML basic-string escapes
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def _merge(base: dict, extra: dict | None) -> dict:
    """Deep-merge `extra` into a copy of `base`; a None value removes the key."""
    out = dict(base)
    for k, v in (extra or {}).items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict) and k != "labels":
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


_live_labs: "weakref.WeakSet[Lab]" = weakref.WeakSet()


class Lab:
    """All lab components; `Lab.start()` brings them up, `stop()` ends them and removes `root`."""

    def __init__(self, root: str | None = None):
        self.root = root or tempfile.mkdtemp(prefix="dyl", dir="/tmp")
        r = Path(self.root)
        self.tls_files = TLSFiles(r / "tls")
        self.tls_ca = self.tls_files.ca
        self.tls_cert = self.tls_files.client_cert
        self.tls_key = self.tls_files.client_key
        ssh = r / "ssh"
        ssh.mkdir(parents=True, exist_ok=True)
        self.client_key = str(ssh / "client_key")
        self.client_key_encrypted = str(ssh / "client_key_enc")
        self.agent_key = str(ssh / "agent_key")
        self.passphrase = LAB_PASSPHRASE
        self.authorized_keys = str(ssh / "authorized_keys")
        self.known_hosts = str(ssh / "known_hosts")
        self.d1 = Daemon(r, "d1")
        self.d2 = Daemon(r, "d2", tcp=True)
        self.d3 = Daemon(r, "d3", tls=self.tls_files)
        self.registry = Registry(r)
        self.target = Sshd(r, "target", self.authorized_keys)
        self.jump = Sshd(r, "jump", self.authorized_keys)
        self.agent = Agent(r, self.agent_key)
        self.agent_sock = self.agent.socket
        self.extra_daemons: list[Daemon] = []
        self.extra_sshds: list[Sshd] = []
        self.startup_seconds: float | None = None
        self._counter = 0
        self._lock = threading.Lock()
        self._stopped = False
        _live_labs.add(self)  # the atexit safety net stops it if nobody else does

    @property
    def daemons(self) -> list[Daemon]:
        return [self.d1, self.d2, self.d3]

    def env(self) -> dict[str, str]:
        """Environment additions for code under test: the lab's agent."""
        return {"SSH_AUTH_SOCK": self.agent_sock}

    # -- lifecycle

    @classmethod
    def start(cls, root: str | None = None) -> "Lab":
        """Build and start everything (in parallel); on any failure stop what started and raise
        LabError carrying the failing component's log tail."""
        lab = cls(root)
        t0 = time.monotonic()
        try:
            with ThreadPoolExecutor(max_workers=8, thread_name_prefix="lab") as pool:
                futures = [
                    pool.submit(lab._start_daemon, lab.d1),
                    pool.submit(lab._start_daemon, lab.d2),
                    pool.submit(lambda: (lab.tls_files.create(), lab._start_daemon(lab.d3))),
                    pool.submit(lab.registry.start),
                    pool.submit(lab._start_ssh),
                ]
                errors = []
                for f in futures:
                    try:
                        f.result()
                    except Exception as exc:  # noqa: BLE001 - collect all, report together
                        errors.append(exc)
            if errors:
                raise LabError("lab startup failed:\n\n" + "\n\n".join(str(e) for e in errors))
        except BaseException:
            lab.stop()
            raise
        lab.startup_seconds = time.monotonic() - t0
        return lab

    @staticmethod
    def _start_daemon(d: Daemon) -> None:
        d.start()
        d.ensure_image()

    def _start_ssh(self) -> None:
        _keygen(Path(self.client_key), "dockyard-lab-client")
        _keygen(Path(self.client_key_encrypted), "dockyard-lab-client-encrypted", LAB_PASSPHRASE)
        _keygen(Path(self.agent_key), "dockyard-lab-agent")
        Path(self.authorized_keys).write_text(
            "".join(Path(k + ".pub").read_text() for k in (self.client_key, self.client_key_encrypted,
                                                           self.agent_key))
        )
        with ThreadPoolExecutor(max_workers=3) as pool:
            for f in [pool.submit(self.target.start), pool.submit(self.jump.start), pool.submit(self.agent.start)]:
                f.result()
        self.target.docker_socket = self.d2.socket
        self.jump.docker_socket = self.d2.socket
        Path(self.known_hosts).write_text(
            self.target.known_hosts_line() + "\n" + self.jump.known_hosts_line() + "\n"
        )

    def _next_name(self, prefix: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}{self._counter}"

    def new_daemon(self, *, tcp: bool = False, tls: bool = False, image: bool = True,
                   name: str | None = None) -> Daemon:
        """A separate, started daemon (for kill/restart tests); stopped by `Lab.stop()` at the latest."""
        d = Daemon(self.root, name or self._next_name("x"), tcp=tcp, tls=self.tls_files if tls else None)
        self.extra_daemons.append(d)
        d.start()
        if image:
            d.ensure_image()
        return d

    def new_sshd(self, *, docker_socket: str | None = None, name: str | None = None) -> Sshd:
        """A separate, started sshd accepting the lab's client keys; its own `known_hosts` file
        holds just its line (append `known_hosts_line()` elsewhere if needed)."""
        s = Sshd(self.root, name or self._next_name("s"), self.authorized_keys)
        self.extra_sshds.append(s)
        s.start()
        s.docker_socket = docker_socket or self.d1.socket
        return s

    def stop(self) -> None:
        """Stop everything by pid (daemons in parallel), end strays, unmount and remove `root`."""
        if self._stopped:
            return
        self._stopped = True
        for s in [*self.extra_sshds, self.target, self.jump]:
            try:
                s.stop()
            except Exception:  # noqa: BLE001 - keep stopping the rest
                pass
        for c in (self.registry, self.agent):
            try:
                c.stop()
            except Exception:  # noqa: BLE001
                pass
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda d: _quiet(d.stop), [*self.extra_daemons, *self.daemons]))
        # Anything still mentioning our unique root (orphaned shims, containers) goes too.
        _kill_pids(_pids_mentioning(self.root + "/"))
        _umount_under(self.root)
        if not os.environ.get("DOCKYARD_LAB_KEEP"):
            shutil.rmtree(self.root, ignore_errors=True)
        _live_labs.discard(self)

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_tails(self, lines: int = 15) -> str:
        """Every component's log tail, for failure messages."""
        paths = [d.log_path for d in [*self.daemons, *self.extra_daemons]]
        paths += [self.registry.log_path, self.target.log_path, self.jump.log_path, self.agent.log_path]
        return "\n".join(log_tail(p, lines) for p in paths if os.path.exists(p))

    # -- Dockyard configuration

    def host_entry(self, name: str) -> dict[str, Any]:
        """The config table of one named lab host (see ALL_HOSTS)."""
        ssh_common = {
            "identity_file": self.client_key,
            "known_hosts": self.known_hosts,
            "socket": self.d2.socket,
        }
        entries: dict[str, dict[str, Any]] = {
            "unix1": {"url": self.d1.url},
            "unix3": {"url": self.d3.url},
            "tcp2": {"url": self.d2.tcp_url},
            "tls3": {"url": self.d3.tcp_url, "tls": {"ca": self.tls_ca, "cert": self.tls_cert, "key": self.tls_key}},
            "ssh": {"url": f"ssh://root@127.0.0.1:{self.target.port}", **ssh_common},
            "ssh-jump": {"url": f"ssh://root@127.0.0.1:{self.target.port}", **ssh_common,
                         "jump": [f"root@127.0.0.1:{self.jump.port}"]},
        }
        if name not in entries:
            raise KeyError(f"unknown lab host {name!r}; known: {', '.join(ALL_HOSTS)}")
        return {"name": name, **entries[name]}

    def ssh_host_entry(self, sshd: Sshd, name: str = "ssh", socket: str | None = None,
                       identity_file: str | None = None) -> dict[str, Any]:
        """A host table for an extra sshd (e.g. `fresh_sshd`), to put in `config_toml(hosts=[…])`."""
        return {
            "name": name,
            "url": f"ssh://root@127.0.0.1:{sshd.port}",
            "identity_file": identity_file or self.client_key,
            "known_hosts": sshd.known_hosts,
            "socket": socket or sshd.docker_socket or self.d1.socket,
        }

    def config_toml(self, hosts: Iterable[str | dict] = DEFAULT_HOSTS,
                    extra: dict[str, dict[str, Any]] | None = None,
                    registries: bool = True, **top: Any) -> str:
        """Dockyard config text for the lab.

        `hosts`: lab host names (ALL_HOSTS) and/or full host dicts; `extra={"ssh": {"connect_timeout": 2}}`
        merges per-host options (None removes a key); `registries` adds the lab registry as "lab";
        `**top` become top-level keys (e.g. `readonly=True`).
        """
        lines = [f"# Dockyard configuration for the test lab at {self.root} (written by tests/lab.py)"]
        for k, v in top.items():
            lines.append(f"{k} = {_toml_value(v)}")
        for h in hosts:
            entry = dict(h) if isinstance(h, dict) else self.host_entry(h)
            entry = _merge(entry, (extra or {}).get(entry["name"]))
            lines += ["", "[[hosts]]"]
            tables = {k: v for k, v in entry.items() if isinstance(v, dict) and k != "labels"}
            for k, v in entry.items():
                if k not in tables:
                    lines.append(f"{k} = {_toml_value(v)}")
            for t, values in tables.items():
                lines.append(f"[hosts.{t}]")
                lines += [f"{k} = {_toml_value(v)}" for k, v in values.items()]
        if registries:
            lines += ["", "[[registries]]", 'name = "lab"', f"url = {_toml_value(self.registry.url)}"]
        return "\n".join(lines) + "\n"

    def write_config(self, path: str | os.PathLike, *args: Any, **kw: Any) -> Path:
        """Write `config_toml(*args, **kw)` to `path` and return it."""
        p = Path(path)
        p.write_text(self.config_toml(*args, **kw))
        return p


def _quiet(fn) -> None:
    try:
        fn()
    except Exception:  # noqa: BLE001
        pass


@atexit.register
def _stop_leftover_labs() -> None:
    """Safety net: a lab that nobody stopped (crash, ^C) is stopped at interpreter exit."""
    for lab in list(_live_labs):
        lab.stop()


if __name__ == "__main__":  # python tests/lab.py: start, print the config, wait for Enter
    with Lab.start() as _lab:
        print(f"lab up in {_lab.startup_seconds:.1f} s at {_lab.root}")
        print(_lab.config_toml(ALL_HOSTS))
        input("Enter stops the lab… ")
