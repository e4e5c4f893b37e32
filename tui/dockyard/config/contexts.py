"""The Docker CLI's contexts as hosts: zero-config Dockyard shows what `docker context ls` shows.

Written from the CLI's on-disk layout rather than via aiodocker, whose resolution differs (it lets contexts
beat DOCKER_HOST, ignores DOCKER_CONFIG and only honours DOCKER_TLS_VERIFY == "1"). Never raises for a
broken context store: a bad context is skipped with a warning, like a missing one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from typing import Mapping

from dockyard.config.model import DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, Config, HostConfig, TLSConfig
from dockyard.config.urls import expand, home, parse_host_url

DEFAULT_SOCKET = "/var/run/docker.sock"
DEFAULT_SOCKET_URL = f"unix://{DEFAULT_SOCKET}"


def docker_config_dir(env: Mapping[str, str]) -> str:
    """$DOCKER_CONFIG, else ~/.docker."""
    return expand(env.get("DOCKER_CONFIG") or os.path.join(home(env), ".docker"), env)


def context_id(name: str) -> str:
    """Directory name of a context in the store: sha256 of its name."""
    return hashlib.sha256(name.encode()).hexdigest()


def _tls_files(directory: str) -> dict[str, str]:
    return {
        part: path
        for part in ("ca", "cert", "key")
        if os.path.isfile(path := os.path.join(directory, f"{part}.pem"))
    }


def _default_host(env: Mapping[str, str], cfg_dir: str, timeouts: dict,
                  socket_path: str) -> tuple[HostConfig | None, list[str]]:
    """The implicit `default` context: DOCKER_HOST (+ DOCKER_TLS*/DOCKER_CERT_PATH) or the local socket."""
    docker_host = env.get("DOCKER_HOST")
    if not docker_host:
        return HostConfig(name="default", url=f"unix://{socket_path}", source="default",
                          description="local daemon (default socket)", **timeouts), []
    # Like the CLI: any non-empty DOCKER_TLS_VERIFY means TLS + verify; DOCKER_TLS alone means TLS without verify.
    verify = bool(env.get("DOCKER_TLS_VERIFY"))
    tls = None
    if docker_host.startswith("tcp://") and (verify or env.get("DOCKER_TLS")):
        files = _tls_files(expand(env.get("DOCKER_CERT_PATH") or cfg_dir, env))
        tls = TLSConfig(ca=files.get("ca"), cert=files.get("cert"), key=files.get("key"), verify=verify)
    try:
        endpoint = parse_host_url(docker_host, tls=tls is not None, env=env)
    except ValueError as exc:
        return None, [f"DOCKER_HOST: {exc}; the default context is left out"]
    return HostConfig(name="default", url=endpoint.url, endpoint=endpoint, tls=tls, source="DOCKER_HOST",
                      description="DOCKER_HOST", **timeouts), []


def _read_context(meta_path: str, cfg_dir: str, env: Mapping[str, str], timeouts: dict) -> HostConfig:
    """One context from its meta.json; ValueError (with the reason) when it cannot be used."""
    try:
        with open(meta_path, encoding="utf-8") as fh:
            meta = json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"malformed meta.json ({exc})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("Name"), str) or not meta["Name"]:
        raise ValueError("malformed meta.json (no Name)")
    name = meta["Name"]
    endpoints = meta.get("Endpoints")
    docker = endpoints.get("docker") if isinstance(endpoints, dict) else None
    if not isinstance(docker, dict):
        raise ValueError(f"context {name!r} has no docker endpoint")
    host = docker.get("Host") or DEFAULT_SOCKET_URL
    if not isinstance(host, str):
        raise ValueError(f"context {name!r}: Endpoints.docker.Host is not a string")
    skip_verify = docker.get("SkipTLSVerify") is True
    files = _tls_files(os.path.join(cfg_dir, "contexts", "tls", context_id(name), "docker"))
    tls = None
    if host.startswith("tcp://") and (files or skip_verify):
        tls = TLSConfig(ca=files.get("ca"), cert=files.get("cert"), key=files.get("key"), verify=not skip_verify)
    try:
        endpoint = parse_host_url(host, tls=tls is not None, env=env)
    except ValueError as exc:
        raise ValueError(f"context {name!r}: host {exc}") from None
    metadata = meta.get("Metadata")
    description = metadata.get("Description") if isinstance(metadata, dict) else None
    return HostConfig(name=name, url=endpoint.url, endpoint=endpoint, tls=tls, source=f"context:{name}",
                      description=description if isinstance(description, str) and description else None,
                      **timeouts)


def _current(env: Mapping[str, str], cfg_dir: str, warnings: list[str]) -> tuple[str, bool]:
    """(name, chosen): the CLI's precedence DOCKER_HOST (means default) > DOCKER_CONTEXT > config.json
    currentContext > default; `chosen` is False when nothing named it (the implicit default)."""
    if env.get("DOCKER_HOST"):
        return "default", True
    if env.get("DOCKER_CONTEXT"):
        return env["DOCKER_CONTEXT"], True
    path = os.path.join(cfg_dir, "config.json")
    try:
        with open(path, encoding="utf-8") as fh:
            current = json.load(fh).get("currentContext")
    except FileNotFoundError:
        return "default", False
    except (OSError, UnicodeDecodeError, ValueError, AttributeError) as exc:
        warnings.append(f"{path}: unreadable ({exc}); currentContext ignored")
        return "default", False
    if isinstance(current, str) and current:
        return current, True
    return "default", False


def load_docker_contexts(
    env: Mapping[str, str] | None = None,
    *,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    warnings: list[str] | None = None,
    default_socket: str | None = None,
) -> tuple[list[HostConfig], str | None]:
    """(hosts, current context name): `default` first, then the stored contexts sorted by name.

    `default` is in only when it can mean something: DOCKER_HOST is set, it is the chosen current
    context, or `default_socket` (the local daemon's socket) exists — a user with only remote
    contexts gets no dead local row.
    Problems are appended to `warnings` (pass a list to see them) and never raised.
    """
    env = os.environ if env is None else env
    warnings = [] if warnings is None else warnings
    timeouts = {"connect_timeout": connect_timeout, "request_timeout": request_timeout}
    cfg_dir = docker_config_dir(env)
    default_socket = default_socket or DEFAULT_SOCKET
    current, chosen = _current(env, cfg_dir, warnings)
    default, problems = _default_host(env, cfg_dir, timeouts, default_socket)
    warnings += problems
    if (default is not None and default.source == "default" and not (chosen and current == "default")
            and not os.path.exists(default_socket)):
        default = None  # nothing names it and no daemon listens there
    hosts = [default] if default else []
    meta_root = os.path.join(cfg_dir, "contexts", "meta")
    try:
        entries = sorted(os.listdir(meta_root))
    except FileNotFoundError:
        entries = []
    except OSError as exc:
        warnings.append(f"{meta_root}: cannot list Docker contexts ({exc})")
        entries = []
    found: list[HostConfig] = []
    for entry in entries:
        meta_path = os.path.join(meta_root, entry, "meta.json")
        if not os.path.isfile(meta_path):
            continue
        try:
            host = _read_context(meta_path, cfg_dir, env, timeouts)
        except ValueError as exc:
            warnings.append(f"Docker context {meta_path}: {exc}; skipped")
            continue
        if host.name == "default" or any(h.name == host.name for h in found):
            warnings.append(f"Docker context {meta_path}: duplicate context name {host.name!r}; skipped")
            continue
        found.append(host)
    hosts += sorted(found, key=lambda h: h.name)
    if not any(h.name == current for h in hosts):
        if chosen:
            warnings.append(f"current Docker context {current!r} does not exist"
                            + ("; using 'default'" if default else ""))
        current = "default" if default else None
    return hosts, current


def _from_context(host: HostConfig) -> bool:
    return host.source.startswith("context:") or host.source in ("default", "DOCKER_HOST")


def select_contexts(config: Config, names: list[str], env: Mapping[str, str] | None = None) -> Config:
    """The fleet cut down to the hosts of these Docker contexts (`--context`, repeatable), in that order.

    A config file without `import_contexts` still finds them in the context store; naming `default`
    always gives the local endpoint. Raises ValueError naming what does not exist.
    """
    env = os.environ if env is None else env
    found = {h.name: h for h in config.hosts if _from_context(h)}
    if any(name not in found for name in names):
        store_env = env if env.get("DOCKER_HOST") else {**env, "DOCKER_CONTEXT": "default"}  # default: always
        for host in load_docker_contexts(store_env)[0]:
            found.setdefault(host.name, host)
    unknown = [name for name in names if name not in found]
    if unknown:
        raise ValueError(f"no Docker context named {', '.join(map(repr, unknown))} "
                         f"(contexts: {', '.join(sorted(found)) or 'none'}; see `docker context ls`)")
    return dataclasses.replace(config, hosts=tuple(found[name] for name in dict.fromkeys(names)),
                               current_context=None)
