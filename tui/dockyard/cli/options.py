"""Global options (`--config`, `--readonly`, `--context`) accepted before or after any subcommand.

`share_global_options(parser)` runs once the whole parser is built: it walks every subparser, nested
ones too, so a subcommand added later gets them without doing anything. A subparser's copies store
under `sub_*` dests with no default, and `merge_global_options` folds them into the top-level values
(argparse would otherwise let a subparser's default overwrite what was given before the subcommand).
"""

from __future__ import annotations

import argparse

GLOBAL_GROUP = "global options"


def add_global_options(parser: argparse.ArgumentParser, *, sub: bool = False) -> None:
    """The options themselves; `sub=True` for the copies on subcommands."""
    dest = "sub_{}".format if sub else "{}".format
    group = parser.add_argument_group(GLOBAL_GROUP) if sub else parser
    unset = argparse.SUPPRESS
    options = {o for a in parser._actions for o in a.option_strings}  # noqa: SLF001 - a subcommand's own wins
    if "--config" not in options:
        group.add_argument("--config", dest=dest("config"), metavar="PATH", default=unset if sub else None,
                           help="config file (default: $DOCKYARD_CONFIG, else $XDG_CONFIG_HOME/dockyard/config.toml; "
                                "none: the Docker CLI contexts)")
    if "--readonly" not in options:
        group.add_argument("--readonly", dest=dest("readonly"), action="store_true",
                           default=unset if sub else False, help="refuse every change to any daemon")
    if "--context" not in options:
        group.add_argument("--context", dest=dest("context"), action="append", metavar="NAME",
                           default=unset if sub else None,
                           help="only the hosts of this Docker context (repeatable; see `docker context ls`)")


def subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The direct subcommand parsers of `parser` (each once, aliases included once)."""
    found: dict[int, argparse.ArgumentParser] = {}
    for action in parser._actions:  # noqa: SLF001 - argparse exposes no public walk
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            for sub in action.choices.values():
                found.setdefault(id(sub), sub)
    return list(found.values())


def share_global_options(parser: argparse.ArgumentParser) -> None:
    """Give every subcommand, at any depth, the global options (listed in its --help)."""
    for sub in subparsers(parser):
        add_global_options(sub, sub=True)
        share_global_options(sub)


def merge_global_options(args: argparse.Namespace) -> argparse.Namespace:
    """One value per global option, wherever on the line it was given."""
    args.config = getattr(args, "sub_config", None) or args.config
    args.readonly = bool(args.readonly or getattr(args, "sub_readonly", False))
    contexts = (args.context or []) + (getattr(args, "sub_context", None) or [])
    args.context = list(dict.fromkeys(contexts)) or None
    for name in ("sub_config", "sub_readonly", "sub_context"):
        if hasattr(args, name):
            delattr(args, name)
    return args
