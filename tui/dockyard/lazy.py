"""Names a package exports but loads only when first used (PEP 562 module `__getattr__`).

The terminal UI paints its first frame before the fleet layer and the registry client are
imported (aiohttp, aiodocker: ~0.75 s); packages that hold them export those names lazily.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_names(package: str, namespace: dict[str, Any], where: dict[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package` that imports `where[name]` (a module) on first use."""

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where[name]), name)
        namespace[name] = value  # once loaded, an ordinary attribute
        return value

    return __getattr__
