"""A daemon's URL is parsed once, at config load, into an Endpoint (config/urls.py); the transports
and the prefetch read its fields. No lab: these are the values a user's config turns into."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.config import load_config
from dockyard.config.model import HostConfig
from dockyard.config.urls import DOCKER_PORT, DOCKER_TLS_PORT, Endpoint, parse_host_url


def test_the_loaded_hosts_carry_their_parsed_endpoints(tmp_path: Path):
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_text("x")
    cfg = tmp_path / "dockyard.toml"
    cfg.write_text(f'''
[[hosts]]
name = "local"
url = "unix://~/run/docker.sock"

[[hosts]]
name = "plain"
url = "tcp://10.0.0.5"

[[hosts]]
name = "secure"
url = "tcp://[2001:db8::7]"
[hosts.tls]
ca = "{tmp_path}/ca.pem"
cert = "{tmp_path}/cert.pem"
key = "{tmp_path}/key.pem"

[[hosts]]
name = "remote"
url = "ssh://deploy@Build-Box:2222/"
''')
    hosts = {h.name: h for h in load_config(str(cfg), env={"HOME": "/home/ann"}).hosts}
    assert hosts["local"].endpoint == Endpoint("unix", "unix:///home/ann/run/docker.sock",
                                               socket_path="/home/ann/run/docker.sock")
    assert hosts["plain"].endpoint == Endpoint("tcp", f"tcp://10.0.0.5:{DOCKER_PORT}", address="10.0.0.5",
                                               port=2375)
    assert hosts["secure"].endpoint.http_base == f"https://[2001:db8::7]:{DOCKER_TLS_PORT}"
    assert hosts["secure"].url == "tcp://[2001:db8::7]:2376"
    # an ssh host may be an ~/.ssh/config alias: its case is kept
    assert hosts["remote"].endpoint == Endpoint("ssh", "ssh://deploy@Build-Box:2222", address="Build-Box",
                                                port=2222, user="deploy")
    assert {h.scheme for h in hosts.values()} == {"unix", "tcp", "ssh"}


def test_a_host_made_in_code_is_parsed_once_too():
    host = HostConfig(name="dead", url="tcp://127.0.0.1:9")
    assert (host.endpoint.address, host.endpoint.port, host.endpoint.tls) == ("127.0.0.1", 9, False)
    assert HostConfig(name="odd", url="nonsense").endpoint.scheme == ""  # no transport takes it


@pytest.mark.parametrize("url, message", [
    ("tcp://u@h:1", "take no user"),
    ("tcp://h:0", "invalid port"),
    ("ssh://u:secret@h", "must not hold a password"),
    ("unix://relative.sock", "must be absolute"),
    ("http://h", "must start with unix://, tcp:// or ssh://"),
])
def test_a_bad_url_says_what_is_wrong(url, message):
    with pytest.raises(ValueError, match=message):
        parse_host_url(url, tls=False, env={})
