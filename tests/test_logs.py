"""Merged logs across hosts (unix, TLS, SSH): timestamp order, per-container order.

(A follow that breaks and resumes, on dockerd and Podman: tests/test_engines.py.)"""

from __future__ import annotations

import asyncio
import re
import uuid

from faults import FreezableProxy
from fleet_hosts import config, ssh_host, tls_host, unix_host
from helpers import until
from dockyard.config.model import HostConfig
from dockyard.fleet import Fleet, LogLine, LogSource
from dockyard.fleet.logs import timestamp_key

COUNTER = "i=0; while [ $i -lt {n} ]; do echo \"{tag} $i\"; [ $((i % 7)) = 0 ] && echo \"{tag} err $i\" >&2; i=$((i+1)); usleep {us}; done; sleep 300"


def _start(daemon, tag: str, n: int = 40, us: int = 20000) -> str:
    return daemon.run_container(f"log-{tag}", "sh", "-c", COUNTER.format(n=n, tag=tag, us=us))


async def _collect(stream, enough, timeout: float = 20):
    items = []

    async def run():
        async for item in stream:
            items.append(item)
            if enough(items):
                return

    await asyncio.wait_for(run(), timeout)
    return items


async def test_merged_follow_over_three_transports_is_ordered_and_complete(lab):
    tags = {d: uuid.uuid4().hex[:6] for d in ("d1", "d2", "d3")}
    ids = {d: _start(getattr(lab, d), tags[d]) for d in tags}
    fleet_config = config(unix_host(lab.d1, "unix1"), ssh_host(lab, lab.d2, name="ssh"), tls_host(lab, lab.d3, "tls3"))
    hosts = {"d1": "unix1", "d2": "ssh", "d3": "tls3"}
    sources = [LogSource(hosts[d], ids[d], f"log-{tags[d]}") for d in tags]
    async with Fleet(fleet_config, live=False) as fleet:
        await fleet.wait_settled(10)
        lines = await _collect(fleet.containers.logs(sources, tail=1000),
                               lambda items: sum(isinstance(i, LogLine) and " err " not in i.text for i in items) >= 120)
    lines = [i for i in lines if isinstance(i, LogLine)]
    # every source is present, prefixed by host/name
    assert {line.source.label for line in lines} == {f"{hosts[d]}/log-{tags[d]}" for d in tags}
    # global order: non-decreasing timestamps
    keys = [timestamp_key(line.timestamp) for line in lines]
    assert keys == sorted(keys)
    # per container: every counter value once, in order, none lost
    for d, tag in tags.items():
        values = [int(line.text.split()[-1]) for line in lines
                  if line.source.container_id == ids[d] and line.stream == "stdout"]
        assert values == list(range(len(values))) and len(values) >= 30, (d, values)
        errs = [line for line in lines if line.source.container_id == ids[d] and line.stream == "stderr"]
        assert errs and all(re.fullmatch(rf"{tag} err \d+", e.text) for e in errs)


async def test_a_host_whose_history_comes_late_is_still_merged_in_order(lab, tmp_path):
    """One host's log history arrives a second after the other's (far past the reorder window):
    its older lines still come before the other host's newer ones, not after them."""
    tags = [uuid.uuid4().hex[:6] for _ in range(2)]
    ids = [_start(lab.d1, tag, n=20, us=100000) for tag in tags]  # 2 s each, side by side: interleaved
    await until(lambda: all(f"{tag} 19" in lab.d1.docker("logs", cid).stdout for tag, cid in zip(tags, ids)),
                30, "both histories written")
    proxy = await FreezableProxy(str(tmp_path / "slow.sock"), lab.d1.socket).start()
    try:
        fleet_config = config(unix_host(lab.d1, "fast"), HostConfig(name="slow", url=f"unix://{proxy.listen_path}"))
        async with Fleet(fleet_config, live=False) as fleet:
            await fleet.wait_settled(10)
            proxy.freeze()
            sources = [LogSource("slow", ids[0], "a"), LogSource("fast", ids[1], "b")]  # the older one late
            asyncio.get_running_loop().call_later(1.0, proxy.thaw)
            lines = await _collect(fleet.containers.logs(sources, tail=1000),
                                   lambda items: sum(isinstance(i, LogLine) and " err " not in i.text
                                                     for i in items) >= 40)
    finally:
        await proxy.stop()
    lines = [i for i in lines if isinstance(i, LogLine)]
    assert {line.source.host for line in lines} == {"fast", "slow"}
    keys = [timestamp_key(line.timestamp) for line in lines]
    assert keys == sorted(keys), [(line.source.host, line.text) for line in lines]
