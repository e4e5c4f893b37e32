"""Focus moving between the `/` prompt and a pane's table: the styles each takes back from an
earlier visit to that state (ui/restyle.py) are the ones Textual works out, theme changes included."""

from __future__ import annotations

import uuid

from textual.app import App

from fleet_hosts import config, unix_host
from helpers import make_app, table_rows, until

SIZE = (120, 36)


def looks(node) -> tuple:
    """What the node is drawn with: its style, its background, each component class's style, and
    the rules its shown scrollbars got."""
    components = {name: node.get_component_rich_style(name, partial=False) for name in sorted(node._get_component_classes())}
    bars = [dict(bar.styles.base._rules) for bar in (node.vertical_scrollbar,) if node.show_vertical_scrollbar]
    return node.rich_style, node.styles.background, components, bars


def textual_own(app, node) -> tuple:
    """The node's looks once Textual itself has restyled it (no memory)."""
    App.update_styles(app, node)
    return looks(node)


async def test_focus_going_and_coming_back_gives_the_styles_textual_works_out(lab, made):
    name = f"restyle-{uuid.uuid4().hex[:8]}"
    made.append((lab.d1, name))
    lab.d1.run_container(name, "sleep", "300")
    app, _ = make_app(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: any(r["NAME"] == name for r in table_rows(app)), 10, "the row")
        table, prompt = app.active_pane.table, app.query_one("#prompt")
        applied: list = []
        sheet_apply = app.stylesheet.apply

        def counting_apply(node, **kw):
            if node is table or node._parent is table:  # the table or one of its component classes
                applied.append(node)
            return sheet_apply(node, **kw)

        app.stylesheet.apply = counting_apply
        for round_ in range(3):
            applied.clear()
            await pilot.press("slash", "x")
            await pilot.pause()
            assert app.focused is prompt
            typing = looks(table), looks(prompt)
            assert typing == (textual_own(app, table), textual_own(app, prompt))
            await pilot.press("backspace", "enter")
            await pilot.pause()
            assert app.focused is table
            back = looks(table), looks(prompt)
            assert back == (textual_own(app, table), textual_own(app, prompt))
            assert typing[0][2] != back[0][2]  # the cursor row is drawn differently without the focus
            if round_ == 0:
                dark = back
            else:  # the second time round nothing is matched against the stylesheet again
                textual_checks = 2 * (1 + len(table._get_component_classes()))  # textual_own's, twice
                assert len(applied) == textual_checks

        app.theme = "textual-light"  # a new stylesheet: the kept styles are not the ones any more
        await pilot.pause()
        await pilot.press("slash", "x", "backspace", "enter")
        await pilot.pause()
        light = looks(table), looks(prompt)
        assert light == (textual_own(app, table), textual_own(app, prompt))
        assert light[0] != dark[0]
