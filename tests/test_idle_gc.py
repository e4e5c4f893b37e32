"""The collector's full pass runs between keys (ui/idlegc.py), and still runs."""

from __future__ import annotations

import gc

from dockyard.ui.idlegc import DEFAULT_FULL_EVERY, SAFETY_NET, IdleCollector


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def owe_a_full_pass() -> None:
    for _ in range(DEFAULT_FULL_EVERY):
        gc.collect(1)  # each middle-generation pass counts toward the full one


def test_the_full_pass_waits_for_a_pause_in_typing_then_runs():
    clock = Clock()
    collector = IdleCollector(quiet=1.0, share=0.05, clock=clock)
    before = gc.get_threshold()
    collector.install()
    try:
        assert gc.get_threshold() == (before[0], before[1], SAFETY_NET)  # CPython's own pass: rarer
        owe_a_full_pass()
        collector.input_seen()
        clock.now += 0.5
        assert collector.maybe_collect() is None  # a key half a second ago: not now
        assert gc.get_count()[2] >= DEFAULT_FULL_EVERY
        clock.now += 0.6
        took = collector.maybe_collect()
        assert took is not None and took >= 0
        assert gc.get_count()[2] == 0  # the full pass ran (it resets the count)
        owe_a_full_pass()
        assert collector.maybe_collect() is None  # at most `share` of the time: took / share after this one
        clock.now += took / 0.05 + 0.01
        assert collector.maybe_collect() is not None
    finally:
        collector.uninstall()
    assert gc.get_threshold() == before


def test_no_full_pass_when_none_is_owed():
    clock = Clock()
    collector = IdleCollector(clock=clock)
    gc.collect()  # the count starts from nothing
    clock.now += 10
    assert collector.maybe_collect() is None


def test_cycles_in_the_oldest_generation_are_still_freed():
    """What CPython's full pass would have freed, the idle one frees."""
    import weakref

    clock = Clock()
    collector = IdleCollector(clock=clock)
    collector.install()
    try:
        class Node:
            pass

        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle only the collector frees
        gone = weakref.ref(a)
        gc.collect(1)
        gc.collect(1)  # survived two passes: in the oldest generation
        del a, b
        owe_a_full_pass()  # (young passes do not look at the oldest generation)
        assert gone() is not None
        clock.now += 5
        assert collector.maybe_collect() is not None
        assert gone() is None
    finally:
        collector.uninstall()
