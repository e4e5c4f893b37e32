"""What a loaded machine (the test suite beside other jobs, a busy jump box) must not break.

Found by running the whole suite beside CPU-heavy jobs: a host whose daemon had answered in time
was failed with "no answer within connect_timeout", because the SSH transport's import (asyncssh)
ran inside the event loop while that host's connect clock was ticking. Here the import is made
slow on purpose, as a loaded machine makes it, and the hosts are real.
"""

from __future__ import annotations

import importlib.abc
import sys
import time
from dataclasses import replace

from fleet_hosts import config, ssh_host, unix_host
from dockyard.fleet import Fleet, HostState

SLOW_IMPORT = 2.0  # longer than the unix host's connect_timeout below


class _SlowImport(importlib.abc.MetaPathFinder):
    """Importing `name` takes SLOW_IMPORT seconds more (then the usual finders load it)."""

    def __init__(self, name: str):
        self.name = name

    def find_spec(self, fullname, path, target=None):
        if fullname == self.name:
            time.sleep(SLOW_IMPORT)
        return None


async def test_a_slow_ssh_import_does_not_eat_other_hosts_connect_timeout(lab, monkeypatch):
    import dockyard.transports

    monkeypatch.delitem(sys.modules, "dockyard.transports.ssh", raising=False)  # imported afresh, slowly
    monkeypatch.delattr(dockyard.transports, "ssh", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_SlowImport("dockyard.transports.ssh"), *sys.meta_path])
    hosts = (replace(unix_host(lab.d1, "u"), connect_timeout=1.0), ssh_host(lab, lab.d2, name="s"))
    async with Fleet(config(*hosts), live=False) as fleet:
        await fleet.wait_settled(15)
        states = {name: (fleet.host(name).state, fleet.host(name).reason) for name in ("u", "s")}
    assert states["u"][0] == HostState.ONLINE, states
    assert states["s"][0] == HostState.ONLINE, states
