"""SVG snapshots of the UI (pytest-textual-snapshot), deterministic against the real lab.

What makes them repeatable:
- two fresh daemons that hold only the containers created here, with fixed names and labels,
  all in state `created` (never started): STATUS is the constant "Created", CPU%/MEM are "-",
  no ages, no ids on screen;
- the config names the hosts ("alpha", "beta"), so no socket path or port is shown;
- animations off, fixed 100x30 terminal, every toast cleared before the shot, and each shot
  waits until both hosts are online and all rows are loaded (the cursor stays on the first row
  whichever host answers first), then for a settled screen (`settle`: tables measured, the same
  shot twice across a repaint) — before a dialog opens over the table, and again before the shot.

Left out on purpose:
- the Hosts pane: its LATENCY (and MEMORY, CPUS of the machine) differ per run;
- the SSH host-key dialog: the lab generates a new sshd host key (hence a new fingerprint) and
  picks a free port (shown as the endpoint) on every run. tests/test_ui.py checks that dialog's
  text against `ssh-keygen -lf` instead.

Update the baselines with `pytest --snapshot-update tests/test_ui_snapshots.py`.
"""

from __future__ import annotations

import os

os.environ["TEXTUAL_ANIMATIONS"] = "none"  # read when textual is first imported

import shutil  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

import pytest  # noqa: E402
from textual.widgets import DataTable  # noqa: E402

from fleet_hosts import config, unix_host  # noqa: E402
from helpers import showing, summary, svg_text, until  # noqa: E402
from lab import IMAGE  # noqa: E402
from dockyard.ui.app import DockyardApp  # noqa: E402

SIZE = (100, 30)
PROJECT = "com.docker.compose.project"
# (host, container name, compose project or None)
FLEET = (
    ("alpha", "shop-web-1", "shop"),
    ("alpha", "shop-web-2", "shop"),
    ("alpha", "metrics", None),
    ("beta", "shop-db-1", "shop"),
    ("beta", "cache", "infra"),
)


@pytest.fixture(scope="module")
def snapshot_daemons(lab):
    """Two fresh daemons (like `daemon_factory`, shared by this module's tests) holding only FLEET,
    every container created but never started."""
    with ThreadPoolExecutor(2) as pool:
        daemons = dict(zip(("alpha", "beta"), pool.map(lambda _: lab.new_daemon(), range(2))))
    try:
        for host, name, project in FLEET:
            labels = ["--label", f"{PROJECT}={project}"] if project else []
            daemons[host].docker("create", "--network", "none", "--name", name, *labels, IMAGE, "sleep", "1")
        yield daemons
    finally:
        for d in daemons.values():
            d.stop()
            lab.extra_daemons.remove(d)
            shutil.rmtree(d.dir, ignore_errors=True)


@pytest.fixture
def app(snapshot_daemons) -> DockyardApp:
    cfg = config(unix_host(snapshot_daemons["alpha"], "alpha"), unix_host(snapshot_daemons["beta"], "beta"))
    the_app = DockyardApp(cfg)
    the_app.animation_level = "none"
    return the_app


async def loaded(pilot) -> None:
    """Both hosts online, every row painted (created containers show: every container does)."""
    app = pilot.app
    await until(lambda: "hosts 2/2 online" in summary(app), 30, what="hosts online")
    await until(lambda: app.panes["containers"].table.row_count == len(FLEET), 30, what="all rows")
    await until(lambda: f"containers 0/{len(FLEET)} running" in summary(app), what="summary")
    assert app.panes["containers"].table.cursor_row == 0  # it stays on top while the hosts answer
    await settle(pilot, *(name for _, name, _ in FLEET))  # whole: the columns have their widths


async def settle(pilot, *texts: str) -> None:
    """No toast left, `texts` painted on screen, and the screen settled: a row is in the table
    before it is drawn, a DataTable measures its column widths only when it next goes idle (a busy
    machine delays that), and a screen repaints on its next update tick. So: every table's pending
    width/cell updates done, then the same shot twice across a forced repaint and an idle wait."""
    app = pilot.app
    app.clear_notifications()

    def painted() -> bool:
        shown = svg_text(app)
        return all(text in shown for text in texts)

    def tables_pending() -> bool:
        return any(table._require_update_dimensions or table._updated_cells  # noqa: SLF001
                   for screen in app.screen_stack for table in screen.query(DataTable))

    await until(lambda: not any(rack.display for rack in app.screen.query("ToastRack")), what="toasts gone",
                pilot=pilot)
    await until(painted, what=f"{texts} on screen", pilot=pilot)
    deadline = time.monotonic() + 30
    shot = None
    while True:
        for screen in app.screen_stack:
            screen.refresh(layout=True)
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        previous, shot = shot, app.export_screenshot()
        if shot == previous and not tables_pending() and painted():
            return
        assert time.monotonic() < deadline, f"the screen did not settle with {texts} on it"


class TestContainersPane:
    def test_containers_across_two_hosts(self, app, snap_compare):
        assert snap_compare(app, terminal_size=SIZE, run_before=loaded)

    def test_filter_applied(self, app, snap_compare):
        async def run_before(pilot):
            await loaded(pilot)
            await pilot.press("slash", *"shop !host:beta", "enter")
            await until(lambda: pilot.app.panes["containers"].table.row_count == 2, what="filtered")
            await settle(pilot, "filter: shop !host:beta")

        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)

    def test_grouped_by_project(self, app, snap_compare):
        async def run_before(pilot):
            await loaded(pilot)
            await pilot.press("z", "z")
            await until(lambda: pilot.app.panes["containers"].grouping == "project", what="grouped")
            await until(lambda: pilot.app.panes["containers"].table.row_count == len(FLEET) + 3,
                        what="group headers")
            await settle(pilot, "▼ shop", "▼ infra")

        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


class TestDialogs:
    def test_remove_confirm(self, app, snap_compare):
        async def run_before(pilot):
            await loaded(pilot)
            # mark shop-web-1 (alpha) and shop-db-1 (beta). One per host on purpose: the dialog lists
            # targets sorted by (host, container id), and ids are random per run.
            await pilot.press("j", "space", "j", "j", "space", "ctrl+d")
            from dockyard.ui.dialogs.confirm import ConfirmDialog

            await until(lambda: showing(pilot.app, ConfirmDialog), what="dialog")
            await settle(pilot, "Remove 2 container(s)")

        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)

    def test_help(self, app, snap_compare):
        async def run_before(pilot):
            await loaded(pilot)
            await pilot.press("question_mark")
            from dockyard.ui.dialogs.info import TextDialog

            await until(lambda: showing(pilot.app, TextDialog), what="help")
            await settle(pilot, "Containers pane")

        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
