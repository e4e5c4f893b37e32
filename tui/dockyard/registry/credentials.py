"""Where a registry password comes from, and the `Secret` wrapper that keeps it out of sight.

| source                           | how                                                                 |
|----------------------------------|---------------------------------------------------------------------|
| `password_env = "VAR"`           | the variable of the environment given to `CredentialSource`         |
| `password_command = "…"`         | run by the shell, stdout stripped (e.g. `pass show registry`)       |
| `credentials = "docker"`         | `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`:            |
|                                  | `credHelpers{host: suffix}`, then `auths{host: {auth, identitytoken}}`,|
|                                  | then `credsStore`, via `docker-credential-<suffix> get`             |

A password only ever lives in a `Secret`, whose repr/str is `****`; error messages name the source
(`$VAR`, `password_command`, the helper), never the value.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from dockyard.config.model import RegistryConfig
from dockyard.config.urls import home
from dockyard.registry.errors import CredentialError

DOCKER_HUB_KEY = "https://index.docker.io/v1/"
DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})
_HELPER_NAME = re.compile(r"^[A-Za-z0-9._-]+$")
COMMAND_TIMEOUT = 30.0


class Secret:
    """A password or token. `str()`/`repr()`/f-strings show `****`; `reveal()` is the only way in."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "****"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return "****"

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self):  # no pickling a secret into a cache file by accident
        raise TypeError("a Secret cannot be pickled")


@dataclass(frozen=True)
class Credentials:
    """Who we are to one registry. `identity_token` (an OAuth2 refresh token from `docker login`)
    replaces the password when present. `source` says where they came from, for status lines."""

    username: str | None
    password: Secret | None = None
    identity_token: Secret | None = None
    source: str = ""

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, source={self.source!r})"

    __str__ = __repr__

    def basic_header(self) -> str | None:
        """`Basic base64(user:password)` for Basic auth and token requests; None without a password."""
        if self.username is None or not self.password:
            return None
        raw = f"{self.username}:{self.password.reveal()}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")


def registry_host(url: str) -> str:
    """`host[:port]` of a registry url or a Docker config key (`https://index.docker.io/v1/`, `host`)."""
    if "://" not in url:
        url = "//" + url
    netloc = urlsplit(url).netloc
    return netloc.lower()


def docker_config_key(url: str) -> str:
    """The key the Docker CLI files credentials under: Hub's legacy URL, otherwise host[:port]."""
    host = registry_host(url)
    return DOCKER_HUB_KEY if host in DOCKER_HUB_HOSTS else host


def docker_config_dir(env: Mapping[str, str]) -> str:
    return env.get("DOCKER_CONFIG") or os.path.join(home(env), ".docker")


def read_docker_config(env: Mapping[str, str]) -> dict[str, Any]:
    """`config.json` of the Docker CLI, or {} when absent; unreadable/invalid -> CredentialError."""
    path = os.path.join(docker_config_dir(env), "config.json")
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise CredentialError(f"cannot read {path}: {getattr(exc, 'strerror', None) or type(exc).__name__}") from None
    return data if isinstance(data, dict) else {}


def _find_key(mapping: Any, host: str) -> str | None:
    """The key of `mapping` that names `host` (keys may be `host`, `https://host`, `https://host/v1/`)."""
    if not isinstance(mapping, dict):
        return None
    hub = host in DOCKER_HUB_HOSTS or host == DOCKER_HUB_KEY
    for key in mapping:
        k = registry_host(key)
        if k == host or (hub and k in DOCKER_HUB_HOSTS):
            return key
    return None


class CredentialSource:
    """Resolves a `RegistryConfig`'s credentials. One per process is enough; values are not cached
    here (the client keeps what it got for its lifetime)."""

    def __init__(self, env: Mapping[str, str] | None = None, *, command_timeout: float = COMMAND_TIMEOUT):
        self.env = dict(os.environ if env is None else env)
        self.command_timeout = command_timeout

    def __repr__(self) -> str:
        return "CredentialSource()"

    # -- what the status line says, without running anything

    def describe(self, registry: RegistryConfig) -> str:
        if registry.password_env:
            return f"{registry.username} (password from ${registry.password_env})"
        if registry.password_command:
            return f"{registry.username} (password from command)"
        if registry.credentials == "docker":
            return "Docker credential store"
        if registry.username:
            return f"{registry.username} (no password)"
        return "anonymous"

    # -- the real thing

    async def get(self, registry: RegistryConfig) -> Credentials | None:
        """The credentials for `registry`, or None for anonymous access. Raises CredentialError."""
        if registry.password_env:
            value = self.env.get(registry.password_env)
            if value is None:
                raise CredentialError(f"registry {registry.name}: environment variable ${registry.password_env} "
                                      "(password_env) is not set", registry=registry.name)
            return Credentials(registry.username, Secret(value), source=f"${registry.password_env}")
        if registry.password_command:
            value = await self._password_command(registry)
            return Credentials(registry.username, Secret(value), source="password_command")
        if registry.credentials == "docker":
            return await self.from_docker(registry.url, registry_name=registry.name)
        if registry.username:
            return Credentials(registry.username, None, source="username only")
        return None

    async def _password_command(self, registry: RegistryConfig) -> str:
        try:
            proc = await asyncio.create_subprocess_shell(  # run by the shell, as documented
                registry.password_command, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=self.env,
            )
        except OSError as exc:
            raise CredentialError(f"registry {registry.name}: password_command cannot start: {exc.strerror}",
                                  registry=registry.name) from None
        try:
            out, err = await asyncio.wait_for(proc.communicate(), self.command_timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            raise CredentialError(f"registry {registry.name}: password_command did not finish within "
                                  f"{self.command_timeout:.0f} s", registry=registry.name) from None
        if proc.returncode != 0:
            hint = _first_line(err)
            raise CredentialError(f"registry {registry.name}: password_command exited with status "
                                  f"{proc.returncode}" + (f": {hint}" if hint else ""), registry=registry.name)
        value = out.decode(errors="replace").strip()
        if not value:
            raise CredentialError(f"registry {registry.name}: password_command printed nothing",
                                  registry=registry.name)
        return value

    async def from_docker(self, url: str, *, registry_name: str = "") -> Credentials | None:
        """The Docker CLI's credentials for the registry at `url` (None: not logged in there)."""
        host = registry_host(url)
        cfg = read_docker_config(self.env)
        helpers = cfg.get("credHelpers")
        key = _find_key(helpers, host)
        if key is not None:
            return await self.helper_get(str(helpers[key]), docker_config_key(url), registry_name)
        auths = cfg.get("auths")
        key = _find_key(auths, host)
        entry = auths.get(key) if key is not None else None
        if isinstance(entry, dict):
            creds = _from_auth_entry(entry, registry_name)
            if creds is not None:
                return creds
        store = cfg.get("credsStore")
        if isinstance(store, str) and store:
            # The CLI asks the store with the key it filed the login under.
            return await self.helper_get(store, key or docker_config_key(url), registry_name)
        return None

    async def helper_get(self, suffix: str, server_url: str, registry_name: str = "") -> Credentials | None:
        """`docker-credential-<suffix> get` with the server URL on stdin -> {ServerURL, Username, Secret}."""
        if not _HELPER_NAME.match(suffix):
            raise CredentialError(f"invalid Docker credential helper name {suffix!r}", registry=registry_name)
        name = f"docker-credential-{suffix}"
        exe = shutil.which(name, path=self.env.get("PATH", os.defpath))
        if exe is None:
            raise CredentialError(f"{name} (Docker credential helper) not found on PATH", registry=registry_name)
        try:
            proc = await asyncio.create_subprocess_exec(
                exe, "get", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, env=self.env,
            )
            out, err = await asyncio.wait_for(proc.communicate(server_url.encode()), self.command_timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            raise CredentialError(f"{name} get did not answer within {self.command_timeout:.0f} s",
                                  registry=registry_name) from None
        except OSError as exc:
            raise CredentialError(f"{name} cannot start: {exc.strerror}", registry=registry_name) from None
        if proc.returncode != 0:
            text = (out + err).decode(errors="replace")
            if "credentials not found" in text.lower():
                return None  # the protocol's "not logged in"
            raise CredentialError(f"{name} get exited with status {proc.returncode}"
                                  + (f": {_first_line(err or out)}" if (err or out) else ""), registry=registry_name)
        try:
            data = json.loads(out)
            username, secret = data.get("Username"), data.get("Secret")
        except (ValueError, AttributeError):
            raise CredentialError(f"{name} get answered something that is not its JSON protocol",
                                  registry=registry_name) from None
        if not secret:
            return None
        if username == "<token>":  # the helper protocol's marker for an identity token
            return Credentials(None, None, identity_token=Secret(secret), source=name)
        return Credentials(username, Secret(secret), source=name)


def _from_auth_entry(entry: dict, registry_name: str) -> Credentials | None:
    token = entry.get("identitytoken")
    username = entry.get("username")
    password = entry.get("password")
    auth = entry.get("auth")
    if auth:
        try:
            decoded = base64.b64decode(auth, validate=False).decode()
            username, sep, password = decoded.partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise CredentialError("config.json: an auths entry holds an invalid 'auth' value "
                                  "(expected base64 of user:password)", registry=registry_name) from None
        if not sep:
            raise CredentialError("config.json: an auths entry's 'auth' is not user:password",
                                  registry=registry_name)
    if token:
        return Credentials(username or None, None, identity_token=Secret(token), source="docker config.json")
    if username and password:
        return Credentials(username, Secret(password), source="docker config.json")
    return None


def _first_line(data: bytes) -> str:
    text = data.decode(errors="replace").strip()
    line = text.splitlines()[0] if text else ""
    return line[:200]
