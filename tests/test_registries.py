"""`Registries.auth_for`: which credentials a pull or push of an image sends (no lab, no network)."""

from __future__ import annotations

import base64
import json

from dockyard.config.model import Config, RegistryConfig
from dockyard.registry import Registries


def registries(tmp_path, auths: dict[str, str], *registry: RegistryConfig, **env: str) -> Registries:
    """A `docker login` config.json holding `auths` {host: "user:password"}, plus config registries."""
    (tmp_path / "config.json").write_text(json.dumps(
        {"auths": {host: {"auth": base64.b64encode(pair.encode()).decode()} for host, pair in auths.items()}}))
    return Registries(Config(registries=registry), env={"DOCKER_CONFIG": str(tmp_path), "HOME": str(tmp_path), **env})


async def test_the_registry_host_in_the_reference_picks_the_docker_login(tmp_path):
    regs = registries(tmp_path, {"127.0.0.1:5000": "carol:s3cret", "https://index.docker.io/v1/": "dave:hub"})
    assert await regs.auth_for("127.0.0.1:5000/team/app:1") == {
        "username": "carol", "password": "s3cret", "serveraddress": "127.0.0.1:5000"}
    hub = {"username": "dave", "password": "hub", "serveraddress": "docker.io"}
    assert await regs.auth_for("busybox") == hub
    assert await regs.auth_for("team/app:2") == hub  # no '.', ':' or localhost: a Docker Hub namespace
    assert await regs.auth_for("127.0.0.1:5001/app") is None  # no login for that port: anonymous


async def test_a_configured_registry_wins_over_the_docker_login(tmp_path):
    mine = RegistryConfig(name="mine", url="https://reg.example:8443", username="erin", password_env="MINE_PW")
    regs = registries(tmp_path, {"reg.example:8443": "carol:old"}, mine, MINE_PW="fresh")
    assert await regs.auth_for(f"reg.example:8443/app@sha256:{'a' * 64}") == {
        "username": "erin", "password": "fresh", "serveraddress": "reg.example:8443"}
