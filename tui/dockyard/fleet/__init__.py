"""The fleet controller layer: what the UI and CLI talk to. Never imports Textual.

`Fleet` (controller.py) holds a session per host (session.py), fans calls out, keeps the live
cache and tells observers what changed. What can be done to each kind of Docker object lives in
one module per resource, which `Fleet` composes:

| attribute          | module        | holds                                                        |
|--------------------|---------------|--------------------------------------------------------------|
| `fleet.containers` | containers.py | list, action, bulk_action, run, inspect, top, rename, commit, logs, exec, attach |
| `fleet.images`     | images.py     | list, pull, push, transfer (transfer.py), tag, remove, history, inspect, prune, drift |
| `fleet.volumes`    | volumes.py    | usage, usage_by_host, create, remove, prune                  |
| `fleet.networks`   | networks.py   | create, remove, connect, disconnect, inspect, containers     |
| `fleet.swarm`      | swarm.py      | every swarm the hosts reach: services, tasks, nodes, stacks (through a manager) |
| `fleet.freshness`  | freshness.py  | which containers run an outdated image: check, state_of, image_state |
| `fleet.recreate`   | recreate.py   | find, plan (dry run) and run recreations with a newer image, rolling back on failure |

Adding a resource is one module:
1. `fleet/things.py`: `class Things(Resource)` (resource.py). `self.fleet` is a `FleetAccess`
   (resource.py: the part of the controller a resource may use, so it never imports controller.py).
   Methods take host names and reach the daemon through `self.fleet.call(host, fn)` (one host,
   request timeout), `self.fleet.fan_out(fn, hosts)` (every selected host, results as they land) or
   `self.fleet.client(host)` (long streams); a method that changes anything calls
   `self.fleet.check_writable(host)` (or `self.fleet.writable_hosts(hosts)`) before touching a
   daemon, and `self.fleet.changed(host, kind)` tells observers what it changed outside the event
   feed. Raw API calls the daemon needs go in docker_api.py as public `DockerClient` methods, result types in models.py (what a listing holds; swarm types in
   swarm_models.py and operation reports in reports.py load on first use, through models.py).
2. One line in `Fleet.__init__`: `self.things = Things(self)`.
3. Live rows (the UI reads the cache): one line in `cache.LISTINGS` (kind → how to list it); the
   session then lists it on every reconcile and after each daemon event of that type. The listing
   is a `DockerClient.list_things()` (docker_api.py) turning each API dict into a model through a
   `thing_from_api` (from_api.py, checked against tests/replies/); the model's `key` property,
   (host, identity), is how the cache tells a listing's objects apart.
"""

from dockyard.lazy import lazy_names
from dockyard.fleet.errors import (
    BadReply,
    DaemonError,
    FleetError,
    HostUnavailable,
    ReadOnlyError,
    RequestTimeout,
    UnknownHost,
    UnsupportedAPI,
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
from dockyard.fleet.logs import LogLine, LogNotice, LogSource
from dockyard.fleet.runspec import RESTART_POLICIES, RunSpec
from dockyard.fleet.stats import ContainerStats

# The controller and what needs aiohttp/aiodocker load on first use (0.75 s): the terminal UI
# paints its first frame before it, and reads models and errors from here without it.
__getattr__ = lazy_names(__name__, globals(), {
    "Fleet": "dockyard.fleet.controller", "CONTAINER_ACTIONS": "dockyard.fleet.containers",
    "ExecSession": "dockyard.fleet.execs", "Timing": "dockyard.fleet.session"})


__all__ = [
    "CONTAINER_ACTIONS", "ActionResult", "BadReply", "Container", "ContainerStats", "DaemonError", "ExecSession", "Fleet", "FleetChange", "FleetError",
    "HostKeyOffer", "HostResult", "HostState", "HostStatus", "HostUnavailable", "Image", "LogLine", "LogNotice", "LogSource", "Network", "Port",
    "RESTART_POLICIES", "ReadOnlyError", "RequestTimeout", "RunSpec", "Timing", "UnknownHost", "UnsupportedAPI", "Volume",
]
