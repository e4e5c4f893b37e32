"""Why a host could not be reached, as exceptions the fleet maps onto host states.

They carry words a user can act on; none ever holds a secret.
"""

from __future__ import annotations


class TransportError(Exception):
    """Base: the connection to a daemon could not be made or was lost."""


class Unreachable(TransportError):
    """Network-level failure: refused, timed out, no route, socket missing, link lost."""


class InWords(OSError):
    """A failed connect the transport already put in the user's words (what it tried, where, what to
    check): carried inside aiohttp's ClientConnectorError and shown as it is, never as aiohttp's
    "Cannot connect to host docker:80" — `docker` is only the placeholder host of the HTTP URL."""


class AuthFailed(TransportError):
    """The SSH server (or TLS peer) refused our credentials."""


class HostKeyProblem(TransportError):
    """Base for SSH host-key verification failures; `hop` says which hop of a jump chain. Each
    kind says what happened in `words()` (the exception's message)."""

    def __init__(self, hop: str, host: str, port: int, key_type: str, fingerprint: str):
        self.hop = hop
        self.host = host
        self.port = port
        self.key_type = key_type
        self.fingerprint = fingerprint
        super().__init__(self.words())

    def words(self) -> str:
        raise NotImplementedError


class HostKeyUnknown(HostKeyProblem):
    """No key for this host in known_hosts: the user may accept it (once, or saved)."""

    def __init__(self, hop: str, host: str, port: int, key_type: str, fingerprint: str, key_line: str,
                 save_to: str | None = None, pattern: str | None = None):
        super().__init__(hop, host, port, key_type, fingerprint)
        self.key_line = key_line  # "ssh-ed25519 AAAA…" for known_hosts
        self.save_to = save_to  # the user's first known_hosts file (None: UserKnownHostsFile none)
        self.pattern = pattern  # the name OpenSSH would record: HostKeyAlias, else [host]:port

    def words(self) -> str:
        return f"unknown host key for {self.hop}: {self.key_type} {self.fingerprint}"


class HostKeyRefused(HostKeyProblem):
    """An unknown key under `StrictHostKeyChecking yes`: refused outright, never offered."""

    def words(self) -> str:
        return (f"unknown host key for {self.hop}: {self.key_type} {self.fingerprint}; refused because your SSH "
                "config sets StrictHostKeyChecking yes (add the key to known_hosts yourself, e.g. by `ssh` to "
                "it once after checking the fingerprint)")


class HostKeyChanged(HostKeyProblem):
    """known_hosts holds a different key for this host: refused, never offered for acceptance."""

    def words(self) -> str:
        return (f"HOST KEY CHANGED for {self.hop}: it now offers {self.key_type} {self.fingerprint}, which does "
                "not match known_hosts. This may be a man-in-the-middle attack; connection refused. "
                "If the change is legitimate, remove the old key from known_hosts.")
