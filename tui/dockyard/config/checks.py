"""Semantic checks the schema cannot express, then the dataclasses.

URLs, option/transport combinations (tls only on tcp://, SSH options only on ssh://), credentials
combinations, duplicate names, referenced files, warnings for insecure choices. Only values the schema
accepted are used, so every independent problem is still reported.
"""

from __future__ import annotations

import os
import re
from typing import Any, Mapping, TypeVar

from dockyard.config.contexts import load_docker_contexts
from dockyard.config.model import (
    CONFIRM_DEFAULTS,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_REMOTE_SOCKET,
    DEFAULT_REQUEST_TIMEOUT,
    Config,
    HostConfig,
    RecreateConfig,
    RegistryConfig,
    RegistryTLS,
    TLSConfig,
    UIConfig,
    ProblemsConfig,
    EventsConfig,
)
from dockyard.config.report import KeyPath, Report
from dockyard.config.urls import expand, parse_host_url, normalise_registry_url, registry_default_name

T = TypeVar("T")

SSH_ONLY = ("identity_file", "known_hosts", "jump", "socket", "passphrase_command", "ssh_config")


class Checker:
    """Semantic checks after the schema, then the dataclasses. Uses only values the schema accepted."""

    def __init__(self, data: dict, report: Report, env: Mapping[str, str], check_files: bool):
        self.data, self.report, self.env, self.check_files = data, report, env, check_files

    def get(self, table: Any, base: KeyPath, key: str | int, default: Any = None) -> Any:
        """table[key] if present and free of errors so far, else default."""
        if isinstance(table, dict) and key in table and self.report.ok(base + (key,)):
            return table[key]
        if isinstance(table, list) and isinstance(key, int) and key < len(table) and self.report.ok(base + (key,)):
            return table[key]
        return default

    def section(self, table: Any, key: str, kind: type) -> Any:
        """A table or array to descend into: only its type matters (errors inside are reported per key)."""
        value = table.get(key) if isinstance(table, dict) else None
        return value if isinstance(value, kind) else kind()

    def file(self, table: Any, base: KeyPath, key: str | int, *, kind: str = "file",
             must_exist: bool = True) -> str | None:
        """An expanded path; with check_files, a missing file is an error naming the key."""
        raw = self.get(table, base, key)
        if raw is None:
            return None
        path = expand(raw, self.env)
        exists = os.path.isdir(path) if kind == "directory" else os.path.isfile(path)
        if self.check_files and must_exist and not exists:
            self.report.error(base + (key,), f"{kind} not found: {path!r}")
        return path

    # top level

    def config(self, path: str) -> Config:
        d = self.data
        defaults = {
            "connect_timeout": float(self.get(d, (), "connect_timeout", DEFAULT_CONNECT_TIMEOUT)),
            "request_timeout": float(self.get(d, (), "request_timeout", DEFAULT_REQUEST_TIMEOUT)),
        }
        ssh_config = self.file(d, (), "ssh_config")
        hosts = [self.host(h, ("hosts", i), defaults, ssh_config) for i, h in enumerate(self.section(d, "hosts", list))]
        self.duplicates(hosts, "hosts", "host")
        registries = [self.registry(r, ("registries", i)) for i, r in enumerate(self.section(d, "registries", list))]
        self.duplicates(registries, "registries", "registry")
        ui = self.section(d, "ui", dict)
        recreate = self.section(d, "recreate", dict)
        hosts = [h for h in hosts if h is not None]
        warnings: list[str] = []
        current = None
        import_contexts = bool(self.get(d, (), "import_contexts", False))
        if import_contexts:
            contexts, current = load_docker_contexts(self.env, warnings=warnings, **defaults)
            names = {h.name for h in hosts}
            for ctx in contexts:
                if ctx.name in names:
                    warnings.append(f"Docker context {ctx.name!r} skipped: a host of {path} has the same name")
                else:
                    hosts.append(ctx)
        elif not hosts:
            self.report.warn((), "no [[hosts]] and import_contexts is not true: the fleet is empty")
        return Config(
            path=path,
            hosts=tuple(hosts),
            registries=tuple(r for r in registries if r is not None),
            readonly=bool(self.get(d, (), "readonly", False)),
            import_contexts=import_contexts,
            docker_hub=bool(self.get(d, (), "docker_hub", True)),
            keys=dict(self.section(d, "keys", dict)),
            ui=UIConfig(
                theme=self.get(ui, ("ui",), "theme"),
                log_tail=int(self.get(ui, ("ui",), "log_tail", UIConfig.log_tail)),
                log_buffer=int(self.get(ui, ("ui",), "log_buffer", UIConfig.log_buffer)),
                refresh_hz=float(self.get(ui, ("ui",), "refresh_hz", UIConfig.refresh_hz)),
                shells={str(k): str(v) for k, v in (self.get(ui, ("ui",), "shells") or {}).items()},
                confirm={**CONFIRM_DEFAULTS, **{str(k): bool(v) for k, v in
                                                (self.get(ui, ("ui",), "confirm") or {}).items()}},
            ),
            recreate=RecreateConfig(
                grace=float(self.get(recreate, ("recreate",), "grace", RecreateConfig.grace)),
                health_timeout=float(self.get(recreate, ("recreate",), "health_timeout",
                                              RecreateConfig.health_timeout)),
            ),
            problems=self.defaults_or(self.section(d, "problems", dict), "problems", ProblemsConfig),
            events=self.defaults_or(self.section(d, "events", dict), "events", EventsConfig),
            warnings=tuple(self.report.formatted(self.report.warnings) + warnings),
            ssh_handshakes=int(self.get(d, (), "ssh_handshakes", Config.ssh_handshakes)),
            current_context=current,
            freshness_cache_minutes=float(self.get(d, (), "freshness_cache_minutes", 15.0)),
        )

    def defaults_or(self, table: dict, section: str, model: type[T]) -> T:
        """A flat section ([problems], [events]): each key the schema accepted, else its default."""
        values = {}
        for key, default in vars(model()).items():
            value = self.get(table, (section,), key)
            if value is not None:
                values[key] = type(default)(value)
        return model(**values)

    def duplicates(self, items: list, section: str, what: str) -> None:
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            if item is None or not item.name:
                continue
            if item.name in seen:
                self.report.error(
                    (section, i, "name"), f"duplicate {what} name {item.name!r} (also {section}[{seen[item.name]}])"
                )
            else:
                seen[item.name] = i

    # hosts

    def host(self, h: Any, base: KeyPath, defaults: dict, ssh_config: str | None) -> HostConfig | None:
        if not isinstance(h, dict):
            return None
        enabled = self.get(h, base, "enabled", True) is not False
        # A disabled host is never connected: its certs/keys may be gone without blocking the others.
        saved, self.check_files = self.check_files, self.check_files and enabled
        try:
            return self._host(h, base, defaults, ssh_config, enabled)
        finally:
            self.check_files = saved

    def _host(self, h: dict, base: KeyPath, defaults: dict, ssh_config: str | None, enabled: bool) -> HostConfig:
        err = self.report.error
        raw_url = self.get(h, base, "url")
        scheme = raw_url.split("://", 1)[0] if raw_url else None
        tls_table = h.get("tls") if isinstance(h.get("tls"), dict) else None
        tls = self.host_tls(tls_table, base + ("tls",)) if tls_table is not None else None
        if tls_table is not None and scheme and scheme != "tcp":
            err(base + ("tls",), f"only valid with tcp:// urls (this host is {scheme}://)")
        for key in SSH_ONLY:
            if key in h and scheme and scheme != "ssh":
                err(base + (key,), f"only valid with ssh:// urls (this host is {scheme}://)")
        endpoint = None
        if raw_url is not None:
            try:
                endpoint = parse_host_url(raw_url, tls=tls is not None, env=self.env)
            except ValueError as exc:
                err(base + ("url",), str(exc))
        url = endpoint.url if endpoint else ""
        if scheme == "tcp" and tls_table is None and url and enabled:
            self.report.warn(base + ("url",), f"host {h.get('name')!r}: {url} without [hosts.tls]: anyone who can reach that port has "
                             "unauthenticated root access to that daemon; use TLS or ssh://")
        identity = tuple(self._identity(h, base))
        host_ssh_config = self.file(h, base, "ssh_config") or (ssh_config if scheme == "ssh" else None)
        return HostConfig(
            name=self.get(h, base, "name", ""),
            url=url,
            endpoint=endpoint,
            tls=tls,
            identity_file=identity,
            # may not exist yet: accepting a host key creates it
            known_hosts=self.file(h, base, "known_hosts", must_exist=False),
            jump=self.jump(h, base),
            socket=self.get(h, base, "socket", DEFAULT_REMOTE_SOCKET),
            passphrase_command=self.get(h, base, "passphrase_command"),
            ssh_config=host_ssh_config,
            connect_timeout=float(self.get(h, base, "connect_timeout", defaults["connect_timeout"])),
            request_timeout=float(self.get(h, base, "request_timeout", defaults["request_timeout"])),
            labels=dict(self.get(h, base, "labels", {})),
            readonly=bool(self.get(h, base, "readonly", False)),
            swarm=self.get(h, base, "swarm"),
            enabled=enabled,
            source="config",
            description=self.get(h, base, "description"),
        )

    def _identity(self, h: dict, base: KeyPath):
        value = self.get(h, base, "identity_file")
        if value is None:
            return
        if isinstance(value, str):
            yield self.file(h, base, "identity_file")
            return
        for i, _ in enumerate(value):
            yield self.file(value, base + ("identity_file",), i)

    def jump(self, h: dict, base: KeyPath) -> tuple[str, ...]:
        value = self.get(h, base, "jump")
        if value is None:
            return ()
        hops = [hop.strip() for hop in value.split(",")] if isinstance(value, str) else [v.strip() for v in value]
        for hop in hops:
            if not hop or re.search(r"\s", hop):
                self.report.error(base + ("jump",), f"each hop must be [user@]host[:port] or an ssh-config alias "
                                  f"(got {value!r})")
                break
        return tuple(hops)

    def host_tls(self, t: dict, base: KeyPath) -> TLSConfig:
        err = self.report.error
        if "cert_path" in t and any(k in t for k in ("ca", "cert", "key")):
            err(base + ("cert_path",), "use either cert_path or ca/cert/key, not both")
        for a, b in (("cert", "key"), ("key", "cert")):
            if a in t and b not in t:
                err(base + (a,), f"{a} needs {b} too (a client certificate and its key go together)")
        cert_dir = self.file(t, base, "cert_path", kind="directory")
        if cert_dir is not None:
            ca, cert, key = (os.path.join(cert_dir, f"{n}.pem") for n in ("ca", "cert", "key"))
            if self.check_files and os.path.isdir(cert_dir):
                for p in (ca, cert, key):
                    if not os.path.isfile(p):
                        err(base + ("cert_path",), f"file not found: {p!r}")
        else:
            ca, cert, key = (self.file(t, base, n) for n in ("ca", "cert", "key"))
        verify = bool(self.get(t, base, "verify", True))
        if not verify:
            self.report.warn(base + ("verify",), "verify = false: the daemon's certificate is not checked "
                             "(anyone in the middle can impersonate it)")
        return TLSConfig(ca=ca, cert=cert, key=key, verify=verify)

    # registries

    def registry(self, r: Any, base: KeyPath) -> RegistryConfig | None:
        if not isinstance(r, dict):
            return None
        err, warn = self.report.error, self.report.warn
        url = self.get(r, base, "url")
        insecure = bool(self.get(r, base, "insecure", False))
        if url is not None:
            if insecure and "://" not in url:
                url = "http://" + url  # a bare host marked insecure: plain HTTP, like a local test registry
            try:
                url = normalise_registry_url(url)
            except ValueError as exc:
                err(base + ("url",), str(exc))
                url = None
        name = self.get(r, base, "name") or (registry_default_name(url) if url else "")
        if url and url.startswith("http://"):
            insecure = True
            warn(base + ("url",), f"{url}: plain HTTP (insecure), images and credentials travel unencrypted")
        elif insecure:
            warn(base + ("insecure",), "insecure = true: the registry's TLS certificate is not verified")
        credentials = self.get(r, base, "credentials")
        username, penv, pcmd = (self.get(r, base, k) for k in ("username", "password_env", "password_command"))
        if credentials and (username or penv or pcmd):
            err(base + ("credentials",), 'credentials = "docker" takes user and password from the Docker CLI; '
                "remove username / password_env / password_command")
        if penv and pcmd:
            err(base + ("password_command",), "use either password_env or password_command, not both")
        if (penv or pcmd) and not username:
            err(base, "missing required key 'username' (needed with password_env / password_command)")
        if penv and penv not in self.env:
            warn(base + ("password_env",), f"environment variable {penv} is not set")
        tls = None
        t = r.get("tls")
        if isinstance(t, dict):
            if url and url.startswith("http://"):
                err(base + ("tls",), "only valid with https:// registries")
            tls = RegistryTLS(ca=self.file(t, base + ("tls",), "ca"), verify=bool(self.get(t, base + ("tls",), "verify", True)))
            if not tls.verify:
                warn(base + ("tls", "verify"), "verify = false: the registry's certificate is not checked")
        return RegistryConfig(name=name, url=url or "", username=username, password_env=penv, password_command=pcmd,
                              credentials=credentials, tls=tls, insecure=insecure)

