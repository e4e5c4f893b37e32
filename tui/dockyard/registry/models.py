"""Plain data the registry client returns: manifests, platforms, layers, ping results, references."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dockyard.imageref import parse_image_ref
from dockyard.registry.errors import BadReference

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_SCHEMA1 = ("application/vnd.docker.distribution.manifest.v1+json",
                  "application/vnd.docker.distribution.manifest.v1+prettyjws")
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
IMAGE_CONFIG_TYPES = ("application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json")
ACCEPT_MANIFESTS = f"{OCI_INDEX}, {OCI_MANIFEST}, {DOCKER_LIST}, {DOCKER_MANIFEST}"

# distribution's reference grammar (docker/distribution/reference/regexp.go)
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
REPOSITORY_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")


def check_repository(name: str) -> str:
    if len(name) > 255 or not REPOSITORY_RE.match(name):
        raise BadReference(f"invalid repository name {name!r} (lowercase letters, digits, . _ - separated by /)")
    return name


def is_digest(ref: str) -> bool:
    return bool(DIGEST_RE.match(ref))


def check_ref(ref: str) -> str:
    """A tag or a digest."""
    if not (TAG_RE.match(ref) or is_digest(ref)):
        raise BadReference(f"invalid tag or digest {ref!r}")
    return ref


@dataclass(frozen=True)
class Reference:
    """`repo:tag` or `repo@digest` within one registry."""

    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def ref(self) -> str:
        """What goes in `/manifests/<ref>`: the digest when there is one."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        if self.digest:
            return f"{self.repository}@{self.digest}"
        return f"{self.repository}:{self.tag or 'latest'}"


def parse_reference(text: str, *, default_tag: str | None = "latest") -> Reference:
    """`REPO`, `REPO:TAG`, `REPO@DIGEST` or `REPO:TAG@DIGEST` (the digest wins), checked."""
    parsed = parse_image_ref(text)
    name, tag = parsed.repository, parsed.tag
    if tag is not None and not TAG_RE.match(tag):
        raise BadReference(f"invalid tag {tag!r} in {text!r}")
    check_repository(name)
    if parsed.digest is not None:
        if not is_digest(parsed.digest):
            raise BadReference(f"invalid digest {parsed.digest!r} in {text!r} (expected sha256:<64 hex>)")
        return Reference(name, tag, parsed.digest)
    return Reference(name, tag or default_tag)


@dataclass(frozen=True)
class Platform:
    """One entry of a multi-platform index."""

    os: str
    architecture: str
    variant: str | None
    digest: str
    size: int
    media_type: str
    os_version: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    @property
    def is_attestation(self) -> bool:
        """buildx's provenance/SBOM entries (platform unknown/unknown): not something to pull."""
        return self.annotations.get("vnd.docker.reference.type") == "attestation-manifest"

    def to_json(self) -> dict[str, Any]:
        return {"platform": str(self), "os": self.os, "architecture": self.architecture, "variant": self.variant,
                "os_version": self.os_version, "digest": self.digest, "size": self.size,
                "media_type": self.media_type, "attestation": self.is_attestation}


@dataclass(frozen=True)
class Layer:
    digest: str
    size: int
    media_type: str

    def to_json(self) -> dict[str, Any]:
        return {"digest": self.digest, "size": self.size, "media_type": self.media_type}


@dataclass(frozen=True)
class Manifest:
    """A manifest by tag or digest. For an index, `platforms` is filled and `layers` empty; for an
    image manifest, `layers` and the facts from its config blob (created, os/arch, labels, command)."""

    registry: str
    repository: str
    reference: str
    digest: str
    media_type: str
    size: int
    platforms: tuple[Platform, ...] = ()
    layers: tuple[Layer, ...] = ()
    config_digest: str | None = None
    config_size: int | None = None
    config_media_type: str | None = None
    created: str | None = None  # RFC 3339, as the image config says
    os: str | None = None
    architecture: str | None = None
    variant: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    command: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    @property
    def platform(self) -> str | None:
        if not self.os:
            return None
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    @property
    def total_size(self) -> int:
        """What a pull downloads (compressed): config + layers; for an index, the platforms' manifests."""
        if self.is_index:
            return sum(p.size for p in self.platforms)
        return (self.config_size or 0) + sum(layer.size for layer in self.layers)

    @property
    def created_ts(self) -> float | None:
        return parse_time(self.created)

    def to_json(self) -> dict[str, Any]:
        return {
            "registry": self.registry, "repository": self.repository, "reference": self.reference,
            "digest": self.digest, "media_type": self.media_type, "size": self.size,
            "total_size": self.total_size, "index": self.is_index,
            "platforms": [p.to_json() for p in self.platforms],
            "layers": [layer.to_json() for layer in self.layers],
            "config": ({"digest": self.config_digest, "size": self.config_size, "media_type": self.config_media_type}
                       if self.config_digest else None),
            "created": self.created, "platform": self.platform, "labels": self.labels,
            "command": list(self.command) if self.command is not None else None,
            "entrypoint": list(self.entrypoint) if self.entrypoint is not None else None,
            "annotations": self.annotations,
        }


@dataclass(frozen=True)
class PingResult:
    """What `/v2/` said: which auth the registry wants and whether our credentials were accepted."""

    registry: str
    url: str
    auth: str  # "none", "basic" or "bearer"
    user: str | None  # logged in as (credentials accepted); None: anonymous
    has_credentials: bool
    api_version: str | None
    latency_ms: float

    @property
    def login_status(self) -> str:
        if self.user:
            return f"logged in as {self.user}"
        if self.has_credentials:
            return "logged in (token)"
        if self.auth == "none":
            return "open (no login needed)"
        if self.auth == "basic":
            return "login required"
        return "anonymous"

    def to_json(self) -> dict[str, Any]:
        return {"registry": self.registry, "url": self.url, "auth": self.auth, "user": self.user,
                "status": self.login_status, "api_version": self.api_version,
                "latency_ms": round(self.latency_ms, 1)}


def parse_time(text: str | None) -> float | None:
    """RFC 3339 with nanoseconds (Go) -> epoch seconds."""
    if not text:
        return None
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$", text.strip())
    if not m:
        return None
    frac = (m.group(2) or "")[:7]
    zone = m.group(3) or "Z"
    try:
        dt = datetime.fromisoformat(m.group(1) + frac + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        return None
    return dt.timestamp()
