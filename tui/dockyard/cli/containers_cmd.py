"""`dockyard stop|start|restart|rm CONTAINER…` across hosts, with docker's semantics.

No prompt (a CLI is for scripts, as `docker rm` is); a name on several hosts is refused unless
`--host`, `HOST/NAME` or `--all-hosts` says which (cli/targets.py). Each result is one line that
names its host — `unix1/web-1` on stdout when done, `dockyard: unix1/web-1: why` on stderr when
not — and the exit code is 0 when every one was done, 3 when any failed or was not found, 2 when
a name was ambiguous (then nothing was done).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from dockyard.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from dockyard.cli.targets import Ambiguous, add_target_options, resolve
from dockyard.textfmt import safe

if TYPE_CHECKING:
    from dockyard.fleet import Fleet


# command -> (fleet action, help)
ACTIONS = {
    "stop": ("stop", "stop containers on any hosts (SIGTERM, then SIGKILL after the grace period)"),
    "start": ("start", "start stopped containers on any hosts"),
    "restart": ("restart", "restart containers on any hosts"),
    "rm": ("remove", "remove containers on any hosts (no prompt, as docker rm; -f for running ones)"),
}


def add_container_action_parsers(sub: argparse._SubParsersAction) -> None:
    for command, (_, help_text) in ACTIONS.items():
        p = sub.add_parser(command, help=help_text, description=help_text + ". " + (
            "A container is NAME, an ID (prefix) or HOST/NAME. A name on several hosts is refused "
            "unless --host, HOST/NAME or --all-hosts says which."))
        p.add_argument("containers", nargs="+", metavar="CONTAINER")
        add_target_options(p)
        if command in ("stop", "restart"):
            p.add_argument("-t", "--time", type=int, metavar="SECONDS",
                           help="seconds to wait for it to stop before killing it (default: the container's own)")
        if command == "rm":
            p.add_argument("-f", "--force", action="store_true", help="remove running containers too (killed first)")
            p.add_argument("-v", "--volumes", action="store_true", help="remove their anonymous volumes too")
        p.add_argument("--json", action="store_true", help="one JSON document with a result per container")


async def cmd_container_action(args: argparse.Namespace, fleet: Fleet) -> int:
    action = ACTIONS[args.command][0]
    try:
        found = await resolve(fleet, args.containers, args.host, all_hosts=args.all_hosts)
    except Ambiguous as exc:
        if args.json:
            print(json.dumps({"results": [], "errors": [{"error": str(exc)}]}, indent=2))
        print(f"dockyard: {args.command}: {safe(exc)}", file=sys.stderr)
        return EXIT_USAGE
    options: dict[str, object] = {}
    if action in ("stop", "restart") and args.time is not None:
        options["timeout"] = args.time
    if action == "remove":
        options.update(force=args.force, volumes=args.volumes)
    if found.containers:  # every host's writability first: a read-only host refuses the whole command
        fleet.writable_hosts(sorted({c.host for c in found.containers}))
    results = await fleet.containers.bulk_action([c.key for c in found.containers], action, **options)
    names = {c.key: f"{c.host}/{c.name}" for c in found.containers}
    errors = [{"host": r.host, "container": names[(r.host, r.target)], "error": r.error or ""}
              for r in results if not r.ok]
    for ref in found.missing:
        elsewhere = f" (not answering: {', '.join(found.host_errors)})" if found.host_errors else ""
        errors.append({"host": None, "container": ref, "error": f"no such container: {ref}{elsewhere}"})
    if args.json:
        print(json.dumps({
            "results": [{"host": r.host, "id": r.target, "name": names[(r.host, r.target)].split("/", 1)[1],
                         "action": action, "ok": r.ok, "error": r.error} for r in results],
            "errors": errors}, indent=2))
    else:
        for r in results:
            if r.ok:
                print(safe(names[(r.host, r.target)]), flush=True)
    for err in errors:
        where = err["container"] if err["host"] else f"{args.command}"
        print(f"dockyard: {safe(where)}: {safe(err['error'])}", file=sys.stderr)
    return EXIT_FAILED if errors else EXIT_OK
