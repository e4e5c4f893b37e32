"""The base of every resource module (containers, images, volumes, networks, …).

A resource is a thin view of the fleet for one kind of Docker object: its methods take host
names, reach a daemon through `Fleet.call` / `Fleet.client` / `Fleet.fan_out`, and refuse
changes through `Fleet.check_writable` before touching anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockyard.fleet.controller import Fleet


class Resource:
    """Holds the fleet it works on; `Fleet.__init__` builds one of each."""

    def __init__(self, fleet: Fleet):
        self.fleet = fleet
