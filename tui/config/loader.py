"""From a TOML file (or nothing) to a validated `Config`, with every problem reported at once.

Order: find the file -> parse TOML -> refuse clear-text secrets -> schema (tui.config.schema) ->
semantic checks the schema cannot express (URLs, option/transport combinations, duplicates, files) ->
dataclasses. Any error raises one ConfigError listing all of them; warnings travel in Config.warnings.
"""

from __future__ import annotations

import os
import re
from typing import Any, Mapping

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from tui.config.contexts import load_docker_contexts
from tui.config.errors import ConfigError
from tui.config.model import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_REMOTE_SOCKET,
    DEFAULT_REQUEST_TIMEOUT,
    Config,
    HostConfig,
    RegistryConfig,
    RegistryTLS,
    TLSConfig,
    UIConfig,
)
from tui.config.schema import CONFIG_SCHEMA, KeyPath, format_path, validate
from tui.config.urls import expand, home, normalise_host_url, normalise_registry_url, registry_default_name

SSH_ONLY = ("identity_file", "known_hosts", "jump", "socket", "passphrase_command", "ssh_config")
_SECRET_REFS = {"password_env", "password_command", "passphrase_command"}
_SECRET_WORDS = {"password", "passwd", "pass", "pwd", "passphrase", "secret", "token", "auth", "apikey"}
_SECRET_PARTS = ("password", "passphrase", "secret", "token")


# --- where is the file ---------------------------------------------------------------------------


def resolve_config_path(cli_path: str | None, env: Mapping[str, str] | None = None) -> tuple[str, bool]:
    """(path, explicit): --config, else $DOCKYARD_CONFIG, else $XDG_CONFIG_HOME or ~/.config /dockyard/config.toml.

    `explicit` paths must exist; a missing default path means zero-config (Docker contexts).
    """
    env = os.environ if env is None else env
    if cli_path:
        return expand(cli_path, env), True
    if env.get("DOCKYARD_CONFIG"):
        return expand(env["DOCKYARD_CONFIG"], env), True
    xdg = env.get("XDG_CONFIG_HOME", "")
    base = xdg if os.path.isabs(xdg) else os.path.join(home(env), ".config")  # XDG: relative values are ignored
    return os.path.join(base, "dockyard", "config.toml"), False


# --- key path -> line, for nicer messages (best effort, never fails) -----------------------------

_KEY_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'|[A-Za-z0-9_-]+')


def _segments(dotted: str) -> list[str]:
    out = []
    for tok in _KEY_TOKEN.findall(dotted):
        out.append(tok[1:-1] if tok[:1] in "\"'" else tok)
    return out


def _key_lines(text: str) -> dict[KeyPath, int]:
    """Map key paths to the first line that defines them, by scanning headers and `key =` lines."""
    lines: dict[KeyPath, int] = {}
    counts: dict[tuple, int] = {}
    current: tuple = ()
    in_multiline = False

    def resolve(segs: list[str]) -> tuple:
        path: tuple = ()
        for seg in segs:
            path += (seg,)
            if path in counts:
                path += (counts[path],)
        return path

    for n, line in enumerate(text.splitlines(), 1):
        quotes = line.count('"""') + line.count("'''")
        if in_multiline:
            in_multiline = quotes % 2 == 0
            continue
        if quotes % 2:
            in_multiline = True
        stripped = line.strip()
        if m := re.match(r"\[\[\s*(.+?)\s*\]\]", stripped):
            segs = _segments(m.group(1))
            parent = resolve(segs[:-1])
            key = parent + (segs[-1],)
            counts[key] = counts.get(key, -1) + 1
            current = key + (counts[key],)
            lines.setdefault(key, n)
            lines.setdefault(current, n)
        elif m := re.match(r"\[\s*(.+?)\s*\]", stripped):
            current = resolve(_segments(m.group(1)))
            lines.setdefault(current, n)
        elif m := re.match(r"((?:\"(?:[^\"\\]|\\.)*\"|'[^']*'|[A-Za-z0-9_.\s-])+?)\s*=", stripped):
            path = current
            for seg in _segments(m.group(1)):
                path += (seg,)
                lines.setdefault(path, n)
    return lines


# --- the checks ----------------------------------------------------------------------------------


class _Report:
    """Collects errors and warnings as (key path, message) and formats them with file and line."""

    def __init__(self, path: str, text: str):
        self.path = path
        self.lines = _key_lines(text)
        self.errors: list[tuple[KeyPath, str]] = []
        self.warnings: list[tuple[KeyPath, str]] = []

    def error(self, key: KeyPath, message: str) -> None:
        self.errors.append((key, message))

    def warn(self, key: KeyPath, message: str) -> None:
        self.warnings.append((key, message))

    def ok(self, key: KeyPath) -> bool:
        """No error so far at `key` or below it: its value may be used."""
        return not any(p[: len(key)] == key for p, _ in self.errors)

    def line(self, key: KeyPath) -> int | None:
        for i in range(len(key), 0, -1):
            if key[:i] in self.lines:
                return self.lines[key[:i]]
        return None

    def _format(self, key: KeyPath, message: str) -> str:
        where = f"{self.path}: {format_path(key)}: " if key else f"{self.path}: "
        line = self.line(key)
        return where + message + (f" (line {line})" if line else "")

    def formatted(self, items: list[tuple[KeyPath, str]]) -> list[str]:
        order = sorted(range(len(items)), key=lambda i: (self.line(items[i][0]) or 10**9, i))
        return [self._format(*items[i]) for i in order]


def _is_secret(key: str) -> bool:
    k = key.lower()
    if k in _SECRET_REFS:
        return False
    return bool(set(re.split(r"[^a-z0-9]+", k)) & _SECRET_WORDS) or any(p in k for p in _SECRET_PARTS)


def _refuse_secrets(node: Any, key: KeyPath, report: _Report) -> None:
    """Remove every secret-looking key (so the schema does not report it twice) with an error that hides its value."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            _refuse_secrets(item, key + (i,), report)
        return
    if not isinstance(node, dict) or key == ("keys",):  # [keys] maps binding ids, not secrets
        return
    for name in list(node):
        if _is_secret(name):
            del node[name]
            section = key[0] if key else None
            if section == "registries":
                hint = 'use password_env = "VAR", password_command = "cmd" or credentials = "docker"'
            elif section == "hosts":
                hint = "use ssh-agent, or passphrase_command for a key's passphrase"
            else:
                hint = ("use password_env / password_command / credentials = \"docker\" in [[registries]], "
                        "ssh-agent / passphrase_command in [[hosts]]")
            report.error(key + (name,), f"secrets in clear are not allowed in the config file; {hint}")
        else:
            _refuse_secrets(node[name], key + (name,), report)


class _Checker:
    """Semantic checks after the schema, then the dataclasses. Uses only values the schema accepted."""

    def __init__(self, data: dict, report: _Report, env: Mapping[str, str], check_files: bool):
        self.data, self.report, self.env, self.check_files = data, report, env, check_files

    def get(self, table: Any, base: KeyPath, key: str, default: Any = None) -> Any:
        if isinstance(table, dict) and key in table and self.report.ok(base + (key,)):
            return table[key]
        return default

    def file(self, table: Any, base: KeyPath, key: str, *, kind: str = "file") -> str | None:
        raw = self.get(table, base, key)
        if raw is None:
            return None
        path = expand(raw, self.env)
        exists = os.path.isdir(path) if kind == "directory" else os.path.isfile(path)
        if self.check_files and not exists:
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
        hosts = [self.host(h, ("hosts", i), defaults, ssh_config) for i, h in enumerate(self.get(d, (), "hosts", []))]
        self.duplicates(hosts, "hosts", "host")
        registries = [self.registry(r, ("registries", i)) for i, r in enumerate(self.get(d, (), "registries", []))]
        self.duplicates(registries, "registries", "registry")
        ui = self.get(d, (), "ui", {})
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
            keys=dict(self.get(d, (), "keys", {})),
            ui=UIConfig(
                theme=self.get(ui, ("ui",), "theme"),
                log_tail=int(self.get(ui, ("ui",), "log_tail", UIConfig.log_tail)),
                refresh_hz=float(self.get(ui, ("ui",), "refresh_hz", UIConfig.refresh_hz)),
            ),
            warnings=tuple(self.report.formatted(self.report.warnings) + warnings),
            current_context=current,
        )

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
        err = self.report.error
        raw_url = self.get(h, base, "url")
        scheme = raw_url.split("://", 1)[0] if raw_url else None
        tls_table = self.get(h, base, "tls")
        tls = self.host_tls(tls_table, base + ("tls",)) if tls_table is not None else None
        if tls_table is not None and scheme and scheme != "tcp":
            err(base + ("tls",), f"only valid with tcp:// urls (this host is {scheme}://)")
        for key in SSH_ONLY:
            if key in h and scheme and scheme != "ssh":
                err(base + (key,), f"only valid with ssh:// urls (this host is {scheme}://)")
        url = ""
        if raw_url is not None:
            try:
                url = normalise_host_url(raw_url, tls=tls is not None, env=self.env)
            except ValueError as exc:
                err(base + ("url",), str(exc))
        if scheme == "tcp" and tls_table is None and url:
            self.report.warn(base + ("url",), f"{url} without [hosts.tls]: anyone who can reach that port has "
                             "unauthenticated root access to that daemon; use TLS or ssh://")
        identity = self.get(h, base, "identity_file", ())
        identity = (identity,) if isinstance(identity, str) else tuple(identity)
        for i, _ in enumerate(identity):
            self.file(list(identity), base + ("identity_file",) if isinstance(h["identity_file"], str)
                      else base + ("identity_file", i), i) if False else None
        identity = tuple(self._identity(h, base))
        host_ssh_config = self.file(h, base, "ssh_config") or (ssh_config if scheme == "ssh" else None)
        return HostConfig(
            name=self.get(h, base, "name", ""),
            url=url,
            tls=tls,
            identity_file=identity,
            known_hosts=self.file(h, base, "known_hosts"),
            jump=self.jump(h, base),
            socket=self.get(h, base, "socket", DEFAULT_REMOTE_SOCKET),
            passphrase_command=self.get(h, base, "passphrase_command"),
            ssh_config=host_ssh_config,
            connect_timeout=float(self.get(h, base, "connect_timeout", defaults["connect_timeout"])),
            request_timeout=float(self.get(h, base, "request_timeout", defaults["request_timeout"])),
            labels=dict(self.get(h, base, "labels", {})),
            readonly=bool(self.get(h, base, "readonly", False)),
            enabled=bool(self.get(h, base, "enabled", True)),
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
        if url is not None:
            try:
                url = normalise_registry_url(url)
            except ValueError as exc:
                err(base + ("url",), str(exc))
                url = None
        name = self.get(r, base, "name") or (registry_default_name(url) if url else "")
        insecure = bool(self.get(r, base, "insecure", False))
        if url and url.startswith("http://"):
            insecure = True
            warn(base + ("url",), f"{url}: plain HTTP, images and credentials travel unencrypted")
        elif insecure:
            warn(base + ("insecure",), "insecure = true: plain HTTP and unverified TLS are accepted")
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
        t = self.get(r, base, "tls")
        if t is not None:
            if url and url.startswith("http://"):
                err(base + ("tls",), "only valid with https:// registries")
            tls = RegistryTLS(ca=self.file(t, base + ("tls",), "ca"), verify=bool(self.get(t, base + ("tls",), "verify", True)))
            if not tls.verify:
                warn(base + ("tls", "verify"), "verify = false: the registry's certificate is not checked")
        return RegistryConfig(name=name, url=url or "", username=username, password_env=penv, password_command=pcmd,
                              credentials=credentials, tls=tls, insecure=insecure)


# --- entry point ---------------------------------------------------------------------------------


def _syntax_error(path: str, text: str, exc: Exception) -> str:
    message = str(getattr(exc, "msg", None) or exc)
    line, col = getattr(exc, "lineno", None), getattr(exc, "colno", None)
    m = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", message)
    if m:
        line, col = line or int(m.group(1)), col or int(m.group(2))
        message = message[: m.start()]
    m = re.search(r"\s*\(at end of document\)\s*$", message)
    if m:
        message = message[: m.start()]
        lines = text.split("\n")
        line, col = line or len(lines), col or len(lines[-1]) + 1
    return f"{path}:{line}:{col}: {message}" if line else f"{path}: {message}"


def zero_config(env: Mapping[str, str]) -> Config:
    """No config file: the fleet is the Docker CLI contexts."""
    warnings: list[str] = []
    hosts, current = load_docker_contexts(env, warnings=warnings)
    return Config(path=None, hosts=tuple(hosts), import_contexts=True, warnings=tuple(warnings),
                  current_context=current)


def load_config(
    path: str | None = None, env: Mapping[str, str] | None = None, *, check_files: bool = True
) -> Config:
    """The validated configuration. `path` is --config (None: DOCKYARD_CONFIG / XDG default / zero-config).

    Raises ConfigError listing every problem. `check_files=False` skips checking referenced files exist
    (for `dockyard config check` on another machine, and for the example file).
    """
    env = os.environ if env is None else env
    path, explicit = resolve_config_path(path, env)
    if not os.path.exists(path):
        if explicit:
            raise ConfigError(f"{path}: config file not found")
        return zero_config(env)
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid UTF-8 (byte {exc.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_syntax_error(path, text, exc)) from None
    report = _Report(path, text)
    _refuse_secrets(data, (), report)
    for key, message in validate(data, CONFIG_SCHEMA):
        report.error(key, message)
    config = _Checker(data, report, env, check_files).config(path)
    if report.errors:
        raise ConfigError(report.formatted(report.errors))
    return config
