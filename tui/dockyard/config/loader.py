"""From a TOML file (or nothing) to a validated `Config`, with every problem reported at once.

Order: find the file -> parse TOML -> refuse clear-text secrets (cleartext) -> schema (schema) ->
semantic checks (checks) -> dataclasses. Any error raises one ConfigError listing all of them, sorted
by line; warnings travel in Config.warnings.
"""

from __future__ import annotations

import os
import re
import stat
from typing import Any, Mapping

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from dockyard.config.checks import Checker
from dockyard.config.cleartext import refuse_secrets
from dockyard.config.contexts import load_docker_contexts
from dockyard.config.errors import ConfigError
from dockyard.config.model import Config
from dockyard.config.report import Report
from dockyard.config.urls import expand, home

MAX_CONFIG_BYTES = 1024 * 1024  # a fleet's config is a few KiB; /dev/zero is endless
MAX_DEPTH = 32  # the schema nests 4 deep; tomllib and the checks recurse, so a 5,000-deep array must stop here


def resolve_config_path(cli_path: str | None, env: Mapping[str, str] | None = None) -> tuple[str, bool]:
    """(path, explicit): --config, else $DOCKYARD_CONFIG, else ($XDG_CONFIG_HOME or ~/.config)/dockyard/config.toml.

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


def _syntax_error(path: str, text: str, exc: Exception) -> str:
    """`FILE:LINE:COL: message`, like a compiler, from tomllib's "msg (at line L, column C)"."""
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


def read_config_bytes(path: str) -> bytes:
    """The file's bytes: only a regular file, at most MAX_CONFIG_BYTES (checked before reading,
    and while reading: /proc files say size 0). Opened non-blocking: a FIFO must not hang us."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(f"{path}: not a regular file (a device, pipe, socket or directory); "
                              "a config is a TOML file")
        if st.st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: too large for a config ({st.st_size:,} bytes; at most "
                              f"{MAX_CONFIG_BYTES // 1024} KiB)")
        chunks, size = [], 0
        while size <= MAX_CONFIG_BYTES and (chunk := os.read(fd, MAX_CONFIG_BYTES + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
        raw = b"".join(chunks)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: too large for a config (more than {MAX_CONFIG_BYTES // 1024} KiB)")
    return raw


def _too_deep(data: Any) -> tuple | None:
    """The key path of a value nested deeper than MAX_DEPTH, else None. Iterative: no recursion to overflow."""
    stack: list[tuple[Any, tuple]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > MAX_DEPTH:
            return path[:MAX_DEPTH + 1]
        if isinstance(value, dict):
            stack.extend((v, path + (k,)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, path + (i,)) for i, v in enumerate(value))
    return None


def no_endpoint_help(config: Config, env: Mapping[str, str] | None = None) -> str:
    """What to say when the fleet is empty: nothing was found, and the three ways to add a daemon."""
    path = config.path or resolve_config_path(None, env)[0]
    found = (f"{path} lists no [[hosts]]" if config.path else
             "no local daemon socket (/var/run/docker.sock), no DOCKER_HOST and no Docker context")
    return (f"no Docker endpoint found: {found}. Add one: start dockerd (the local socket is picked up), "
            "`docker context create NAME --docker host=ssh://user@host`, or a [[hosts]] entry "
            f"(name = \"...\", url = \"unix:///...|tcp://...|ssh://...\") in {path}")


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
    raw = read_config_bytes(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid UTF-8 (byte {exc.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_syntax_error(path, text, exc)) from None
    except RecursionError:
        raise ConfigError(f"{path}: arrays or tables nested too deeply (at most {MAX_DEPTH} levels)") from None
    too_deep = _too_deep(data)
    if too_deep is not None:
        raise ConfigError(Report(path, text).formatted(
            [(too_deep[:1], f"nested more than {MAX_DEPTH} levels deep (arrays in arrays, tables in tables)")]))
    # Imported here: `python -m dockyard.config.schema` must not find the module already imported by the package.
    from dockyard.config.schema import CONFIG_SCHEMA, validate

    report = Report(path, text)
    refuse_secrets(data, (), report)
    for key, message in validate(data, CONFIG_SCHEMA):
        report.error(key, message)
    config = Checker(data, report, env, check_files).config(path)
    if report.errors:
        raise ConfigError(report.formatted(report.errors))
    return config

