"""The Registries pane against the lab's real docker-registry: browse, pull onto two hosts, delete."""

from __future__ import annotations

import uuid

from helpers import until
from lab import IMAGE
from dockyard.config import load_config
from dockyard.ui.app import DockyardApp
from dockyard.ui.dialogs.ask import AskDialog
from dockyard.ui.dialogs.confirm import ConfirmDialog
from dockyard.ui.dialogs.progress import ProgressScreen


def _cursor_to(pane, data) -> None:
    index = next(i for i, r in enumerate(pane.rows) if r.data == data)
    pane.table.move_cursor(row=index)


async def test_browse_pull_onto_two_hosts_and_delete(lab, tmp_path):
    repo = f"uitest/bb{uuid.uuid4().hex[:6]}"
    for tag in ("one", "two"):  # two tags on one digest
        lab.d1.docker("tag", IMAGE, f"{lab.registry.host}/{repo}:{tag}")
        lab.d1.docker("push", f"{lab.registry.host}/{repo}:{tag}")
    cfg = load_config(str(lab.write_config(tmp_path / "c.toml", hosts=("unix1", "ssh"))))
    app = DockyardApp(cfg)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.fleet.wait_settled(10)
        pane = app.panes["registries"]
        await pilot.press("6")
        await until(lambda: any(r.key == "lab" for r in pane.rows), 5, "lab registry listed")
        await until(lambda: pane.status.get("lab", ("",))[0].startswith("open"), 5, "login status shown")
        _cursor_to(pane, next(r.data for r in pane.rows if r.key == "lab"))
        await pilot.press("enter")
        await until(lambda: any(r.data == repo for r in pane.rows), 10, "repository listed")
        _cursor_to(pane, repo)
        await pilot.press("enter")
        await until(lambda: {r.data for r in pane.rows} == {"one", "two"}, 10, "tags listed")
        _cursor_to(pane, "one")
        await pilot.press("enter")
        await until(lambda: pane.level.kind == "manifest" and any(r.key.startswith("l:") for r in pane.rows),
                    10, "manifest layers")
        await pilot.press("escape")
        await until(lambda: pane.level.kind == "tags", 5, "back to tags")

        # pull the tag onto both hosts (one over SSH)
        _cursor_to(pane, "two")
        await pilot.press("p")
        await until(lambda: isinstance(app.screen, AskDialog), 5, "pull dialog")
        app.screen.query_one("#ask-hosts").select_all()
        await pilot.press("ctrl+r")
        await until(lambda: isinstance(app.screen, ProgressScreen), 5, "progress")
        progress = app.screen
        await until(lambda: progress.finished, 60, "pull finished")
        assert {name: ok for name, (ok, _) in progress.results.items()} == {"unix1": True, "ssh": True}
        for daemon in (lab.d1, lab.d2):
            assert daemon.docker("image", "inspect", f"{lab.registry.host}/{repo}:two", check=False).returncode == 0
        await pilot.press("escape")

        # delete the manifest: the dialog names both tags on that digest
        await until(lambda: not isinstance(app.screen, ProgressScreen), 5, "progress closed")
        _cursor_to(pane, "one")
        await pilot.press("ctrl+d")
        await until(lambda: isinstance(app.screen, ConfirmDialog), 10, "confirm")
        listed = {what for _, what in app.screen.targets}
        assert listed == {f"{repo}:one", f"{repo}:two"}
        await pilot.press("y")
        await until(lambda: pane.level.kind == "tags" and not pane.rows and not pane.level.loading, 10,
                    "tags gone after delete")
