"""An inspect document as a foldable tree (container, network and image inspect alike).

Keys and values from daemons are data: escaped by `safe()`, never markup (rich Text).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets.tree import TreeNode

from dockyard.textfmt import safe

if TYPE_CHECKING:
    from textual.app import App


def label(key: str, value: Any) -> Text:
    """`key: value` for a leaf, `key  {n}` / `key  [n]` for an object or a list."""
    text = Text(safe(key), style="bold")
    if isinstance(value, dict):
        text.append(f"  {{{len(value)}}}", style="dim")
    elif isinstance(value, list):
        text.append(f"  [{len(value)}]", style="dim")
    else:
        text.append(": ")
        style = {str: "green", bool: "magenta", type(None): "dim"}.get(type(value), "cyan")
        text.append(safe(json.dumps(value, ensure_ascii=False)), style=style)
    return text


def fill(node: TreeNode, value: Any) -> None:
    """Add `value`'s members under `node`; each node's data is its value (for copying)."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        if isinstance(child, (dict, list)) and child:
            branch = node.add(label(str(key), child), data=child)
            fill(branch, child)
        else:
            node.add_leaf(label(str(key), child), data=child)


def walk(node: TreeNode):
    """Every node below `node`, depth first."""
    for child in node.children:
        yield child
        yield from walk(child)


def copy_value(app: App, node: TreeNode | None) -> None:
    """Copy the value under the cursor (OSC 52): a string as it is, anything else as JSON."""
    if node is None or node.data is None:
        return
    text = node.data if isinstance(node.data, str) else json.dumps(node.data, indent=2)
    app.copy_to_clipboard(text)
    app.notify(f"copied {len(text)} characters", markup=False, timeout=2)


def copy_document(app: App, document: Any) -> None:
    """Copy the whole inspect document as JSON (OSC 52)."""
    text = json.dumps(document, indent=2)
    app.copy_to_clipboard(text)
    app.notify(f"copied the whole inspect document ({len(text)} characters)", markup=False, timeout=2)
