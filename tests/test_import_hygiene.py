"""Headless commands never load Textual: every CLI subcommand, run in a fresh interpreter with
`--help` and then for real against a fleet whose one host and registry are not there, leaves
`textual` out of `sys.modules` (the UI's import costs ~0.3 s and is for the UI alone)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dockyard.cli.main import build_parser

TUI = Path(__file__).resolve().parent.parent / "tui"

# Values for the positional arguments of each command (a run needs them to get past parsing).
POSITIONALS = {
    ("pull",): ["busybox:latest"],
    ("transfer",): ["busybox:latest", "h1", "h1"],
    ("registry", "tags"): ["r1", "shop/web"],
    ("registry", "inspect"): ["r1", "shop/web:1"],
    ("registry", "rm"): ["r1", "shop/web:1"],
    ("service", "scale"): ["web=2"],
    ("service", "update"): ["web", "--image", "busybox:latest"],
    ("service", "rollback"): ["web"],
    ("service", "logs"): ["web"],
    ("node", "update"): ["n1", "--availability", "drain"],
    ("completion",): ["bash"],
    ("logs",): ["web"],
    ("stop",): ["web"],
    ("start",): ["web"],
    ("restart",): ["web"],
    ("rm",): ["web"],
    ("exec",): ["web", "true"],
}

RUN = """
import json, sys
from dockyard.cli.main import main
codes = []
for argv in json.loads(sys.argv[1]):
    try:
        codes.append(main(argv))
    except SystemExit as exc:
        codes.append(exc.code)
loaded = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))
open(sys.argv[2], "w").write(json.dumps({"codes": codes, "textual": loaded[:5]}))
"""


def _leaf_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]  # noqa: SLF001
    if not subs:
        return [path]
    found: list[tuple[str, ...]] = []
    for action in subs:
        seen: set[int] = set()
        for name, sub in action.choices.items():
            if id(sub) not in seen:  # aliases share the parser
                seen.add(id(sub))
                found += _leaf_commands(sub, (*path, name))
    return found


COMMANDS = _leaf_commands(build_parser())


def test_every_subcommand_is_checked():
    assert {"hosts", "ps", "images", "pull", "registry", "service", "completion", "config"} <= {c[0] for c in COMMANDS}
    assert set(POSITIONALS) <= set(COMMANDS)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[tuple[str, ...], dict]:
    """Every command's fresh interpreter (a few at a time: they are independent): command -> outcome."""
    tmp = tmp_path_factory.mktemp("hygiene")
    config = tmp / "dockyard.toml"
    config.write_text(f'[[hosts]]\nname = "h1"\nurl = "unix://{tmp}/absent.sock"\n\n'
                      '[[registries]]\nname = "r1"\nurl = "http://127.0.0.1:9"\n')
    env = {**os.environ, "PYTHONPATH": str(TUI), "HOME": str(tmp), "XDG_CONFIG_HOME": str(tmp),
           "DOCKYARD_CONFIG": str(config)}

    def run(n: int, command: tuple[str, ...]) -> dict:
        real = ["--config", str(config), *command, *POSITIONALS.get(command, [])]
        result = tmp / f"result{n}.json"
        done = subprocess.run([sys.executable, "-c", RUN, json.dumps([[*command, "--help"], real]), str(result)],
                              env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=300)
        return json.loads(result.read_text()) if result.exists() else {"error": done.stderr.decode()[-2000:]}

    with ThreadPoolExecutor(max_workers=4) as pool:  # a few at once: the machine has few cores
        out = dict(zip(COMMANDS, pool.map(run, range(len(COMMANDS)), COMMANDS)))
    return out


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_headless_command_does_not_import_textual(outcomes, command):
    outcome = outcomes[command]
    assert "error" not in outcome, outcome.get("error")
    assert outcome["codes"][0] == 0  # --help
    assert outcome["textual"] == [], f"{' '.join(command)} loaded {outcome['textual']}"
