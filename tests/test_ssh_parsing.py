"""The SSH transport's reading of destinations, jump chains and ~/.ssh/config, without any sshd
(connections through them: tests/test_ssh_config.py and tests/test_transports.py, against the lab)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.config.model import HostConfig
from dockyard.transports.errors import Unreachable
from dockyard.transports.ssh import (Hop, connect_budget, hop_connect_timeout, jump_chain, known_hosts_files,
                                     parse_hop, ssh_config_options, target_hop)

SSH_CONFIG = """\
Host target
  HostName 10.0.0.9
  User deploy
  Port 2022
  ProxyJump bastion
  ConnectTimeout 4
  UserKnownHostsFile ~/.ssh/known_%h_%p
Host bastion
  User ops
  Port 2200
  ProxyJump gate
  ConnectTimeout 3
Host gate
  ProxyJump none
Host loop-a
  ProxyJump loop-b
Host loop-b
  ProxyJump loop-a
"""


@pytest.fixture
def ssh_config(tmp_path: Path) -> str:
    path = tmp_path / "config"
    path.write_text(SSH_CONFIG)
    return str(path)


@pytest.mark.parametrize("spec, hop", [
    ("root@127.0.0.1:2222", Hop("root@127.0.0.1:2222", "127.0.0.1", "root", 2222)),
    ("ssh://ops@Bastion/", Hop("ops@Bastion", "Bastion", "ops", None)),
    ("[2001:db8::1]:22", Hop("[2001:db8::1]:22", "2001:db8::1", None, 22)),
    ("gate", Hop("gate", "gate", None, None)),
])
def test_a_hop_as_written(spec, hop):
    assert parse_hop(spec) == hop


@pytest.mark.parametrize("spec", ["user@", "h:port", "", "u@h:22:33"])
def test_a_hop_that_cannot_be_read_says_so(spec):
    with pytest.raises(Unreachable, match="cannot parse SSH destination"):
        parse_hop(spec)


def test_the_target_comes_from_the_endpoint_parsed_at_load():
    assert target_hop(HostConfig("h", "ssh://deploy@Build-Box:2200")) == Hop("deploy@Build-Box:2200", "Build-Box",
                                                                               "deploy", 2200)
    with pytest.raises(Unreachable):
        target_hop(HostConfig("h", "unix:///run/docker.sock"))


def test_ssh_config_resolves_an_alias(ssh_config):
    options = ssh_config_options([ssh_config], parse_hop("target"))
    assert (options["Hostname"], options["User"], options["Port"]) == ("10.0.0.9", "deploy", 2022)
    assert options["ProxyJump"] == "bastion"
    assert ssh_config_options([], parse_hop("target")) == {}


def test_proxyjump_chains_are_followed_outermost_first(ssh_config):
    host = HostConfig("h", "ssh://target", ssh_config=ssh_config)
    assert [h.spec for h in jump_chain(host, target_hop(host), [ssh_config])] == ["gate", "bastion"]
    # the config's own `jump` wins over ProxyJump
    jumped = HostConfig("h", "ssh://target", jump=("ops@10.0.0.1:2200",), ssh_config=ssh_config)
    assert jump_chain(jumped, target_hop(jumped), [ssh_config]) == [Hop("ops@10.0.0.1:2200", "10.0.0.1", "ops", 2200)]


def test_a_proxyjump_loop_is_an_error_not_a_hang(ssh_config):
    host = HostConfig("h", "ssh://loop-a", ssh_config=ssh_config)
    with pytest.raises(Unreachable, match="ProxyJump loop"):
        jump_chain(host, target_hop(host), [ssh_config])


def test_known_hosts_files_and_connect_budget(ssh_config, monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    host = HostConfig("h", "ssh://target", ssh_config=ssh_config, connect_timeout=5)
    options = ssh_config_options([ssh_config], target_hop(host))
    user, _ = known_hosts_files(host, options)
    assert user == [f"{tmp_path}/.ssh/known_10.0.0.9_2022"]  # %h %p expanded from the resolved options
    pinned = HostConfig("h", "ssh://target", known_hosts="~/pinned", ssh_config=ssh_config)
    assert known_hosts_files(pinned, options) == ([f"{tmp_path}/pinned"], [])
    assert hop_connect_timeout(host, options) == 4
    # gate (no ConnectTimeout: the host's 5) + bastion (3) + target (4) + 1
    assert connect_budget(host) == 13
