"""Sanity checks of the test lab itself: if these fail, nothing else can be trusted."""

from __future__ import annotations

import asyncio
import http.client
import json
import time

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import asyncssh
import pytest

from lab import ALL_HOSTS, IMAGE, LAB_PASSPHRASE, _pids_mentioning, unix_http


def test_lab_started_quickly(lab):
    assert lab.startup_seconds is not None and lab.startup_seconds < 30
    assert len(lab.d1.socket) <= 100


@pytest.mark.parametrize("name", ["d1", "d2", "d3"])
def test_daemon_answers_over_unix(lab, name):
    d = getattr(lab, name)
    out = d.docker("version", "--format", "{{.Server.APIVersion}}").stdout.strip()
    assert out.startswith("1.")
    assert unix_http(d.socket, "GET", "/_ping") == (200, b"OK")


def test_daemon_answers_over_plain_tcp(lab):
    assert lab.d2.tcp_port and not lab.d2.tls
    out = lab.d2.docker("version", "--format", "{{.Server.Version}}", transport="tcp").stdout
    assert out.strip()


def test_daemon_answers_over_tls_with_client_cert(lab):
    assert lab.d3.tls
    out = lab.d3.docker("version", "--format", "{{.Server.Version}}", transport="tcp").stdout
    assert out.strip()
    # Without a client certificate the daemon refuses (mutual TLS).
    conn = http.client.HTTPConnection("127.0.0.1", lab.d3.tcp_port, timeout=5)
    try:
        conn.request("GET", "/_ping")
        assert conn.getresponse().status == 400  # plain HTTP to a TLS port
    finally:
        conn.close()


def test_daemons_have_no_bridge(lab):
    for d in lab.daemons:
        names = d.docker("network", "ls", "--format", "{{.Name}}").stdout.split()
        assert "bridge" not in names, d


def test_image_runs_without_network(lab):
    assert lab.d1.run("echo", "hello from the lab").strip() == "hello from the lab"
    cid = lab.d2.run_container(None, "sh", "-c", "echo done", labels={"dyl.test": "lab"}, detach=False)
    try:
        info = json.loads(lab.d2.docker("inspect", cid).stdout)[0]
        assert info["HostConfig"]["NetworkMode"] == "none"
        assert info["Config"]["Labels"]["dyl.test"] == "lab"
        assert lab.d2.docker("logs", cid).stdout.strip() == "done"
    finally:
        lab.d2.docker("rm", "-f", cid)


def test_registry_answers_and_stores(lab):
    conn = http.client.HTTPConnection("127.0.0.1", lab.registry.port, timeout=5)
    try:
        conn.request("GET", "/v2/")
        assert conn.getresponse().status == 200
    finally:
        conn.close()
    ref = f"{lab.registry.host}/lab/sanity:1"
    lab.d1.docker("tag", IMAGE, ref)
    lab.d1.docker("push", ref)
    conn = http.client.HTTPConnection("127.0.0.1", lab.registry.port, timeout=5)
    try:
        conn.request("GET", "/v2/lab/sanity/tags/list")
        assert json.loads(conn.getresponse().read())["tags"] == ["1"]
    finally:
        conn.close()
    lab.d1.docker("rmi", ref)


def test_config_toml_parses(lab, tmp_path):
    path = lab.write_config(tmp_path / "c.toml", ALL_HOSTS, extra={"ssh": {"connect_timeout": 2}}, readonly=True)
    data = tomllib.loads(path.read_text())
    assert data["readonly"] is True
    assert [h["name"] for h in data["hosts"]] == list(ALL_HOSTS)
    hosts = {h["name"]: h for h in data["hosts"]}
    assert hosts["ssh"]["connect_timeout"] == 2
    assert hosts["tls3"]["tls"]["ca"] == lab.tls_ca
    assert hosts["ssh-jump"]["jump"] == [f"root@127.0.0.1:{lab.jump.port}"]
    assert data["registries"][0]["url"] == lab.registry.url


# ------------------------------------------------------------------ SSH


async def _ping_over(conn: asyncssh.SSHClientConnection, socket_path: str) -> bytes:
    """HTTP GET /_ping on the remote daemon socket through one SSH channel."""
    reader, writer = await conn.open_unix_connection(socket_path)
    writer.write(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
    data = await reader.read()
    writer.close()
    return data


def _opts(lab, **kw):
    base = dict(username="root", known_hosts=lab.known_hosts, agent_path=None, config=None,
                client_keys=[lab.client_key])
    base.update(kw)
    return base


async def test_ssh_client_key_and_known_hosts(lab):
    async with asyncssh.connect("127.0.0.1", lab.target.port, **_opts(lab)) as conn:
        assert (await _ping_over(conn, lab.d2.socket)).endswith(b"OK")


async def test_ssh_unknown_host_key_is_refused(lab, tmp_path):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(asyncssh.HostKeyNotVerifiable):
        await asyncssh.connect("127.0.0.1", lab.target.port, **_opts(lab, known_hosts=str(empty)))


async def test_ssh_through_jump_host(lab):
    async with asyncssh.connect("127.0.0.1", lab.jump.port, **_opts(lab)) as hop:
        async with asyncssh.connect("127.0.0.1", lab.target.port, tunnel=hop, **_opts(lab)) as conn:
            assert (await _ping_over(conn, lab.d2.socket)).endswith(b"OK")


async def test_ssh_encrypted_key_with_passphrase(lab):
    key = asyncssh.read_private_key(lab.client_key_encrypted, LAB_PASSPHRASE)
    async with asyncssh.connect("127.0.0.1", lab.target.port, **_opts(lab, client_keys=[key])) as conn:
        assert (await conn.run("echo ok", check=True)).stdout.strip() == "ok"
    with pytest.raises(asyncssh.KeyEncryptionError):
        asyncssh.read_private_key(lab.client_key_encrypted, "wrong")


async def test_ssh_agent_key(lab):
    async with asyncssh.connect("127.0.0.1", lab.target.port,
                                **_opts(lab, agent_path=lab.agent_sock, client_keys=())) as conn:
        assert (await _ping_over(conn, lab.d2.socket)).endswith(b"OK")
    agent = await asyncssh.connect_agent(lab.agent_sock)
    try:
        keys = await agent.get_keys()
        assert [k.get_comment() for k in keys] == ["dockyard-lab-agent"]
    finally:
        agent.close()


async def test_freeze_silences_an_established_connection(lab, fresh_sshd):
    opts = _opts(lab, known_hosts=fresh_sshd.known_hosts)
    async with asyncssh.connect("127.0.0.1", fresh_sshd.port, **opts) as conn:
        assert (await _ping_over(conn, fresh_sshd.docker_socket)).endswith(b"OK")
        fresh_sshd.freeze()
        try:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(_ping_over(conn, fresh_sshd.docker_socket), 1.0)
        finally:
            fresh_sshd.thaw()
        assert (await asyncio.wait_for(_ping_over(conn, fresh_sshd.docker_socket), 5)).endswith(b"OK")


# ------------------------------------------------------------------ daemon kill / restart


def test_fresh_daemon_kill_and_restart(fresh_daemon):
    d = fresh_daemon
    cid = d.run_container("survivor", "sleep", "1000", labels={"dyl.test": "restart"})
    old_pid = d.pid
    d.kill()
    with pytest.raises(OSError):
        unix_http(d.socket, "GET", "/_ping", timeout=1)
    t0 = time.monotonic()
    d.start()
    restart = time.monotonic() - t0
    assert d.pid != old_pid and d.ping()
    assert restart < 10, f"restart took {restart:.1f} s"
    state = json.loads(d.docker("inspect", cid).stdout)[0]["State"]
    assert state["Running"] is False  # no live-restore: the daemon ended it on restart
    d.run_container("again", "sleep", "1000")
    d.stop()
    assert not _pids_mentioning(str(d.dir) + "/"), "shims or containers outlived the daemon"
