"""Dockyard: a keyboard-driven terminal UI for many Docker daemons at once.

Layers (imports only go downwards; `tests/test_layers.py` holds every row):

| package               | holds                                                   | may import                              |
|-----------------------|---------------------------------------------------------|-----------------------------------------|
| `dockyard.ui`         | the Textual app, screens, panes, dialogs                | fleet, registry (API only), config, helpers, textual |
| `dockyard.cli`        | the headless CLI: hosts, ps, images [--drift], pull, transfer, registry ls/tags/inspect/rm, services, nodes, service scale/update/rollback/logs, node update, config check | fleet, registry (API only), config, helpers; ui only to start it |
| `dockyard.fleet`      | controller: a session per host, fan-out, live cache     | transports, config, helpers, aiodocker  |
| `dockyard.registry`   | registry v2/OCI client, credentials, the Registries set | config, helpers, aiohttp                |
| `dockyard.transports` | unix / tcp / TLS / SSH(+jump) connectors                | config, asyncssh, aiohttp               |
| `dockyard.config`     | TOML loading, validation, Docker contexts               | stdlib only                             |
| `dockyard.textfmt`    | helper: daemon strings into safe, short display text; short IDs | stdlib only                     |
| `dockyard.imageref`   | helper: image references (`registry/path:tag@digest`) as Docker reads them | stdlib only          |
| `dockyard.tasks`      | helper: cancel a group of asyncio tasks, wait a bounded grace | stdlib only                       |
"""

__version__ = "0.1.0"
