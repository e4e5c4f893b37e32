"""The test lab: real Docker daemons, a registry and SSH servers, all on loopback.

Every test that talks to Docker uses these real components (Debian's docker.io = dockerd 20.10 / API
1.41, docker-registry = distribution 2.8, openssh-server, busybox-static, ssh-agent; run as root).
Plain package, no pytest: `python -c "import lab; l = lab.Lab.start(); ...; l.stop()"` works too
(from tests/), and `python tests/lab` starts one and prints its config.

What `Lab.start()` brings up (concurrently, ~2-4 s):

    d1        dockerd, unix socket only                  -> config host "unix1"
    d2        dockerd, unix socket + plain tcp           -> "tcp2"; also the daemon behind "ssh"/"ssh-jump"
    d3        dockerd, unix socket + TLS tcp (mutual)    -> "tls3", and "unix3" (its unix socket)
    registry  docker-registry (distribution 2.8), http   -> [[registries]] "lab"
    target    sshd; `ssh` host = ssh://root@127.0.0.1:target.port, remote socket d2.socket
    jump      sshd used as the jump hop of "ssh-jump"
    agent     ssh-agent holding `agent_key` (SSH_AUTH_SOCK = agent_sock)

One module per kind of component:

    servers.py   spawn / wait until ready / stop by pid; PortServer retries a port another lab took
    tls.py       TLSFiles: test CA, server and client certificates
    dockerd.py   Daemon and the busybox IMAGE
    registry.py  Registry (docker-registry)
    ssh.py       Sshd, Agent
    owner.py     owner.pid in every lab root; stale labs (owner gone) reaped; SIGTERM/SIGHUP stop the lab
    this file    Lab (all of them) and the Dockyard config it writes

Rules kept here so no test has to remember them:
- loopback only: dockerd never gets a bridge (`--bridge=none --iptables=false ...`), containers run
  with `--network none`, every server binds 127.0.0.1;
- every process is stopped by its own pid (never by name: other labs may run on the same machine);
- a lab never outlives its owner process: SIGTERM/SIGHUP stop it, and the next lab start reaps one
  whose owner died without stopping it (tests/lab/owner.py);
- the root is short (`/tmp/dylXXXXXXXX`) because unix socket paths are limited to 108 bytes.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterable

# Every name below is part of what `import lab` offers (tests, bench/ and screenshots/ use them).
from . import owner  # noqa: F401  (owner.stop_on_signals(), owner.reap_stale())
from .dockerd import BUSYBOX, DOCKERD_NET_FLAGS, DOCKERFILE, IMAGE, Daemon, _image_context_tar  # noqa: F401
from .registry import Registry  # noqa: F401
from .servers import (  # noqa: F401
    PORT_RETRIES, READY_TIMEOUT, STOP_TIMEOUT, LabError, PortServer, _alive, _clean_env, _comm, _kill_pids,
    _log_size, _pids_mentioning, _port_clash, _quiet, _run, _signal, _spawn, _stop_proc, _tcp_accepts,
    _umount_under, _wait_until, descendants, free_port, log_tail, unix_http)
from .ssh import Agent, Sshd, _keygen  # noqa: F401
from .tls import TLSFiles  # noqa: F401

LAB_PASSPHRASE = "dockyard-lab-pass"
# The hosts `Lab.config_toml()` writes when not told otherwise: one per transport.
DEFAULT_HOSTS = ("unix1", "tcp2", "tls3", "ssh")
ALL_HOSTS = ("unix1", "tcp2", "tls3", "ssh", "ssh-jump", "unix3")


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
        owner.claim(self.root)  # reaps labs whose owner is gone; a signal now stops this one (owner.py)
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
        owner.release(self.root)
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
        lines = [f"# Dockyard configuration for the test lab at {self.root} (written by tests/lab/)"]
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
