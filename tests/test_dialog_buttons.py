"""A dialog's buttons do what its keys do: a click answers the dialog as the key would.

No daemon needed: each dialog is pushed on a bare app and clicked.
"""

from __future__ import annotations

from textual.app import App

from helpers import until
from dockyard.fleet.models import HostKeyOffer
from dockyard.ui.dialogs.ask import AskDialog, Field
from dockyard.ui.dialogs.confirm import ConfirmDialog
from dockyard.ui.dialogs.hostkey import HostKeyDialog
from dockyard.ui.dialogs.run import RunDialog

UNKNOWN_KEY = HostKeyOffer("box", "box.example", 22, "ssh-ed25519", "SHA256:abc", changed=False)


async def answer_after_click(make_dialog, button: str):
    """Push the dialog, click `button`, and return what the dialog was dismissed with."""
    answers: list = []
    app = App()
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(make_dialog(), answers.append)
        await until(lambda: bool(app.screen.query(f"#{button}")), 5, "the dialog's buttons", pilot=pilot)
        await pilot.click(f"#{button}")
        await until(lambda: answers, 5, f"the dialog answered after a click on {button}", pilot=pilot)
    return answers[0]


async def test_confirm_buttons_confirm_and_cancel():
    def make():
        return ConfirmDialog("Stop 1 container(s)?", [("h1", "web")], "Stop")

    assert await answer_after_click(make, "confirm") == {}
    assert await answer_after_click(make, "cancel") is None


async def test_host_key_buttons_accept_once_save_and_reject():
    def make():
        return HostKeyDialog("box", UNKNOWN_KEY, "~/.ssh/known_hosts")

    assert await answer_after_click(make, "once") == "once"
    assert await answer_after_click(make, "save") == "save"
    assert await answer_after_click(make, "reject") is None


async def test_ask_ok_submits_the_fields_and_cancel_cancels():
    def make():
        return AskDialog("Create volume", [Field("name", "Name", value="data")])

    assert await answer_after_click(make, "ok") == {"name": "data"}
    assert await answer_after_click(make, "cancel") is None


async def test_run_cancel_button_cancels():
    assert await answer_after_click(lambda: RunDialog(["h1"], ["h1"], "alpine"), "cancel") is None
