"""Which registries the user has (the config's `[[registries]]`, the Docker CLI's logins, Docker Hub),
and `Registries`: that list with a client and the credentials for each, shared by the TUI and the CLI.

| source            | becomes                                                                        |
|-------------------|--------------------------------------------------------------------------------|
| `[[registries]]`  | as written (wins over the others for the same host)                            |
| `config.json`     | every `auths` / `credHelpers` host: name = host, credentials = "docker";       |
|                   | loopback hosts use plain HTTP, like the Docker daemon's default insecure range |
| the fleet's use   | registries its images name or its daemons list as insecure (`add_in_use`, fed |
|                   | by the fleet): source "in use: HOSTS", plain HTTP when insecure               |
| Docker Hub        | `docker.io` (https://registry-1.docker.io, token auth via auth.docker.io),     |
|                   | unless configured, `docker_hub = false` in the config (air-gapped sites), or   |
|                   | `DOCKYARD_NO_DOCKER_HUB=1` for one run (tests)                                 |
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass

from dockyard.config.model import Config, RegistryConfig
from dockyard.imageref import parse_image_ref
from dockyard.registry.client import RegistryClient
from dockyard.registry.credentials import DOCKER_HUB_HOSTS, CredentialSource, read_docker_config, registry_host
from dockyard.registry.errors import CredentialError, RegistryError

DOCKER_HUB = RegistryConfig(name="docker.io", url="https://registry-1.docker.io", credentials="docker")


@dataclass(frozen=True)
class RegistryEntry:
    config: RegistryConfig
    source: str  # "config", "docker config", "default"

    @property
    def name(self) -> str:
        return self.config.name


def _is_loopback(host: str) -> bool:
    hostname = host.rsplit(":", 1)[0] if host.count(":") == 1 or host.startswith("[") else host
    hostname = hostname.strip("[]")
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def docker_config_registries(env: Mapping[str, str], warnings: list[str] | None = None) -> list[RegistryConfig]:
    """The hosts the Docker CLI has logins for (`auths`, `credHelpers`), Docker Hub excluded."""
    try:
        cfg = read_docker_config(env)
    except CredentialError as exc:
        if warnings is not None:
            warnings.append(str(exc))
        return []
    hosts: list[str] = []
    for section in ("auths", "credHelpers"):
        value = cfg.get(section)
        if isinstance(value, dict):
            for key in value:
                host = registry_host(str(key))
                if host and host not in DOCKER_HUB_HOSTS and host not in hosts:
                    hosts.append(host)
    out = []
    for host in hosts:
        insecure = _is_loopback(host)
        out.append(RegistryConfig(name=host, url=("http://" if insecure else "https://") + host,
                                  credentials="docker", insecure=insecure))
    return out


def docker_hub_enabled(env: Mapping[str, str]) -> bool:
    return env.get("DOCKYARD_NO_DOCKER_HUB", "").lower() not in ("1", "true", "yes")


def known_registries(config: Config, env: Mapping[str, str] | None = None, *,
                     docker_hub: bool | None = None, warnings: list[str] | None = None) -> list[RegistryEntry]:
    """Config registries, then the Docker CLI's, then Docker Hub; one entry per host."""
    env = os.environ if env is None else env
    entries = [RegistryEntry(r, "config") for r in config.registries]
    hosts = {registry_host(r.url) for r in config.registries}
    names = {r.name for r in config.registries}
    hub_configured = bool(hosts & DOCKER_HUB_HOSTS)
    for r in docker_config_registries(env, warnings):
        if registry_host(r.url) not in hosts and r.name not in names:
            entries.append(RegistryEntry(r, "docker config"))
            hosts.add(registry_host(r.url))
            names.add(r.name)
    if docker_hub is None:
        docker_hub = config.docker_hub and docker_hub_enabled(env)
    if docker_hub and not hub_configured \
            and DOCKER_HUB.name not in names:
        entries.append(RegistryEntry(DOCKER_HUB, "default"))
    return entries


def find_registry(entries: list[RegistryEntry], name: str) -> RegistryEntry | None:
    """By name, else by host[:port] (so `127.0.0.1:5000` or `docker.io` work too)."""
    for e in entries:
        if e.name == name:
            return e
    host = registry_host(name)
    for e in entries:
        h = registry_host(e.config.url)
        if h == host or (host in DOCKER_HUB_HOSTS and h in DOCKER_HUB_HOSTS):
            return e
    return None


class Registries:
    """The user's registries for one run: the entries (read once), a client per registry (opened on
    first use, closed by `close()`), and one credential source. Read-only mode refuses deletes."""

    def __init__(self, config: Config, *, readonly: bool | None = None, env: Mapping[str, str] | None = None):
        self.config = config
        self.readonly = config.readonly if readonly is None else readonly
        self.env = os.environ if env is None else env
        self.credentials = CredentialSource(self.env)
        self.warnings: list[str] = []  # what was wrong with the Docker CLI's config, found with the entries
        self._entries: list[RegistryEntry] | None = None
        self._clients: dict[str, RegistryClient] = {}

    @property
    def entries(self) -> list[RegistryEntry]:
        if self._entries is None:
            self._entries = known_registries(self.config, self.env, warnings=self.warnings)
        return self._entries

    def find(self, name: str) -> RegistryEntry | None:
        """By name, else by host[:port] (see `find_registry`)."""
        return find_registry(self.entries, name)

    def add_in_use(self, uses: list[tuple[str, tuple[str, ...], bool]]) -> list[RegistryEntry]:
        """Registries the fleet uses (registry host[:port], the hosts using it, plain HTTP or not) that
        are not listed yet become entries with source "in use: …", browsed with the Docker CLI's login
        for that host if it has one (as the daemons pull). Returns the new entries."""
        added = []
        for registry, hosts, insecure in uses:
            if find_registry(self.entries, registry) is not None or registry in DOCKER_HUB_HOSTS:
                continue
            shown = ", ".join(hosts[:3]) + (f" +{len(hosts) - 3}" if len(hosts) > 3 else "")
            entry = RegistryEntry(RegistryConfig(name=registry, url=("http://" if insecure else "https://") + registry,
                                                 credentials="docker", insecure=insecure), f"in use: {shown}")
            self.entries.append(entry)
            added.append(entry)
        return added

    def client(self, name: str) -> RegistryClient:
        """The client of the registry named `name` (opened once, kept until `close()`)."""
        if name not in self._clients:
            entry = next((e for e in self.entries if e.name == name), None)
            if entry is None:
                raise RegistryError(f"no registry named {name!r}", registry=name)
            self._clients[name] = RegistryClient(entry.config, credentials=self.credentials, readonly=self.readonly)
        return self._clients[name]

    async def close(self) -> None:
        clients = list(self._clients.values())
        self._clients.clear()
        for client in clients:
            await client.close()

    async def auth_for(self, image: str) -> dict[str, str] | None:
        """What the daemon needs to pull or push `image` (its X-Registry-Auth, as a dict): the
        credentials of the registry the reference names (Docker Hub when it names none), or None
        for anonymous access. Raises CredentialError when a credential source fails."""
        host = parse_image_ref(image).registry_host
        entry = self.find(host)
        if entry is None:
            return None
        creds = await self.credentials.get(entry.config)
        if creds is None:
            return None
        if creds.identity_token is not None:
            return {"identitytoken": creds.identity_token.reveal(), "serveraddress": host}
        return {"username": creds.username or "", "password": creds.password.reveal() if creds.password else "",
                "serveraddress": host}
