"""ctrl+z in a real terminal with a real shell (tmux running bash): the process stops as a job, the
shell is back, `fg` brings the screen back painted and working, its hosts still live.

Before: ctrl+z did nothing, and the `fg` typed afterwards landed in the app as keys.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from helpers import DOCKYARD, cli_env

COLS, ROWS = 120, 32


class Tmux:
    """One tmux server of our own (its own socket), one session running an interactive bash."""

    def __init__(self, directory: Path):
        self.socket = str(directory / "tmux.sock")
        self.session = "dy" + uuid.uuid4().hex[:6]

    def __call__(self, *args: str) -> str:
        return subprocess.run(["tmux", "-S", self.socket, *args], capture_output=True, text=True, check=True,
                              timeout=10).stdout

    def start(self, env: dict[str, str]) -> None:
        self("-f", "/dev/null", "new-session", "-d", "-s", self.session, "-x", str(COLS), "-y", str(ROWS),
             "env", *[f"{k}={v}" for k, v in env.items()], "bash", "--norc", "--noprofile", "-i")

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", self.session)

    def keys(self, *keys: str) -> None:
        self("send-keys", "-t", self.session, *keys)

    def type(self, text: str) -> None:
        self("send-keys", "-t", self.session, "-l", text)

    def shell_pid(self) -> int:
        return int(self("display-message", "-p", "-t", self.session, "#{pane_pid}").strip())

    def stop(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True, timeout=10)


def until(predicate, timeout: float, what: str, screen=None):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s" + (f"; screen:\n{screen()}" if screen else ""))
        time.sleep(0.05)


def state_of(pid: int) -> str:
    """The process's state letter (R, S, T: stopped…), from /proc."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def dockyard_pid(shell: int) -> int | None:
    """The `python -m dockyard` child of the shell."""
    out = subprocess.run(["pgrep", "-P", str(shell), "-f", "dockyard"], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


@pytest.fixture
def terminal(tmp_path):
    tmux = Tmux(tmp_path)
    tmux.start({"PS1": "shell$ ", "TERM": "xterm-256color", "HISTFILE": "/dev/null"})
    yield tmux
    tmux.stop()


def test_ctrl_z_stops_dockyard_as_a_job_and_fg_brings_it_back(lab, tmp_path, terminal, made):
    before, after = "before-" + uuid.uuid4().hex[:6], "after-" + uuid.uuid4().hex[:6]
    made.append((lab.d1, before))
    lab.d1.run_container(before, "sleep", "300")
    cfg = lab.write_config(tmp_path / "c.toml", hosts=("unix1", "ssh"))
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in cli_env(lab.env()).items() if k in ("PYTHONPATH", "SSH_AUTH_SOCK"))
    until(lambda: "shell$" in terminal.screen(), 10, "the shell's prompt")
    terminal.type(f"{env} {shlex.join(DOCKYARD)} --config {cfg}")
    terminal.keys("Enter")
    until(lambda: before in terminal.screen() and "hosts 2/2 online" in terminal.screen(), 30,
          "Dockyard with its rows", terminal.screen)
    pid = until(lambda: dockyard_pid(terminal.shell_pid()), 5, "Dockyard's process")

    terminal.keys("C-z")
    until(lambda: state_of(pid) == "T", 10, "the process stopped (state T)", terminal.screen)

    def shell_is_back() -> str | None:
        screen = terminal.screen()
        return screen if "Stopped" in screen and screen.rstrip().endswith("shell$") else None

    shell = until(shell_is_back, 10, "the shell's job message and prompt", terminal.screen)
    assert before not in shell  # the terminal is the shell's again: the app's screen is gone

    made.append((lab.d1, after))
    lab.d1.run_container(after, "sleep", "300")  # happens while Dockyard is stopped
    terminal.type("fg")
    terminal.keys("Enter")
    until(lambda: state_of(pid) != "T", 10, "the process running again")
    # the screen is painted again (every row, not only what changed) and the events stream still works
    until(lambda: before in terminal.screen() and after in terminal.screen() and "Stopped" not in terminal.screen(),
          30, "the app's screen back, with the container started meanwhile", terminal.screen)
    terminal.keys("1")  # keys work: the Hosts pane
    until(lambda: "TRANSPORT" in terminal.screen() and "hosts 2/2 online" in terminal.screen(), 10,
          "the Hosts pane, both hosts online", terminal.screen)
    terminal.keys("q")
    until(lambda: dockyard_pid(terminal.shell_pid()) is None, 10, "Dockyard gone after q")


async def test_the_suspend_key_is_remappable_and_listed_in_help(lab):
    """`[keys] "app.suspend" = "ctrl+x"`: ctrl+x asks to suspend, ctrl+z no longer does, and `?` lists it.
    (The test's headless terminal cannot suspend: the app says so, which is how the key is seen.)"""
    from dataclasses import replace

    from fleet_hosts import config, unix_host
    from helpers import make_app, svg_text
    from helpers import until as until_async

    app, notes = make_app(replace(config(unix_host(lab.d1, "unix1")), keys={"app.suspend": "ctrl+x"}))

    def asked() -> list[str]:
        return [m for m, _ in notes if "cannot suspend" in m]

    async with app.run_test(size=(120, 80)) as pilot:  # tall: the help's app keys without scrolling
        await pilot.press("ctrl+z")
        await pilot.press("question_mark")
        await until_async(lambda: "Suspend" in svg_text(app), 5, "the help", pilot=pilot)
        assert re.search(r"\^x +Suspend ", svg_text(app))
        assert asked() == []
        await pilot.press("escape")
        await pilot.press("ctrl+x")
        await until_async(lambda: asked(), 5, "the suspend key's answer", pilot=pilot)


def test_after_the_focus_moves_the_terminal_shows_what_a_full_repaint_shows(lab, tmp_path, terminal):
    """Moving the focus no longer repaints the whole screen (ui/covered.py, MainScreen): what the
    focus changes repaints itself. After `/` opens the prompt and `enter` closes it, and after a pane
    switch, the terminal (colours included) is what a repaint of everything (a resize) then shows."""
    names = [f"paint-{uuid.uuid4().hex[:6]}-{i}" for i in range(3)]
    for name in names:
        lab.d1.docker("volume", "create", name)
    try:
        cfg = lab.write_config(tmp_path / "c.toml", hosts=("unix1",))
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in cli_env(lab.env()).items() if k == "PYTHONPATH")
        until(lambda: "shell$" in terminal.screen(), 10, "the shell's prompt")
        terminal.type(f"{env} {shlex.join(DOCKYARD)} --config {cfg}")
        terminal.keys("Enter")
        until(lambda: "hosts 1/1 online" in terminal.screen(), 30, "Dockyard, its host online", terminal.screen)
        terminal.keys("4")  # Volumes: nothing on it changes by itself
        until(lambda: all(n in terminal.screen() for n in names), 10, "the volumes", terminal.screen)

        def painted() -> str:
            return terminal("capture-pane", "-p", "-e", "-t", terminal.session)

        def settled() -> str:  # the same twice, 0.3 s apart
            return until(lambda: (a := painted()) == (time.sleep(0.3) or painted()) and a, 5, "a still screen")

        def repainted() -> str:
            terminal("resize-window", "-t", terminal.session, "-x", str(COLS - 30))
            until(lambda: painted() != before, 5, "the narrower screen", painted)
            narrow = painted()
            terminal("resize-window", "-t", terminal.session, "-x", str(COLS))
            until(lambda: painted() != narrow, 5, "the screen at its width again", painted)
            return settled()

        terminal.keys("j", "/")
        terminal.type("x")
        until(lambda: "/x" in terminal.screen() or "x" in terminal.screen().splitlines()[-1], 5, "the prompt")
        terminal.keys("BSpace", "Enter")
        before = settled()
        assert names[1] in before and "/x" not in before
        assert repainted() == before
        terminal.keys("5")  # Networks: another pane's table takes the focus
        until(lambda: "DRIVER" in terminal.screen(), 10, "the Networks pane", terminal.screen)
        before = settled()
        assert repainted() == before
        terminal.keys("q")
    finally:
        for name in names:
            lab.d1.docker("volume", "rm", "-f", name, check=False)
