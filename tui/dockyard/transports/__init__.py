"""Transports: how the fleet reaches one Docker daemon (unix, tcp, tls, ssh, ssh+jump).

The SSH transport (and asyncssh, 0.34 s to import) loads on first use: a fleet without an
SSH host never imports it (`KeyLoader`, `default_known_hosts`, `open_ssh` are lazy names).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from dockyard.config.model import HostConfig
from dockyard.transports.base import Transport, make_ssl_context
from dockyard.transports.direct import open_direct
from dockyard.transports.errors import (
    AuthFailed,
    HostKeyChanged,
    HostKeyProblem,
    HostKeyRefused,
    HostKeyUnknown,
    TransportError,
    Unreachable,
)
from dockyard.transports.hostkeys import HostKeyTrust, PassphrasePrompt
from dockyard.transports.links import Links

if TYPE_CHECKING:
    from dockyard.transports.ssh import KeyLoader

_SSH_NAMES = ("KeyLoader", "default_known_hosts", "open_ssh")

__all__ = [
    "AuthFailed", "HostKeyChanged", "HostKeyProblem", "HostKeyRefused", "HostKeyTrust", "HostKeyUnknown",
    "KeyLoader", "Links", "PassphrasePrompt", "Transport", "TransportError", "Unreachable", "connect_budget",
    "default_known_hosts", "make_ssl_context", "open_transport",
]


def __getattr__(name: str) -> object:
    if name in _SSH_NAMES:
        from dockyard.transports import ssh

        return getattr(ssh, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def connect_budget(host: HostConfig) -> float:
    """Seconds one connect attempt may take: connect_timeout, or per SSH hop (ssh_config ConnectTimeout)."""
    if host.scheme == "ssh":
        from dockyard.transports.ssh import connect_budget as ssh_budget

        return ssh_budget(host)
    return host.connect_timeout


async def open_transport(host: HostConfig, trust: HostKeyTrust, keys: Callable[[], KeyLoader],
                         links: Links | None = None) -> Transport:
    """Open the transport for `host` (sharing what `links` shares); raises a TransportError subclass
    saying why not."""
    links = links or Links()
    if host.scheme in ("unix", "tcp"):
        return await open_direct(host, links.keep_idle, links.probe_streams)
    if host.scheme == "ssh":
        from dockyard.transports.ssh import open_ssh

        return await open_ssh(host, trust, keys(), links)
    raise Unreachable(f"unsupported URL scheme {host.scheme!r}")
