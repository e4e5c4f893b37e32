"""Transports: how the fleet reaches one Docker daemon (unix, tcp, tls, ssh, ssh+jump)."""

from __future__ import annotations

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
from dockyard.transports.ssh import HostKeyTrust, KeyLoader, PassphrasePrompt, default_known_hosts, open_ssh

__all__ = [
    "AuthFailed", "HostKeyChanged", "HostKeyProblem", "HostKeyRefused", "HostKeyTrust", "HostKeyUnknown",
    "KeyLoader", "PassphrasePrompt", "Transport", "TransportError", "Unreachable", "connect_budget",
    "default_known_hosts", "make_ssl_context", "open_transport",
]


def connect_budget(host: HostConfig) -> float:
    """Seconds one connect attempt may take: connect_timeout, or per SSH hop (ssh_config ConnectTimeout)."""
    if host.scheme == "ssh":
        from dockyard.transports.ssh import connect_budget as ssh_budget

        return ssh_budget(host)
    return host.connect_timeout


async def open_transport(host: HostConfig, trust: HostKeyTrust, keys: KeyLoader) -> Transport:
    """Open the transport for `host`; raises a TransportError subclass saying why not."""
    if host.scheme in ("unix", "tcp"):
        return await open_direct(host)
    if host.scheme == "ssh":
        return await open_ssh(host, trust, keys)
    raise Unreachable(f"unsupported URL scheme {host.scheme!r}")
