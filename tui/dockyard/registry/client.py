"""An async client for the registry HTTP API v2 / OCI distribution (aiohttp; no Textual).

| call                          | request                                                    |
|-------------------------------|------------------------------------------------------------|
| `ping()`                      | `GET /v2/` (+ a token request: checks the credentials)     |
| `catalog()` / `catalog_pages()`| `GET /v2/_catalog?n=` following `Link: <…>; rel="next"`    |
| `tags()` / `tag_pages()`      | `GET /v2/<repo>/tags/list?n=`, same pagination             |
| `manifest(repo, ref)`         | `GET /v2/<repo>/manifests/<ref>` + the config blob         |
| `resolve(repo, tag)`          | `HEAD /v2/<repo>/manifests/<tag>` -> digest                |
| `probe(repo, tag)`            | the same -> (digest, media type); GET if HEAD has no digest |
| `delete(repo, digest)`        | `DELETE /v2/<repo>/manifests/<digest>` (202; 405 disabled) |

Auth: the first 401 says how (`WWW-Authenticate`). `Basic` -> Basic on every later request.
`Bearer realm,service,scope` -> a token from the realm (Basic credentials or an identity token, or
anonymous), cached per scope until `expires_in`; a cached token the registry refuses (expired early,
revoked) is replaced once. Errors are `RegistryError` subclasses with words, never aiohttp's.

Where secrets go: credentials go to the registry's own origin, and to a token realm only when it is
that origin too or https with a verified certificate (a 401 can name any realm: a hostile registry
would otherwise harvest the password). Redirects are followed only within the origin of the request
(at most MAX_REDIRECTS); a config blob may be redirected to a blob store elsewhere, fetched there
without Authorization and checked against its digest.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import json
import re
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from dockyard import __version__
from dockyard.config.model import RegistryConfig
from dockyard.registry.credentials import (
    DOCKER_HUB_HOSTS,
    Credentials,
    CredentialSource,
    registry_host,
)
from dockyard.registry.errors import (
    BadReference,
    CatalogUnsupported,
    DeletionDisabled,
    Denied,
    NotARegistry,
    NotFound,
    RateLimited,
    ReadOnlyRegistry,
    RegistryError,
    RegistryTimeout,
    TLSFailure,
    Unauthorized,
    Unreachable,
)
from dockyard.registry.models import (
    ACCEPT_MANIFESTS,
    DOCKER_SCHEMA1,
    IMAGE_CONFIG_TYPES,
    INDEX_TYPES,
    Layer,
    Manifest,
    PingResult,
    Platform,
    check_ref,
    check_repository,
    is_digest,
)
from dockyard.textfmt import natural_key, safe, truncate

DEFAULT_TIMEOUT = 30.0
DEFAULT_CONNECT_TIMEOUT = 10.0
MAX_BODY = 16 * 1024 * 1024  # manifests, config blobs and catalog pages are small; a garbage server is not
MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)
_CHALLENGE_PARAM = re.compile(r'([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')
_LINK_NEXT = re.compile(r'<([^>]*)>\s*;[^,]*?\brel\s*=\s*"?next"?', re.IGNORECASE)


@dataclass
class _Response:
    status: int
    headers: CIMultiDict
    body: bytes
    url: URL
    method: str

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()


@dataclass
class _Token:
    value: str = field(repr=False)  # a bearer token is a credential too
    expires_at: float = 0.0  # time.monotonic()


def parse_challenges(headers: list[str]) -> list[tuple[str, dict[str, str]]]:
    """`WWW-Authenticate` values -> [(scheme lowercased, {param: value})]."""
    out: list[tuple[str, dict[str, str]]] = []
    for value in headers:
        scheme, _, rest = value.strip().partition(" ")
        params = {m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3)).replace('\\"', '"')
                  for m in _CHALLENGE_PARAM.finditer(rest)}
        out.append((scheme.lower(), params))
    return out


def _origin(url: str | URL) -> tuple[str, str, int | None] | None:
    """(scheme, host, port with the scheme's default filled in); None for a url without a host."""
    try:
        u = URL(url) if isinstance(url, str) else url
        return (u.scheme, u.host, u.port) if u.absolute and u.host else None
    except ValueError:
        return None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _snippet(body: bytes, limit: int = 80) -> str:
    text = " ".join(body.decode("utf-8", errors="replace").split())
    return safe(truncate(text, limit))


def _looks_html(resp: _Response) -> bool:
    head = resp.body[:512].lstrip().lower()
    return resp.content_type in ("text/html", "application/xhtml+xml") or head.startswith((b"<!doctype", b"<html"))


def make_ssl_context(config: RegistryConfig) -> ssl.SSLContext | None:
    """None for http://; otherwise the system CAs plus `[registries.tls] ca`, unverified when told."""
    if not config.url.startswith("https://"):
        return None
    ctx = ssl.create_default_context()
    tls = config.tls
    if tls is not None and tls.ca:
        try:
            ctx.load_verify_locations(cafile=tls.ca)
        except (OSError, ssl.SSLError) as exc:
            raise TLSFailure(f"registry {config.name}: cannot load the CA file {tls.ca}: "
                             f"{getattr(exc, 'strerror', None) or exc}", registry=config.name) from None
    if config.insecure or (tls is not None and not tls.verify):
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


class RegistryClient:
    """One registry. Use as `async with RegistryClient(cfg, credentials=CredentialSource()) as c:`.

    Credentials are fetched lazily (a `password_command` runs only when the registry asks for a
    login) and kept for the client's lifetime; tokens are cached per scope.
    """

    def __init__(self, config: RegistryConfig, *, credentials: CredentialSource | None = None,
                 timeout: float = DEFAULT_TIMEOUT, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
                 readonly: bool = False):
        self.config = config
        self.name = config.name
        self.base = config.url.rstrip("/")
        self.host = registry_host(self.base)
        self.credentials = credentials if credentials is not None else CredentialSource()
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.readonly = readonly
        self.auth_scheme: str | None = None  # learnt from the first 401: "basic" or "bearer"
        self.token_fetches = 0  # how many tokens were requested (tests, status lines)
        self._realm: str | None = None
        self._service: str | None = None
        self._tokens: dict[str, _Token] = {}
        self._token_locks: dict[str, asyncio.Lock] = {}
        self._creds: Credentials | None = None
        self._creds_loaded = False
        self._creds_lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None
        self._ssl = make_ssl_context(config)

    def __repr__(self) -> str:
        return f"RegistryClient({self.name!r}, {self.base!r})"

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------ public API

    @property
    def is_docker_hub(self) -> bool:
        return self.host in DOCKER_HUB_HOSTS

    def repository(self, name: str) -> str:
        """A validated repository name; Docker Hub's official images live under `library/`."""
        if self.is_docker_hub and "/" not in name:
            name = "library/" + name
        return check_repository(name)

    def image_reference(self, repository: str, tag: str | None = None, digest: str | None = None) -> str:
        """What `docker pull` takes: `127.0.0.1:5000/repo:tag`, `docker.io/library/x@sha256:…`."""
        host = "docker.io" if self.is_docker_hub else self.host
        ref = f"{host}/{self.repository(repository)}"
        if tag:
            ref += f":{tag}"
        if digest:
            ref += f"@{digest}"
        return ref

    async def ping(self) -> PingResult:
        """`GET /v2/`. With credentials on a token registry this also gets a token: a wrong password
        raises Unauthorized here, so it works as a login check."""
        t0 = time.monotonic()
        try:
            resp = await self._request("GET", f"{self.base}/v2/", scope="")
        except Unauthorized:
            if self.auth_scheme == "basic" and self._creds is None:
                return self._ping_result(t0, None)  # "login required" is a status, not a failure
            raise
        if resp.status != 200:
            raise self._error(resp, "the /v2/ endpoint")
        api = resp.headers.get("Docker-Distribution-API-Version")
        if not api:
            self._json(resp, "the /v2/ endpoint")  # a registry answers {} (JSON); an HTML page does not
        return self._ping_result(t0, api)

    def _ping_result(self, t0: float, api: str | None) -> PingResult:
        creds = self._creds if self.auth_scheme else None
        return PingResult(registry=self.name, url=self.base, auth=self.auth_scheme or "none",
                          user=creds.username if creds else None, has_credentials=creds is not None,
                          api_version=api, latency_ms=(time.monotonic() - t0) * 1000)

    async def catalog_pages(self, page_size: int = 100) -> AsyncIterator[list[str]]:
        """Repository names, one page at a time (the first page arrives before the rest is asked for)."""
        url = f"{self.base}/v2/_catalog?n={int(page_size)}"
        async for page in self._pages(url, "repositories", "registry:catalog:*", "the catalog"):
            yield page

    async def catalog(self, page_size: int = 100) -> AsyncIterator[str]:
        async for page in self.catalog_pages(page_size):
            for name in page:
                yield name

    async def tag_pages(self, repository: str, page_size: int = 100) -> AsyncIterator[list[str]]:
        repo = self.repository(repository)
        url = f"{self.base}/v2/{repo}/tags/list?n={int(page_size)}"
        async for page in self._pages(url, "tags", f"repository:{repo}:pull", f"repository {repo}"):
            yield page

    async def tags(self, repository: str, page_size: int = 100) -> AsyncIterator[str]:
        async for page in self.tag_pages(repository, page_size):
            for tag in page:
                yield tag

    async def manifest(self, repository: str, reference: str = "latest", *, config: bool = True) -> Manifest:
        """The manifest (or index) `repository:reference`; `config=True` also reads the image config
        blob (created time, os/arch, labels, command)."""
        repo = self.repository(repository)
        check_ref(reference)
        what = f"{repo}{'@' if is_digest(reference) else ':'}{reference}"
        resp = await self._request("GET", f"{self.base}/v2/{repo}/manifests/{reference}",
                                   scope=f"repository:{repo}:pull", headers={"Accept": ACCEPT_MANIFESTS})
        if resp.status != 200:
            raise self._error(resp, what)
        data = self._json(resp, f"the manifest of {what}")
        digest = resp.headers.get("Docker-Content-Digest") or "sha256:" + hashlib.sha256(resp.body).hexdigest()
        if reference.startswith("sha256:"):
            actual = "sha256:" + hashlib.sha256(resp.body).hexdigest()
            if actual != reference:
                raise RegistryError(f"registry {self.name}: the manifest of {what} does not match its digest "
                                    f"(got {actual})", registry=self.name)
            digest = reference
        media_type = data.get("mediaType") or resp.content_type
        if media_type not in INDEX_TYPES and "manifests" in data and "layers" not in data:
            media_type = INDEX_TYPES[0]  # OCI allows an index without mediaType
        base = {"registry": self.name, "repository": repo, "reference": reference, "digest": digest,
                "media_type": media_type, "size": len(resp.body), "annotations": _str_dict(data.get("annotations"))}
        if media_type in INDEX_TYPES:
            return Manifest(**base, platforms=tuple(_platform(m) for m in data.get("manifests") or []
                                                    if isinstance(m, dict)))
        if media_type in DOCKER_SCHEMA1 or data.get("schemaVersion") == 1:
            return _schema1(base, data)
        layers = tuple(Layer(str(layer.get("digest", "")), int(layer.get("size") or 0), str(layer.get("mediaType", "")))
                       for layer in data.get("layers") or [] if isinstance(layer, dict))
        cfg = data.get("config") if isinstance(data.get("config"), dict) else {}
        facts: dict[str, Any] = {}
        cfg_digest, cfg_type = cfg.get("digest"), cfg.get("mediaType")
        if config and cfg_digest and (cfg_type in IMAGE_CONFIG_TYPES or not cfg_type):
            facts = _config_facts(await self.blob_json(repo, str(cfg_digest)))
        return Manifest(**base, layers=layers, config_digest=cfg_digest, config_size=cfg.get("size"),
                        config_media_type=cfg_type, **facts)

    async def blob_json(self, repository: str, digest: str) -> dict[str, Any]:
        """A small JSON blob (an image config)."""
        repo = self.repository(repository)
        if not is_digest(digest):
            raise BadReference(f"invalid digest {digest!r}")
        resp = await self._request("GET", f"{self.base}/v2/{repo}/blobs/{digest}", scope=f"repository:{repo}:pull",
                                   blob_store=True)
        if resp.status != 200:
            raise self._error(resp, f"blob {digest} of {repo}")
        if digest.startswith("sha256:") and "sha256:" + hashlib.sha256(resp.body).hexdigest() != digest:
            raise RegistryError(f"registry {self.name}: the config blob of {repo} does not match its digest "
                                f"(served by {resp.url.host})", registry=self.name)
        return self._json(resp, f"the config blob of {repo}")

    async def resolve(self, repository: str, tag: str) -> str:
        """The digest a tag points at (`HEAD`, no body)."""
        return (await self.probe(repository, tag))[0]

    async def probe(self, repository: str, tag: str) -> tuple[str, str]:
        """(digest, media type) of what a tag points at now: one `HEAD` (Docker Hub does not count
        those against its pull limit); a `GET` only when the HEAD answer has no digest."""
        repo = self.repository(repository)
        check_ref(tag)
        resp = await self._request("HEAD", f"{self.base}/v2/{repo}/manifests/{tag}",
                                   scope=f"repository:{repo}:pull", headers={"Accept": ACCEPT_MANIFESTS})
        if resp.status != 200:
            raise self._error(resp, f"{repo}:{tag}")
        digest = resp.headers.get("Docker-Content-Digest")
        if digest:
            return digest, resp.content_type
        manifest = await self.manifest(repo, tag, config=False)
        return manifest.digest, manifest.media_type

    async def tags_for_digest(self, repository: str, digest: str, *, limit: int = 1000,
                              concurrency: int = 8) -> list[str] | None:
        """Every tag of `repository` pointing at `digest` (what a delete takes with it);
        None when the repository has more than `limit` tags (too many to check)."""
        tags: list[str] = []
        async for tag in self.tags(repository):
            tags.append(tag)
            if len(tags) > limit:
                return None
        sem = asyncio.Semaphore(concurrency)

        async def check(tag: str) -> str | None:
            async with sem:
                try:
                    return tag if await self.resolve(repository, tag) == digest else None
                except NotFound:  # deleted meanwhile
                    return None

        found = await asyncio.gather(*(check(t) for t in tags))
        return sorted((t for t in found if t), key=natural_key)

    async def delete(self, repository: str, digest: str) -> None:
        """Delete a manifest by digest: every tag pointing at it goes too. 405 -> DeletionDisabled."""
        if self.readonly:
            raise ReadOnlyRegistry(f"registry {self.name}: read-only mode: not deleting {repository}@{digest}",
                                   registry=self.name)
        repo = self.repository(repository)
        if not is_digest(digest):
            raise BadReference(f"delete takes a digest (sha256:…), not {digest!r}: the registry deletes "
                               "manifests, and with one every tag pointing at it")
        resp = await self._request("DELETE", f"{self.base}/v2/{repo}/manifests/{digest}",
                                   scope=f"repository:{repo}:delete")
        if resp.status not in (200, 202):
            raise self._error(resp, f"{repo}@{digest}")

    # ------------------------------------------------------------------ HTTP + auth

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self._ssl if self._ssl is not None else True, limit=16),
                timeout=aiohttp.ClientTimeout(total=self.timeout, sock_connect=self.connect_timeout),
                headers={"User-Agent": f"dockyard/{__version__}"},
                trust_env=False,  # no proxy or .netrc surprises: we talk to the url configured
            )
        return self._session

    async def _credentials(self) -> Credentials | None:
        async with self._creds_lock:
            if not self._creds_loaded:
                self._creds = await self.credentials.get(self.config)
                self._creds_loaded = True
        return self._creds

    async def _send(self, method: str, url: str, headers: dict[str, str] | None, auth: str | None,
                    *, data: Any = None, blob_store: bool = False) -> _Response:
        """One request, following redirects that stay on its origin (`blob_store`: a GET may also go
        to another origin, without Authorization)."""
        origin = _origin(url)
        seen = {url}
        for _ in range(MAX_REDIRECTS + 1):
            resp = await self._send_once(method, url, headers, auth, data=data)
            location = resp.headers.get("Location")
            if resp.status not in _REDIRECTS or not location:
                return resp
            target = resp.url.join(URL(location))
            if target.scheme not in ("http", "https"):
                raise NotARegistry(f"registry {self.name}: {resp.url.host}:{resp.url.port} redirects to "
                                   f"{safe(truncate(str(target), 80))!r}: not following", registry=self.name)
            if _origin(target) != origin:
                if not (blob_store and method == "GET"):
                    raise NotARegistry(f"registry {self.name}: {resp.url.host}:{resp.url.port} redirects to another "
                                       f"server ({safe(target.host)}:{target.port}); not following",
                                       registry=self.name)
                auth = None  # never carry credentials to another origin
                origin = _origin(target)
            if resp.status == 303:
                method, data = "GET", None
            url = str(target)
            if url in seen:
                raise NotARegistry(f"registry {self.name}: redirect loop at {safe(truncate(url, 80))}",
                                   registry=self.name)
            seen.add(url)
        raise NotARegistry(f"registry {self.name}: more than {MAX_REDIRECTS} redirects from "
                           f"{safe(truncate(str(resp.url), 80))}: not following", registry=self.name)

    async def _send_once(self, method: str, url: str, headers: dict[str, str] | None, auth: str | None,
                         *, data: Any = None) -> _Response:
        h = dict(headers or {})
        if auth:
            h["Authorization"] = auth
        target = urlsplit(url).netloc
        try:
            async with self._get_session().request(method, url, headers=h, data=data,
                                                   allow_redirects=False) as resp:
                body = b""
                if method != "HEAD":
                    chunks, total = [], 0
                    async for chunk in resp.content.iter_chunked(65536):
                        chunks.append(chunk)
                        total += len(chunk)
                        if total > MAX_BODY:
                            raise NotARegistry(f"registry {self.name}: {target} sent more than "
                                               f"{MAX_BODY // 2**20} MiB where a small JSON document was "
                                               "expected: not the registry API", registry=self.name)
                    body = b"".join(chunks)
                return _Response(resp.status, CIMultiDict(resp.headers), body, resp.url, method)
        except RegistryError:
            raise
        except aiohttp.ClientConnectorCertificateError as exc:
            reason = getattr(exc.certificate_error, "verify_message", None) or str(exc.certificate_error)
            raise TLSFailure(f"registry {self.name}: TLS failure: the certificate of {target} is not trusted "
                             f"({safe(reason)}); set [registries.tls] ca to the CA that signed it",
                             registry=self.name) from None
        except (aiohttp.ClientConnectorSSLError, aiohttp.ClientSSLError) as exc:
            err = getattr(exc, "os_error", None) or exc
            reason = getattr(err, "reason", None) or getattr(err, "strerror", None) or type(err).__name__
            hint = (f" (is it plain HTTP? then use url = \"http://{target}\")"
                    if "WRONG_VERSION" in str(reason).upper() or "RECORD_LAYER" in str(reason).upper() else "")
            raise TLSFailure(f"registry {self.name}: TLS failure talking to {target}: {safe(reason)}{hint}",
                             registry=self.name) from None
        except aiohttp.ClientConnectorError as exc:
            reason = getattr(exc.os_error, "strerror", None) or str(exc.os_error)
            raise Unreachable(f"registry {self.name}: cannot connect to {target}: {safe(reason)}",
                              registry=self.name) from None
        except asyncio.TimeoutError:
            raise RegistryTimeout(f"registry {self.name}: {target} did not answer within {self.timeout:.0f} s",
                                  registry=self.name) from None
        except (aiohttp.ClientResponseError, aiohttp.ClientPayloadError) as exc:
            detail = getattr(exc, "message", "") or type(exc).__name__
            raise NotARegistry(f"registry {self.name}: {target} answered something that is not HTTP "
                               f"({safe(truncate(str(detail), 80))}): not a registry",
                               registry=self.name) from None
        except aiohttp.ServerDisconnectedError:
            raise NotARegistry(f"registry {self.name}: {target} closed the connection without an HTTP answer: "
                               "not a registry (or it crashed)", registry=self.name) from None
        except aiohttp.ClientError as exc:
            raise Unreachable(f"registry {self.name}: {target}: {type(exc).__name__}: {safe(truncate(str(exc), 120))}",
                              registry=self.name) from None

    async def _auth_for(self, key: str) -> str | None:
        """The Authorization header to send first, from what earlier answers taught us."""
        if self.auth_scheme == "basic":
            creds = await self._credentials()
            return creds.basic_header() if creds else None
        if self.auth_scheme == "bearer" and self._realm:
            return "Bearer " + await self._token(key, key)
        return None

    async def _request(self, method: str, url: str, *, scope: str,
                       headers: dict[str, str] | None = None, blob_store: bool = False) -> _Response:
        """Send with what we know of the auth; on 401 learn the challenge, authenticate, retry once."""
        auth = await self._auth_for(scope)
        resp = await self._send(method, url, headers, auth, blob_store=blob_store)
        if resp.status != 401:
            return resp
        challenges = parse_challenges(resp.headers.getall("WWW-Authenticate", []))
        bearer = next((p for s, p in challenges if s == "bearer" and p.get("realm")), None)
        basic = next((p for s, p in challenges if s == "basic"), None)
        creds = await self._credentials()
        if bearer is not None:
            self.auth_scheme = "bearer"
            self._realm, self._service = bearer["realm"], bearer.get("service")
            refused = auth[len("Bearer "):] if auth and auth.startswith("Bearer ") else None
            token = await self._token(scope, bearer.get("scope", scope), refused=refused)
            resp = await self._send(method, url, headers, "Bearer " + token, blob_store=blob_store)
            if resp.status == 401:
                raise self._error(resp, "", anonymous=creds is None)
            return resp
        if basic is not None:
            self.auth_scheme = "basic"
            header = creds.basic_header() if creds else None
            if header is None:
                raise Unauthorized(f"registry {self.name}: unauthorized: it asks for a username and password "
                                   "(Basic auth); set username with password_env / password_command, or "
                                   'credentials = "docker"', registry=self.name, status=401)
            if header != auth:
                resp = await self._send(method, url, headers, header, blob_store=blob_store)
            if resp.status == 401:
                raise Unauthorized(f"registry {self.name}: unauthorized: wrong username or password "
                                   f"(user {creds.username})", registry=self.name, status=401)
            return resp
        raise self._error(resp, "", anonymous=creds is None)

    def _may_send_credentials(self, realm: str) -> bool:
        """The registry's own origin, or https that we verify (a 401 names the realm: anyone can)."""
        target = _origin(realm)
        if target is not None and target == _origin(self.base):
            return True
        if target is None or target[0] != "https":
            return False
        verifying = self._ssl is None or self._ssl.verify_mode != ssl.CERT_NONE  # None: aiohttp's default (verified)
        return verifying

    async def _token(self, key: str, scope: str, *, refused: str | None = None) -> str:
        """A token for `scope`, cached under `key` (the scope we guessed for the request) until it
        expires; `refused` is a token the registry just refused: never hand it out again."""
        lock = self._token_locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(key)
            if cached is not None and cached.value != refused and time.monotonic() < cached.expires_at:
                return cached.value
            token = await self._fetch_token(scope)
            self._tokens[key] = token
            return token.value

    async def _fetch_token(self, scope: str) -> _Token:
        realm = self._realm or ""
        if _origin(realm) is None or not realm.lower().startswith(("http://", "https://")):
            raise NotARegistry(f"registry {self.name}: its token realm {safe(truncate(realm, 100))!r} is not an "
                               "http(s) url", registry=self.name)
        realm_parts = urlsplit(realm)
        creds = await self._credentials()
        if creds is not None and not self._may_send_credentials(realm):
            raise Unauthorized(f"registry {self.name}: not sending credentials to the token service "
                               f"{safe(truncate(realm, 100))!r}: it is neither this registry's own host and port "
                               "nor https with a verified certificate", registry=self.name)
        scopes = [s for s in scope.split(" ") if s]
        self.token_fetches += 1
        if creds is not None and creds.identity_token:
            form = {"grant_type": "refresh_token", "refresh_token": creds.identity_token.reveal(),
                    "client_id": "dockyard", "service": self._service or "", "scope": " ".join(scopes)}
            resp = await self._send("POST", realm, None, None, data=form)
        else:
            query = [("service", self._service)] if self._service else []
            query += [("scope", s) for s in scopes]
            url = str(URL(realm).update_query(query)) if query else realm
            resp = await self._send("GET", url, None, creds.basic_header() if creds else None)
        where = f"the token service {realm_parts.netloc}"
        if resp.status == 401:
            raise Unauthorized(
                f"registry {self.name}: unauthorized: {where} refused "
                + (f"the credentials of {creds.username or 'the identity token'} (wrong username or password?)"
                   if creds else "anonymous access: set username and a password"),
                registry=self.name, status=401)
        if resp.status != 200:
            raise self._error(resp, where)
        data = self._json(resp, where)
        value = data.get("token") or data.get("access_token")
        if not isinstance(value, str) or not value:
            raise NotARegistry(f"registry {self.name}: {where} answered JSON without a token", registry=self.name)
        try:
            expires_in = float(data.get("expires_in") or 60)  # the spec's default
        except (TypeError, ValueError):
            expires_in = 60.0
        margin = min(10.0, expires_in / 10)  # renew a little early: clocks and round trips
        return _Token(value, time.monotonic() + max(0.0, expires_in - margin))

    # ------------------------------------------------------------------ answers

    async def _pages(self, url: str, key: str, scope: str, what: str) -> AsyncIterator[list[str]]:
        seen: set[str] = set()
        origin = _origin(self.base)
        next_url: str | None = url
        while next_url and next_url not in seen:
            seen.add(next_url)
            resp = await self._request("GET", next_url, scope=scope)
            if resp.status != 200:
                raise self._error(resp, what)
            data = self._json(resp, what)
            items = data.get(key)
            if items is None:
                items = []  # distribution answers "tags": null for a repository without tags
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise NotARegistry(f"registry {self.name}: {what}: '{key}' is not a list of names",
                                   registry=self.name)
            yield items
            next_url = None
            for link in resp.headers.getall("Link", []):
                m = _LINK_NEXT.search(link)
                if m:
                    target = resp.url.join(URL(m.group(1)))
                    if _origin(target) != origin:
                        raise NotARegistry(f"registry {self.name}: {what}: the next page points to another "
                                           f"server ({target.host}); not following", registry=self.name)
                    next_url = str(target)
                    break

    def _json(self, resp: _Response, what: str) -> dict[str, Any]:
        try:
            data = json.loads(resp.body)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            kind = ("an HTML page" if _looks_html(resp) else
                    f"{resp.content_type or 'untyped'} content: {_snippet(resp.body)!r}" if resp.body else "nothing")
            raise NotARegistry(f"registry {self.name}: not a registry: {what} at {resp.url.host}:{resp.url.port} "
                               f"answered {kind} instead of the registry API's JSON", registry=self.name,
                               status=resp.status)
        return data

    def _error(self, resp: _Response, what: str, *, anonymous: bool = False) -> RegistryError:
        """An error answer in words."""
        errors: list[dict] = []
        try:
            data = json.loads(resp.body) if resp.body else None
            if isinstance(data, dict) and isinstance(data.get("errors"), list):
                errors = [e for e in data["errors"] if isinstance(e, dict)]
            elif isinstance(data, dict) and (data.get("details") or data.get("message")):  # token services
                errors = [{"code": "", "message": data.get("details") or data.get("message")}]
        except ValueError:
            pass
        code = str(errors[0].get("code", "")).upper() if errors else ""
        message = safe(truncate(str(errors[0].get("message") or ""), 200)) if errors else ""
        status = resp.status
        prefix = f"registry {self.name}: "
        about = f" ({what})" if what else ""
        kw = {"registry": self.name, "status": status}
        if status == 429 or code == "TOOMANYREQUESTS":
            wait = _retry_after(resp.headers.get("Retry-After"))
            when = f"; retry in {wait:.0f} s" if wait is not None else "; retry later"
            return RateLimited(f"{prefix}rate limited: too many requests{about}{when}"
                               + (f" ({message})" if message else ""), retry_after=wait, **kw)
        if status == 401 or code == "UNAUTHORIZED":
            if anonymous:
                detail = "anonymous access refused" + (f" ({message})" if message else "") + \
                         "; set username with password_env / password_command, or credentials = \"docker\""
            else:
                detail = message or "the credentials were not accepted for this"
            return Unauthorized(f"{prefix}unauthorized{about}: {detail}", **kw)
        if status == 403 or code == "DENIED":
            return Denied(f"{prefix}denied{about}: {message or 'the credentials are not allowed to do this'}", **kw)
        if resp.method == "DELETE" and (status == 405 or code == "UNSUPPORTED"):
            return DeletionDisabled(f"{prefix}deletion disabled: the registry refuses deletes (HTTP {status}); "
                                    "it must run with storage.delete.enabled (REGISTRY_STORAGE_DELETE_ENABLED=true)",
                                    **kw)
        if what == "the catalog" and (status in (404, 405) or code == "UNSUPPORTED"):
            return CatalogUnsupported(f"{prefix}no catalog: this registry does not list its repositories; "
                                      "name a repository instead", **kw)
        if not errors and _looks_html(resp):
            return NotARegistry(f"{prefix}not a registry: {resp.url.host}:{resp.url.port} answered HTTP {status} "
                                f"with an HTML page{about}, not the registry API", **kw)
        if status == 404:
            nouns = {"NAME_UNKNOWN": "repository not found", "MANIFEST_UNKNOWN": "manifest not found",
                     "BLOB_UNKNOWN": "blob not found"}
            return NotFound(f"{prefix}not found: {nouns.get(code, 'no such thing')}{about}", **kw)
        if not errors and resp.body and resp.content_type != "application/json":
            return NotARegistry(f"{prefix}not a registry: {resp.url.host}:{resp.url.port} answered HTTP {status}"
                                f"{about}: {_snippet(resp.body)!r}", **kw)
        if status >= 500:
            return RegistryError(f"{prefix}server error HTTP {status}{about}" + (f": {message}" if message else ""), **kw)
        return RegistryError(f"{prefix}HTTP {status}{about}" + (f": {code} {message}" if code or message else ""), **kw)


def _str_dict(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _platform(entry: dict) -> Platform:
    p = entry.get("platform") if isinstance(entry.get("platform"), dict) else {}
    return Platform(os=str(p.get("os") or "unknown"), architecture=str(p.get("architecture") or "unknown"),
                    variant=p.get("variant"), os_version=p.get("os.version"), digest=str(entry.get("digest", "")),
                    size=int(entry.get("size") or 0), media_type=str(entry.get("mediaType", "")),
                    annotations=_str_dict(entry.get("annotations")))


def _strings(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    if isinstance(value, str):
        return (value,)
    return None


def _config_facts(cfg: dict[str, Any]) -> dict[str, Any]:
    inner = cfg.get("config") if isinstance(cfg.get("config"), dict) else {}
    return {"created": cfg.get("created") if isinstance(cfg.get("created"), str) else None,
            "os": cfg.get("os"), "architecture": cfg.get("architecture"), "variant": cfg.get("variant"),
            "labels": _str_dict(inner.get("Labels")), "command": _strings(inner.get("Cmd")),
            "entrypoint": _strings(inner.get("Entrypoint"))}


def _schema1(base: dict[str, Any], data: dict[str, Any]) -> Manifest:
    """The old signed schema 1 (rare today): layers without sizes, facts from the v1 history."""
    layers = tuple(Layer(str(layer.get("blobSum", "")), 0, "")
                   for layer in reversed(data.get("fsLayers") or []) if isinstance(layer, dict))
    facts: dict[str, Any] = {"architecture": data.get("architecture")}
    history = data.get("history") or []
    if history and isinstance(history[0], dict):
        try:
            v1 = json.loads(history[0].get("v1Compatibility") or "{}")
            facts = _config_facts(v1) | {k: v for k, v in facts.items() if v}
        except ValueError:
            pass
    return Manifest(**base, layers=layers, **facts)
