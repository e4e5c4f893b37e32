"""OpenSSH servers and an ssh-agent on loopback, with keys made for the lab."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

from .servers import (READY_TIMEOUT, LabError, PortServer, _clean_env, _kill_pids, _pids_mentioning, _run,
                      _signal, _spawn, _stop_proc, _tcp_accepts, _wait_until, descendants, free_port)


def _keygen(path: Path, comment: str, passphrase: str = "") -> str:
    """An ed25519 key in OpenSSH format; returns the private key path."""
    if path.exists():
        return str(path)
    _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", comment, "-f", str(path)])
    return str(path)


class Sshd(PortServer):
    """An OpenSSH server on 127.0.0.1:PORT with its own host key; logs in root by public key."""

    def __init__(self, root: str | Path, name: str, authorized_keys: str, max_startups: int | None = 100):
        self.name = name
        self.max_startups = max_startups  # None: OpenSSH's default 10:30:100 (a bastion as shipped)
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
        return self._start_on_free_port(timeout)

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
            + (f"MaxStartups {self.max_startups}\n" if self.max_startups is not None else "") +
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
        # ssh-agent binds its socket before it listens: the file alone is not an agent yet
        # (ssh-add in between fails with "Connection refused").
        _wait_until(self._answers, what="ssh-agent", proc=self.proc, log_path=self.log_path, timeout=10)
        _run(["ssh-add", self.key], env=_clean_env(SSH_AUTH_SOCK=self.socket))
        return self

    def _answers(self) -> bool:
        if not os.path.exists(self.socket):
            return False
        with socket.socket(socket.AF_UNIX) as probe:
            probe.connect(self.socket)
        return True

    def stop(self) -> None:
        _stop_proc(self.proc)
