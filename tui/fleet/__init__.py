"""The fleet controller layer: what the UI and CLI talk to. Never imports Textual."""

from tui.fleet.controller import CONTAINER_ACTIONS, Fleet
from tui.fleet.errors import (
    DaemonError,
    FleetError,
    HostUnavailable,
    ReadOnlyError,
    RequestTimeout,
    UnknownHost,
)
from tui.fleet.models import (
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
from tui.fleet.execs import ExecSession
from tui.fleet.logs import LogLine, LogNotice, LogSource
from tui.fleet.runspec import RESTART_POLICIES, RunSpec
from tui.fleet.session import Timing
from tui.fleet.stats import ContainerStats

__all__ = [
    "CONTAINER_ACTIONS", "ActionResult", "Container", "ContainerStats", "DaemonError", "ExecSession", "Fleet", "FleetChange", "FleetError",
    "HostKeyOffer", "HostResult", "HostState", "HostStatus", "HostUnavailable", "Image", "LogLine", "LogNotice", "LogSource", "Network", "Port",
    "RESTART_POLICIES", "ReadOnlyError", "RequestTimeout", "RunSpec", "Timing", "UnknownHost", "Volume",
]
