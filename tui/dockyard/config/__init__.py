"""Configuration: `config.toml` (or the Docker CLI contexts when there is none) -> a validated `Config`.

stdlib only, so the CLI can report config errors without importing the UI or the transports.

| who reads what          | from                                                          |
|-------------------------|---------------------------------------------------------------|
| `load_config`           | --config, $DOCKYARD_CONFIG, $XDG_CONFIG_HOME/~/.config, DOCKER_* |
| `load_docker_contexts`  | $DOCKER_CONFIG or ~/.docker (contexts store, config.json)     |
| `select_contexts`       | the same, for `--context NAME`                                 |
| `CONFIG_SCHEMA`         | the rules; also config/dockyard.schema.json                   |
"""

from dockyard.config.contexts import load_docker_contexts, select_contexts
from dockyard.config.errors import ConfigError
from dockyard.config.loader import load_config, no_endpoint_help, resolve_config_path
# The loaded configuration's top and a host's entry; the other sections' classes (and the
# defaults) are config.model's, imported from there by the few modules that build them.
from dockyard.config.model import Config, HostConfig, TLSConfig


def __getattr__(name: str):
    # Lazy, so that `python -m dockyard.config.schema` runs the module fresh (no runpy warning).
    if name == "CONFIG_SCHEMA":
        from dockyard.config.schema import CONFIG_SCHEMA

        return CONFIG_SCHEMA
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CONFIG_SCHEMA",
    "Config",
    "ConfigError",
    "HostConfig",
    "TLSConfig",
    "load_config",
    "load_docker_contexts",
    "no_endpoint_help",
    "resolve_config_path",
    "select_contexts",
]
