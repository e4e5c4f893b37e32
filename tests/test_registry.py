"""The registry client and `dockyard registry` against real docker-registry processes on loopback.

Registries (tests/registry_lab.py, started once per session):
    lab.registry  the lab's plain-HTTP registry (ping only: other tests use it)
    open_reg      plain HTTP, deletes on; a docker-pushed busybox, 120 repos, 151 tags, a 2-platform index
    nodel_reg     plain HTTP, deletes off (405)
    basic_reg     HTTPS with the lab CA + htpasswd (bcrypt) Basic auth
    token_reg     token auth through TokenIssuer (ES256 JWTs, x5c)
    impostors     an HTML web server, a server speaking garbage, a rate-limiting fake
No test contacts anything beyond 127.0.0.1 (Docker Hub is only a config object here).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest
import registry_lab as rl
from registry_lab import cfg, creds
from helpers import DOCKYARD, cli_env, dockyard
from lab import IMAGE

from dockyard.config import Config, load_config
from dockyard.config.model import RegistryConfig, RegistryTLS
from dockyard.registry import (
    DOCKER_HUB,
    BadReference,
    CatalogUnsupported,
    CredentialError,
    Credentials,
    CredentialSource,
    DeletionDisabled,
    NotARegistry,
    NotFound,
    RateLimited,
    ReadOnlyRegistry,
    RegistryClient,
    Secret,
    TLSFailure,
    Unauthorized,
    Unreachable,
    find_registry,
    known_registries,
    parse_challenges,
    parse_reference,
)

ALICE_PW = "alice-Pa55-7b1f0c"  # Basic registry
BOB_PW = "bob-T0ken-93ac51"  # token registry
SECRETS = (ALICE_PW, BOB_PW, base64.b64encode(f"alice:{ALICE_PW}".encode()).decode())
N_REPOS, N_TAGS = 120, 150


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def open_reg(lab):
    """Plain HTTP with deletes: one image pushed by a lab daemon, then cheap copies through the API."""
    reg = rl.RegistryServer(lab.root, "reg-open").start()
    try:
        ref = f"{reg.host}/busybox:latest"
        lab.d1.docker("tag", IMAGE, ref)
        lab.d1.docker("push", ref)
        reg.pushed_digest = json.loads(lab.d1.docker("inspect", ref).stdout)[0]["RepoDigests"]
        api = rl.RegistryAPI(reg.url)
        api.replicate("busybox", "latest", [(f"many/r{i:03d}", "latest") for i in range(N_REPOS)])
        api.replicate("busybox", "latest", [("busybox", f"t{i:03d}") for i in range(N_TAGS)])
        reg.index_digest, reg.platform_digests = api.push_index("multi", "latest", [("amd64", None), ("arm64", "v8")])
        reg.api = api
        yield reg
    finally:
        reg.stop()


@pytest.fixture(scope="session")
def nodel_reg(lab):
    reg = rl.RegistryServer(lab.root, "reg-nodel", delete=False).start()
    try:
        reg.api = rl.RegistryAPI(reg.url)
        reg.keep_digest = reg.api.push_image("keep", "v1")
        yield reg
    finally:
        reg.stop()


@pytest.fixture(scope="session")
def basic_reg(lab):
    reg = rl.RegistryServer(lab.root, "reg-basic", tls=lab.tls_files, htpasswd={"alice": ALICE_PW}).start()
    try:
        header = "Basic " + base64.b64encode(f"alice:{ALICE_PW}".encode()).decode()
        reg.api = rl.RegistryAPI(reg.url, ssl_context=reg.ssl_context(), auth=lambda repo: header)
        reg.api.push_image("team/app", "1.0", labels={"team": "blue"})
        yield reg
    finally:
        reg.stop()


@pytest.fixture(scope="session")
def token_reg(lab):
    """https registry + https token service on another port, both with the lab CA (credentials go to a
    foreign realm only over verified https)."""
    issuer = rl.TokenIssuer(Path(lab.root) / "token-issuer", users={"bob": BOB_PW}, tls=lab.tls_files)
    reg = rl.RegistryServer(lab.root, "reg-token", tls=lab.tls_files, token=issuer).start()
    try:
        reg.issuer = issuer
        reg.tls_config = RegistryTLS(ca=lab.tls_ca)
        reg.api = rl.RegistryAPI(reg.url, ssl_context=reg.ssl_context(),
                                 auth=lambda repo: "Bearer " + issuer.full_access(repo))
        reg.app_digest = reg.api.push_image("secure/app", "2.0")
        yield reg
    finally:
        reg.stop()
        issuer.stop()


@pytest.fixture(scope="session")
def impostors():
    html = rl.FakeHTTP()
    api_json = (200, {"Content-Type": "application/json", "Docker-Distribution-API-Version": "registry/2.0"}, b"{}")
    limited = rl.FakeHTTP({
        "/v2/": api_json,
        "/v2/_catalog": (429, {"Content-Type": "application/json", "Retry-After": "42"},
                         b'{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}'),
        "/v2/x/tags/list": (200, {"Content-Type": "application/json", "Link": '</v2/x/tags/page2?n=2&last=b>; rel="next"'},
                            b'{"name":"x","tags":["a","b"]}'),
        "/v2/x/tags/page2": (200, {"Content-Type": "application/json"}, b'{"name":"x","tags":["c"]}'),
    })
    garbage = rl.GarbageServer()
    try:
        yield {"html": html, "limited": limited, "garbage": garbage}
    finally:
        html.stop()
        limited.stop()
        garbage.stop()


def basic_cfg(basic_reg, lab, **kw) -> RegistryConfig:
    kw.setdefault("username", "alice")
    kw.setdefault("password_env", "ALICE_PW")
    kw.setdefault("tls", RegistryTLS(ca=lab.tls_ca))
    return RegistryConfig(name="basic", url=basic_reg.url, **kw)


def token_cfg(token_reg, **kw) -> RegistryConfig:
    kw.setdefault("username", "bob")
    kw.setdefault("password_command", f"printf '%s\\n' {BOB_PW}")
    kw.setdefault("tls", token_reg.tls_config)
    return cfg("token", token_reg.url, **kw)


def assert_no_secret(*texts: object) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in str(text), f"secret leaked into {text!r}"


# --------------------------------------------------------------------------- plain HTTP


async def test_plain_http_lab_registry_ping(lab):
    async with RegistryClient(cfg("lab", lab.registry.url), credentials=creds()) as client:
        result = await client.ping()
    assert result.auth == "none" and result.user is None
    assert result.api_version == "registry/2.0"
    assert result.login_status == "open (no login needed)"


async def test_catalog_follows_link_pagination_beyond_one_page(open_reg):
    async with RegistryClient(cfg("open", open_reg.url), credentials=creds()) as client:
        pages = [p async for p in client.catalog_pages(page_size=50)]
        default_pages = [p async for p in client.catalog_pages()]  # 100 per page
    names = [n for p in pages for n in p]
    assert len(pages) >= 3 and all(len(p) <= 50 for p in pages)
    assert len(default_pages) == 2 and len(default_pages[0]) == 100
    assert names == [n for p in default_pages for n in p]
    assert len(names) == len(set(names))
    assert {f"many/r{i:03d}" for i in range(N_REPOS)} <= set(names)
    assert {"busybox", "multi"} <= set(names)


async def test_tags_beyond_one_page(open_reg):
    async with RegistryClient(cfg("open", open_reg.url), credentials=creds()) as client:
        pages = [p async for p in client.tag_pages("busybox", page_size=40)]
        tags = [t async for t in client.tags("busybox")]
    got = [t for p in pages for t in p]
    assert sorted(got) == sorted(tags)
    assert set(tags) == {"latest", *(f"t{i:03d}" for i in range(N_TAGS))}
    assert len(tags) == N_TAGS + 1 == len(set(tags))


async def test_tags_link_pagination_is_followed(impostors):
    # distribution 2.8 ignores n= for tags; this fake paginates them like newer registries do
    async with RegistryClient(cfg("fake", impostors["limited"].url), credentials=creds()) as client:
        pages = [p async for p in client.tag_pages("x", page_size=2)]
    assert pages == [["a", "b"], ["c"]]


async def test_manifest_of_a_docker_pushed_image(lab, open_reg):
    async with RegistryClient(cfg("open", open_reg.url), credentials=creds()) as client:
        m = await client.manifest("busybox", "latest")
        assert await client.resolve("busybox", "latest") == m.digest
        by_digest = await client.manifest("busybox", m.digest)
    assert f"{open_reg.host}/busybox@{m.digest}" in open_reg.pushed_digest
    assert m.media_type == "application/vnd.docker.distribution.manifest.v2+json"
    assert not m.is_index and m.platforms == ()
    assert len(m.layers) >= 1 and all(layer.size > 0 and layer.digest.startswith("sha256:") for layer in m.layers)
    assert m.config_digest and m.config_size
    assert m.created and m.created_ts and abs(m.created_ts - time.time()) < 86400 * 365
    assert m.command == ("sh",) and m.os == "linux"
    assert m.total_size == m.config_size + sum(layer.size for layer in m.layers)
    assert by_digest.digest == m.digest and by_digest.reference == m.digest
    assert client.image_reference("busybox", tag="latest") == f"{open_reg.host}/busybox:latest"


async def test_multi_platform_index(open_reg):
    async with RegistryClient(cfg("open", open_reg.url), credentials=creds()) as client:
        index = await client.manifest("multi", "latest")
        arm = await client.manifest("multi", index.platforms[1].digest)
    assert index.is_index and index.digest == open_reg.index_digest
    assert index.media_type == "application/vnd.oci.image.index.v1+json"
    assert [str(p) for p in index.platforms] == ["linux/amd64", "linux/arm64/v8"]
    assert [p.digest for p in index.platforms] == open_reg.platform_digests
    assert index.layers == () and index.created is None
    assert arm.media_type == "application/vnd.oci.image.manifest.v1+json"
    assert (arm.os, arm.architecture, arm.variant, arm.platform) == ("linux", "arm64", "v8", "linux/arm64/v8")
    assert arm.created == "2024-05-06T07:08:09.123456789Z" and arm.created_ts == pytest.approx(1714979289.123456)
    assert arm.labels == {"org.example.test": "yes"} and arm.command == ("sh",)
    assert index.to_json()["platforms"][1]["platform"] == "linux/arm64/v8"


async def test_delete_by_digest_removes_every_tag_on_it(open_reg):
    api = open_reg.api
    digest = api.push_image("deleteme", "a", labels={"n": "1"})
    api.replicate("deleteme", "a", [("deleteme", "b")])
    other = api.push_image("deleteme", "c", labels={"n": "2"})
    assert other != digest
    async with RegistryClient(cfg("open", open_reg.url), credentials=creds()) as client:
        assert await client.tags_for_digest("deleteme", digest) == ["a", "b"]
        await client.delete("deleteme", digest)
        with pytest.raises(NotFound) as exc:
            await client.manifest("deleteme", "a")
        assert "not found" in str(exc.value) and "manifest" in str(exc.value)
        assert [t async for t in client.tags("deleteme")] == ["c"]
        with pytest.raises(NotFound):
            await client.delete("deleteme", digest)


async def test_delete_refuses_tags_and_readonly(open_reg):
    async with RegistryClient(cfg("open", open_reg.url), credentials=creds()) as client:
        with pytest.raises(BadReference, match="digest"):
            await client.delete("busybox", "latest")
    async with RegistryClient(cfg("open", open_reg.url), credentials=creds(), readonly=True) as client:
        with pytest.raises(ReadOnlyRegistry):
            await client.delete("busybox", "sha256:" + "0" * 64)


async def test_delete_disabled_is_said_in_words(nodel_reg):
    async with RegistryClient(cfg("nodel", nodel_reg.url), credentials=creds()) as client:
        with pytest.raises(DeletionDisabled) as exc:
            await client.delete("keep", nodel_reg.keep_digest)
        assert (await client.manifest("keep", "v1")).digest == nodel_reg.keep_digest
    assert exc.value.status == 405
    assert "deletion disabled" in str(exc.value) and "405" in str(exc.value)


async def test_not_found_words(open_reg):
    async with RegistryClient(cfg("open", open_reg.url), credentials=creds()) as client:
        with pytest.raises(NotFound, match="repository not found"):
            [t async for t in client.tags("no/such/repo")]
        with pytest.raises(NotFound, match="manifest not found"):
            await client.manifest("busybox", "no-such-tag")
        with pytest.raises(BadReference):
            await client.manifest("../etc", "latest")


# --------------------------------------------------------------------------- Basic over TLS


async def test_basic_auth_over_tls_with_test_ca(lab, basic_reg):
    async with RegistryClient(basic_cfg(basic_reg, lab), credentials=creds(ALICE_PW=ALICE_PW)) as client:
        result = await client.ping()
        repos = [r async for r in client.catalog()]
        m = await client.manifest("team/app", "1.0")
    assert (result.auth, result.user, result.login_status) == ("basic", "alice", "logged in as alice")
    assert repos == ["team/app"]
    assert m.labels == {"team": "blue"} and m.architecture == "amd64"


async def test_basic_wrong_password_is_unauthorized_without_the_secret(lab, basic_reg):
    wrong = "not-" + ALICE_PW
    source = creds(ALICE_PW=wrong)
    async with RegistryClient(basic_cfg(basic_reg, lab), credentials=source) as client:
        with pytest.raises(Unauthorized) as exc:
            await client.ping()
        with pytest.raises(Unauthorized):
            [r async for r in client.catalog()]
    text = f"{exc.value} {exc.value!r} {exc.value.args} {client!r} {source!r} {client._creds!r}"
    assert "wrong username or password" in str(exc.value)
    assert wrong not in text and ALICE_PW not in text
    assert exc.value.__cause__ is None


async def test_basic_without_credentials(lab, basic_reg):
    c = RegistryConfig(name="basic", url=basic_reg.url, tls=RegistryTLS(ca=lab.tls_ca))
    async with RegistryClient(c, credentials=creds()) as client:
        result = await client.ping()
        assert (result.auth, result.login_status) == ("basic", "login required")
        with pytest.raises(Unauthorized, match="username and password"):
            await client.manifest("team/app", "1.0")


async def test_password_env_unset_is_a_credential_error(lab, basic_reg):
    async with RegistryClient(basic_cfg(basic_reg, lab), credentials=creds()) as client:
        with pytest.raises(CredentialError, match=r"\$ALICE_PW"):
            await client.ping()


async def test_tls_untrusted_certificate(basic_reg):
    c = RegistryConfig(name="basic", url=basic_reg.url)  # system CAs only: the lab CA is unknown
    async with RegistryClient(c, credentials=creds()) as client:
        with pytest.raises(TLSFailure) as exc:
            await client.ping()
    assert "not trusted" in str(exc.value) and "[registries.tls] ca" in str(exc.value)


async def test_tls_verify_off_connects(basic_reg):
    c = RegistryConfig(name="basic", url=basic_reg.url, tls=RegistryTLS(verify=False))
    async with RegistryClient(c, credentials=creds()) as client:
        assert (await client.ping()).login_status == "login required"


async def test_https_to_a_plain_http_registry_and_back(lab, open_reg, basic_reg):
    async with RegistryClient(RegistryConfig(name="x", url=f"https://{open_reg.host}"), credentials=creds()) as client:
        with pytest.raises(TLSFailure, match="plain HTTP"):
            await client.ping()
    async with RegistryClient(cfg("y", f"http://{basic_reg.host}"), credentials=creds()) as client:
        with pytest.raises(NotARegistry, match="HTTPS"):
            await client.ping()


# --------------------------------------------------------------------------- token auth


async def test_token_auth_with_password_command(token_reg):
    issuer = token_reg.issuer
    async with RegistryClient(token_cfg(token_reg), credentials=creds()) as client:
        result = await client.ping()
        assert (result.auth, result.user) == ("bearer", "bob")
        n = len(issuer.issued)
        assert "secure/app" in [r async for r in client.catalog()]
        assert [t async for t in client.tags("secure/app")] == ["2.0"]
        m = await client.manifest("secure/app", "2.0")
        assert m.digest == token_reg.app_digest and m.created
        fetched = len(issuer.issued) - n
        assert [t async for t in client.tags("secure/app")] == ["2.0"]  # cached token: no new request
        assert len(issuer.issued) - n == fetched
    scopes = [s for rec in issuer.issued[n:] for s in rec["scope"]]
    assert "registry:catalog:*" in scopes and "repository:secure/app:pull" in scopes
    assert all(rec["user"] == "bob" and rec["service"] == [rl.TokenIssuer.SERVICE] for rec in issuer.issued[n:])


async def test_token_delete(token_reg):
    digest = token_reg.api.push_image("secure/tmp", "x", labels={"tmp": "1"})
    async with RegistryClient(token_cfg(token_reg), credentials=creds()) as client:
        await client.delete("secure/tmp", digest)
        with pytest.raises(NotFound):
            await client.manifest("secure/tmp", "x")
    assert any("repository:secure/tmp:delete" in rec["scope"] for rec in token_reg.issuer.issued)


async def test_token_wrong_password(token_reg):
    c = token_cfg(token_reg, password_command="echo wrong-" + BOB_PW)
    async with RegistryClient(c, credentials=creds()) as client:
        with pytest.raises(Unauthorized) as exc:
            await client.ping()
    assert "wrong username or password" in str(exc.value) and BOB_PW not in str(exc.value)


async def test_token_anonymous_is_refused_in_words(token_reg):
    async with RegistryClient(cfg("token", token_reg.url, tls=token_reg.tls_config), credentials=creds()) as client:
        result = await client.ping()  # an anonymous token gets /v2/
        assert (result.auth, result.user, result.login_status) == ("bearer", None, "anonymous")
        with pytest.raises(Unauthorized, match="anonymous access refused"):
            [t async for t in client.tags("secure/app")]


async def test_expired_token_is_renewed(token_reg):
    issuer = token_reg.issuer
    issuer.expires_in = 1
    try:
        async with RegistryClient(token_cfg(token_reg), credentials=creds()) as client:
            assert [t async for t in client.tags("secure/app")] == ["2.0"]
            n, fetches = len(issuer.issued), client.token_fetches
            first = issuer.issued[-1]["token"]
            await asyncio.sleep(2.1)
            assert [t async for t in client.tags("secure/app")] == ["2.0"]
            assert client.token_fetches == fetches + 1 and len(issuer.issued) == n + 1
            assert issuer.issued[-1]["token"] != first
    finally:
        issuer.expires_in = 300


async def test_refused_cached_token_is_replaced_once(token_reg):
    issuer = token_reg.issuer
    async with RegistryClient(token_cfg(token_reg), credentials=creds()) as client:
        await client.ping()  # learns the realm
        n = len(issuer.issued)
        issuer.stale_next = 1  # the next token says "300 s" but its JWT expired long ago
        assert [t async for t in client.tags("secure/app")] == ["2.0"]
        assert [rec["stale"] for rec in issuer.issued[n:]] == [True, False]
        issuer.stale_next = 2  # refused twice: an error, not a loop
        client._tokens.clear()
        with pytest.raises(Unauthorized):
            [t async for t in client.tags("secure/app")]
    issuer.stale_next = 0


# --------------------------------------------------------------------------- not a registry


async def test_html_page_is_not_a_registry(impostors):
    async with RegistryClient(cfg("web", impostors["html"].url), credentials=creds()) as client:
        with pytest.raises(NotARegistry, match="HTML page"):
            await client.ping()
        with pytest.raises(NotARegistry, match="HTML page"):
            [r async for r in client.catalog()]


async def test_garbage_is_not_a_registry(impostors):
    async with RegistryClient(cfg("junk", impostors["garbage"].url), credentials=creds()) as client:
        with pytest.raises(NotARegistry, match="not HTTP|without an HTTP answer"):
            await client.ping()


async def test_rate_limited_with_retry_time(impostors):
    async with RegistryClient(cfg("busy", impostors["limited"].url), credentials=creds()) as client:
        with pytest.raises(RateLimited) as exc:
            [r async for r in client.catalog()]
    assert exc.value.retry_after == 42 and "rate limited" in str(exc.value) and "retry in 42 s" in str(exc.value)


async def test_catalog_unsupported(impostors):
    fake = rl.FakeHTTP({"/v2/": (200, {"Content-Type": "application/json"}, b"{}"),
                        "/v2/_catalog": (404, {"Content-Type": "application/json"},
                                         b'{"errors":[{"code":"NOT_FOUND","message":"not found"}]}')})
    try:
        async with RegistryClient(cfg("nocat", fake.url), credentials=creds()) as client:
            await client.ping()
            with pytest.raises(CatalogUnsupported, match="name a repository"):
                [r async for r in client.catalog()]
    finally:
        fake.stop()


async def test_unreachable():
    port = rl._lab.free_port()
    async with RegistryClient(cfg("gone", f"http://127.0.0.1:{port}"), credentials=creds()) as client:
        with pytest.raises(Unreachable, match="cannot connect"):
            await client.ping()


# --------------------------------------------------------------------------- credentials


def test_secret_and_credentials_never_show_the_value():
    s = Secret("hunter2")
    c = Credentials("alice", s)
    for text in (repr(s), str(s), f"{s}", f"{s:>20}", repr(c), str(c), repr([c]), repr({"k": s})):
        assert "hunter2" not in text
    assert s.reveal() == "hunter2"
    assert c.basic_header() == "Basic " + base64.b64encode(b"alice:hunter2").decode()
    with pytest.raises(TypeError):
        __import__("pickle").dumps(s)


def _docker_config(tmp_path: Path, data: dict) -> dict[str, str]:
    d = tmp_path / "docker"
    d.mkdir(exist_ok=True)
    (d / "config.json").write_text(json.dumps(data))
    return {"DOCKER_CONFIG": str(d), "HOME": str(tmp_path), "PATH": os.environ.get("PATH", "")}


def _helper(tmp_path: Path, suffix: str, answers: dict[str, dict]) -> str:
    """A `docker-credential-<suffix>` that records the server URL it was asked for."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    script = bindir / f"docker-credential-{suffix}"
    script.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import json, sys
        answers = {answers!r}
        assert sys.argv[1:] == ["get"], sys.argv
        url = sys.stdin.read().strip()
        open({str(tmp_path / (suffix + '.log'))!r}, "a").write(url + "\\n")
        if url not in answers:
            print("credentials not found in native keychain"); sys.exit(1)
        print(json.dumps(answers[url]))
    """))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(bindir)


async def test_docker_config_auths_credhelpers_and_store(tmp_path):
    bindir = _helper(tmp_path, "dytest", {
        "helped.example:5000": {"ServerURL": "helped.example:5000", "Username": "carol", "Secret": "c-secret"},
        "https://index.docker.io/v1/": {"ServerURL": "https://index.docker.io/v1/", "Username": "<token>",
                                        "Secret": "refresh-tok"},
    })
    env = _docker_config(tmp_path, {
        "auths": {"plain.example": {"auth": base64.b64encode(b"dave:d-secret").decode()},
                  "https://tok.example/v1/": {"identitytoken": "id-tok"},
                  "stored.example": {}},
        "credHelpers": {"helped.example:5000": "dytest"},
        "credsStore": "dytest",
    })
    env["PATH"] = bindir + os.pathsep + env["PATH"]
    source = CredentialSource(env)
    dock = lambda url: RegistryConfig(name="r", url=url, credentials="docker")
    c = await source.get(dock("https://plain.example"))
    assert (c.username, c.password.reveal(), c.source) == ("dave", "d-secret", "docker config.json")
    c = await source.get(dock("https://tok.example"))
    assert c.identity_token.reveal() == "id-tok" and c.password is None
    c = await source.get(dock("https://helped.example:5000"))
    assert (c.username, c.password.reveal(), c.source) == ("carol", "c-secret", "docker-credential-dytest")
    hub = await source.get(DOCKER_HUB)  # credsStore, asked with Docker Hub's legacy key
    assert hub.identity_token.reveal() == "refresh-tok" and hub.username is None
    assert await source.get(dock("https://stored.example")) is None  # the store says "not found"
    asked = (tmp_path / "dytest.log").read_text().split()
    assert asked == ["helped.example:5000", "https://index.docker.io/v1/", "stored.example"]
    for c in (await source.get(dock("https://plain.example")),):
        assert "d-secret" not in repr(c)


async def test_password_command_failures():
    bad = RegistryConfig(name="r", url="https://r.example", username="u", password_command="echo oops >&2; exit 7")
    with pytest.raises(CredentialError, match="status 7: oops"):
        await creds().get(bad)
    empty = RegistryConfig(name="r", url="https://r.example", username="u", password_command="true")
    with pytest.raises(CredentialError, match="printed nothing"):
        await creds().get(empty)
    ok = RegistryConfig(name="r", url="https://r.example", username="u", password_command="printf ' pw \\n\\n'")
    assert (await creds().get(ok)).password.reveal() == "pw"


async def test_missing_credential_helper(tmp_path):
    env = _docker_config(tmp_path, {"credsStore": "no-such-helper-xyz"})
    with pytest.raises(CredentialError, match="docker-credential-no-such-helper-xyz"):
        await CredentialSource(env).get(RegistryConfig(name="r", url="https://r.example", credentials="docker"))


async def test_docker_credentials_against_real_registries(tmp_path, lab, basic_reg, token_reg):
    bindir = _helper(tmp_path, "dyreal", {token_reg.host: {"ServerURL": token_reg.host, "Username": "bob",
                                                           "Secret": BOB_PW}})
    env = _docker_config(tmp_path, {
        "auths": {basic_reg.host: {"auth": base64.b64encode(f"alice:{ALICE_PW}".encode()).decode()}},
        "credHelpers": {token_reg.host: "dyreal"},
    })
    env["PATH"] = bindir + os.pathsep + env["PATH"]
    source = CredentialSource(env)
    b = RegistryConfig(name="b", url=basic_reg.url, credentials="docker", tls=RegistryTLS(ca=lab.tls_ca))
    t = RegistryConfig(name="t", url=token_reg.url, credentials="docker", tls=token_reg.tls_config)
    async with RegistryClient(b, credentials=source) as bc, RegistryClient(t, credentials=source) as tc:
        assert (await bc.ping()).user == "alice"
        assert (await tc.ping()).user == "bob"
        assert [x async for x in tc.tags("secure/app")] == ["2.0"]


async def test_identity_token_uses_the_oauth2_refresh_grant(tmp_path, token_reg):
    issuer = token_reg.issuer
    issuer.refresh_tokens["bob-identity-token-5d2"] = "bob"
    env = _docker_config(tmp_path, {"auths": {token_reg.host: {"identitytoken": "bob-identity-token-5d2"}}})
    c = RegistryConfig(name="t", url=token_reg.url, credentials="docker", tls=token_reg.tls_config)
    n = len(issuer.issued)
    async with RegistryClient(c, credentials=CredentialSource(env)) as client:
        result = await client.ping()
        assert (result.user, result.login_status) == (None, "logged in (token)")
        assert [t async for t in client.tags("secure/app")] == ["2.0"]
    assert {(r["grant"], r["user"]) for r in issuer.issued[n:]} == {("refresh_token", "bob")}
    env = _docker_config(tmp_path, {"auths": {token_reg.host: {"identitytoken": "revoked"}}})
    async with RegistryClient(c, credentials=CredentialSource(env)) as client:
        with pytest.raises(Unauthorized, match="identity token"):
            await client.ping()


def test_known_registries_docker_hub_and_docker_config(tmp_path):
    env = _docker_config(tmp_path, {"auths": {"https://index.docker.io/v1/": {}, "127.0.0.1:5000": {},
                                              "https://ghcr.io": {}, "mine.example": {}},
                                    "credHelpers": {"gcr.io": "gcloud"}})
    config = Config(registries=(RegistryConfig(name="mine", url="https://mine.example", username="me",
                                               password_env="X"),))
    entries = known_registries(config, env)
    by_name = {e.name: e for e in entries}
    assert list(by_name) == ["mine", "127.0.0.1:5000", "ghcr.io", "gcr.io", "docker.io"]
    assert by_name["mine"].source == "config"
    assert by_name["127.0.0.1:5000"].config.url == "http://127.0.0.1:5000"  # loopback: plain HTTP
    assert by_name["ghcr.io"].config == RegistryConfig(name="ghcr.io", url="https://ghcr.io", credentials="docker")
    hub = by_name["docker.io"]
    assert hub.source == "default" and hub.config == DOCKER_HUB
    assert DOCKER_HUB.url == "https://registry-1.docker.io" and DOCKER_HUB.credentials == "docker"
    assert find_registry(entries, "registry-1.docker.io") is hub and find_registry(entries, "index.docker.io") is hub
    assert find_registry(entries, "mine.example") is by_name["mine"]
    assert "docker.io" not in {e.name for e in known_registries(config, {**env, "DOCKYARD_NO_DOCKER_HUB": "1"})}
    assert "docker.io" not in {e.name for e in known_registries(replace(config, docker_hub=False), env)}
    configured_hub = Config(registries=(RegistryConfig(name="hub", url="https://registry-1.docker.io"),))
    assert [e.name for e in known_registries(configured_hub, {"HOME": str(tmp_path / "none")})] == ["hub"]
    # Docker Hub's official images live under library/ (no request made)
    hub_client = RegistryClient(DOCKER_HUB, credentials=creds())
    assert hub_client.repository("alpine") == "library/alpine"
    assert hub_client.image_reference("alpine", tag="3") == "docker.io/library/alpine:3"


def test_challenge_and_reference_parsing():
    [(scheme, params)] = parse_challenges(
        [('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
          'scope="repository:library/ubuntu:pull,push",error="insufficient_scope"')])
    assert scheme == "bearer" and params == {"realm": "https://auth.docker.io/token", "service": "registry.docker.io",
                                             "scope": "repository:library/ubuntu:pull,push",
                                             "error": "insufficient_scope"}
    assert parse_challenges(['Basic realm="Registry Realm"']) == [("basic", {"realm": "Registry Realm"})]
    r = parse_reference("team/app:1.0")
    assert (r.repository, r.tag, r.digest, r.ref) == ("team/app", "1.0", None, "1.0")
    d = "sha256:" + "a" * 64
    r = parse_reference(f"team/app@{d}")
    assert (r.repository, r.digest, r.ref, str(r)) == ("team/app", d, d, f"team/app@{d}")
    assert parse_reference("app").ref == "latest" and parse_reference("app", default_tag=None).tag is None
    for bad in ("Team/App", "app:", "app@sha256:xyz", "../x", "a//b"):
        with pytest.raises(BadReference):
            parse_reference(bad)


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def cli(tmp_path, lab, open_reg, nodel_reg, basic_reg, token_reg):
    """A config with the test registries, an empty Docker config dir and no Docker Hub."""
    text = textwrap.dedent(f"""\
        [[registries]]
        name = "open"
        url = "{open_reg.url}"

        [[registries]]
        name = "nodel"
        url = "{nodel_reg.url}"

        [[registries]]
        name = "basic"
        url = "{basic_reg.url}"
        username = "alice"
        password_env = "ALICE_PW"
        [registries.tls]
        ca = "{lab.tls_ca}"

        [[registries]]
        name = "token"
        url = "{token_reg.url}"
        username = "bob"
        password_command = "printf %s {BOB_PW}"
        [registries.tls]
        ca = "{lab.tls_ca}"
    """)
    path = tmp_path / "dockyard.toml"
    path.write_text(text)
    load_config(str(path))  # valid for the real loader
    (tmp_path / "docker").mkdir()
    env = {"HOME": str(tmp_path), "DOCKER_CONFIG": str(tmp_path / "docker"), "DOCKYARD_NO_DOCKER_HUB": "1",
           "ALICE_PW": ALICE_PW}
    outputs: list[str] = []

    def run(*args: str, **kw) -> subprocess.CompletedProcess:
        kw_env = {**env, **kw.pop("env", {})}
        result = dockyard("--config", str(path), *args, env=kw_env, **kw)
        outputs.extend([result.stdout, result.stderr])
        return result

    run.path = path
    yield run
    assert_no_secret(*outputs)


def test_cli_registry_ls_overview(cli):
    result = cli("registry", "ls", "--json")
    assert result.returncode == 0, result.stderr
    rows = {r["name"]: r for r in json.loads(result.stdout)["registries"]}
    assert list(rows) == ["open", "nodel", "basic", "token"]
    assert rows["open"]["status"] == "open (no login needed)"
    assert rows["basic"]["status"] == "logged in as alice" and rows["basic"]["auth"] == "basic"
    assert rows["token"]["status"] == "logged in as bob" and rows["token"]["auth"] == "bearer"
    assert rows["basic"]["credentials"] == "alice (password from $ALICE_PW)"
    text = cli("registry", "ls")
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines()[0].split()[:5] == ["NAME", "URL", "SOURCE", "CREDENTIALS", "STATUS"]
    wrong = cli("registry", "ls", env={"ALICE_PW": "wrong-" + ALICE_PW})
    assert wrong.returncode == 3
    assert "registry basic: unauthorized: wrong username or password" in wrong.stderr
    assert "wrong-" + ALICE_PW not in wrong.stdout + wrong.stderr


def test_cli_registry_repositories_and_tags(cli):
    result = cli("registry", "ls", "open", "--json")
    assert result.returncode == 0, result.stderr
    repos = json.loads(result.stdout)["repositories"]
    assert len(repos) >= N_REPOS + 2 and f"many/r{N_REPOS - 1:03d}" in repos
    plain = cli("registry", "ls", "open")
    assert plain.stdout.split() == repos
    tags = cli("registry", "tags", "open", "busybox", "--json")
    assert tags.returncode == 0 and len(json.loads(tags.stdout)["tags"]) == N_TAGS + 1
    secure = cli("registry", "tags", "token", "secure/app")
    assert (secure.returncode, secure.stdout) == (0, "2.0\n")
    missing = cli("registry", "tags", "basic", "no/such")
    assert missing.returncode == 3 and "not found" in missing.stderr


def test_cli_registry_inspect(cli, open_reg):
    result = cli("registry", "inspect", "open", "multi:latest")
    assert result.returncode == 0, result.stderr
    assert "linux/amd64" in result.stdout and "linux/arm64/v8" in result.stdout
    assert open_reg.index_digest in result.stdout
    data = json.loads(cli("registry", "inspect", "open", f"multi@{open_reg.platform_digests[1]}", "--json").stdout)
    assert data["platform"] == "linux/arm64/v8" and data["created"] and data["layers"]
    assert data["pull"] == f"{open_reg.host}/multi@{open_reg.platform_digests[1]}"
    basic = cli("registry", "inspect", "basic", "team/app:1.0")
    assert basic.returncode == 0 and "team=blue" in basic.stdout and "Created:" in basic.stdout
    assert cli("registry", "inspect", "open", "busybox:nope").returncode == 3
    bad = cli("registry", "inspect", "open", "Bad Name")
    assert bad.returncode == 2 and "invalid" in bad.stderr
    unknown = cli("registry", "inspect", "nosuch", "x:y")
    assert unknown.returncode == 2 and "no registry named 'nosuch'" in unknown.stderr


def test_cli_registry_rm(cli, open_reg, nodel_reg):
    digest = open_reg.api.push_image("cli/rm", "one", labels={"cli": "rm"})
    ref = f"cli/rm@{digest}"
    refused = cli("registry", "rm", "open", ref)  # stdin is not a terminal
    assert refused.returncode == 2 and "--yes" in refused.stderr and "every tag" in refused.stderr
    assert cli("registry", "rm", "open", "cli/rm:one", "--yes").returncode == 2  # a tag is not a digest
    ro = cli("--readonly", "registry", "rm", "open", ref, "--yes")
    assert ro.returncode == 2 and "read-only" in ro.stderr
    assert cli("registry", "inspect", "open", "cli/rm:one").returncode == 0
    done = cli("registry", "rm", "open", ref, "--yes")
    assert done.returncode == 0, done.stderr
    assert cli("registry", "inspect", "open", "cli/rm:one").returncode == 3
    disabled = cli("registry", "rm", "nodel", f"keep@{nodel_reg.keep_digest}", "--yes")
    assert disabled.returncode == 3 and "deletion disabled" in disabled.stderr


def test_cli_registry_rm_asks_on_a_terminal(cli, open_reg):
    """On a terminal, rm names the tags that go with the digest and deletes only on "y"."""
    import pty

    digest = open_reg.api.push_image("cli/ask", "first", labels={"cli": "ask"})
    open_reg.api.replicate("cli/ask", "first", [("cli/ask", "second")])

    def on_tty(answer: str) -> tuple[int, str]:
        main, child = pty.openpty()
        env = cli_env({"HOME": str(cli.path.parent), "DOCKYARD_NO_DOCKER_HUB": "1"})
        proc = subprocess.Popen([*DOCKYARD, "--config", str(cli.path), "registry", "rm", "open", f"cli/ask@{digest}"],
                                stdin=child, stdout=child, stderr=child, env=env)
        os.close(child)
        out = b""
        deadline = time.monotonic() + 30
        while b"[y/N]" not in out and time.monotonic() < deadline:
            out += os.read(main, 4096)
        os.write(main, answer.encode() + b"\n")
        try:
            while True:
                chunk = os.read(main, 4096)
                if not chunk:
                    break
                out += chunk
        except OSError:
            pass
        os.close(main)
        return proc.wait(30), out.decode(errors="replace")

    code, out = on_tty("n")
    assert code == 2 and "these tags go too: first, second" in out and "not deleted" in out
    code, out = on_tty("y")
    assert code == 0 and "deleted open" in out, out
    assert cli("registry", "tags", "open", "cli/ask").stdout == ""


def test_cli_registry_errors_in_words(cli, impostors, tmp_path, lab, basic_reg):
    cfg_path = tmp_path / "fakes.toml"
    cfg_path.write_text(textwrap.dedent(f"""\
        [[registries]]
        name = "web"
        url = "{impostors['html'].url}"

        [[registries]]
        name = "busy"
        url = "{impostors['limited'].url}"

        [[registries]]
        name = "nopw"
        url = "{basic_reg.url}"
        username = "alice"
        password_env = "DY_UNSET_PASSWORD_VAR"
        [registries.tls]
        ca = "{lab.tls_ca}"
    """))
    env = {"HOME": str(tmp_path), "DOCKYARD_NO_DOCKER_HUB": "1"}
    web = dockyard("--config", str(cfg_path), "registry", "ls", "web", env=env)
    assert web.returncode == 3 and "not a registry" in web.stderr
    busy = dockyard("--config", str(cfg_path), "registry", "ls", "busy", env=env)
    assert busy.returncode == 3 and "rate limited" in busy.stderr and "retry in 42 s" in busy.stderr
    overview = dockyard("--config", str(cfg_path), "registry", "ls", "--json", env=env)
    assert overview.returncode == 3
    errors = {e["registry"]: e["error"] for e in json.loads(overview.stdout)["errors"]}
    assert list(errors) == ["web", "nopw"] and "HTML page" in errors["web"]
    nopw = dockyard("--config", str(cfg_path), "registry", "tags", "nopw", "team/app", env=env)
    assert nopw.returncode == 2 and "$DY_UNSET_PASSWORD_VAR" in nopw.stderr and "not set" in nopw.stderr
    empty = cli("registry", "ls", "basic", env={"ALICE_PW": ""})
    assert empty.returncode == 3 and "username and password" in empty.stderr
