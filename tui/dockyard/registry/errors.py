"""Errors the registry client raises; every message is meant for a user's eyes.

No message ever holds a password or a token: they are built from the registry's answer, its
name and url, never from request headers (aiohttp's own exceptions carry those, so they are
never chained into ours).
"""

from __future__ import annotations


class RegistryError(Exception):
    """Base of everything the registry layer raises on purpose."""

    words = "registry error"

    def __init__(self, message: str, *, registry: str = "", status: int | None = None):
        super().__init__(message)
        self.message = message
        self.registry = registry
        self.status = status


class Unauthorized(RegistryError):
    """401: no credentials, wrong ones, or a token the registry does not accept."""

    words = "unauthorized"


class Denied(RegistryError):
    """403 / DENIED: the credentials are fine but not allowed to do this."""

    words = "denied"


class NotFound(RegistryError):
    """404: no such repository, tag or digest."""

    words = "not found"


class CatalogUnsupported(NotFound):
    """The registry does not serve `_catalog` (Docker Hub, GHCR, many clouds): name a repository."""

    words = "no catalog"


class DeletionDisabled(RegistryError):
    """405 on DELETE: the registry runs with deletion disabled."""

    words = "deletion disabled"


class RateLimited(RegistryError):
    """429 / TOOMANYREQUESTS; `retry_after` in seconds when the registry said."""

    words = "rate limited"

    def __init__(self, message: str, *, registry: str = "", status: int | None = None,
                 retry_after: float | None = None):
        super().__init__(message, registry=registry, status=status)
        self.retry_after = retry_after


class TLSFailure(RegistryError):
    """The TLS handshake failed: untrusted or mismatched certificate, or the server speaks plain HTTP."""

    words = "TLS failure"


class NotARegistry(RegistryError):
    """Something answered, but not the registry API (an HTML page, garbage, a proxy's error)."""

    words = "not a registry"


class Unreachable(RegistryError):
    """Nothing answered: connection refused, unknown host, no route."""

    words = "unreachable"


class RegistryTimeout(RegistryError):
    """The registry did not answer in time."""

    words = "timeout"


class CredentialError(RegistryError):
    """The password could not be obtained: env var unset, password_command or credential helper failed."""

    words = "credentials unavailable"


class ReadOnlyRegistry(RegistryError):
    """A delete refused because Dockyard runs read-only."""

    words = "read-only"


class BadReference(ValueError):
    """A repository name, tag or digest that is not valid (refused before anything is sent)."""
