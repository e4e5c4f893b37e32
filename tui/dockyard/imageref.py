"""Image references as Docker reads them: `[REGISTRY/]PATH[:TAG][@DIGEST]`.

Stdlib only; every layer uses it (pull/push, the registry browser, the UI's tag dialogs, the CLI).

Docker's rule for the registry: the part before the first `/` names a registry host when it
holds a `.` or a `:` (a port) or is `localhost` (or has upper-case letters, which a repository
path never has); otherwise the whole name is a Docker Hub repository. The tag follows the last
`:` after the last `/` (so `host:5000/app` has no tag); a digest follows `@`.
"""

from __future__ import annotations

from dataclasses import dataclass

DOCKER_HUB = "docker.io"


@dataclass(frozen=True)
class ImageRef:
    registry: str | None  # host[:port] as written; None: Docker Hub
    path: str  # the repository inside the registry, as written ("team/app", "busybox")
    tag: str | None = None
    digest: str | None = None

    @property
    def repository(self) -> str:
        """The name without tag or digest, as written: `host:5000/team/app`, `busybox`."""
        return f"{self.registry}/{self.path}" if self.registry else self.path

    @property
    def registry_host(self) -> str:
        """Where the image lives: the registry host[:port], or `docker.io`."""
        return self.registry or DOCKER_HUB

    @property
    def ref(self) -> str:
        """What the daemon or a registry resolves: the digest when there is one, else the tag (`latest`)."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        text = self.repository
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text


def parse_image_ref(text: str) -> ImageRef:
    """Split a reference without judging it (the daemon or registry says when it is invalid).

    `registry:5000/team/app:1.2` → ImageRef("registry:5000", "team/app", "1.2", None);
    `busybox` → ImageRef(None, "busybox", None, None) whose `ref` is `latest`."""
    name, at, digest = text.strip().partition("@")
    tag = None
    slash, colon = name.rfind("/"), name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1:]
    registry = None
    first, sep, rest = name.partition("/")
    if sep and (any(c in first for c in ".:") or first == "localhost" or first.lower() != first):
        registry, name = first, rest
    return ImageRef(registry, name, tag, digest if at else None)


def split_tag(reference: str) -> tuple[str, str]:
    """`repo[:tag]` -> (repo, tag), `latest` when no tag is given (a `:` before the last `/` is a port)."""
    ref = parse_image_ref(reference)
    return ref.repository, ref.tag or "latest"


_HUB_ALIASES = frozenset({DOCKER_HUB, "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})


def canonical_repository(ref: ImageRef) -> str:
    """The repository as the docker CLI resolves it: `nginx` -> `docker.io/library/nginx`,
    `reg:5000/app` -> `reg:5000/app` (Docker Hub's other host names count as docker.io)."""
    host = ref.registry_host
    if host.lower() in _HUB_ALIASES:
        return f"{DOCKER_HUB}/{ref.path if '/' in ref.path else 'library/' + ref.path}"
    return f"{host}/{ref.path}"


def canonical(text: str) -> str:
    """A reference as the docker CLI resolves it: `nginx` -> `docker.io/library/nginx:latest`;
    a digest is kept (`app@sha256:…` -> `docker.io/library/app@sha256:…`), and a tag with it."""
    ref = parse_image_ref(text)
    out = canonical_repository(ref)
    if ref.tag is not None or ref.digest is None:
        out += f":{ref.tag or 'latest'}"
    if ref.digest is not None:
        out += f"@{ref.digest}"
    return out
