"""From a TOML file (or nothing) to a validated `Config`, with every problem reported at once.

Order: find the file -> parse TOML -> refuse clear-text secrets (cleartext) -> schema (schema) ->
semantic checks (checks) -> dataclasses. Any error raises one ConfigError listing all of them, sorted
by line; warnings travel in Config.warnings.
"""

from __future__ import annotations

import os
import re
from typing import Mapping

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

