"""The layer rule, checked on the source: imports only go downwards.

    ui -> fleet -> transports / registry / config; cli -> fleet, registry, config.
The UI never imports aiodocker/asyncssh/aiohttp, the lower layers never import Textual/rich, config
is standard library only, and inside fleet/ no module imports one that imports it back (resources
see the controller through resource.FleetAccess)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "tui" / "dockyard"


def imported_modules(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0] if not node.module.startswith("dockyard.") else node.module)
        found[str(path.relative_to(ROOT.parent))] = names
    return found


@pytest.mark.parametrize("package", ["fleet", "registry", "transports", "config"])
def test_lower_layers_never_import_textual(package):
    offenders = {f: n & {"textual", "rich"} for f, n in imported_modules(package).items() if n & {"textual", "rich"}}
    assert offenders == {}


@pytest.mark.parametrize("package", ["ui", "cli"])
def test_upper_layers_never_import_docker_or_ssh_libraries(package):
    banned = {"aiodocker", "asyncssh", "aiohttp"}
    offenders = {f: n & banned for f, n in imported_modules(package).items() if n & banned}
    assert offenders == {}


@pytest.mark.parametrize("package", ["ui", "cli"])
def test_upper_layers_reach_the_daemons_only_through_the_fleet(package):
    offenders = {f: {m for m in n if m.startswith("dockyard.transports") or m == "dockyard.fleet.docker_api"}
                 for f, n in imported_modules(package).items()}
    assert {f: m for f, m in offenders.items() if m} == {}


def test_config_layer_uses_the_standard_library_only():
    third_party = {"textual", "rich", "aiodocker", "asyncssh", "aiohttp", "yaml"}
    offenders = {f: n & third_party for f, n in imported_modules("config").items() if n & third_party}
    assert offenders == {}


def _fleet_import_graph() -> dict[str, set[str]]:
    """fleet module -> the fleet modules it imports anywhere (top level, in functions, for type
    checking only: a circle is a circle for a reader too)."""
    modules = {p.stem for p in (ROOT / "fleet").glob("*.py")}
    graph: dict[str, set[str]] = {}
    for name in modules:
        deps: set[str] = set()
        for node in ast.walk(ast.parse((ROOT / "fleet" / f"{name}.py").read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dockyard.fleet"):
                parts = node.module.split(".")
                deps |= {parts[2]} if len(parts) > 2 else {a.name for a in node.names if a.name in modules}
            elif isinstance(node, ast.Import):
                deps |= {a.name.split(".")[2] for a in node.names if a.name.startswith("dockyard.fleet.")}
        graph[name] = deps - {name, "__init__"}
    return graph


def test_fleet_modules_import_each_other_in_one_direction():
    graph = _fleet_import_graph()
    circles = []

    def visit(module: str, path: list[str]) -> None:
        for dep in sorted(graph.get(module, ())):
            if dep in path:
                circles.append(path[path.index(dep):] + [dep])
            elif dep not in done:
                visit(dep, path + [dep])
        done.add(module)

    done: set[str] = set()
    for module in sorted(graph):
        visit(module, [module])
    assert circles == []
    # and no resource knows the controller: it gets a FleetAccess
    assert sorted(m for m, deps in graph.items() if "controller" in deps) == []


@pytest.mark.parametrize("module", ["textfmt", "imageref", "tasks"])
def test_shared_helpers_use_the_standard_library_only(module):
    """Every layer imports these, so they import nothing of ours or anyone else's."""
    tree = ast.parse((ROOT / f"{module}.py").read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert names - set(sys.stdlib_module_names) == set()


def test_every_source_folder_is_a_package():
    """`pip install .` only ships folders with an __init__.py (a missing one broke the TUI once)."""
    missing = [str(d.relative_to(ROOT.parent)) for d in ROOT.rglob("*")
               if d.is_dir() and d.name != "__pycache__" and any(d.glob("*.py")) and not (d / "__init__.py").exists()]
    assert missing == []


@pytest.mark.parametrize("hosts, loads_ssh", [(("unix1",), False), (("unix1", "ssh"), True)], ids=["unix", "ssh"])
def test_asyncssh_is_imported_only_when_an_ssh_host_is_configured(lab, tmp_path, hosts, loads_ssh):
    """asyncssh costs 0.34 s of start-up: a fleet of local/TCP daemons never pays it."""
    import os
    import subprocess
    import sys

    cfg = lab.write_config(tmp_path / "c.toml", hosts=hosts)
    script = ("import asyncio, sys\n"
              "from dockyard.config import load_config\n"
              "from dockyard.fleet import Fleet\n"
              "async def main():\n"
              f"    async with Fleet(load_config({str(cfg)!r}), live=False) as fleet:\n"
              "        results = [r async for r in fleet.containers.list()]\n"
              "        assert all(r.ok for r in results), results\n"
              "    print('asyncssh' in sys.modules)\n"
              "asyncio.run(main())\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(ROOT.parent)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(loads_ssh)


def test_the_first_frame_loads_only_what_it_draws():
    """The terminal UI paints its first frame (the Containers pane's rows) from `dockyard.ui.app`
    alone: the controller's libraries, the other panes, the screens and the dialogs load after it
    (panes/registry.py names pane classes by module; screens and dialogs import when opened)."""
    import subprocess

    code = "import sys, dockyard.ui.app; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={"PYTHONPATH": str(ROOT.parent), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    loaded = set(out.stdout.split())
    assert loaded & {"aiohttp", "aiodocker", "asyncssh", "dockyard.fleet.controller", "dockyard.registry.client"} == set()
    ours = {m for m in loaded if m.startswith("dockyard.ui.")}
    assert {m for m in ours if m.startswith("dockyard.ui.panes.")} == {
        "dockyard.ui.panes.base", "dockyard.ui.panes.containers", "dockyard.ui.panes.registry"}
    assert {m for m in ours if m.startswith("dockyard.ui.dialogs")} == set()
    assert {"dockyard.ui.logs", "dockyard.ui.container_view", "dockyard.ui.shell"} & ours == set()


def test_cli_exit_codes_are_defined_once():
    """Every subcommand takes its exit codes from cli/exits.py: no other module assigns an EXIT_ name."""
    offenders = []
    for path in (ROOT / "cli").glob("*.py"):
        if path.name == "exits.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
            names = [e.id for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t]) if isinstance(e, ast.Name)]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith("EXIT_")]
    assert offenders == []
