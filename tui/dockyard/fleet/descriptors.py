"""File descriptors for a fleet: raise the soft limit, plan what each host may hold, say if it cannot fit.

Hundreds of hosts on Debian's default soft `ulimit -n` of 1,024 run out of descriptors before
anything else. At start the soft limit is raised to the hard one (as Go programs do since Go
1.19); then the fleet's needs are counted:

| holder                                  | descriptors                                        |
|-----------------------------------------|----------------------------------------------------|
| the process itself (terminal, loop, …)  | RESERVE                                            |
| a live unix/tcp host                    | 1 (its events stream) + `keep_idle` (0 or 1) + 1   |
|                                         | for its liveness probe's stream (`probe_streams`); |
|                                         | a unix host with that stream keeps no idle one     |
| an SSH host                             | 1 (its TCP socket); 0 behind a jump host, whose    |
|                                         | connection is shared: 1 per distinct first hop     |
| requests in flight, fleet-wide          | `requests` (a semaphore in the sessions)           |

A probe's stream per host (and a tcp host's one idle connection) is kept when it fits with room
for PROBE_STREAM_ROOM requests in flight (the streams only save CPU): a unix host's requests then
open their own connections (a connect on a unix socket is cheap; a TLS handshake is not); else one
idle connection per host (probes are then ordinary requests); else none; if even that cannot fit,
`warning` says so with the numbers, before anything connects. No host is left out: one that finds
no descriptor shows why.
"""

from __future__ import annotations

import resource
from collections.abc import Iterable
from dataclasses import dataclass

from dockyard.config.model import HostConfig

RESERVE = 64  # the terminal, the event loop, log files, a registry client, the start-up prefetch
MAX_REQUESTS = 256  # requests in flight over the whole fleet, when descriptors are plenty
MIN_REQUESTS = 16
PROBE_STREAM_ROOM = 128  # requests in flight a plan with probe streams still leaves room for
_raised: tuple[int, int] | None = None


def raise_limit() -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit (once per process); returns (soft, hard)."""
    global _raised
    if _raised is not None:
        return _raised
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    _raised = (soft, hard)
    return _raised


@dataclass(frozen=True)
class DescriptorPlan:
    limit: int
    hosts: int
    keep_idle: int  # idle connections kept per unix/tcp host
    probe_streams: bool  # a live unix/tcp host's probe keeps a connection of its own (fleet/pingstream.py)
    requests: int  # requests in flight over the fleet
    need: int  # descriptors this plan may use at most
    warning: str | None  # set when even the leanest plan does not fit


def plan(hosts: Iterable[HostConfig], *, live: bool, limit: int | None = None) -> DescriptorPlan:
    """How many descriptors the fleet may use, within `limit` (default: the raised soft limit)."""
    if limit is None:
        limit = raise_limit()[0]
    enabled = [h for h in hosts if h.enabled]
    direct = sum(1 for h in enabled if h.scheme != "ssh")
    tcp = sum(1 for h in enabled if h.scheme == "tcp")
    first_hops = {(h.jump[0], h.identity_file, h.ssh_config) for h in enabled if h.scheme == "ssh" and h.jump}
    ssh_direct = sum(1 for h in enabled if h.scheme == "ssh" and not h.jump)
    fixed = RESERVE + (direct if live else 0) + ssh_direct + len(first_hops)
    # (idle connections, probe streams), from the most comfortable; the CLI probes nothing
    for keep_idle, probe in ((1, True), (1, False), (0, False)) if live else ((1, False), (0, False)):
        held = direct + tcp if probe else direct * keep_idle  # a unix host's probe stream replaces its idle one
        room = limit - fixed - held
        if room >= (PROBE_STREAM_ROOM if probe else MIN_REQUESTS if keep_idle == 0 else 2 * MIN_REQUESTS):
            requests = min(MAX_REQUESTS, room)
            return DescriptorPlan(limit, len(enabled), keep_idle, probe, requests, fixed + held + requests, None)
    need = fixed + MIN_REQUESTS
    warning = (f"{len(enabled)} hosts need ~{need:,} file descriptors; the limit is {limit:,}: raise it with "
               f"`ulimit -n` (e.g. `ulimit -n {max(4096, 2 * need)}`), or some hosts will fail with "
               f"'Too many open files'")
    return DescriptorPlan(limit, len(enabled), 0, False, MIN_REQUESTS, need, warning)
