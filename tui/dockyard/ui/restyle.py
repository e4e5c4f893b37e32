"""A widget's styles for a state it was in before, taken back instead of worked out again.

Focus moving between the `/` prompt and a pane's table restyles both: Textual matches every
rule of the stylesheet against the widget, its scrollbars and each of its component classes
(a DataTable has eleven), ~9 ms of the ~12 ms that `enter` on the prompt costs, and the same
on every pane switch. The outcome depends only on the stylesheet and on the widget's place in
the DOM (the type, id, classes and pseudo-classes of it and its ancestors), so the styles it
got in one such state are kept, and given back when it is in that state again. A new
stylesheet (a theme, a widget type's CSS added) starts afresh.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from textual.cache import LRUCache
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode
from textual.widget import Widget

KEPT_STATES = 16  # per widget: focused or not, hovered or not, a few ancestors' states


class RestyleMemo:
    """The styles each widget had in each state (`state`), to `take_back` in that state again."""

    def __init__(self) -> None:
        self._rules_map: Any = None  # the stylesheet's rules the memory was made with
        self._kept: WeakKeyDictionary[Widget, LRUCache[tuple, _Looks]] = WeakKeyDictionary()

    def state(self, sheet: Stylesheet, node: Widget) -> tuple:
        """What the node's styles depend on; a new stylesheet since the last call forgets all kept."""
        rules_map = sheet.rules_map
        if rules_map is not self._rules_map:
            self._rules_map = rules_map
            self._kept.clear()
        path = tuple((n._css_type_name, n.id, frozenset(n.classes), frozenset(n.get_pseudo_classes()))
                     for n in node.css_path_nodes)
        return path, tuple(bar.name for bar in _scrollbars(node))

    def take_back(self, node: Widget, state: tuple) -> bool:
        """Give the node the styles it had in `state` before (False: never seen in it)."""
        kept = self._kept.get(node)
        looks = kept.get(state) if kept is not None else None
        if looks is None:
            return False
        looks.give(node)
        return True

    def keep(self, node: Widget, state: tuple) -> None:
        kept = self._kept.get(node)
        if kept is None:
            kept = self._kept[node] = LRUCache(KEPT_STATES)
        kept[state] = _Looks.of(node)


def _scrollbars(node: Widget) -> list[Widget]:
    """The scrollbars Textual restyles with the node (those it shows)."""
    bars = []
    if node.is_scrollable:
        vertical = node.show_vertical_scrollbar and node.scrollbar_size_vertical
        horizontal = node.show_horizontal_scrollbar and node.scrollbar_size_horizontal
        if vertical:
            bars.append(node.vertical_scrollbar)
        if horizontal:
            bars.append(node.horizontal_scrollbar)
        if vertical and horizontal:
            bars.append(node.scrollbar_corner)
    return bars


class _Looks:
    """A node's rules, its shown scrollbars' rules and its component classes' styles."""

    __slots__ = ("rules", "bars", "components")

    def __init__(self, rules: dict, bars: tuple, components: dict) -> None:
        self.rules, self.bars, self.components = rules, bars, components

    @classmethod
    def of(cls, node: Widget) -> "_Looks":
        bars = tuple((bar.name, dict(bar.styles.base._rules)) for bar in _scrollbars(node))
        return cls(dict(node.styles.base._rules), bars, dict(node._component_styles))

    def give(self, node: Widget) -> None:
        bars = {bar.name: bar for bar in _scrollbars(node)}
        now = node._component_styles
        changed = len(now) != len(self.components) or any(now.get(k) is not v for k, v in self.components.items())
        if changed:  # first: the node's style update below reads them
            node._component_styles.clear()
            node._component_styles.update(self.components)
        if node.styles.base._rules != self.rules:
            Stylesheet.replace_rules(node, self.rules)
        elif changed:
            node.notify_style_update()
        for name, rules in self.bars:
            bar: DOMNode | None = bars.get(name)
            if bar is not None and bar.styles.base._rules != rules:
                Stylesheet.replace_rules(bar, rules)
        if changed:
            node.refresh()
