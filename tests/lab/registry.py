"""docker-registry (distribution 2.8) on loopback."""

from __future__ import annotations

import http.client
import ssl
import subprocess
from pathlib import Path

from .servers import READY_TIMEOUT, PortServer, _spawn, _stop_proc, _wait_until, free_port
from .tls import TLSFiles


class Registry(PortServer):
    """docker-registry (distribution 2.8) on 127.0.0.1:PORT under `root/name`: plain http, or
    https with `tls` (the lab CA's server certificate); deletes enabled unless `delete=False`.
    Subclasses add an `auth:` section with `auth_yaml()` (tests/registry_lab.py)."""

    def __init__(self, root: str | Path, name: str = "registry", *, tls: TLSFiles | None = None,
                 delete: bool = True):
        self.name = name
        self.dir = Path(root) / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.tls = tls
        self.delete = delete
        self.config_path = str(self.dir / "config.yml")
        self.log_path = str(self.dir / "registry.log")
        self.proc: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        """`127.0.0.1:PORT`, the prefix of image references (`{host}/repo:tag`)."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def ssl_context(self) -> ssl.SSLContext | None:
        """A client context trusting the lab CA (None for plain http)."""
        return ssl.create_default_context(cafile=self.tls.ca) if self.tls else None

    def auth_yaml(self) -> str:
        """The config's `auth:` section; none here (anyone may push and pull)."""
        return ""

    def config_yaml(self) -> str:
        lines = [
            "version: 0.1",
            "log:\n  level: info",
            "storage:",
            f"  filesystem:\n    rootdirectory: {self.dir / 'data'}",
            f"  delete:\n    enabled: {'true' if self.delete else 'false'}",
            "  maintenance:\n    uploadpurging:\n      enabled: false",
            "http:",
            f"  addr: 127.0.0.1:{self.port}",
            f"  headers:\n    X-Content-Type-Options: [nosniff]\n    X-Dockyard-Lab: [{self.dir}]",
        ]
        if self.tls:
            lines.append(f"  tls:\n    certificate: {self.tls.server_cert}\n    key: {self.tls.server_key}")
        if self.auth_yaml():
            lines.append(self.auth_yaml())
        return "\n".join(lines) + "\n"

    def start(self, timeout: float = READY_TIMEOUT) -> "Registry":
        return self._start_on_free_port(timeout)

    def _start(self, timeout: float) -> "Registry":
        Path(self.config_path).write_text(self.config_yaml())
        self.proc = _spawn(["docker-registry", "serve", self.config_path], Path(self.log_path))

        def ready() -> bool:
            if self.tls:
                conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=2, context=self.ssl_context())
            else:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/v2/")
                resp = conn.getresponse()
                # 401: it wants a login; our header: not another lab's registry that happens to own this port
                return resp.status in (200, 401) and resp.getheader("X-Dockyard-Lab") == str(self.dir)
            finally:
                conn.close()

        _wait_until(ready, what=f"docker-registry {self.name}", proc=self.proc, log_path=self.log_path,
                    timeout=timeout)
        return self

    def stop(self) -> None:
        _stop_proc(self.proc)
