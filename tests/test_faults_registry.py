"""Fault suite: registries that misbehave on purpose (purpose-built servers: a real registry can't).

A token realm on another host and port, redirects to other servers and in loops, malformed JSON, a
50 MB catalog, an endless slow body, hostile repository names. What a user must get: a sentence,
never a secret sent where it shouldn't go, never a hang, never raw control characters.
"""

from __future__ import annotations

import base64
import json
import time

import pytest
import registry_lab as rl
from hostile import HOSTILE, assert_inert
from helpers import dockyard
from registry_lab import cfg, creds

from dockyard.registry import NotARegistry, RegistryClient, Unauthorized
from dockyard.registry.errors import RegistryTimeout

pytestmark = pytest.mark.faults

SECRET = "s3cr3t-Fault-71c2"
BASIC = "Basic " + base64.b64encode(f"mallory:{SECRET}".encode()).decode()
API = {"Content-Type": "application/json", "Docker-Distribution-API-Version": "registry/2.0"}


def json_route(data: object, status: int = 200, **headers: str) -> tuple[int, dict[str, str], bytes]:
    return status, {**API, **headers}, json.dumps(data).encode()


def redirect(location: str, status: int = 307) -> tuple[int, dict[str, str], bytes]:
    return status, {"Location": location}, b""


def with_secret(name: str, url: str):
    """A registry config with a username and a password (from the environment)."""
    return cfg(name, url, username="mallory", password_env="FAULT_PW")


@pytest.fixture
def servers():
    made: list[rl.FakeHTTP] = []

    def make(routes=None, host: str = "127.0.0.1") -> rl.FakeHTTP:
        made.append(rl.FakeHTTP(routes, host=host))
        return made[-1]

    yield make
    for s in made:
        s.stop()


def sent_secret(server: rl.FakeHTTP) -> bool:
    return any(auth for _, _, auth in server.requests)


# --------------------------------------------------------------------------- item 1: foreign token realm


def foreign_realm(servers):
    """A registry on 127.0.0.1 whose 401 names a token service on 127.0.0.2 (plain HTTP)."""
    realm = servers({"/token": json_route({"token": "t0k"})}, host="127.0.0.2")
    challenge = f'Bearer realm="{realm.url}/token",service="fault"'
    reg = servers({"/v2/": (401, {**API, "WWW-Authenticate": challenge}, b'{"errors":[]}'),
                   "/v2/_catalog": (401, {**API, "WWW-Authenticate": challenge}, b'{"errors":[]}')})
    return reg, realm


async def test_credentials_never_go_to_a_foreign_plain_http_realm(servers):
    reg, realm = foreign_realm(servers)
    async with RegistryClient(with_secret("evil", reg.url), credentials=creds(FAULT_PW=SECRET)) as client:
        with pytest.raises(Unauthorized) as exc:
            await client.ping()
        with pytest.raises(Unauthorized):
            [r async for r in client.catalog()]
    assert f"{realm.url}/token" in str(exc.value) and "not sending credentials" in str(exc.value)
    assert realm.requests == [], "the foreign realm was contacted with credentials at hand"
    assert not sent_secret(reg)


async def test_anonymous_token_from_a_foreign_realm_carries_nothing(servers):
    """Without credentials there is nothing to leak: an anonymous token request is fine (Docker does it)."""
    reg, realm = foreign_realm(servers)
    async with RegistryClient(cfg("anon", reg.url), credentials=creds()) as client:
        with pytest.raises(Unauthorized):  # the registry keeps refusing the anonymous token
            await client.ping()
    assert realm.requests and not sent_secret(realm)


def test_cli_registry_ls_refuses_the_foreign_realm_text_and_json(servers, tmp_path):
    reg, realm = foreign_realm(servers)
    conf = tmp_path / "c.toml"
    conf.write_text(f'[[registries]]\nname = "evil"\nurl = "{reg.url}"\nusername = "mallory"\n'
                    'password_env = "FAULT_PW"\n')
    env = {"FAULT_PW": SECRET, "HOME": str(tmp_path), "DOCKER_CONFIG": str(tmp_path)}
    text = dockyard("--config", str(conf), "registry", "ls", env=env)
    listing = dockyard("--config", str(conf), "registry", "ls", "evil", "--json", env=env)
    overview = dockyard("--config", str(conf), "registry", "ls", "--json", env=env)
    assert f"{realm.url}/token" in text.stdout + text.stderr
    assert listing.returncode == 3 and f"{realm.url}/token" in listing.stderr
    assert "Traceback" not in text.stderr + listing.stderr + overview.stderr
    json.loads(overview.stdout)
    assert realm.requests == [] and not sent_secret(reg)
    assert SECRET not in text.stdout + text.stderr + listing.stdout + listing.stderr + overview.stdout


# --------------------------------------------------------------------------- item 2: redirects


async def test_redirect_to_another_server_is_refused(servers):
    other = servers({"/v2/_catalog": json_route({"repositories": ["stolen"]})}, host="127.0.0.2")
    reg = servers({"/v2/": (401, {**API, "WWW-Authenticate": 'Basic realm="r"'}, b"{}"),
                   "/v2/_catalog": redirect(f"{other.url}/v2/_catalog")})
    # Basic: every request after the first 401 carries the password; the redirect must not take it along.
    async with RegistryClient(with_secret("hop", reg.url), credentials=creds(FAULT_PW=SECRET)) as client:
        with pytest.raises(Unauthorized):
            await client.ping()  # learns Basic; this fake answers 401 to everything on /v2/
        with pytest.raises(NotARegistry, match=r"redirects to another server \(127\.0\.0\.2:"):
            [r async for r in client.catalog()]
    assert other.requests == []


async def test_redirect_on_the_same_server_is_followed(servers):
    reg = servers({"/v2/_catalog": redirect("/v2/moved", 308), "/v2/moved": json_route({"repositories": ["a", "b"]})})
    async with RegistryClient(cfg("moved", reg.url), credentials=creds()) as client:
        assert [r async for r in client.catalog()] == ["a", "b"]


async def test_redirect_loop_and_endless_redirects_end_in_words(servers):
    reg = servers({"/v2/_catalog": redirect("/v2/a"), "/v2/a": redirect("/v2/b"), "/v2/b": redirect("/v2/a"),
                   "/v2/x/tags/list": lambda h: endless_redirects(h)})
    async with RegistryClient(cfg("loop", reg.url), credentials=creds()) as client:
        with pytest.raises(NotARegistry, match="redirect loop"):
            [r async for r in client.catalog()]
        with pytest.raises(NotARegistry, match="more than 5 redirects"):
            [t async for t in client.tags("x")]
    assert len(reg.requests) <= 2 + 3 + 6


def endless_redirects(h) -> None:
    h.send_response(302)
    h.send_header("Location", f"/v2/x/tags/list?hop={time.monotonic_ns()}")
    h.send_header("Content-Length", "0")
    h.end_headers()


async def test_config_blob_from_a_blob_store_goes_without_credentials_and_is_checked(servers):
    """Real registries send blob downloads to a storage server elsewhere: followed for the config blob
    only, without Authorization, and its content must match the digest."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": {"k": "v"}}}).encode()
    digest = rl.sha256(config)
    store = servers({f"/blobs/{digest}": (200, {"Content-Type": "application/octet-stream"}, config),
                     "/blobs/wrong": (200, {"Content-Type": "application/octet-stream"}, b'{"os":"evil"}')},
                    host="127.0.0.2")
    manifest = {"schemaVersion": 2, "mediaType": rl.OCI_MANIFEST, "layers": [],
                "config": {"mediaType": rl.OCI_CONFIG, "digest": digest, "size": len(config)}}
    reg = servers({"/v2/": (401, {**API, "WWW-Authenticate": 'Basic realm="r"'}, b"{}"),
                   "/v2/app/manifests/1": json_route(manifest, **{"Content-Type": rl.OCI_MANIFEST}),
                   f"/v2/app/blobs/{digest}": redirect(f"{store.url}/blobs/{digest}")})
    async with RegistryClient(with_secret("blobby", reg.url), credentials=creds(FAULT_PW=SECRET)) as client:
        with pytest.raises(Unauthorized):
            await client.ping()
        m = await client.manifest("app", "1")
        assert m.labels == {"k": "v"} and m.architecture == "amd64"
        reg.routes[f"/v2/app/blobs/{digest}"] = redirect(f"{store.url}/blobs/wrong")
        with pytest.raises(Exception, match="does not match its digest"):
            await client.manifest("app", "1")
    assert store.requests and not sent_secret(store)
    assert any(auth == BASIC for _, _, auth in reg.requests)  # the registry itself did get the password


# --------------------------------------------------------------------------- broken answers


async def test_malformed_json_and_wrong_shapes(servers):
    reg = servers({"/v2/_catalog": (200, API, b'{"repositories": ["a", '),
                   "/v2/x/tags/list": json_route({"name": "x", "tags": [1, 2]}),
                   "/v2/y/tags/list": json_route(["not", "an", "object"]),
                   "/v2/z/manifests/latest": (200, API, b"\xff\xfe not json")})
    async with RegistryClient(cfg("broken", reg.url), credentials=creds()) as client:
        with pytest.raises(NotARegistry, match="instead of the registry API's JSON"):
            [r async for r in client.catalog()]
        with pytest.raises(NotARegistry, match="not a list of names"):
            [t async for t in client.tags("x")]
        with pytest.raises(NotARegistry, match="instead of the registry API's JSON"):
            [t async for t in client.tags("y")]
        with pytest.raises(NotARegistry, match="instead of the registry API's JSON"):
            await client.manifest("z", "latest")


def huge_catalog(h, size: int = 50 * 2**20) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(size))
    h.end_headers()
    h.wfile.write(b'{"repositories": [')
    chunk = b'"' + b"r" * 1000 + b'",'
    for _ in range(size // len(chunk)):
        h.wfile.write(chunk)


def slow_body(h) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.end_headers()  # no length: the body would go on forever
    h.wfile.write(b'{"repositories": [')
    while True:
        h.wfile.write(b'"a",')
        h.wfile.flush()
        time.sleep(0.2)


async def test_a_50_mb_catalog_is_cut_off(servers):
    reg = servers({"/v2/_catalog": huge_catalog})
    t0 = time.monotonic()
    async with RegistryClient(cfg("huge", reg.url), credentials=creds()) as client:
        with pytest.raises(NotARegistry, match="more than 16 MiB"):
            [r async for r in client.catalog()]
    assert time.monotonic() - t0 < 10


async def test_an_endless_slow_body_times_out(servers):
    reg = servers({"/v2/_catalog": slow_body})
    t0 = time.monotonic()
    async with RegistryClient(cfg("slow", reg.url), credentials=creds(), timeout=2) as client:
        with pytest.raises(RegistryTimeout, match="did not answer within 2 s"):
            [r async for r in client.catalog()]
    assert time.monotonic() - t0 < 5


# --------------------------------------------------------------------------- hostile names


def hostile_registry(servers) -> rl.FakeHTTP:
    names = list(HOSTILE)
    return servers({"/v2/": json_route({}),
                    "/v2/_catalog": json_route({"repositories": names}),
                    "/v2/app/tags/list": json_route({"name": "app", "tags": names})})


async def test_hostile_names_arrive_as_data(servers):
    reg = hostile_registry(servers)
    async with RegistryClient(cfg("hostile", reg.url), credentials=creds()) as client:
        assert [r async for r in client.catalog()] == list(HOSTILE)
        assert [t async for t in client.tags("app")] == list(HOSTILE)


def test_cli_shows_hostile_names_inert_in_text_and_intact_in_json(servers, tmp_path):
    reg = hostile_registry(servers)
    conf = tmp_path / "c.toml"
    conf.write_text(f'[[registries]]\nname = "hostile"\nurl = "{reg.url}"\n')
    env = {"HOME": str(tmp_path), "DOCKER_CONFIG": str(tmp_path)}
    for args in (("ls", "hostile"), ("tags", "hostile", "app")):
        text = dockyard("--config", str(conf), "registry", *args, env=env)
        assert text.returncode == 0, text.stderr
        assert_inert(text.stdout + text.stderr)
        data = json.loads(dockyard("--config", str(conf), "registry", *args, "--json", env=env).stdout)
        assert set(HOSTILE) <= _strings(data)


def _strings(data: object) -> set[str]:
    if isinstance(data, str):
        return {data}
    if isinstance(data, dict):
        return set().union(*(_strings(v) for v in data.values())) if data else set()
    if isinstance(data, list):
        return set().union(*(_strings(v) for v in data)) if data else set()
    return set()
