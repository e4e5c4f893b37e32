"""Version skew in a real swarm: swarm C of the swarm lab (tests/swarm_lab.py) is c1, a manager on
this machine's dockerd, and c2, a worker on Debian 11's older dockerd (tests/lab/fetch_old_dockerd.sh
fetches it; `bash .ci/run` does so on install). Dockyard reads each node's engine version from the
manager's node list and names the swarm, both versions and their nodes — in `dockyard problems
--json` and in the Problems view; when c2 leaves (and c1 forgets it) the problem leaves too. Swarms A
and B, every node on one version, never show it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from helpers import dockyard, make_app, table_rows, until
from lab import DOCKERD_NET_FLAGS, LabError
import swarm_lab

SIZE = (200, 40)


@pytest.fixture
def skewed(swarm):
    """Swarm C with c2 (the older dockerd) joined; (older version, this machine's version)."""
    try:
        swarm.start_skewed()
        old = swarm_lab.dockerd_version(swarm_lab.old_dockerd())
    except LabError as e:
        missing = str(e)  # failed outside the except: the message once, without the chained traceback
    else:
        missing = ""
    if missing:
        pytest.fail(missing, pytrace=False)
    new = swarm_lab.dockerd_version("dockerd")
    assert old != new, f"the older dockerd is the same version as this machine's ({new}): no skew to test"
    return old, new


def test_the_skewed_swarm_stays_on_loopback(swarm, skewed):
    """c2 is the older dockerd (its own binary), with the lab's loopback-only flags; C's swarm ports
    listen on 127.0.0.1 only, and its gateway links are the nodes' own, never docker_gwbridge."""
    c1, c2 = swarm.c1, swarm.c2
    assert os.readlink(f"/proc/{c2.daemon.pid}/exe") == swarm_lab.old_dockerd()
    assert os.readlink(f"/proc/{c1.daemon.pid}/exe") != swarm_lab.old_dockerd()
    pids = {c1.daemon.pid, c2.daemon.pid}
    for pid in pids:
        cmdline = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        assert all(flag.encode() in cmdline for flag in DOCKERD_NET_FLAGS), cmdline
    listening = subprocess.run(["ss", "-H", "-lntup"], capture_output=True, text=True, check=True).stdout
    mine = [line for line in listening.splitlines() if any(f"pid={p}," in line for p in pids)]
    assert any(c1.addr in line for line in mine), mine  # the manager's swarm port
    assert all(line.split()[4].startswith("127.0.0.1:") for line in mine), mine
    links = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True).stdout
    assert not re.search(r"^docker_gwbridge\b", links, re.M)
    assert all(re.search(rf"^{n.bridge}\b", links, re.M) for n in (c1, c2)), links


def _skews(path) -> list[dict]:
    result = dockyard("--config", str(path), "problems", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["errors"] == []
    return [p for p in data["problems"] if p["kind"] == "version-skew"]


def test_problems_cli_names_the_skewed_swarm_its_versions_and_nodes_and_no_other(swarm, skewed, tmp_path):
    old, new = skewed
    path = swarm.write_config(tmp_path / "skew.toml", names=(*swarm_lab.NODES, *swarm_lab.SKEWED))
    found = _skews(path)
    # one problem, for C only: A (three nodes) and B run one version each
    assert [(p["host"], p["object"], p["severity"]) for p in found] == [("c1", "swarm", "warning")], found
    skew = found[0]
    assert skew["swarm"] == skew["name"] and skew["id"] == swarm.c1.info()["Swarm"]["Cluster"]["ID"]
    assert f"{old} on c2" in skew["detail"] and f"{new} on c1" in skew["detail"], skew["detail"]
    # oldest first, as versions compare (as text, 20.10.24 sorts before 20.10.5)
    assert skew["detail"].index(f"{old} on c2") < skew["detail"].index(f"{new} on c1"), skew["detail"]
    # the old node leaves the swarm and the manager forgets it: one version again, no problem
    swarm.skewed_leave()
    assert _skews(path) == []


async def test_problems_view_shows_the_skew_and_drops_it_when_the_old_node_leaves(swarm, skewed, tmp_path):
    from dockyard.config import load_config

    old, new = skewed
    path = swarm.write_config(tmp_path / "skew.toml", names=swarm_lab.SKEWED)
    app, _ = make_app(load_config(str(path)))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("!")
        assert app._active == "problems"

        def skew_rows() -> list[dict[str, str]]:
            return [r for r in table_rows(app, "problems") if r["PROBLEM"] == "version-skew"]

        await until(lambda: skew_rows(), 15, "the version-skew row")
        [row] = skew_rows()
        assert (row["SEVERITY"], row["HOST"]) == ("WARNING", "c1"), row
        assert f"{old} on c2" in row["DETAIL"] and f"{new} on c1" in row["DETAIL"], row
        # enter: the swarm's nodes, the cursor on the one with the oldest engine (the one to upgrade)
        problems = app.panes["problems"]
        problems.table.move_cursor(row=table_rows(app, "problems").index(row))
        await pilot.press("enter")
        await pilot.pause()
        assert app._active == "nodes"
        node = app.panes["nodes"].cursor_row_data().data
        assert (node.engine, node.swarm) == (old, problems.cursor_row_data().data.swarm), node
        await pilot.press("!")
        swarm.skewed_leave()
        await until(lambda: not skew_rows(), 15, "the version-skew row to leave once c2 left the swarm")
