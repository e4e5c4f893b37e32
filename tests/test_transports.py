"""Every transport against the real lab: unix, tcp, TLS, SSH, SSH through a jump host.

Each test asks a real daemon for something only that daemon has (a container created
on it just for the test), so a transport that reached the wrong daemon fails.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from fleet_hosts import config, ssh_host, tcp_host, tls_host, unix_host
from lab.servers import free_port
from dockyard.fleet import Fleet, HostState


def _marker_container(daemon) -> str:
    name = "mark-" + uuid.uuid4().hex[:8]
    daemon.run_container(name, "sleep", "300")
    return name


async def _names_on(fleet: Fleet, host: str) -> set[str]:
    [result] = await fleet.gather(lambda c: c.list_containers(all=True), hosts=[host])
    assert result.error is None, result.error
    return {c.name for c in result.value}


@pytest.mark.parametrize("kind", ["unix", "tcp", "tls", "ssh", "ssh+jump"])
async def test_each_transport_reaches_its_own_daemon(lab, kind):
    host = {
        "unix": lambda: unix_host(lab.d1, "h"),
        "tcp": lambda: tcp_host(lab.d2, "h"),
        "tls": lambda: tls_host(lab, lab.d3, "h"),
        "ssh": lambda: ssh_host(lab, lab.d2, name="h"),
        "ssh+jump": lambda: ssh_host(lab, lab.d3, name="h", jump=True),
    }[kind]()
    daemon = {"unix": lab.d1, "tcp": lab.d2, "tls": lab.d3, "ssh": lab.d2, "ssh+jump": lab.d3}[kind]
    marker = _marker_container(daemon)
    async with Fleet(config(host), live=False) as fleet:
        assert marker in await _names_on(fleet, "h")
        status = fleet.host("h")
        assert status.state == HostState.ONLINE
        assert status.transport == kind
        assert status.api_version == "1.41"


async def test_tls_refuses_a_daemon_not_signed_by_the_configured_ca(lab, tmp_path):
    other_ca = tmp_path / "other-ca.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=other",
                    "-keyout", str(tmp_path / "k.pem"), "-out", str(other_ca), "-days", "1"],
                   check=True, capture_output=True)
    host = tls_host(lab, lab.d3, "h")
    host = type(host)(**{**host.__dict__, "tls": type(host.tls)(ca=str(other_ca), cert=lab.tls_cert,
                                                                  key=lab.tls_key)})
    async with Fleet(config(host), live=False) as fleet:
        await fleet.wait_settled(10)
        status = fleet.host("h")
        assert status.state == HostState.UNREACHABLE
        assert "certificate" in (status.reason or "").lower()


async def test_plain_http_to_a_tls_daemon_is_a_readable_error(lab):
    host = tcp_host(lab.d3, "h", connect_timeout=3)
    async with Fleet(config(host), live=False) as fleet:
        await fleet.wait_settled(10)
        assert fleet.host("h").state == HostState.UNREACHABLE
        assert fleet.host("h").reason == "Client sent an HTTP request to an HTTPS server."  # the daemon's words, trimmed


async def test_ssh_uses_one_connection_and_a_channel_per_http_connection(lab):
    """Many concurrent requests over SSH: still one SSH connection (one sshd child)."""
    host = ssh_host(lab, lab.d2, name="h")
    async with Fleet(config(host), live=False) as fleet:
        await fleet.wait_settled(10)
        session = fleet.session("h")
        results = await asyncio.gather(*(session.call(lambda c: c.ping()) for _ in range(40)))
        assert len(results) == 40
        assert len(session._transport.conns) == 1  # noqa: SLF001


async def test_ssh_config_alias_with_proxyjump_is_honoured(lab, tmp_path):
    ssh_config = tmp_path / "ssh_config"
    ssh_config.write_text(
        f"Host lab-jump\n  HostName 127.0.0.1\n  Port {lab.jump.port}\n  User root\n"
        f"  IdentityFile {lab.client_key}\n"
        f"Host lab-target\n  HostName 127.0.0.1\n  Port {lab.target.port}\n  User root\n"
        f"  IdentityFile {lab.client_key}\n  ProxyJump lab-jump\n"
    )
    host = ssh_host(lab, lab.d1, name="h", identity_file=(), ssh_config=str(ssh_config))
    host = type(host)(**{**host.__dict__, "url": "ssh://lab-target"})
    marker = _marker_container(lab.d1)
    async with Fleet(config(host), live=False) as fleet:
        assert marker in await _names_on(fleet, "h")
        # two hops were connected: the jump host from ProxyJump, then the target
        assert len(fleet.session("h")._transport.conns) == 2  # noqa: SLF001


async def test_ssh_agent_key(lab, monkeypatch):
    monkeypatch.setenv("SSH_AUTH_SOCK", lab.agent_sock)
    monkeypatch.setenv("HOME", "/nonexistent")  # no ~/.ssh/id_* to fall back on
    host = ssh_host(lab, lab.d2, name="h", identity_file=())
    async with Fleet(config(host), live=False) as fleet:
        await fleet.wait_settled(10)
        assert fleet.host("h").state == HostState.ONLINE, fleet.host("h").reason


async def test_encrypted_key_with_passphrase_command(lab):
    host = ssh_host(lab, lab.d2, name="h", identity_file=(lab.client_key_encrypted,),
                    passphrase_command=f"printf %s {lab.passphrase}")
    async with Fleet(config(host), live=False) as fleet:
        await fleet.wait_settled(10)
        assert fleet.host("h").state == HostState.ONLINE, fleet.host("h").reason


async def test_encrypted_key_with_interactive_prompt(lab):
    asked = []

    async def prompt(host, path):
        asked.append((host, path))
        return lab.passphrase

    host = ssh_host(lab, lab.d2, name="h", identity_file=(lab.client_key_encrypted,))
    async with Fleet(config(host), live=False, passphrase_prompt=prompt) as fleet:
        await fleet.wait_settled(10)
        assert fleet.host("h").state == HostState.ONLINE, fleet.host("h").reason
    assert asked == [("h", lab.client_key_encrypted)]


@pytest.mark.parametrize("passphrase_command, expected", [
    (None, "encrypted and no passphrase"),
    ("printf %s wrong-pass", "wrong passphrase"),
])
async def test_encrypted_key_without_the_right_passphrase_is_auth_failed(lab, passphrase_command, expected):
    host = ssh_host(lab, lab.d2, name="h", identity_file=(lab.client_key_encrypted,),
                    passphrase_command=passphrase_command)
    async with Fleet(config(host), live=False) as fleet:
        await fleet.wait_settled(10)
        status = fleet.host("h")
        assert status.state == HostState.AUTH_FAILED
        assert expected in status.reason
        assert lab.passphrase not in status.reason


async def test_key_not_authorized_is_auth_failed(lab, tmp_path):
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    host = ssh_host(lab, lab.d2, name="h", identity_file=(str(stranger),))
    async with Fleet(config(host), live=False) as fleet:
        await fleet.wait_settled(10)
        assert fleet.host("h").state == HostState.AUTH_FAILED
        assert "permission denied" in fleet.host("h").reason.lower()


async def test_missing_remote_socket_is_a_readable_error(lab):
    host = ssh_host(lab, lab.d2, name="h")
    host = type(host)(**{**host.__dict__, "socket": "/nonexistent/docker.sock"})
    async with Fleet(config(host), live=False) as fleet:
        await fleet.wait_settled(10)
        status = fleet.host("h")
        assert status.state == HostState.UNREACHABLE
        assert "/nonexistent/docker.sock" in status.reason


# --------------------------------------------------------------------------- errors in the user's words

INTERNAL = ("docker:80", "http://docker", "Connect call failed", "localhost", "Error", "Exception")


def _no_internal_names(reason: str) -> None:
    """No placeholder host of the HTTP URL, no asyncio phrasing, no class names in what the user reads."""
    assert not [word for word in INTERNAL if word in reason], reason


@pytest.fixture(scope="module")
def sshd_without_socket_forwarding(lab):
    """An sshd like the lab's, with AllowStreamLocalForwarding off (as some hardened servers have it)."""
    sshd = lab.new_sshd()
    config_file = Path(sshd.config_path)
    config_file.write_text(config_file.read_text().replace("AllowStreamLocalForwarding yes",
                                                           "AllowStreamLocalForwarding no"))
    before = Path(sshd.pid_file).stat().st_mtime_ns
    os.kill(sshd.pid, signal.SIGHUP)  # sshd re-executes itself with the new config
    deadline = time.monotonic() + 10
    while not (Path(sshd.pid_file).exists() and Path(sshd.pid_file).stat().st_mtime_ns != before):
        assert time.monotonic() < deadline, "sshd did not restart"
        time.sleep(0.05)
    return sshd


async def _reason(host) -> str:
    async with Fleet(config(host), live=False) as fleet:
        await fleet.wait_settled(15)
        status = fleet.host(host.name)
        assert status.state == HostState.UNREACHABLE, status
        return status.reason


async def test_a_missing_remote_socket_is_named_with_its_host(lab):
    """Before: "cannot connect to docker:80: remote socket /run/x.sock: open failed"."""
    host = replace(ssh_host(lab, lab.d2, name="h"), socket="/run/x.sock")
    reason = await _reason(host)
    assert reason.startswith(f"no Docker socket at /run/x.sock on root@127.0.0.1:{lab.target.port} (over SSH): "
                             "check the host's `socket` setting")
    _no_internal_names(reason)
    jumped = await _reason(replace(ssh_host(lab, lab.d2, name="h", jump=True), socket="/run/x.sock"))
    assert jumped.startswith(f"no Docker socket at /run/x.sock on root@127.0.0.1:{lab.target.port} (over SSH)")


async def test_a_server_that_does_not_forward_to_unix_sockets_is_told_apart(lab, sshd_without_socket_forwarding):
    """sshd answers "open failed" alike for a missing socket and for forwarding turned off; the socket
    is there, so the message says what else to check."""
    host = ssh_host(lab, lab.d1, sshd_without_socket_forwarding, name="h", known_hosts=sshd_without_socket_forwarding.known_hosts)
    reason = await _reason(host)
    assert reason.startswith(f"the Docker socket {lab.d1.socket} on root@127.0.0.1:{sshd_without_socket_forwarding.port} "
                             "exists, but sshd would not open it")
    assert "AllowStreamLocalForwarding yes" in reason
    _no_internal_names(reason)


async def test_no_ssh_server_on_the_port_says_so(lab):
    """Before: "root@127.0.0.1:PORT: Connect call failed ('127.0.0.1', PORT)"."""
    port = free_port()
    host = replace(ssh_host(lab, lab.d2, name="h"), url=f"ssh://root@127.0.0.1:{port}")
    reason = await _reason(host)
    assert reason == f"root@127.0.0.1:{port}: connection refused: no SSH server listens on port {port} there"


async def test_a_unix_socket_that_goes_away_is_named(fresh_daemon):
    """The daemon stops after the host connected: the next request names the socket, not "docker:80"."""
    async with Fleet(config(unix_host(fresh_daemon, "u")), live=False) as fleet:
        await fleet.wait_settled(10)
        assert fleet.host("u").state == HostState.ONLINE
        fresh_daemon.stop()
        [result] = await fleet.gather(lambda c: c.list_containers(all=True), hosts=["u"])
    assert result.error is not None
    assert f"socket {fresh_daemon.socket}" in str(result.error)
    _no_internal_names(str(result.error))


def _fingerprint(pub_path: str) -> str:
    out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", pub_path], capture_output=True,
                         text=True, check=True).stdout
    return out.split()[1]


class TestHostKeys:
    async def test_unknown_key_is_offered_with_its_fingerprint_and_accepted_once(self, lab, tmp_path):
        known = tmp_path / "known_hosts"
        known.write_text("")
        host = ssh_host(lab, lab.d2, name="h", known_hosts=str(known))
        async with Fleet(config(host), live=False) as fleet:
            await fleet.wait_settled(10)
            status = fleet.host("h")
            assert status.state == HostState.HOST_KEY_UNKNOWN
            assert status.host_key.fingerprint == _fingerprint(lab.target.host_key_pub)
            assert status.host_key.key_type == "ssh-ed25519"
            assert not status.host_key.changed
            await fleet.accept_host_key("h", save=False)
            await fleet.wait_settled(10)
            assert fleet.host("h").state == HostState.ONLINE
        assert known.read_text() == ""  # accepted once: nothing saved
        async with Fleet(config(host), live=False) as fleet:  # a new run asks again
            await fleet.wait_settled(10)
            assert fleet.host("h").state == HostState.HOST_KEY_UNKNOWN

    async def test_accept_and_save_writes_known_hosts(self, lab, tmp_path):
        known = tmp_path / "ssh" / "known_hosts"
        host = ssh_host(lab, lab.d2, name="h", known_hosts=str(known))
        async with Fleet(config(host), live=False) as fleet:
            await fleet.wait_settled(10)
            await fleet.accept_host_key("h", save=True)
            await fleet.wait_settled(10)
            assert fleet.host("h").state == HostState.ONLINE
        assert known.read_text().strip() == lab.target.known_hosts_line().strip()
        async with Fleet(config(host), live=False) as fleet:  # a new run trusts it
            await fleet.wait_settled(10)
            assert fleet.host("h").state == HostState.ONLINE

    async def test_changed_key_is_refused_and_never_offered(self, lab, tmp_path):
        impostor = tmp_path / "impostor"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(impostor)], check=True)
        known = tmp_path / "known_hosts"
        key = open(f"{impostor}.pub").read().split()[:2]
        known.write_text(f"[127.0.0.1]:{lab.target.port} {' '.join(key)}\n")
        host = ssh_host(lab, lab.d2, name="h", known_hosts=str(known))
        async with Fleet(config(host), live=False) as fleet:
            await fleet.wait_settled(10)
            status = fleet.host("h")
            assert status.state == HostState.HOST_KEY_CHANGED
            assert status.host_key.changed
            assert status.host_key.fingerprint == _fingerprint(lab.target.host_key_pub)
            assert "CHANGED" in status.reason
            with pytest.raises(Exception, match="no unknown host key"):
                await fleet.accept_host_key("h", save=True)
            assert fleet.host("h").state == HostState.HOST_KEY_CHANGED
        assert known.read_text().count("\n") == 1

    async def test_each_jump_hop_is_checked_against_known_hosts(self, lab, tmp_path):
        known = tmp_path / "known_hosts"
        known.write_text(lab.target.known_hosts_line() + "\n")  # target known, jump host not
        host = ssh_host(lab, lab.d2, name="h", known_hosts=str(known), jump=True)
        async with Fleet(config(host), live=False) as fleet:
            await fleet.wait_settled(10)
            status = fleet.host("h")
            assert status.state == HostState.HOST_KEY_UNKNOWN
            assert status.host_key.port == lab.jump.port
            assert status.host_key.fingerprint == _fingerprint(lab.jump.host_key_pub)
            await fleet.accept_host_key("h", save=False)
            await fleet.wait_settled(10)
            assert fleet.host("h").state == HostState.ONLINE


class TestSshPackets:
    """What one request costs on the wire behind a jump host, and who sends keepalives. (asyncssh's
    send sequence numbers are read: they count every packet a connection encrypted and sent.)"""

    async def test_a_probe_behind_a_jump_host_is_one_packet_on_each_connection(self, lab):
        host = ssh_host(lab, lab.d1, name="h", jump=True)
        async with Fleet(config(host), live=False) as fleet:  # no liveness clock probing meanwhile
            await fleet.wait_settled(10)
            session = fleet.sessions["h"]
            await session.call(lambda c: c.probe())  # the probe's own channel is open from here on
            transport = session._transport
            jump, target = transport.conns
            before = jump._send_seq, target._send_seq
            await session.call(lambda c: c.probe())
            # was 2 and 4: asyncssh put an empty MSG_IGNORE before every packet (a CBC countermeasure)
            assert (jump._send_seq - before[0], target._send_seq - before[1]) == (1, 1)

    async def test_a_shared_jump_connection_reads_the_same_way_however_many_hosts_connected_through_it(self, lab):
        """Each host connecting through the shared jump hop wrapped the hop's reads again (its TCP
        quick-ACK re-armed once per host: 200 hosts were 200 nested calls and setsockopts per read,
        and every reconnect one more, towards Python's recursion limit)."""
        hosts = [ssh_host(lab, lab.d1, name=f"h{i}", jump=True) for i in range(4)]
        async with Fleet(config(*hosts), live=False) as fleet:
            await fleet.wait_settled(15)
            (jump,) = {fleet.sessions[h.name]._transport.conns[0] for h in hosts}  # one, shared
            reads = jump.data_received
            for h in hosts:
                await fleet.sessions[h.name].reconnect()
            await fleet.wait_settled(15)
            assert {fleet.sessions[h.name]._transport.conns[0] for h in hosts} == {jump}
            assert jump.data_received == reads
            results = [r async for r in fleet.containers.list()]
        assert all(r.ok for r in results) and len(results) == 4

    async def test_keepalives_only_where_no_probe_crosses(self, lab):
        host = ssh_host(lab, lab.d1, name="h", jump=True)
        async with Fleet(config(host), live=True) as fleet:
            await fleet.wait_settled(10)
            jump, target = fleet.sessions["h"]._transport.conns
            assert target._keepalive_interval == 0  # the fleet's probe crosses it
            assert jump._keepalive_interval > 0  # shared by every host behind it: its loss is theirs
        async with Fleet(config(host), live=False) as fleet:  # the CLI: no probe, keepalives on both
            await fleet.wait_settled(10)
            jump, target = fleet.sessions["h"]._transport.conns
            assert target._keepalive_interval > 0 and jump._keepalive_interval > 0


class TestKeepalive:
    @pytest.mark.faults
    async def test_frozen_sshd_is_detected_within_5_seconds(self, lab, fresh_sshd):
        host = ssh_host(lab, lab.d1, sshd=fresh_sshd, name="h", known_hosts=fresh_sshd.known_hosts)
        async with Fleet(config(host), live=True) as fleet:
            await fleet.wait_settled(10)
            assert fleet.host("h").state == HostState.ONLINE
            await asyncio.sleep(0.5)
            fresh_sshd.freeze()
            start = asyncio.get_running_loop().time()
            while fleet.host("h").state == HostState.ONLINE:
                assert asyncio.get_running_loop().time() - start < 5.0, "frozen link not detected in 5 s"
                await asyncio.sleep(0.05)
            assert fleet.host("h").state in (HostState.UNREACHABLE, HostState.CONNECTING)


def test_lab_never_uses_a_default_bridge(lab):
    """Guard for the loopback-only rule: no lab daemon has a bridge network."""
    for daemon in (lab.d1, lab.d2, lab.d3):
        out = daemon.docker("network", "ls", "--format", "{{.Driver}}").stdout.split()
        assert "bridge" not in out
    assert os.geteuid() == 0
