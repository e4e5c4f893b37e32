"""The pane registry holds together (no lab): what it lists exists, and what the app derives from it agrees.

A new pane is one module plus one PaneSpec; these checks catch a spec that names a method the
pane lacks, a binding id that `[keys]` could not tell apart, or a key two panes both claim.
"""

from __future__ import annotations

import pytest

from dockyard.ui.commands import COMMANDS, CommandSuggester
from dockyard.ui.panes.base import key_table
from dockyard.ui.panes.registry import PANES, command_owner, spec_for_verb, spec_listing


def test_number_keys_ids_and_titles_are_unique():
    for field in ("id", "key", "title"):
        values = [getattr(spec, field) for spec in PANES]
        assert len(values) == len(set(values)), field
    assert all(len(spec.key) == 1 for spec in PANES)
    assert all(spec.pane.pane_id == spec.id for spec in PANES)


def test_binding_ids_are_unique_and_name_their_pane():
    seen: dict[str, str] = {}
    for spec in PANES:
        for binding in spec.pane.BINDINGS:
            assert binding.id and binding.id not in seen, (binding.id, seen.get(binding.id))
            seen[binding.id] = spec.id
            action = binding.action.split("(")[0]
            assert callable(getattr(spec.pane, f"action_{action}", None)), (spec.id, binding.action)
    prefixes = {spec.id: {i.split(".")[0] for i, owner in seen.items() if owner == spec.id} for spec in PANES}
    assert all(len(p) == 1 for p in prefixes.values()), prefixes  # one resource word per pane: image.*, …


def test_every_command_and_palette_entry_names_a_method_the_pane_has():
    for spec in PANES:
        for command in spec.commands:
            assert callable(getattr(spec.pane, f"command_{command.verb}", None)), (spec.id, command.verb)
            assert command_owner(command.verb) == (spec, command)
        for entry in spec.palette:
            assert callable(getattr(spec.pane, f"action_{entry.action}", None)), (spec.id, entry.name)


def test_colon_words_show_their_pane():
    for spec in PANES:
        for word in (spec.id, *spec.aliases):
            assert spec_for_verb(word) is spec
    assert spec_for_verb("container").id == "containers"
    assert spec_for_verb("host") is None  # `:host` scopes, it does not switch panes
    verbs = [c.verb for c in COMMANDS]
    assert {v for v in verbs if verbs.count(v) > 1} == {"host"}  # `:host NAME` and `:host`, nothing else twice
    assert [c.verb for c in COMMANDS[:len(PANES)]] == [spec.id for spec in PANES]


@pytest.mark.parametrize("typed, completion", [
    ("con", "containers"), ("reg", "registries"), ("gro", "group"), ("group pro", "group project"),
    ("containers", None), ("zzz", None),
])
async def test_command_completion_comes_from_the_registry(typed, completion):
    assert await CommandSuggester().get_suggestion(typed) == completion


def test_key_table_builds_bindings_with_resource_ids():
    bindings = key_table("thing", """
        space   mark        Mark
        O       sort(True)  Reverse sort  sort_reverse  hidden
        x       prune       Prune         hidden
    """)
    assert [(b.key, b.action, b.description, b.id, b.show) for b in bindings] == [
        ("space", "mark", "Mark", "thing.mark", True),
        ("O", "sort(True)", "Reverse sort", "thing.sort_reverse", False),
        ("x", "prune", "Prune", "thing.prune", False)]


def test_each_object_kind_goes_to_the_one_pane_that_lists_it():
    """Enter on an event or a problem about a host, image, volume… shows the pane listing it."""
    lists = [kind for spec in PANES for kind in spec.lists]
    assert len(lists) == len(set(lists)), lists
    assert {kind: spec_listing(kind).id for kind in lists} == {
        "host": "hosts", "daemon": "hosts", "image": "images", "volume": "volumes", "network": "networks",
        "service": "services", "swarm": "services", "node": "nodes"}
    assert spec_listing("plugin") is None  # no pane lists plugins: the app says so instead
