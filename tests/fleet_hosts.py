"""HostConfig objects for the lab's components, so fleet tests can build fleets precisely."""

from __future__ import annotations

from dockyard.config.model import Config, HostConfig, TLSConfig


def unix_host(daemon, name: str = "unix1", **kw) -> HostConfig:
    return HostConfig(name=name, url=f"unix://{daemon.socket}", **kw)


def tcp_host(daemon, name: str = "tcp2", **kw) -> HostConfig:
    return HostConfig(name=name, url=f"tcp://127.0.0.1:{daemon.tcp_port}", **kw)


def tls_host(lab, daemon, name: str = "tls3", verify: bool = True, **kw) -> HostConfig:
    tls = TLSConfig(ca=lab.tls_ca, cert=lab.tls_cert, key=lab.tls_key, verify=verify)
    return HostConfig(name=name, url=f"tcp://127.0.0.1:{daemon.tcp_port}", tls=tls, **kw)


def ssh_host(lab, daemon, sshd=None, name: str = "ssh", *, jump: bool = False, **kw) -> HostConfig:
    sshd = sshd or lab.target
    kw.setdefault("identity_file", (lab.client_key,))
    kw.setdefault("known_hosts", lab.known_hosts)
    if jump:
        kw.setdefault("jump", (f"root@127.0.0.1:{lab.jump.port}",))
    return HostConfig(name=name, url=f"ssh://root@127.0.0.1:{sshd.port}", socket=daemon.socket, **kw)


def config(*hosts: HostConfig, **kw) -> Config:
    return Config(hosts=tuple(hosts), **kw)
