"""`dockyard completion` without a lab: the scripts it writes and the names it lists while a user
presses tab (the scripts run in real bash/zsh/fish against the lab: tests/test_cli_habits.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.cli.completion import names, pane_names
from dockyard.cli.main import main
from dockyard.ui.panes.registry import PANES


@pytest.fixture
def user_config(tmp_path: Path, monkeypatch) -> Path:
    """A user whose config (at the XDG default) has two hosts and a registry, and a Docker context."""
    cfg = tmp_path / "xdg" / "dockyard" / "config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text('[[hosts]]\nname = "web-1"\nurl = "unix:///run/w1.sock"\n\n'
                   '[[hosts]]\nname = "db"\nurl = "unix:///run/db.sock"\n\n'
                   '[[registries]]\nname = "company"\nurl = "https://registry.example"\n')
    ctx = tmp_path / "docker" / "contexts" / "meta" / "abc"
    ctx.mkdir(parents=True)
    (ctx / "meta.json").write_text('{"Name": "staging", "Endpoints": {"docker": {"Host": "unix:///run/s.sock"}}}')
    for key in ("DOCKYARD_CONFIG", "DOCKER_HOST", "DOCKER_CONTEXT"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("HOME", str(tmp_path))
    return cfg


def test_names_listed_while_completing(user_config, capsys):
    assert names("hosts") == ["web-1", "db"]
    assert "company" in names("registries")
    assert names("contexts") == ["default", "staging"]
    assert main(["completion", "--list", "hosts"]) == 0
    assert capsys.readouterr().out.split() == ["web-1", "db"]


def test_a_broken_config_completes_nothing_and_says_nothing(user_config, capsys):
    user_config.write_text("[[hosts]\nname = ")
    assert names("hosts") == [] and names("registries") == []
    assert main(["completion", "--list", "hosts"]) == 0
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_script_asks_for_names_at_tab_time_and_knows_the_panes(shell, capsys):
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    assert "dockyard completion --list hosts" in script and "dockyard completion --list registries" in script
    assert all(spec.id in script for spec in PANES)
    assert pane_names() == [spec.id for spec in PANES]


def test_no_shell_is_a_usage_error(capsys):
    assert main(["completion"]) == 2
    assert "completion needs a shell: bash, zsh or fish" in capsys.readouterr().err
