"""Names that hold numbers sort as people count them (web-1, web-2, …, web-10), as `ls -v` and k9s
do: in the panes (their own order and a sort by a column) and in the CLI tables (the registry
tags case is in test_cli_habits.py)."""

from __future__ import annotations

import random
import uuid

from fleet_hosts import config, unix_host
from helpers import make_app, table_rows, until
from dockyard.textfmt import natural_key


def test_natural_key_counts_digit_runs_as_numbers():
    names = ["web-10", "web-2", "web-1", "Web-3", "web-100", "web-11", "web-02", "db", "", "v1.10", "v1.9", "v1.2",
             "x" + "9" * 5000, "x10"]  # a 5,000-digit run: no int() conversion (Python limits those)
    random.Random(7).shuffle(names)
    assert sorted(names, key=natural_key) == ["", "db", "v1.2", "v1.9", "v1.10", "web-1", "web-02", "web-2",
                                              "Web-3", "web-10", "web-11", "web-100", "x10", "x" + "9" * 5000]


async def test_the_containers_pane_lists_names_in_natural_order(lab, made):
    token = uuid.uuid4().hex[:6]
    names = [f"nat{token}-web-{n}" for n in (10, 2, 11, 1, 9)]
    for name in names:
        made.append((lab.d1, name))
        lab.d1.run_container(name, "sleep", "300")
    counted = sorted(names, key=lambda n: int(n.rsplit("-", 1)[1]))
    app, _ = make_app(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("slash", *f"nat{token}", "enter")
        await until(lambda: len(table_rows(app)) == 5, 10, "five rows")
        assert [r["NAME"] for r in table_rows(app)] == counted  # the pane's own order (then by name)
        pane = app.panes["containers"]
        for expected in (counted, counted[::-1]):  # `:sort name`, again: reversed
            await pilot.press("colon", *"sort name", "enter")
            await until(lambda: pane.sort_key == "name", 3, "sorted by NAME")
            await until(lambda: [r["NAME"] for r in table_rows(app)] == expected, 3, f"rows in order {expected}")
