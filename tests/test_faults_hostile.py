"""Fault suite: hostile strings from daemons and registries reach every screen inert."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hostile import HOSTILE, assert_inert, bad_characters

from dockyard.textfmt import safe, table

pytestmark = pytest.mark.faults


def test_safe_escapes_every_control_and_format_character():
    """Checked against this Python's Unicode database: bidi overrides/isolates, zero width, tags, BOM."""
    chars = "".join(chr(c) for c in range(sys.maxunicode + 1)
                    if unicodedata.category(chr(c)) in ("Cc", "Cf", "Cs", "Zl", "Zp"))
    assert len(chars) > 2000
    assert bad_characters(safe(chars), allowed="") == []
    assert safe("tag\u202egnp.exe") == "tag\\u202egnp.exe"  # visible, not reversing what follows
    assert safe("ok: naïve café 🐳 日本") == "ok: naïve café 🐳 日本"  # ordinary text untouched


def test_cli_table_renders_hostile_cells_inert():
    out = table(["NAME", "IMAGE"], [[h, h] for h in HOSTILE])
    assert_inert(out)
    out.encode("utf-8")  # nothing unencodable left


# --------------------------------------------------------------------------- every pane, the CLI


@pytest.fixture
def evil_daemon(tmp_path_factory):
    from fake_daemon import FakeDaemon

    daemon = FakeDaemon(str(tmp_path_factory.mktemp("evil") / "d.sock")).start()
    yield daemon
    daemon.stop()


@pytest.fixture
def evil_registry():
    import json

    import registry_lab as rl

    api = {"Content-Type": "application/json", "Docker-Distribution-API-Version": "registry/2.0"}
    names = list(HOSTILE)
    reg = rl.FakeHTTP({"/v2/": (200, api, b"{}"),
                       "/v2/_catalog": (200, api, json.dumps({"repositories": names}).encode())})
    yield reg
    reg.stop()


def screen_is_inert(app) -> str:
    from helpers import svg_text

    svg = app.export_screenshot()
    assert "\x1b" not in svg and "\x07" not in svg and "\u202e" not in svg
    text = svg_text(app)
    assert_inert(text)
    return text


async def test_hostile_names_in_every_pane_the_details_and_the_logs(evil_daemon, evil_registry):
    from helpers import make_app, showing, table_rows, until

    from dockyard.config.model import Config, HostConfig, RegistryConfig
    from dockyard.ui.container_view import ContainerScreen
    from dockyard.ui.logs import LogsScreen

    cfg = Config(hosts=(HostConfig(name="evil", url=evil_daemon.url),),
                 registries=(RegistryConfig(name="evil-reg", url=evil_registry.url, insecure=True),))
    app, notes = make_app(cfg)
    async with app.run_test(size=(160, 40)) as pilot:
        await until(lambda: len(table_rows(app)) == len(HOSTILE), 10, "hostile containers listed")
        from helpers import svg_text
        # The rows are in the table before the next refresh paints them: wait for the paint.
        await until(lambda: "rev\\u202eesrever" in svg_text(app), 10, "hostile names painted")
        text = screen_is_inert(app)
        assert "\\x1b[31mred" in text and "[bold red]markup[/]" in text and "rev\\u202eesrever" in text
        for key, pane in (("1", "hosts"), ("3", "images"), ("4", "volumes"), ("5", "networks"), ("6", "registries")):
            await pilot.press(key)
            await until(lambda: app.panes[pane].display and table_rows(app, pane), 10, f"{pane} rows")
            await pilot.pause(0.1)
            screen_is_inert(app)
        await pilot.press("enter")  # into the registry: its hostile repository names
        await until(lambda: len(table_rows(app, "registries")) >= len(HOSTILE), 10, "repositories")
        await pilot.pause(0.2)  # painted
        screen_is_inert(app)
        assert {"rev\\u202eesrever", "[/foo]"} <= {r["REPOSITORY"] for r in table_rows(app, "registries")}
        await pilot.press("2", "enter")  # a container's details
        await until(lambda: showing(app, ContainerScreen), 5, "details")
        await pilot.pause(0.5)
        screen_is_inert(app)
        await pilot.press("escape", "l")  # its logs: every hostile line
        await until(lambda: showing(app, LogsScreen) and app.screen.log_widget.item_count >= len(HOSTILE), 10, "logs")
        await pilot.pause(0.2)
        screen_is_inert(app)
        assert app.is_running
    assert not [n for n, severity in notes if severity == "error" and "Traceback" in n]


def test_cli_text_is_inert_and_json_keeps_the_data(evil_daemon, tmp_path):
    import json

    from helpers import dockyard

    conf = tmp_path / "c.toml"
    conf.write_text(f'[[hosts]]\nname = "evil"\nurl = "{evil_daemon.url}"\n')
    for command, key in (("ps", "containers"), ("images", "images"), ("hosts", "hosts")):
        text = dockyard("--config", str(conf), command)  # text for a terminal: escaped
        assert text.returncode == 0, text.stderr
        assert_inert(text.stdout + text.stderr)
        data = json.loads(dockyard("--config", str(conf), command, "--json").stdout)[key]
        if key == "containers":  # the data itself, exactly as the daemon sent it
            assert {c["name"] for c in data} == set(HOSTILE)
        elif key == "images":
            assert {t for i in data for t in i["tags"]} == {f"{h}:{h}" for h in HOSTILE}
        else:
            assert (data[0]["os"], data[0]["arch"]) == (HOSTILE[5], HOSTILE[6])
