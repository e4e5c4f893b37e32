"""Sanity checks of the test lab itself: if these fail, nothing else can be trusted."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import asyncssh
import pytest

from lab import ALL_HOSTS, IMAGE, LAB_PASSPHRASE, _alive, _pids_mentioning, _spawn, owner, unix_http

TESTS = Path(__file__).resolve().parent


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


# --- a lab never outlives its run (tests/lab/owner.py)

HOLD_TEST = '''
import json, os, time
from pathlib import Path

def test_hold(lab):
    pids = [d.proc.pid for d in lab.daemons] + [lab.registry.proc.pid, lab.target.proc.pid,
                                                lab.jump.proc.pid, lab.agent.proc.pid]
    Path(os.environ["HOLD_FILE"]).write_text(json.dumps({"root": lab.root, "pids": pids}))
    time.sleep(600)
'''


@pytest.mark.lab
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_run_stopped_by_a_signal_leaves_no_lab_process(tmp_path, sig):
    """A pytest run (this conftest, one lab test) gets SIGTERM (what `timeout` sends) or SIGINT (^C)
    once its lab is up: it exits, and no process of that lab remains, nor its root."""
    (tmp_path / "test_hold.py").write_text(HOLD_TEST)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    hold = tmp_path / "hold.json"
    env = {**os.environ, "HOLD_FILE": str(hold),
           "PYTHONPATH": os.pathsep.join([str(TESTS), str(TESTS.parent / "tui")])}
    run = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "conftest", "-p", "no:cacheprovider",
                            "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path), "test_hold.py"],
                           cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not hold.exists() and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert hold.exists(), run.communicate(timeout=30)[0].decode(errors="replace")[-3000:]
        time.sleep(0.2)  # the file is written in one go; let the write land
        held = json.loads(hold.read_text())
        assert all(_alive(p) for p in held["pids"])
        run.send_signal(sig)
        output = run.communicate(timeout=90)[0].decode(errors="replace")
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == (128 + sig if sig != signal.SIGINT else pytest.ExitCode.INTERRUPTED), output[-3000:]
    assert [p for p in held["pids"] if _alive(p)] == []
    assert _pids_mentioning(held["root"] + "/") == []
    assert not os.path.exists(held["root"])


@pytest.mark.lab
def test_a_lab_whose_owner_is_gone_is_reaped_at_the_next_start_and_a_live_ones_is_not(tmp_path):
    """Two lab roots with an ssh-agent each (and a swarm-style gateway link for the first): one
    owned by a process that has exited, one by a live process. Claiming a new root (what Lab,
    SwarmLab and Podman do when they start) stops and removes the first and leaves the second."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    living = subprocess.Popen(["sleep", "600"])
    roots = [tempfile.mkdtemp(prefix="dyl", dir="/tmp") for _ in range(3)]
    stale, alive_root, new = roots
    Path(stale, owner.OWNER_FILE).write_text(f"{gone.pid} 1\n")
    Path(alive_root, owner.OWNER_FILE).write_text(f"{living.pid} {owner._start_time(living.pid)}\n")
    agents = [_spawn(["ssh-agent", "-D", "-a", f"{r}/agent.sock"], Path(r, "agent.log")) for r in (stale, alive_root)]
    link = f"gw{os.path.basename(stale)[-8:]}a1"
    subprocess.run(["ip", "link", "add", link, "type", "bridge"], check=True)
    try:
        owner.claim(new)
        agents[0].wait(timeout=10)  # reaped: killed
        assert _pids_mentioning(stale + "/") == [] and not os.path.exists(stale)
        assert not os.path.exists(f"/sys/class/net/{link}")
        assert agents[1].poll() is None and os.path.exists(alive_root)  # its owner lives: untouched
        assert Path(new, owner.OWNER_FILE).read_text().split()[0] == str(os.getpid())
    finally:
        owner.release(new)
        subprocess.run(["ip", "link", "del", link], capture_output=True)
        for p in (*agents, living):
            p.kill()
            p.wait()
        for r in roots:
            shutil.rmtree(r, ignore_errors=True)
