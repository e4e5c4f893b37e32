"""Extra registries and fake servers for the registry tests, all on 127.0.0.1.

    RegistryServer  the lab's docker-registry (TLS with the lab CA, deletion on/off) plus a login:
                    htpasswd (bcrypt) or token auth; stopped by pid
    TokenIssuer     a small token service (http.server thread) issuing ES256 JWTs that
                    docker-registry 2.8 verifies with `rootcertbundle` (x5c header)
    FakeHTTP        answers chosen (status, headers, body) per path; HTML by default
    GarbageServer   writes bytes that are not HTTP, then hangs up
    RegistryAPI     blocking uploads (blobs, cross-repo mounts, manifests) to seed registries cheaply
    cfg, creds      a Dockyard registry config for one of them, a credential source with a given environment

Plain module, no pytest; helpers come from tests/lab/.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import http.server
import json
import os
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import bcrypt
import lab as _lab
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- token service


class TokenIssuer:
    """`GET /token?service=&scope=` with optional Basic credentials -> {token, access_token, expires_in}.

    Authenticated users get every action they ask for; anonymous callers get a token with no
    access (like Docker Hub for a private repository). Knobs for tests: `expires_in`,
    `stale_next` (that many next tokens carry a JWT `exp` long past, while `expires_in` says
    they are fine: the registry refuses them), `issued` (a record per token).
    """

    SERVICE = "dockyard-registry"
    ISSUER = "dockyard-test-issuer"

    def __init__(self, directory: Path, users: dict[str, str], *, tls: _lab.TLSFiles | None = None):
        """`tls`: serve https with the lab's server certificate (a realm on another port than the
        registry gets credentials only over verified https)."""
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.users = users
        self.refresh_tokens: dict[str, str] = {}  # identity token -> user
        self.expires_in = 300
        self.stale_next = 0
        self.issued: list[dict[str, Any]] = []
        self.cert_path = str(directory / "token-cert.pem")
        key_path = str(directory / "token-key.pem")
        _lab._run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                   "-nodes", "-subj", "/CN=dockyard-token-issuer", "-days", "30",
                   "-keyout", key_path, "-out", self.cert_path])
        self.key = serialization.load_pem_private_key(Path(key_path).read_bytes(), password=None)
        from cryptography import x509

        cert = x509.load_pem_x509_certificate(Path(self.cert_path).read_bytes())
        self.x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
        self._lock = threading.Lock()
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_GET(self) -> None:
                issuer._handle(self)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                issuer._handle(self, parse_qs(self.rfile.read(length).decode()))

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls.server_cert, tls.server_key)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.realm = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}/token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="token-issuer")
        self.thread.start()

    def mint(self, access: list[dict[str, Any]], *, subject: str = "", lifetime: int = 300,
             exp_offset: int | None = None) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256", "x5c": [self.x5c]}
        claims = {"iss": self.ISSUER, "sub": subject, "aud": self.SERVICE, "iat": now, "nbf": now - 5,
                  "exp": now + (lifetime if exp_offset is None else exp_offset), "jti": uuid.uuid4().hex,
                  "access": access}
        signing_input = (b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())).encode()
        der = self.key.sign(signing_input, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return signing_input.decode() + "." + b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    def full_access(self, *repos: str) -> str:
        return self.mint([{"type": "repository", "name": r, "actions": ["pull", "push", "delete"]} for r in repos])

    def _handle(self, req: http.server.BaseHTTPRequestHandler, form: dict[str, list[str]] | None = None) -> None:
        parts = urlsplit(req.path)
        if parts.path != "/token":
            req.send_response(404)
            req.end_headers()
            return
        q = parse_qs(parts.query)
        user = None
        auth = req.headers.get("Authorization", "")
        refused = False
        if form is not None:  # POST: grant_type=refresh_token with an identity token
            q = {"service": form.get("service", []), "scope": [s for s in form.get("scope", []) if s]}
            user = self.refresh_tokens.get((form.get("refresh_token") or [""])[0])
            refused = form.get("grant_type") != ["refresh_token"] or user is None
        elif auth.startswith("Basic "):
            name, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            refused = self.users.get(name) != password
            user = name
        if refused:
            body = json.dumps({"details": "incorrect username or password"}).encode()
            req.send_response(401)
            req.send_header("Content-Type", "application/json")
            req.send_header("Content-Length", str(len(body)))
            req.end_headers()
            req.wfile.write(body)
            return
        access = []
        for scope in q.get("scope", []):
            for one in scope.split(" "):
                kind, _, rest = one.partition(":")
                name, _, actions = rest.rpartition(":")
                if user and kind in ("repository", "registry"):
                    access.append({"type": kind, "name": name, "actions": actions.split(",")})
        with self._lock:
            stale = self.stale_next > 0
            if stale:
                self.stale_next -= 1
            expires_in = self.expires_in
        token = self.mint(access, subject=user or "", exp_offset=-300 if stale else max(expires_in, 1))
        with self._lock:
            self.issued.append({"user": user, "grant": "refresh_token" if form is not None else "password",
                                "scope": q.get("scope", []), "service": q.get("service"),
                                "stale": stale, "token": token})
        body = json.dumps({"token": token, "access_token": token, "expires_in": expires_in,
                           "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}).encode()
        req.send_response(200)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --------------------------------------------------------------------------- docker-registry


class RegistryServer(_lab.Registry):
    """The lab's docker-registry (TLS and deletion options there) with a login: htpasswd users
    (bcrypt) or token auth from a TokenIssuer."""

    def __init__(self, root: str | Path, name: str, *, tls: _lab.TLSFiles | None = None,
                 htpasswd: dict[str, str] | None = None, token: TokenIssuer | None = None,
                 delete: bool = True):
        super().__init__(root, name, tls=tls, delete=delete)
        self.token = token
        self.htpasswd_path = None
        if htpasswd:
            self.htpasswd_path = str(self.dir / "htpasswd")
            Path(self.htpasswd_path).write_text("".join(
                f"{user}:{bcrypt.hashpw(pw.encode(), bcrypt.gensalt(rounds=5)).decode()}\n"
                for user, pw in htpasswd.items()))

    def auth_yaml(self) -> str:
        if self.htpasswd_path:
            return f"auth:\n  htpasswd:\n    realm: dockyard-test\n    path: {self.htpasswd_path}"
        if self.token:
            return (f"auth:\n  token:\n    realm: {self.token.realm}\n    service: {self.token.SERVICE}\n"
                    f"    issuer: {self.token.ISSUER}\n    rootcertbundle: {self.token.cert_path}")
        return ""


# --------------------------------------------------------------------------- seeding


class RegistryAPI:
    """Blocking registry writes for test setup. `auth(repo)` -> Authorization header value or None."""

    def __init__(self, url: str, *, ssl_context: ssl.SSLContext | None = None,
                 auth: Callable[[str], str | None] = lambda repo: None):
        parts = urlsplit(url)
        self.https = parts.scheme == "https"
        self.host, self.port = parts.hostname, parts.port
        self.ssl_context = ssl_context
        self.auth = auth

    def request(self, method: str, path: str, repo: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        if self.https:
            conn = http.client.HTTPSConnection(self.host, self.port, timeout=10, context=self.ssl_context)
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        h = dict(headers or {})
        a = self.auth(repo)
        if a:
            h["Authorization"] = a
        try:
            conn.request(method, path, body=body, headers=h)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def put_blob(self, repo: str, data: bytes) -> str:
        digest = sha256(data)
        status, headers, body = self.request("POST", f"/v2/{repo}/blobs/uploads/", repo)
        assert status == 202, (status, body)
        location = headers["location"]
        loc = urlsplit(location)
        path = (loc.path or location) + ("?" + loc.query + "&" if loc.query else "?") + f"digest={digest}"
        status, _, body = self.request("PUT", path, repo, data, {"Content-Type": "application/octet-stream"})
        assert status == 201, (status, body)
        return digest

    def mount(self, repo: str, digest: str, source: str) -> None:
        status, _, body = self.request("POST", f"/v2/{repo}/blobs/uploads/?mount={digest}&from={source}", repo)
        assert status == 201, (status, body)

    def put_manifest(self, repo: str, ref: str, manifest: bytes, media_type: str) -> str:
        status, headers, body = self.request("PUT", f"/v2/{repo}/manifests/{ref}", repo, manifest,
                                             {"Content-Type": media_type})
        assert status == 201, (status, body)
        return headers.get("docker-content-digest") or sha256(manifest)

    def get_manifest(self, repo: str, ref: str) -> tuple[bytes, str]:
        status, headers, body = self.request(
            "GET", f"/v2/{repo}/manifests/{ref}", repo,
            headers={"Accept": f"{OCI_INDEX}, {OCI_MANIFEST}, {DOCKER_MANIFEST}"})
        assert status == 200, (status, body)
        return body, headers["content-type"]

    # -- a tiny synthetic image (no daemon needed)

    def push_image(self, repo: str, tag: str | None, *, arch: str = "amd64", variant: str | None = None,
                   labels: dict[str, str] | None = None, layer: bytes = b"dockyard test layer") -> str:
        config = {"created": "2024-05-06T07:08:09.123456789Z", "architecture": arch, "os": "linux",
                  "config": {"Cmd": ["sh"], "Labels": labels or {"org.example.test": "yes"}},
                  "rootfs": {"type": "layers", "diff_ids": [sha256(layer)]}}
        if variant:
            config["variant"] = variant
        cfg = json.dumps(config).encode()
        cfg_digest = self.put_blob(repo, cfg)
        layer_digest = self.put_blob(repo, layer)
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": cfg_digest, "size": len(cfg)},
            "layers": [{"mediaType": OCI_LAYER, "digest": layer_digest, "size": len(layer)}],
        }).encode()
        return self.put_manifest(repo, tag or sha256(manifest), manifest, OCI_MANIFEST)

    def push_index(self, repo: str, tag: str, platforms: list[tuple[str, str | None]]) -> tuple[str, list[str]]:
        """An OCI index over one tiny image per (arch, variant); returns (index digest, platform digests)."""
        digests, entries = [], []
        for arch, variant in platforms:
            d = self.push_image(repo, None, arch=arch, variant=variant)
            body, _ = self.get_manifest(repo, d)
            platform = {"architecture": arch, "os": "linux"}
            if variant:
                platform["variant"] = variant
            entries.append({"mediaType": OCI_MANIFEST, "digest": d, "size": len(body), "platform": platform})
            digests.append(d)
        index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()
        return self.put_manifest(repo, tag, index, OCI_INDEX), digests

    def replicate(self, source: str, ref: str, targets: list[tuple[str, str]]) -> None:
        """Put `source:ref`'s manifest under every (repo, tag), mounting its blobs first."""
        body, media_type = self.get_manifest(source, ref)
        m = json.loads(body)
        blobs = [m["config"]["digest"]] + [layer["digest"] for layer in m["layers"]]
        mounted: set[str] = {source}
        for repo, tag in targets:
            if repo not in mounted:
                for b in blobs:
                    self.mount(repo, b, source)
                mounted.add(repo)
            self.put_manifest(repo, tag, body, media_type)


# --------------------------------------------------------------------------- impostors


class FakeHTTP:
    """An HTTP server answering `routes[path] = (status, headers, body)`; other paths: an HTML page.

    A route may also be a callable(handler) that writes the whole answer itself (slow or endless
    bodies). `requests` records (method, path, Authorization) of everything that arrived.
    """

    HTML = (b"<!DOCTYPE html><html><head><title>Welcome</title></head>"
            b"<body><h1>It works!</h1></body></html>")

    def __init__(self, routes: dict[str, Any] | None = None, *, host: str = "127.0.0.1"):
        self.routes = dict(routes or {})
        self.requests: list[tuple[str, str, str | None]] = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def _answer(self) -> None:
                fake.requests.append((self.command, self.path, self.headers.get("Authorization")))
                route = fake.routes.get(urlsplit(self.path).path, (200, {"Content-Type": "text/html"}, fake.HTML))
                if callable(route):
                    try:
                        route(self)
                    except OSError:  # the client gave up (timeouts, size limits): what the test wanted
                        self.close_connection = True
                    return
                status, headers, body = route
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_HEAD = do_DELETE = do_POST = _answer

        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True, name="fake-http").start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class GarbageServer:
    """Accepts, writes bytes that are not HTTP, hangs up."""

    def __init__(self, payload: bytes = b"\x00\x13garbage, not HTTP at all \xff\xfe\r\n\r\n"):
        self.payload = payload
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = False
        threading.Thread(target=self._serve, daemon=True, name="garbage").start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                except OSError:
                    pass
                conn.sendall(self.payload)
            except OSError:
                pass
            finally:
                conn.close()

    def stop(self) -> None:
        self._stop = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


# --------------------------------------------------------------------------- Dockyard's side


def cfg(name: str, url: str, **kw):
    """A Dockyard RegistryConfig for `url` (plain http is allowed only for http:// urls)."""
    from dockyard.config.model import RegistryConfig

    return RegistryConfig(name=name, url=url, insecure=url.startswith("http://"), **kw)


def creds(**env: str):
    """Where a registry client finds passwords: only `env` (plus PATH), no real home or Docker config."""
    from dockyard.registry import CredentialSource

    return CredentialSource({"PATH": os.environ.get("PATH", ""), "HOME": "/nonexistent", **env})
