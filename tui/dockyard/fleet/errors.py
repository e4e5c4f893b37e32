"""Errors the fleet raises upwards; messages are meant for a user's eyes."""

from __future__ import annotations


class FleetError(Exception):
    """Base of everything the fleet raises on purpose."""


class HostUnavailable(FleetError):
    """The host is not online (unreachable, auth failed, host key pending, disabled…)."""


class ReadOnlyError(FleetError):
    """A mutating call on a read-only fleet or host."""


class DaemonError(FleetError):
    """The daemon answered with an error status."""

    def __init__(self, host: str, status: int, message: str):
        message = message.strip()  # daemons end plain-text errors with a newline
        super().__init__(f"{host}: {message} (HTTP {status})")
        self.host = host
        self.status = status
        self.message = message


class RequestTimeout(FleetError):
    """The daemon did not answer within the host's request_timeout."""


class UnknownHost(FleetError):
    """No host of that name in the fleet."""


class BadReply(FleetError):
    """The daemon answered, but not as the Docker API describes (a body that is not JSON, or not
    the shape asked for): shown to the user in words, never a crash."""

    def __init__(self, host: str, request: str, detail: str):
        super().__init__(f"{host}: unreadable reply to {request}: {detail}")
        self.host, self.request, self.detail = host, request, detail


class UnsupportedAPI(FleetError):
    """The daemon's Docker Engine API version is outside what Dockyard supports."""

    def __init__(self, message: str, version: dict | None = None):
        super().__init__(message)
        self.version = version or {}  # the daemon's `/version`, for the host's row
