"""Parsing of daemon/registry URLs and `~` paths, shared by the file loader and the contexts loader.

A daemon's URL is parsed once, when the configuration is loaded, into an `Endpoint` (scheme, socket
path, address, port, TLS, SSH user); the transports and the prefetch read its fields and never split
the URL again. Functions raise ValueError with a message meant to follow "key: " in an error line.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlsplit

DOCKER_PORT = 2375  # a daemon's plain-TCP port when the url names none (as the docker CLI assumes)
DOCKER_TLS_PORT = 2376  # … and with TLS


@dataclass(frozen=True)
class Endpoint:
    """Where a daemon listens, as `parse_host_url` read it."""

    scheme: str  # "unix", "tcp" or "ssh"
    url: str  # normalised: unix:///abs, tcp://host:port, ssh:// as written (no trailing /)
    socket_path: str = ""  # unix
    address: str = ""  # tcp: host name or IP (no brackets); ssh: host or ~/.ssh/config alias, case kept
    port: int | None = None  # tcp: always (defaulted); ssh: as written, else None (ssh_config or 22)
    user: str | None = None  # ssh: as written, else None (ssh_config or the local user)
    tls: bool = False  # tcp with [hosts.tls]

    @property
    def http_base(self) -> str:
        """The base URL an HTTP client uses for a tcp endpoint."""
        return f"{'https' if self.tls else 'http'}://{_netloc(self.address, self.port)}"


def home(env: Mapping[str, str]) -> str:
    """$HOME of `env` (so tests can pass a fake one), else the real home directory."""
    return env.get("HOME") or os.path.expanduser("~")


def expand(path: str, env: Mapping[str, str]) -> str:
    """Expand a leading `~` (with `env`'s HOME); `~user` goes through os.path.expanduser."""
    if path == "~" or path.startswith("~/"):
        return home(env) + path[1:]
    if path.startswith("~"):
        return os.path.expanduser(path)
    return path


def _netloc(host: str, port: int | None) -> str:
    host = f"[{host}]" if ":" in host else host
    return host if port is None else f"{host}:{port}"


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


def _split(url: str, secret_hint: str):
    """urlsplit, refusing what would only fail at connect time: an empty user or port, port 0,
    spaces or control characters anywhere."""
    parts = urlsplit(url)
    if parts.password is not None:  # checked first: never echo a url that holds a password
        raise ValueError(f"must not hold a password; {secret_hint}")
    if _SPACE_OR_CONTROL.search(url):
        raise ValueError(f"must not contain spaces or control characters (got {url!r})")
    if parts.query or parts.fragment:
        raise ValueError(f"must not have a query or fragment (got {url!r})")
    if parts.path not in ("", "/"):
        raise ValueError(f"must not have a path (got {url!r})")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"invalid port (got {url!r})") from None
    if port == 0 or parts.netloc.endswith(":"):
        raise ValueError(f"invalid port: use 1..65535 or leave the port out (got {url!r})")
    if not parts.hostname:
        raise ValueError(f"has no host (got {url!r})")
    if parts.username is not None and not parts.username:
        raise ValueError(f"has an empty user name before '@' (got {url!r})")
    return parts, port


def parse_host_url(url: str, *, tls: bool, env: Mapping[str, str]) -> Endpoint:
    """unix:///abs, tcp://host:port (port defaulted: DOCKER_TLS_PORT with TLS, DOCKER_PORT without),
    ssh:// kept verbatim; ValueError saying what is wrong."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("unix", "tcp", "ssh"):
        raise ValueError(f"must start with unix://, tcp:// or ssh:// (got {url!r})")
    if scheme == "unix":
        path = expand(rest, env)
        if not path.startswith("/"):
            raise ValueError(f"unix socket path must be absolute, like unix:///var/run/docker.sock (got {url!r})")
        if path.endswith("/") or os.path.basename(path) in (".", ".."):
            raise ValueError(f"unix socket path names a directory, not a socket file (got {url!r})")
        if path != path.strip() or _CONTROL.search(path):
            raise ValueError(f"unix socket path must not start or end with a space or hold control "
                             f"characters (got {url!r})")
        return Endpoint("unix", "unix://" + path, socket_path=path)
    parts, port = _split(url, "use ssh-agent or passphrase_command")
    if scheme == "tcp":
        if parts.username:
            raise ValueError(f"tcp:// urls take no user (got {url!r})")
        port = port or (DOCKER_TLS_PORT if tls else DOCKER_PORT)
        return Endpoint("tcp", "tcp://" + _netloc(parts.hostname, port), address=parts.hostname, port=port, tls=tls)
    # ssh: the host may be an ~/.ssh/config alias (case-sensitive, where urlsplit lowercases): as written.
    host_port = parts.netloc.rpartition("@")[2]
    address = host_port[1:host_port.index("]")] if host_port.startswith("[") else host_port.partition(":")[0]
    return Endpoint("ssh", url.rstrip("/"), address=address, port=port, user=parts.username)


def endpoint_of(url: str, tls: bool = False) -> Endpoint:
    """The endpoint of an already normalised url (a HostConfig made in code); one that cannot be
    parsed gives an endpoint no transport accepts (its scheme says so), never an exception here."""
    try:
        return parse_host_url(url, tls=tls, env=os.environ)
    except ValueError:
        return Endpoint(url.partition("://")[0] if "://" in url else "", url)


def normalise_registry_url(url: str) -> str:
    """https://host[:port] or http://host[:port]; a bare host[:port] means https."""
    if "://" not in url:
        url = "https://" + url
    scheme = url.split("://", 1)[0]
    if scheme not in ("http", "https"):
        raise ValueError(f"must be http://, https:// or a bare host[:port] (got {url!r})")
    parts, port = _split(url, "use username with password_env, password_command or credentials = \"docker\"")
    if parts.username:
        raise ValueError(f"must not hold a user name; use the username key (got {url!r})")
    return f"{scheme}://" + _netloc(parts.hostname, port)


def registry_default_name(url: str) -> str:
    """The host[:port] of a normalised registry url, used when `name` is omitted."""
    return url.split("://", 1)[1]
