"""Image references and short IDs, as Docker reads and shows them (no lab)."""

from __future__ import annotations

import pytest

from dockyard.imageref import ImageRef, canonical, parse_image_ref
from dockyard.textfmt import short_id

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize("text, registry, path, tag, digest", [
    ("busybox", None, "busybox", None, None),
    ("busybox:1.36", None, "busybox", "1.36", None),
    ("library/busybox", None, "library/busybox", None, None),
    ("team/app:v2", None, "team/app", "v2", None),
    ("ghcr.io/org/app:1.0", "ghcr.io", "org/app", "1.0", None),
    ("localhost/app", "localhost", "app", None, None),
    ("localhost:5000/app:dev", "localhost:5000", "app", "dev", None),
    ("127.0.0.1:5000/team/app", "127.0.0.1:5000", "team/app", None, None),
    ("registry:5000/app", "registry:5000", "app", None, None),  # a port makes it a host
    ("Registry/app", "Registry", "app", None, None),  # upper case never names a repository
    ("myhost/app", None, "myhost/app", None, None),  # no '.', ':' or localhost: a Hub namespace
    (f"busybox@{DIGEST}", None, "busybox", None, DIGEST),
    (f"reg.example:443/app:1@{DIGEST}", "reg.example:443", "app", "1", DIGEST),
    ("[::1]:5000/app:x", "[::1]:5000", "app", "x", None),
])
def test_parse_image_ref_follows_dockers_rules(text, registry, path, tag, digest):
    ref = parse_image_ref(text)
    assert ref == ImageRef(registry, path, tag, digest)
    assert str(ref) == text


def test_what_a_reference_resolves_to():
    assert parse_image_ref("busybox").ref == "latest"
    assert parse_image_ref("busybox:1.36").ref == "1.36"
    assert parse_image_ref(f"app:1@{DIGEST}").ref == DIGEST  # the digest wins
    assert parse_image_ref("host:5000/team/app:1").repository == "host:5000/team/app"
    assert parse_image_ref("busybox").registry_host == "docker.io"
    assert parse_image_ref("localhost:5000/app").registry_host == "localhost:5000"


@pytest.mark.parametrize("object_id, want", [
    ("sha256:" + "0123456789abcdef" * 4, "0123456789ab"),
    ("0123456789abcdef" * 4, "0123456789ab"),
    ("abc", "abc"),
    ("", ""),
    (None, ""),
])
def test_short_id_is_dockers_twelve_characters(object_id, want):
    assert short_id(object_id) == want


def test_short_id_says_what_to_show_for_none():
    assert short_id(None, "-") == "-"
    assert short_id("", "-") == "-"


@pytest.mark.parametrize("text, want", [
    ("nginx", "docker.io/library/nginx:latest"),
    ("nginx:1.27", "docker.io/library/nginx:1.27"),
    ("bitnami/redis:7", "docker.io/bitnami/redis:7"),
    ("docker.io/library/nginx:1.27", "docker.io/library/nginx:1.27"),
    ("index.docker.io/library/nginx", "docker.io/library/nginx:latest"),
    ("registry-1.docker.io/nginx:1", "docker.io/library/nginx:1"),
    ("reg:5000/app", "reg:5000/app:latest"),
    ("reg.example.com/team/app:2", "reg.example.com/team/app:2"),
    ("localhost/app:dev", "localhost/app:dev"),
    ("app@sha256:" + "a" * 64, "docker.io/library/app@sha256:" + "a" * 64),
    ("reg:5000/app:2@sha256:" + "b" * 64, "reg:5000/app:2@sha256:" + "b" * 64),
])
def test_canonical_resolves_like_the_docker_cli(text, want):
    """What freshness checks key their cache on: `nginx` and `docker.io/library/nginx:latest` are one reference."""
    assert canonical(text) == want
