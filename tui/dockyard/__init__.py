"""Dockyard: a keyboard-driven terminal UI for many Docker daemons at once.

Layers (imports only go downwards; `tests/test_layers.py` holds every row):

| package               | holds                                                   | may import                              |
|-----------------------|---------------------------------------------------------|-----------------------------------------|
| `dockyard.ui`         | the Textual app, screens, panes, dialogs                | fleet, registry (API only), config, textfmt, textual |
| `dockyard.cli`        | the headless CLI (`dockyard hosts|ps|images|pull|…`)    | fleet, registry (API only), config, textfmt |
| `dockyard.fleet`      | controller: a session per host, fan-out, live cache     | transports, config, textfmt, aiodocker  |
| `dockyard.registry`   | registry v2/OCI client, credentials, the Registries set | config, textfmt, aiohttp                |
| `dockyard.transports` | unix / tcp / TLS / SSH(+jump) connectors                | config, asyncssh, aiohttp               |
| `dockyard.config`     | TOML loading, validation, Docker contexts               | stdlib only                             |
| `dockyard.textfmt`    | turning daemon strings into safe, short display text    | stdlib only                             |
"""

__version__ = "0.1.0"
