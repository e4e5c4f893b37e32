"""Dockyard: a keyboard-driven terminal UI for many Docker daemons at once.

Layers (imports only go downwards):

| package          | holds                                                     | may import            |
|------------------|-----------------------------------------------------------|-----------------------|
| `tui.ui`         | the Textual app, screens, panes                           | fleet API, config     |
| `tui.cli`        | the headless CLI (`dockyard hosts|ps|images|config`)      | fleet API, config     |
| `tui.fleet`      | controller: sessions per host, fan-out, live cache        | transports, aiodocker |
| `tui.transports` | unix / tcp / TLS / SSH(+jump) connectors                  | asyncssh, aiohttp     |
| `tui.config`     | TOML loading, validation, Docker contexts                 | stdlib only           |
"""

__version__ = "0.1.0"
