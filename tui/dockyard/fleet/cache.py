"""Per-host live cache of containers, images, volumes and networks.

Fed by the session (events + periodic reconcile); every change calls `notify(kind)`
once, which the fleet batches for observers. Readers get immutable model objects.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dockyard.fleet.docker_api import DockerClient

# Every cached kind and how the session lists it: on (re)connect, every reconcile, and after an
# event of its type (`image` events refresh "images"). A new cached resource is one line here (its
# model's `key` property says which objects are the same one from listing to listing).
LISTINGS: dict[str, Callable[[DockerClient], Awaitable[list[Any]]]] = {
    "containers": lambda c: c.list_containers(all=True),
    "images": lambda c: c.list_images(),
    "volumes": lambda c: c.list_volumes(),
    "networks": lambda c: c.list_networks(),
}
KINDS = tuple(LISTINGS)


class HostCache:
    def __init__(self, host: str, notify: Callable[[str], None]):
        self.host = host
        self._notify = notify
        self._items: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}
        self.loaded: set[str] = set()  # kinds fetched at least once since (re)connect
        self._counts: tuple[int, int, int | None] | None = None  # counts() until the next change

    def _tell(self, kind: str) -> None:
        self._counts = None
        self._notify(kind)

    def items(self, kind: str) -> list[Any]:
        return list(self._items[kind].values())

    def get(self, kind: str, key: str) -> Any | None:
        return self._items[kind].get(key)

    def replace(self, kind: str, objects: Iterable[Any]) -> None:
        """Replace a whole kind with a fresh listing; notifies only if something differs."""
        fresh = {_key(o): o for o in objects}
        if kind == "containers":
            fresh = self._keep_unchanged(fresh)
        first = kind not in self.loaded
        self.loaded.add(kind)
        if fresh != self._items[kind] or first:
            self._items[kind] = fresh
            self._tell(kind)

    def _keep_unchanged(self, fresh: dict[str, Any]) -> dict[str, Any]:
        """The cached object for each container whose new listing differs only by time passed
        ("Up 5 minutes" -> "Up 6 minutes"): a reconcile of an unchanged fleet changes nothing."""
        old_items = self._items["containers"]
        for key, c in fresh.items():
            old = old_items.get(key)
            if old is not None and old is not c and old.listed_again(c):
                fresh[key] = old
        return fresh

    def update_containers(self, asked_ids: list[str], found: Iterable[Any]) -> None:
        """Apply a filtered listing: asked ids that came back are upserted, the rest removed."""
        items = self._items["containers"]
        changed = False
        seen = set()
        for c in found:
            seen.add(c.id)
            old = items.get(c.id)
            if old is None or not old.listed_again(c):
                items[c.id] = c
                changed = True
        for cid in asked_ids:
            full = _resolve(items, cid)
            if full is not None and full not in seen:
                del items[full]
                changed = True
        if changed:
            self._tell("containers")

    def remove_container(self, cid: str) -> None:
        full = _resolve(self._items["containers"], cid)
        if full is not None:
            del self._items["containers"][full]
            self._tell("containers")

    def clear(self) -> None:
        for kind in KINDS:
            if self._items[kind]:
                self._items[kind] = {}
                self._tell(kind)
        self.loaded.clear()
        self._counts = None

    def counts(self) -> tuple[int, int, int | None] | None:
        """(containers, running, images) from the cache, or None before the first container listing;
        images None until they are listed (a connecting fleet lists containers first). Kept until
        the cache changes: every host's status asks it, for every Hosts row and header repaint."""
        if "containers" not in self.loaded:
            return None
        if self._counts is None:
            containers = self._items["containers"].values()
            running = sum(1 for c in containers if c.state == "running")
            self._counts = (len(containers), running,
                            len(self._items["images"]) if "images" in self.loaded else None)
        return self._counts


def _key(obj: Any) -> str:
    """An object's identity on its host: every cached model's `key` is (host, identity) — a
    volume's name, the id of the others."""
    return obj.key[1]


def _resolve(items: dict[str, Any], cid: str) -> str | None:
    if cid in items:
        return cid
    matches = [k for k in items if k.startswith(cid)]
    return matches[0] if len(matches) == 1 else None
