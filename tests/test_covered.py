"""Covered containers hand back blank lines (ui/covered.py): the screen must look the same."""

from __future__ import annotations

from textual.app import App
from textual.containers import Vertical
from textual.widgets import Static

from dockyard.ui.covered import CoveredContainer, covered_by_children


class Covered(CoveredContainer, Vertical):
    pass


def screen_cells(app: App) -> list[list[tuple[str, object]]]:
    """What the compositor puts on screen: each line's text and styles, without Textual's meta."""
    strips = app.screen._compositor.render_strips()  # noqa: SLF001
    return [[(seg.text, seg.style.clear_meta_and_links() if seg.style else None) for seg in strip.simplify()]
            for strip in strips]


def boxes(container_cls, heights: tuple[int, ...]):
    class Boxes(App):
        CSS = """
        #box { height: 8; background: red; }
        Static { background: blue; }
        """

        def compose(self):
            with container_cls(id="box"):
                for i, h in enumerate(heights):
                    yield Static(f"child {i}", id=f"c{i}", classes="child").set_styles(f"height: {h};")

    return Boxes()


async def _painted(container_cls, heights):
    app = boxes(container_cls, heights)
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        box = app.query_one("#box")
        return covered_by_children(box, box.region), screen_cells(app), box.render_lines(box.size.region)


async def test_a_covered_container_draws_nothing_and_the_screen_looks_the_same():
    covered, fast, lines = await _painted(Covered, (3, 5))  # 3 + 5 = the box's 8 lines
    _, plain, _ = await _painted(Vertical, (3, 5))
    assert covered
    assert all(not line.text.strip() and not any(seg.style for seg in line) for line in lines)  # blank
    assert fast == plain


async def test_a_container_with_a_gap_draws_itself_as_textual_does():
    covered, fast, lines = await _painted(Covered, (3, 2))  # 3 lines of red below the children
    _, plain, plain_lines = await _painted(Vertical, (3, 2))
    assert not covered
    assert fast == plain
    assert [line.text for line in lines] == [line.text for line in plain_lines]
    gap = {seg.style.bgcolor.triplet for seg in lines[-1] if seg.style and seg.style.bgcolor}
    assert gap and all(c.red > 200 and c.green < 60 and c.blue < 60 for c in gap)  # its own red background
