"""Images, volumes and networks across the fleet: pull, push, transfer, prune, drift, lifecycle.

`ObjectOps` is mixed into `Fleet`; every method uses the Fleet's sessions and fan-out.
"""

from __future__ import annotations


class ObjectOps:
    """Mixin for `Fleet` (see tui/fleet/controller.py)."""
