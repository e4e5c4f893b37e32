"""The fleet controller layer: what the UI and CLI talk to. Never imports Textual."""

from dockyard.fleet.controller import CONTAINER_ACTIONS, Fleet
from dockyard.fleet.errors import (
    DaemonError,
    FleetError,
    HostUnavailable,
    ReadOnlyError,
    RequestTimeout,
    UnknownHost,
)
from dockyard.fleet.models import (
    ActionResult,
    Container,
    FleetChange,
    HostKeyOffer,
    HostResult,
    HostState,
    HostStatus,
    Image,
    Network,
    Port,
    Volume,
)
from dockyard.fleet.execs import ExecSession
from dockyard.fleet.logs import LogLine, LogNotice, LogSource
from dockyard.fleet.runspec import RESTART_POLICIES, RunSpec
from dockyard.fleet.session import Timing
from dockyard.fleet.stats import ContainerStats

__all__ = [
    "CONTAINER_ACTIONS", "ActionResult", "Container", "ContainerStats", "DaemonError", "ExecSession", "Fleet", "FleetChange", "FleetError",
    "HostKeyOffer", "HostResult", "HostState", "HostStatus", "HostUnavailable", "Image", "LogLine", "LogNotice", "LogSource", "Network", "Port",
    "RESTART_POLICIES", "ReadOnlyError", "RequestTimeout", "RunSpec", "Timing", "UnknownHost", "Volume",
]
