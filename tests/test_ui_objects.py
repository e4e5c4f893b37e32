"""Images, Volumes and Networks panes in the app: drift, confirmations that name hosts, lifecycle."""

from __future__ import annotations

import uuid

from fleet_hosts import config, ssh_host, unix_host
from helpers import showing, until
from lab import IMAGE
from dockyard.ui.app import DockyardApp
from dockyard.ui.dialogs.ask import AskDialog
from dockyard.ui.dialogs.confirm import ConfirmDialog


async def test_drift_view_and_remove_confirmation(lab):
    tag = f"drift/app:{uuid.uuid4().hex[:6]}"
    lab.d1.docker("tag", IMAGE, tag)
    other = lab.d2.docker("commit", lab.d2.run_container("drift-" + uuid.uuid4().hex[:6], "true", detach=False),
                          "drift/other:x").stdout.strip()
    lab.d2.docker("tag", other, tag)  # same tag, another image on the SSH host
    app = DockyardApp(config(unix_host(lab.d1, "unix1"), ssh_host(lab, lab.d2, name="ssh")))
    async with app.run_test(size=(140, 40)) as pilot:
        await app.fleet.wait_settled(10)
        pane = app.panes["images"]
        await pilot.press("3")
        await until(lambda: {r.data[0].host for r in pane.rows if r.data and r.data[1] == tag} == {"unix1", "ssh"},
                    10, "the tag on both hosts")
        await pilot.press("v")
        await until(lambda: pane.drift_view and any(r.sort_values.get("ref") == tag for r in pane.rows), 5, "drift")
        row = next(r for r in pane.rows if r.sort_values.get("ref") == tag)
        assert row.cells[2].plain == "DRIFT"
        assert "(ssh)" in row.cells[4].plain and "(unix1)" in row.cells[4].plain
        await pilot.press("v")
        await until(lambda: not pane.drift_view, 5, "per-host view")

        # remove the SSH host's copy: the dialog names the host, and cancelling removes nothing
        index = next(i for i, r in enumerate(pane.rows) if r.data and r.data[1] == tag and r.data[0].host == "ssh")
        pane.table.move_cursor(row=index)
        await pilot.press("ctrl+d")
        await until(lambda: showing(app, ConfirmDialog), 5, "confirm")
        assert app.screen.targets[0][0] == "ssh" and tag in app.screen.targets[0][1]
        await pilot.press("n")
        assert lab.d2.docker("image", "inspect", tag, check=False).returncode == 0
        await pilot.press("ctrl+d")
        await until(lambda: showing(app, ConfirmDialog), 5, "confirm again")
        await pilot.press("y")
        await until(lambda: lab.d2.docker("image", "inspect", tag, check=False).returncode != 0, 10, "removed")
        assert lab.d1.docker("image", "inspect", tag, check=False).returncode == 0  # other host untouched


async def test_volume_and_network_lifecycle_from_the_panes(lab):
    name = "uivol" + uuid.uuid4().hex[:6]
    app = DockyardApp(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=(140, 40)) as pilot:
        await app.fleet.wait_settled(10)
        await pilot.press("4", "n")
        await until(lambda: showing(app, AskDialog), 5, "create dialog")
        app.screen.query_one("#ask-name").value = name
        await pilot.press("ctrl+r")
        volumes = app.panes["volumes"]
        await until(lambda: any(r.sort_values.get("name") == name for r in volumes.rows), 10, "volume listed")
        assert lab.d1.docker("volume", "inspect", name, check=False).returncode == 0
        index = next(i for i, r in enumerate(volumes.rows) if r.sort_values.get("name") == name)
        volumes.table.move_cursor(row=index)
        await pilot.press("ctrl+d")
        await until(lambda: showing(app, ConfirmDialog), 5, "remove confirm")
        assert app.screen.targets == [("unix1", name)]
        await pilot.press("y")
        await until(lambda: lab.d1.docker("volume", "inspect", name, check=False).returncode != 0, 10, "gone")

        net = "uinet" + uuid.uuid4().hex[:6]
        await pilot.press("5", "n")
        await until(lambda: showing(app, AskDialog), 5, "network dialog")
        app.screen.query_one("#ask-name").value = net
        await pilot.press("ctrl+r")
        networks = app.panes["networks"]
        await until(lambda: any(r.sort_values.get("name") == net for r in networks.rows), 10, "network listed")
        internal = lab.d1.docker("network", "inspect", "-f", "{{.Internal}}", net).stdout.strip()
        assert internal == "true"  # internal by default: no route out
        index = next(i for i, r in enumerate(networks.rows) if r.sort_values.get("name") == net)
        networks.table.move_cursor(row=index)
        await pilot.press("ctrl+d")
        await until(lambda: showing(app, ConfirmDialog), 5, "network confirm")
        await pilot.press("y")
        await until(lambda: lab.d1.docker("network", "inspect", net, check=False).returncode != 0, 10, "net gone")
