"""A scale lab: ONE extra dockerd listening on N unix sockets, each socket a distinct host to Dockyard.

    ScaleDaemon(root, n=100).start()   ->  sockets h1.sock … hN.sock, all the same daemon
    .run_containers(10)                ->  10 running containers (network none), seen by every "host"
    .hosts_toml(prefix="h")            ->  [[hosts]] tables for a Dockyard config

A fleet of N hosts then costs one daemon (its own data/exec roots, no bridge, like every lab daemon).
For SSH, `ssh_hosts_toml` points hosts at the same sockets through an sshd (the lab's `Sshd`, built with
`max_startups=None` to keep OpenSSH's default `10:30:100`, as a bastion has it), directly or via a jump.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from .dockerd import IMAGE, Daemon
from .servers import LabError, unix_http


class ScaleDaemon(Daemon):
    """A lab dockerd with `n` extra unix sockets `S/h1.sock … S/hN.sock` (S short: 108-byte socket paths)."""

    def __init__(self, root: str | Path, n: int, name: str = "sc"):
        super().__init__(root, name)
        self.n = n
        self.sockets_dir = Path(root) / "s"
        self.sockets_dir.mkdir(parents=True, exist_ok=True)
        self.sockets = [str(self.sockets_dir / f"h{i}.sock") for i in range(1, n + 1)]
        if len(self.sockets[-1]) > 100:
            raise LabError(f"socket path too long for a unix socket: {self.sockets[-1]}")

    def command(self) -> list[str]:
        cmd = super().command()
        for path in self.sockets:
            cmd += ["--host", f"unix://{path}"]
        return cmd

    def run_containers(self, count: int, prefix: str = "sc") -> list[str]:
        """`count` running containers (`sleep`, network none); returns their ids."""
        ids = []
        for i in range(count):
            status, body = unix_http(self.socket, "POST", f"/containers/create?name={prefix}{i}",
                                     body=json.dumps({"Image": IMAGE, "Cmd": ["sleep", "100000"],
                                                      "StopTimeout": 1,
                                                      "HostConfig": {"NetworkMode": "none"}}).encode(),
                                     headers={"Content-Type": "application/json"}, timeout=30)
            if status != 201:
                raise LabError(f"create {prefix}{i}: {status} {body[:200]!r}")
            cid = json.loads(body)["Id"]
            status, body = unix_http(self.socket, "POST", f"/containers/{cid}/start", timeout=30)
            if status not in (204, 304):
                raise LabError(f"start {prefix}{i}: {status} {body[:200]!r}")
            ids.append(cid)
        return ids

    def cpu_seconds(self) -> float:
        """dockerd's own CPU time so far (user + system, from /proc/PID/stat)."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(") ", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wait_quiet(self, timeout: float = 120.0, window: float = 1.0, busy: float = 0.05) -> float:
        """Wait until dockerd uses less than `busy` of a core over `window` s; returns the seconds waited.

        A dockerd with hundreds of listeners keeps a core busy for several seconds after it answers
        its first `_ping` (9 s at 200 sockets here): a measurement started before then times the
        daemon's own start-up, not the client."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            before = self.cpu_seconds()
            time.sleep(window)
            if self.cpu_seconds() - before < busy * window:
                break
        return time.monotonic() - start

    def host_entries(self, prefix: str = "h", count: int | None = None) -> list[dict[str, Any]]:
        return [{"name": f"{prefix}{i}", "url": f"unix://{path}"}
                for i, path in enumerate(self.sockets[:count], start=1)]

    def ssh_host_entries(self, target_port: int, *, identity_file: str, known_hosts: str,
                         jump_port: int | None = None, prefix: str = "s",
                         count: int | None = None) -> list[dict[str, Any]]:
        """SSH hosts reaching the sockets through an sshd on 127.0.0.1:`target_port` (via a jump
        sshd on `jump_port` when given)."""
        out = []
        for i, path in enumerate(self.sockets[:count], start=1):
            entry: dict[str, Any] = {"name": f"{prefix}{i}", "url": f"ssh://root@127.0.0.1:{target_port}",
                                     "identity_file": identity_file, "known_hosts": known_hosts,
                                     "socket": path}
            if jump_port is not None:
                entry["jump"] = [f"root@127.0.0.1:{jump_port}"]
            out.append(entry)
        return out
