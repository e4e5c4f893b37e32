"""Images, Volumes and Networks panes in the app: drift, confirmations that name hosts, lifecycle."""

from __future__ import annotations

import uuid

from fleet_hosts import config, ssh_host, unix_host
from helpers import showing, svg_text, until
from lab import IMAGE
from dockyard.ui.app import DockyardApp
from dockyard.ui.dialogs.ask import AskDialog
from dockyard.ui.dialogs.confirm import ConfirmDialog
from dockyard.ui.dialogs.info import InspectDialog
from dockyard.ui.json_tree import walk
from textual.widgets import Tree


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


async def create_in_pane(pilot, key: str, name: str):
    """Switch to a pane by its number key, `n`, type the name into the dialog, ctrl+r; wait for the row."""
    app = pilot.app
    await pilot.press(key, "n")
    await until(lambda: showing(app, AskDialog), 5, "create dialog")
    app.screen.query_one("#ask-name").value = name
    await pilot.press("ctrl+r")
    pane = app.active_pane
    await until(lambda: any(r.sort_values.get("name") == name for r in pane.rows), 10, f"{name} listed")
    return pane


async def remove_in_pane(pilot, pane, name: str) -> None:
    """Cursor to the row, ctrl+d, `y` in the confirmation (which must name just that one, on unix1)."""
    index = next(i for i, r in enumerate(pane.rows) if r.sort_values.get("name") == name)
    pane.table.move_cursor(row=index)
    await pilot.press("ctrl+d")
    await until(lambda: showing(pilot.app, ConfirmDialog), 5, "remove confirm")
    assert pilot.app.screen.targets == [("unix1", name)]
    await pilot.press("y")


async def test_volume_and_network_lifecycle_from_the_panes(lab):
    name = "uivol" + uuid.uuid4().hex[:6]
    app = DockyardApp(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=(140, 40)) as pilot:
        await app.fleet.wait_settled(10)
        volumes = await create_in_pane(pilot, "4", name)
        assert lab.d1.docker("volume", "inspect", name, check=False).returncode == 0
        await remove_in_pane(pilot, volumes, name)
        await until(lambda: lab.d1.docker("volume", "inspect", name, check=False).returncode != 0, 10, "gone")

        net = "uinet" + uuid.uuid4().hex[:6]
        networks = await create_in_pane(pilot, "5", net)
        internal = lab.d1.docker("network", "inspect", "-f", "{{.Internal}}", net).stdout.strip()
        assert internal == "true"  # internal by default: no route out
        # enter: inspect as a foldable tree, as a container's inspect (not raw JSON)
        networks.table.move_cursor(row=next(i for i, r in enumerate(networks.rows)
                                            if r.sort_values.get("name") == net))
        await pilot.press("enter")
        await until(lambda: showing(app, InspectDialog), 5, "network inspect")
        tree = app.screen.query_one("#inspect-tree", Tree)
        labels = {str(n.label) for n in walk(tree.root)}
        assert f'Name: "{net}"' in labels and "Internal: true" in labels and any(
            lbl.startswith("IPAM  {") for lbl in labels), sorted(labels)[:20]
        assert "Internal: true" in svg_text(app)  # the first level is open on screen
        await pilot.press("escape")
        await until(lambda: not showing(app, InspectDialog), 5, "inspect closed")
        await remove_in_pane(pilot, networks, net)
        await until(lambda: lab.d1.docker("network", "inspect", net, check=False).returncode != 0, 10, "net gone")
