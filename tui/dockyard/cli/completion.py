"""`dockyard completion bash|zsh|fish`: a shell completion script generated from the argparse parser.

shtab writes the script from the parser itself, so every subcommand and option (new ones too) is
completed without upkeep; `--pane` offers the pane registry's names. Names that live in the user's
config (hosts, contexts, registries) — and the fleet's container names, from the daemons — are asked
for when completing, by `dockyard completion --list hosts|contexts|registries|containers` (hidden),
so the script never goes stale:

    eval "$(dockyard completion bash)"           # ~/.bashrc
    dockyard completion zsh > "${fpath[1]}/_dockyard"
    dockyard completion fish > ~/.config/fish/completions/dockyard.fish
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from dockyard.cli.exits import EXIT_OK, EXIT_USAGE
from dockyard.cli.options import subparsers

SHELLS = ("bash", "zsh", "fish")
LISTS = ("hosts", "contexts", "registries", "containers")
CONTAINERS_WAIT = 2.0  # seconds the fleet has to answer a tab press; a host that does not is left out

# Which argument completes with which list, by argparse dest (global options' subcommand copies too).
_NAMES_FOR_DEST = {
    "host": "hosts", "source": "hosts", "targets": "hosts",
    "context": "contexts", "sub_context": "contexts",
    "registry": "registries",
    "containers": "containers", "container": "containers",  # logs, stop|start|restart|rm, exec
}
_FILE_DESTS = ("config", "sub_config")


def add_completion_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("completion", help="print a shell completion script (bash, zsh, fish)",
                       description="Print a completion script for your shell: "
                                   'bash: eval "$(dockyard completion bash)" in ~/.bashrc; '
                                   'zsh: dockyard completion zsh > "${fpath[1]}/_dockyard"; '
                                   "fish: dockyard completion fish > ~/.config/fish/completions/dockyard.fish")
    p.add_argument("shell", nargs="?", choices=SHELLS, help="the shell to complete for")
    p.add_argument("--list", choices=LISTS, help=argparse.SUPPRESS)  # asked by the script while completing


def _walk(parser: argparse.ArgumentParser):
    yield parser
    for sub in subparsers(parser):
        yield from _walk(sub)


def _names_from_config(which: str) -> dict:
    """A shtab completer asking `dockyard completion --list WHICH` when the user presses tab.

    Not shtab.cmd: its zsh form runs the command while the script loads (once per option, so
    seconds), and never again; a function asks at the moment of completing.
    """
    command = f"dockyard completion --list {which} 2>/dev/null"
    function = f"_dockyard_{which}"
    return {
        "bash": function,
        "zsh": function,
        "fish": f"({command})",
        "preamble": {
            "bash": f'{function}() {{\n  compgen -W "$({command})" -- "$1"\n}}\n',
            "zsh": f'{function}() {{\n  local -a names\n  names=(${{(f)"$({command})"}})\n  compadd -a names\n}}\n',
        },
    }


def _mark(parser: argparse.ArgumentParser) -> None:
    """Tell shtab how to complete names and paths (shtab reads an action's `complete`)."""
    import shtab

    for p in _walk(parser):
        for action in p._actions:  # noqa: SLF001
            listed = _NAMES_FOR_DEST.get(action.dest)
            if listed:
                action.complete = _names_from_config(listed)  # type: ignore[attr-defined]
            elif action.dest in _FILE_DESTS:
                action.complete = shtab.FILE  # type: ignore[attr-defined]
            elif action.dest == "pane":  # fixed names: the pane registry's, written into the script
                action.choices = pane_names()


def pane_names() -> list[str]:
    """The TUI's panes, from its one pane registry (plain data: no Textual)."""
    from dockyard.ui.panes.registry import PANES

    return [spec.id for spec in PANES]


def names(which: str) -> list[str]:
    """Names from the user's configuration (none when it cannot be read: completion never errors)."""
    from dockyard.config import ConfigError, load_config, load_docker_contexts

    try:
        if which == "contexts":
            return [h.name for h in load_docker_contexts({**os.environ, "DOCKER_CONTEXT": "default"})[0]]
        config = load_config(None)
        if which == "hosts":
            return [h.name for h in config.hosts]
        if which == "containers":
            return asyncio.run(_container_names(config))
        from dockyard.registry import known_registries

        return [entry.name for entry in known_registries(config)]
    except (ConfigError, OSError, ValueError):
        return []


async def _container_names(config) -> list[str]:
    """NAME and HOST/NAME of every container the fleet lists within CONTAINERS_WAIT (as docker's own
    completion asks the daemon); names on several hosts only as HOST/NAME, since the bare name is refused."""
    from dockyard.fleet import Fleet

    found: list[tuple[str, str]] = []
    async with Fleet(config, live=False) as fleet:
        async def collect() -> None:
            async for result in fleet.containers.list(all=True):
                if result.ok:
                    found.extend((c.host, c.name) for c in result.value or [])

        try:
            await asyncio.wait_for(collect(), CONTAINERS_WAIT)
        except asyncio.TimeoutError:
            pass
    hosts_of: dict[str, set[str]] = {}
    for host, name in found:
        hosts_of.setdefault(name, set()).add(host)
    plain = sorted(name for name, hosts in hosts_of.items() if len(hosts) == 1)
    return plain + sorted(f"{host}/{name}" for host, name in found)


def cmd_completion(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.list:
        for name in names(args.list):
            print(name)
        return EXIT_OK
    if not args.shell:
        print("dockyard: completion needs a shell: bash, zsh or fish (e.g. dockyard completion bash)",
              file=sys.stderr)
        return EXIT_USAGE
    import shtab

    _mark(parser)
    print(shtab.complete(parser, shell=args.shell))
    return EXIT_OK
