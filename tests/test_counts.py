"""One figure, one definition: a host's image count and memory read the same in the Hosts pane, in
`dockyard hosts` and in the host details, in docker's units. Real lab, the app headless and the CLI."""

from __future__ import annotations

import json
import re

from fleet_hosts import config, unix_host
from helpers import dockyard, screen_text, showing, table_rows, until
from dockyard.textfmt import human_bytes_iec, human_size
from dockyard.ui.app import DockyardApp
from dockyard.ui.dialogs.info import TextDialog


def test_units_are_docker_s_own():
    """Sizes as `docker images` (decimal, 3 digits), memory as `docker stats` / `docker info` (binary, 4)."""
    assert [human_size(n) for n in (999, 1_990_000, 452_000, 23_500_000_000)] == ["999B", "1.99MB", "452kB", "23.5GB"]
    assert [human_bytes_iec(n) for n in (463_000, 25_276_203_008, 8 * 1024 ** 3, 1536 * 1024)] == [
        "452.1KiB", "23.54GiB", "8GiB", "1.5MiB"]


async def test_a_host_s_images_and_memory_read_the_same_everywhere(lab, tmp_path):
    listed = {line for line in lab.d1.docker("images", "-q", "--no-trunc").stdout.split()}  # what docker images lists
    everything = int(lab.d1.docker("info", "-f", "{{.Images}}").stdout)  # /info also counts intermediate layers
    assert everything > len(listed)  # the lab's built image leaves some: the two figures would differ

    cfg = lab.write_config(tmp_path / "c.toml", hosts=("unix1",))
    cli = json.loads(dockyard("--config", str(cfg), "hosts", "--json").stdout)["hosts"][0]
    assert cli["images"] == len(listed)
    table = dockyard("--config", str(cfg), "hosts").stdout.splitlines()
    row = dict(zip(table[0].split(), table[1].split()))
    assert row["IMAGES"] == str(len(listed))
    memory = human_bytes_iec(cli["memory"])
    assert row["MEMORY"] == memory and re.fullmatch(r"\d+(\.\d+)?GiB", memory)

    app = DockyardApp(config(unix_host(lab.d1, "unix1")))
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("1")
        await until(lambda: table_rows(app, "hosts") and "-" not in (table_rows(app, "hosts")[0]["IMAGES"],
                                                                      table_rows(app, "hosts")[0]["MEMORY"]), 15,
                    "the Hosts pane's image count and memory")
        pane_row = table_rows(app, "hosts")[0]
        assert pane_row["IMAGES"] == str(len(listed)) and pane_row["MEMORY"] == memory
        await pilot.press("i")
        await until(lambda: showing(app, TextDialog), 10, "host details")
        details = screen_text(app.screen)
        assert re.search(rf"Images\s+{len(listed)}\n", details), details  # docker info section
        assert re.search(rf"Images\s+{len(listed)} using \d+(\.\d+)?[kMG]?B\n", details), details  # disk usage
        assert re.search(rf"Memory\s+{re.escape(memory)}\n", details) and "MemTotal" not in details, details
        assert not re.search(r"\b\d{9,}\b", details.split("Disk usage")[0].split("Daemon")[1]), details
