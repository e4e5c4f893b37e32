"""The user's ~/.ssh/config is the truth for SSH hosts, against the lab's real sshd (and the real `ssh`).

Each host here has no `known_hosts` in Dockyard's config, so what ssh_config says applies:
UserKnownHostsFile, GlobalKnownHostsFile (default /etc/ssh/ssh_known_hosts), HostKeyAlias,
ConnectTimeout, ProxyCommand and StrictHostKeyChecking. Where it helps, the same config file is
checked with OpenSSH's own client first, so the test proves "works with `ssh`, works in Dockyard".
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from fleet_hosts import config
from dockyard.config.model import HostConfig
from dockyard.fleet import Fleet, FleetError, HostState

GLOBAL_KNOWN_HOSTS = "/etc/ssh/ssh_known_hosts"


@pytest.fixture(autouse=True)
def empty_home(tmp_path, monkeypatch):
    """A HOME without ~/.ssh: nothing is trusted unless the test's ssh_config says so."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def _ssh_config(tmp_path: Path, lab, sshd, alias: str = "labt", **options: str) -> Path:
    lines = [f"Host {alias}", "  HostName 127.0.0.1", f"  Port {sshd.port}", "  User root",
             f"  IdentityFile {lab.client_key}", "  IdentitiesOnly yes"]
    lines += [f"  {k} {v}" for k, v in options.items()]
    path = tmp_path / f"ssh_config_{uuid.uuid4().hex[:6]}"
    path.write_text("\n".join(lines) + "\n")
    return path


def _alias_host(lab, ssh_config: Path, alias: str = "labt", **kw) -> HostConfig:
    return HostConfig(name="h", url=f"ssh://{alias}", socket=lab.d1.socket, ssh_config=str(ssh_config), **kw)


def _openssh_accepts(ssh_config: Path, alias: str = "labt") -> subprocess.CompletedProcess:
    """`ssh -F CONFIG alias true` in batch mode: what the user's own ssh says about the same config."""
    return subprocess.run(["ssh", "-F", str(ssh_config), "-o", "BatchMode=yes", alias, "true"],
                          capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)


async def _state(host: HostConfig):
    async with Fleet(config(host), live=False) as fleet:
        await fleet.wait_settled(15)
        return fleet.host("h")


async def test_user_known_hosts_file_from_ssh_config_is_used(lab, tmp_path):
    known = tmp_path / "team_known_hosts"
    known.write_text(lab.target.known_hosts_line() + "\n")
    cfg = _ssh_config(tmp_path, lab, lab.target, UserKnownHostsFile=str(known), StrictHostKeyChecking="yes")
    assert _openssh_accepts(cfg).returncode == 0  # the user's ssh works with this config
    status = await _state(_alias_host(lab, cfg))
    assert status.state == HostState.ONLINE, status.reason


async def test_without_a_known_hosts_entry_the_same_alias_is_unknown(lab, tmp_path):
    cfg = _ssh_config(tmp_path, lab, lab.target, UserKnownHostsFile=str(tmp_path / "empty"))
    status = await _state(_alias_host(lab, cfg))
    assert status.state == HostState.HOST_KEY_UNKNOWN
    assert status.host_key is not None


async def test_global_known_hosts_file_from_ssh_config_is_checked_too(lab, tmp_path):
    global_file = tmp_path / "global_known_hosts"
    global_file.write_text(lab.target.known_hosts_line() + "\n")
    cfg = _ssh_config(tmp_path, lab, lab.target, UserKnownHostsFile=str(tmp_path / "mine"),
                      GlobalKnownHostsFile=str(global_file))
    status = await _state(_alias_host(lab, cfg))
    assert status.state == HostState.ONLINE, status.reason


async def test_default_global_known_hosts_is_etc_ssh_ssh_known_hosts(lab, tmp_path):
    """No *KnownHostsFile option at all: like OpenSSH, /etc/ssh/ssh_known_hosts counts."""
    line = lab.target.known_hosts_line()
    with open(GLOBAL_KNOWN_HOSTS, "a") as fh:
        fh.write(line + "\n")
    try:
        cfg = _ssh_config(tmp_path, lab, lab.target)
        status = await _state(_alias_host(lab, cfg))
        assert status.state == HostState.ONLINE, status.reason
    finally:  # take out our line only (the file may hold others)
        kept = [x for x in Path(GLOBAL_KNOWN_HOSTS).read_text().splitlines() if x != line]
        if kept:
            Path(GLOBAL_KNOWN_HOSTS).write_text("\n".join(kept) + "\n")
        else:
            os.unlink(GLOBAL_KNOWN_HOSTS)


async def test_an_accepted_key_is_saved_to_the_first_user_file_and_ssh_then_trusts_it(lab, tmp_path):
    first, second = tmp_path / "kh" / "first", tmp_path / "kh" / "second"
    cfg = _ssh_config(tmp_path, lab, lab.target, UserKnownHostsFile=f"{first} {second}")
    host = _alias_host(lab, cfg)
    async with Fleet(config(host), live=False) as fleet:
        await fleet.wait_settled(15)
        assert fleet.host("h").state == HostState.HOST_KEY_UNKNOWN
        assert fleet.known_hosts_path("h") == str(first)
        await fleet.accept_host_key("h", save=True)
        await fleet.wait_settled(15)
        assert fleet.host("h").state == HostState.ONLINE
    assert first.read_text().strip() == lab.target.known_hosts_line()
    assert not second.exists()
    strict = _ssh_config(tmp_path, lab, lab.target, UserKnownHostsFile=str(first), StrictHostKeyChecking="yes")
    assert _openssh_accepts(strict).returncode == 0  # OpenSSH reads what Dockyard wrote


class TestHostKeyAlias:
    async def test_key_recorded_under_the_alias_is_trusted(self, lab, tmp_path):
        known = tmp_path / "known"
        key = " ".join(Path(lab.target.host_key_pub).read_text().split()[:2])
        known.write_text(f"lab-target-alias {key}\n")  # no port: OpenSSH looks the alias up bare
        cfg = _ssh_config(tmp_path, lab, lab.target, UserKnownHostsFile=str(known),
                          HostKeyAlias="lab-target-alias", StrictHostKeyChecking="yes")
        assert _openssh_accepts(cfg).returncode == 0
        status = await _state(_alias_host(lab, cfg))
        assert status.state == HostState.ONLINE, status.reason

    async def test_a_different_key_under_the_alias_is_a_changed_key(self, lab, tmp_path):
        known = tmp_path / "known"
        # the jump sshd's key recorded for the target's alias: the target now "offers a different key"
        key = " ".join(Path(lab.jump.host_key_pub).read_text().split()[:2])
        known.write_text(f"lab-target-alias {key}\n[127.0.0.1]:{lab.target.port} {key}\n")
        cfg = _ssh_config(tmp_path, lab, lab.target, UserKnownHostsFile=str(known),
                          HostKeyAlias="lab-target-alias")
        status = await _state(_alias_host(lab, cfg))
        assert status.state == HostState.HOST_KEY_CHANGED

    async def test_an_accepted_key_is_saved_under_the_alias(self, lab, tmp_path):
        known = tmp_path / "known"
        cfg = _ssh_config(tmp_path, lab, lab.target, UserKnownHostsFile=str(known),
                          HostKeyAlias="lab-target-alias")
        async with Fleet(config(_alias_host(lab, cfg)), live=False) as fleet:
            await fleet.wait_settled(15)
            await fleet.accept_host_key("h", save=True)
            await fleet.wait_settled(15)
            assert fleet.host("h").state == HostState.ONLINE
        assert known.read_text().split()[0] == "lab-target-alias"
        strict = _ssh_config(tmp_path, lab, lab.target, UserKnownHostsFile=str(known),
                             HostKeyAlias="lab-target-alias", StrictHostKeyChecking="yes")
        assert _openssh_accepts(strict).returncode == 0


async def test_strict_host_key_checking_yes_refuses_an_unknown_key_without_asking(lab, tmp_path):
    cfg = _ssh_config(tmp_path, lab, lab.target, UserKnownHostsFile=str(tmp_path / "empty"),
                      StrictHostKeyChecking="yes")
    assert _openssh_accepts(cfg).returncode != 0  # OpenSSH refuses too
    async with Fleet(config(_alias_host(lab, cfg)), live=False) as fleet:
        await fleet.wait_settled(15)
        status = fleet.host("h")
        assert status.state == HostState.HOST_KEY_UNKNOWN
        assert status.host_key is None  # nothing to decide: the TUI opens no dialog
        assert "StrictHostKeyChecking yes" in status.reason
        with pytest.raises(FleetError, match="no unknown host key"):
            await fleet.accept_host_key("h", save=True)
    assert not (tmp_path / "empty").exists()


async def test_connect_timeout_from_ssh_config_bounds_the_hop(lab, fresh_sshd, tmp_path):
    """A frozen sshd accepts TCP but never speaks: ssh_config's ConnectTimeout 1 ends the attempt, not our 20 s."""
    known = tmp_path / "known"
    known.write_text(fresh_sshd.known_hosts_line() + "\n")
    cfg = _ssh_config(tmp_path, lab, fresh_sshd, UserKnownHostsFile=str(known), ConnectTimeout="1")
    fresh_sshd.freeze()
    started = time.monotonic()
    status = await _state(_alias_host(lab, cfg, connect_timeout=20.0))
    elapsed = time.monotonic() - started
    assert status.state == HostState.UNREACHABLE
    assert "timed out after 1s" in status.reason
    assert elapsed < 10, elapsed


async def test_proxy_command_jump_through_ssh_w(lab, tmp_path):
    """ProxyCommand `ssh -W %h:%p jump`: the real ssh client carries the connection through the jump sshd."""
    known = tmp_path / "known"
    known.write_text(lab.target.known_hosts_line() + "\n" + lab.jump.known_hosts_line() + "\n")
    cfg = tmp_path / "ssh_config"
    common = (f"  HostName 127.0.0.1\n  User root\n  IdentityFile {lab.client_key}\n  IdentitiesOnly yes\n"
              f"  UserKnownHostsFile {known}\n  StrictHostKeyChecking yes\n  BatchMode yes\n")
    cfg.write_text(f"Host labjump\n  Port {lab.jump.port}\n{common}"
                   f"Host labt\n  Port {lab.target.port}\n{common}"
                   f"  ProxyCommand ssh -F {cfg} -W %h:%p labjump\n")
    jump_log_before = Path(lab.jump.log_path).read_text().count("Accepted publickey")
    marker = "proxied-" + uuid.uuid4().hex[:6]
    lab.d1.run_container(marker, "sleep", "300")
    async with Fleet(config(_alias_host(lab, cfg)), live=False) as fleet:
        await fleet.wait_settled(15)
        assert fleet.host("h").state == HostState.ONLINE, fleet.host("h").reason
        [result] = await fleet.gather(lambda c: c.list_containers(all=True), hosts=["h"])
        assert marker in {c.name for c in result.value}
    assert not _processes_mentioning(str(cfg)), "the ProxyCommand outlived the connection"
    for _ in range(50):  # sshd logs the jump login as it happens; give the log a moment
        if Path(lab.jump.log_path).read_text().count("Accepted publickey") > jump_log_before:
            break
        await asyncio.sleep(0.1)
    assert Path(lab.jump.log_path).read_text().count("Accepted publickey") > jump_log_before


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


async def test_a_failing_proxy_command_says_why_and_writes_nothing_on_the_terminal(lab, tmp_path, capfd):
    """What `ssh -W` prints goes into the host's reason, never onto the terminal the TUI draws on."""
    cfg = _ssh_config(tmp_path, lab, lab.target, UserKnownHostsFile=str(tmp_path / "known"),
                      ProxyCommand="sh -c 'echo channel 0: open failed: no route to bastion >&2; exit 255'")
    status = await _state(_alias_host(lab, cfg))
    assert status.state == HostState.UNREACHABLE
    assert "ProxyCommand said: channel 0: open failed: no route to bastion" in status.reason
    assert "no route to bastion" not in capfd.readouterr().err


async def test_ciphers_from_ssh_config_are_used_else_aes_gcm_first(lab, tmp_path):
    """A `Ciphers` line in ssh_config decides the cipher, as with `ssh`; without one, AES-GCM comes
    first (asyncssh's ChaCha20-Poly1305 costs ~10x the CPU a packet in this process)."""
    known = tmp_path / "known"
    known.write_text(lab.target.known_hosts_line() + "\n")
    ciphers = {}
    for name, options in (("chosen", {"Ciphers": "aes256-ctr"}), ("default", {})):
        cfg = _ssh_config(tmp_path, lab, lab.target, UserKnownHostsFile=str(known), **options)
        assert _openssh_accepts(cfg).returncode == 0
        async with Fleet(config(_alias_host(lab, cfg)), live=False) as fleet:
            await fleet.wait_settled(15)
            assert fleet.host("h").state == HostState.ONLINE, fleet.host("h").reason
            conn = fleet.session("h")._transport.conns[-1]
            ciphers[name] = (conn.get_extra_info("send_cipher"), conn.get_extra_info("recv_cipher"))
    assert ciphers["chosen"] == ("aes256-ctr", "aes256-ctr")
    assert ciphers["default"] == ("aes128-gcm@openssh.com", "aes128-gcm@openssh.com")
