"""What image and volume operations report: progress events (pull, push, transfer), drift rows,
history, prune and removal results, volume usage. Plain dataclasses, like models.py, which
exports them too (they load when first used, not with the first frame)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dockyard.fleet.models import Record, StreamEvent


@dataclass(frozen=True)
class PullProgress(StreamEvent):
    """One event of a pull (or push) onto one host.

    kind "layer": per-layer progress (`layer`, `status`, `current`/`total` bytes when known);
    kind "status": a host-level line ("Pulling from …", "Digest: …");
    kind "result": the host's final word — `ok` with `image_id` (and `digest`), or `error` in words.
    """

    host: str
    image: str
    kind: str
    status: str = ""
    layer: str | None = None
    current: int | None = None
    total: int | None = None
    ok: bool | None = None
    image_id: str | None = None
    digest: str | None = None
    error: str | None = None
    elapsed: float = 0.0
    action: str = "pull"  # or "push"


@dataclass(frozen=True)
class TransferProgress(StreamEvent):
    """One event of a host→host transfer.

    kind "progress": bytes read from the source so far (`bytes`, of about `total`), per target
    bytes sent (`sent`), throughput `rate` in bytes/s; `target` is None.
    kind "result": one target's final word — `ok` with the verified `image_ids` (reference → id),
    or `error` in words.
    """

    source: str
    kind: str
    target: str | None = None
    images: tuple[str, ...] = ()
    bytes: int = 0
    total: int | None = None
    sent: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    rate: float = 0.0
    ok: bool | None = None
    error: str | None = None
    image_ids: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DriftRow:
    """One repository:tag across the fleet: which host has it with which image id."""

    reference: str
    hosts: dict[str, str]  # host -> image id
    missing: tuple[str, ...] = ()  # answering hosts without this tag

    @property
    def ids(self) -> set[str]:
        return set(self.hosts.values())

    @property
    def drifted(self) -> bool:
        return len(self.ids) > 1

    def to_json(self) -> dict[str, Any]:
        return {"reference": self.reference, "hosts": dict(self.hosts), "missing": list(self.missing),
                "drifted": self.drifted}


@dataclass(frozen=True)
class HistoryEntry:
    """One layer of `docker history`."""

    id: str  # "<missing>" for layers pulled without their intermediate image
    created: int
    created_by: str
    size: int
    tags: tuple[str, ...] = ()
    comment: str = ""


@dataclass(frozen=True)
class PrunedImage:
    id: str
    tags: tuple[str, ...]
    size: int


@dataclass(frozen=True)
class ImagePrune(Record):
    """What an image prune removes (dry run: would remove) on one host.

    `images`: top-level images that go; `deleted`: every image id the daemon reported deleted
    (includes untagged parents); `space_reclaimed`: the daemon's figure, or for a dry run the
    sum of the images' unique sizes (layers only they use)."""

    host: str
    dry_run: bool
    dangling_only: bool
    images: tuple[PrunedImage, ...] = ()
    untagged: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    space_reclaimed: int = 0


@dataclass(frozen=True)
class ImageRemoval:
    host: str
    image: str
    untagged: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()


@dataclass(frozen=True)
class VolumeUsage:
    """A volume with its size (`docker system df -v`) and the containers that mount it."""

    host: str
    name: str
    driver: str
    mountpoint: str
    size: int  # bytes; -1 when the daemon does not know
    ref_count: int  # -1 when the daemon does not know
    used_by: tuple[str, ...] = ()  # container names
    labels: dict[str, str] = field(default_factory=dict)
    created: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.host, self.name)


@dataclass(frozen=True)
class VolumePrune(Record):
    host: str
    dry_run: bool
    volumes: tuple[str, ...] = ()
    space_reclaimed: int = 0
