"""The TUI where its users already are (issue 11): no Docker anywhere, the current Docker context,
the pull dialog across hosts, the Registries pane at 160 columns, `--pane`, StrictHostKeyChecking.
Real lab daemons, registry and sshd; contexts made by the real docker CLI.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

from textual.widgets import Input

from fleet_hosts import config, unix_host
from helpers import DOCKYARD, cli_env, in_terminal, make_app, showing, summary, svg_text, table_rows, until
from dockyard.config import load_config
from dockyard.config.model import Config, HostConfig
from dockyard.fleet import HostState
from dockyard.ui.dialogs.ask import AskDialog
from dockyard.ui.dialogs.hostkey import HostKeyDialog
from dockyard.ui.dialogs.progress import ProgressScreen

SIZE = (120, 36)


async def test_no_docker_anywhere_shows_how_to_add_an_endpoint(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))  # the config path the message names
    monkeypatch.delenv("DOCKYARD_CONFIG", raising=False)
    app, _ = make_app(Config(path=None, hosts=(), import_contexts=True))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for key in ("2", "1"):  # Containers, then Hosts
            await pilot.press(key)
            await pilot.pause()
            screen = " ".join(svg_text(app).split())
            assert "no Docker endpoint found" in screen, key
            assert "docker context create" in screen and "[[hosts]]" in screen
            [notice] = app.active_pane.query(".empty-state")
            assert f"{tmp_path}/xdg/dockyard/config.toml" in str(notice.content)  # the file to edit
            assert not app.active_pane.table.display  # no empty table under it


def _docker(env: dict[str, str], *args: str) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    subprocess.run(["docker", *args], env={**clean, **env}, check=True, capture_output=True, timeout=30)


async def test_the_current_docker_context_is_the_initial_scope_and_all_widens(lab, tmp_path):
    env = {"HOME": str(tmp_path), "DOCKER_CONFIG": str(tmp_path / "docker"), "XDG_CONFIG_HOME": str(tmp_path / "x")}
    _docker(env, "context", "create", "labone", "--docker", f"host=unix://{lab.d1.socket}")
    _docker(env, "context", "create", "labthree", "--docker", f"host=unix://{lab.d3.socket}")
    _docker(env, "context", "use", "labthree")
    names = {d.name: "scope-" + uuid.uuid4().hex[:6] for d in (lab.d1, lab.d3)}
    for d in (lab.d1, lab.d3):
        d.run_container(names[d.name], "sleep", "300")
    cfg = load_config(None, env)  # zero-config: the fleet is the contexts
    assert cfg.current_context == "labthree"
    app, notes = make_app(cfg)
    async with app.run_test(size=SIZE) as pilot:
        await app.fleet.wait_settled(15)
        await until(lambda: names[lab.d3.name] in {r["NAME"] for r in table_rows(app)}, 10, "labthree's rows")
        assert "scope: labthree" in summary(app)
        assert {r["HOST"] for r in table_rows(app)} == {"labthree"}
        assert any("current Docker context" in message for message, _ in notes)
        await pilot.press("colon", *"all", "enter")
        await until(lambda: names[lab.d1.name] in {r["NAME"] for r in table_rows(app)}, 10, "every host's rows")
        assert "scope: all hosts" in summary(app)


async def test_a_config_file_fleet_starts_on_every_host(lab, tmp_path):
    cfg = load_config(str(lab.write_config(tmp_path / "c.toml", hosts=("unix1", "unix3"))))
    app, _ = make_app(cfg)
    async with app.run_test(size=SIZE):
        await app.fleet.wait_settled(15)
        assert "scope: all hosts" in summary(app)


async def test_pull_progress_rows_name_their_host(lab, tmp_path):
    """Two hosts pull the same new layers: every layer row says whose it is."""
    ref = f"{lab.registry.host}/habits/pull{uuid.uuid4().hex[:6]}:1"
    holder = "layer-" + uuid.uuid4().hex[:6]
    lab.d1.run_container(holder, "sh", "-c", f"echo {holder} > /new-layer; sleep 300")
    lab.d1.docker("commit", holder, ref)
    lab.d1.docker("push", ref)
    cfg = load_config(str(lab.write_config(tmp_path / "c.toml", hosts=("unix1", "unix3", "tcp2"))))
    app, _ = make_app(cfg)
    async with app.run_test(size=(160, 40)) as pilot:
        await app.fleet.wait_settled(15)
        await pilot.press("3", "p")
        await until(lambda: showing(app, AskDialog), 5, "pull dialog")
        app.screen.query_one("#ask-image", Input).value = ref
        hosts = app.screen.query_one("#ask-hosts")
        hosts.deselect_all()
        hosts.select("unix3")
        hosts.select("tcp2")
        await pilot.press("ctrl+r")
        await until(lambda: showing(app, ProgressScreen), 5, "progress")
        progress = app.screen
        await until(lambda: progress.finished, 90, "pull finished")
        assert {name: ok for name, (ok, _) in progress.results.items()} == {"unix3": True, "tcp2": True}
        layer_rows = [w.label for key, w in progress.rows.items() if "\x00" in key]
        assert layer_rows, "no layer rows"
        assert {label.split()[0] for label in layer_rows} == {"unix3", "tcp2"}
        screen = svg_text(app)
        assert all(label in screen for label in layer_rows), layer_rows  # on screen, beside their bars
        assert "unix3" in screen and "Pull complete" in screen


async def test_registries_login_column_is_not_cut_at_160_columns(lab, tmp_path):
    cfg = load_config(str(lab.write_config(tmp_path / "c.toml", hosts=("unix1",))))
    app, _ = make_app(cfg)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("6")
        pane = app.panes["registries"]
        await until(lambda: pane.status.get("lab", ("",))[0].startswith("open"), 10, "login status")
        await pilot.pause()
        screen = svg_text(app)
        assert "open (no login needed)" in screen, screen[:2000]
        assert "open (no…" not in screen


async def test_pane_option_opens_that_pane(lab):
    app, _ = make_app(config(unix_host(lab.d1)), pane="images")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.active_pane.pane_id == "images"
        assert "REPOSITORY:TAG" in svg_text(app)


async def test_strict_host_key_checking_opens_no_dialog(lab, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    ssh_config = tmp_path / "ssh_config"
    ssh_config.write_text(f"Host strict-target\n  HostName 127.0.0.1\n  Port {lab.target.port}\n  User root\n"
                          f"  IdentityFile {lab.client_key}\n  UserKnownHostsFile {tmp_path}/none\n"
                          "  StrictHostKeyChecking yes\n")
    host = HostConfig(name="strict", url="ssh://strict-target", socket=lab.d1.socket, ssh_config=str(ssh_config))
    app, _ = make_app(config(host))
    async with app.run_test(size=SIZE) as pilot:
        await app.fleet.wait_settled(15)
        assert app.fleet.host("strict").state == HostState.HOST_KEY_UNKNOWN
        await pilot.press("1")
        await pilot.pause()
        assert not showing(app, HostKeyDialog)
        assert "host-key-unknown" in svg_text(app)
        [row] = table_rows(app, "hosts")
        assert any("StrictHostKeyChecking yes" in text for text in row.values()), row
    assert not Path(f"{tmp_path}/none").exists()


def test_the_real_tui_takes_context_and_pane_options(lab, tmp_path):
    """`dockyard --context labone --pane hosts` in a terminal: the Hosts pane, only that context's host."""
    env = {"HOME": str(tmp_path), "DOCKER_CONFIG": str(tmp_path / "docker"), "XDG_CONFIG_HOME": str(tmp_path / "x")}
    _docker(env, "context", "create", "labone", "--docker", f"host=unix://{lab.d1.socket}")
    _docker(env, "context", "create", "labthree", "--docker", f"host=unix://{lab.d3.socket}")
    terminal = cli_env({**env, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "30"},
                       drop=("DOCKER_", "DOCKYARD_CONFIG"))
    [first, second] = in_terminal([*DOCKYARD, "--context", "labone", "--pane", "hosts"], terminal,
                           [("", "1/1 online"), ("", "TRANSPORT")])  # TRANSPORT: a column of the Hosts pane only
    screen = first + second
    assert "labone" in screen and "labthree" not in screen
