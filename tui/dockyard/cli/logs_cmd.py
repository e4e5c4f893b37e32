"""`dockyard logs [-f] CONTAINER…`: one container's logs as `docker logs` prints them, or several
containers on any hosts merged in timestamp order as the TUI's logs view shows them.

With several containers each line starts with `HOST/NAME |`, padded to the widest so the text
column stays put (coloured per source on a terminal). The container's stdout goes to stdout and
its stderr to stderr, as docker does; control sequences in lines are shown escaped (colour codes
kept on a colour terminal). `-f` follows until every container has stopped (as
`docker logs -f`); ctrl-c ends it at once. A stream that breaks is reported on stderr.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from typing import TYPE_CHECKING

from dockyard.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from dockyard.cli.output import colour_enabled, paint, safe_line, source_colour
from dockyard.cli.targets import Ambiguous, add_target_options, resolve
from dockyard.textfmt import rfc3339_seconds, safe

if TYPE_CHECKING:
    from dockyard.fleet import Fleet


def add_logs_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("logs", help="logs of containers on any hosts, merged in time order (HOST/NAME | line)",
                       description="Logs of one container (as docker logs) or of several on any hosts, merged "
                                   "in timestamp order with a HOST/NAME | prefix. A container is NAME, an ID "
                                   "(prefix) or HOST/NAME; a name on several hosts is refused unless --host, "
                                   "HOST/NAME or --all-hosts says which.")
    p.add_argument("containers", nargs="+", metavar="CONTAINER")
    p.add_argument("-f", "--follow", action="store_true", help="keep following until the containers stop")
    p.add_argument("-n", "--tail", default="all", metavar="N",
                   help="lines from the end of each container's logs to start with (default: all)")
    p.add_argument("-t", "--timestamps", action="store_true", help="show each line's timestamp")
    p.add_argument("--since", metavar="WHEN",
                   help="only lines since a time: 10m, 2h, 1h30m ago, a Unix time or 2026-12-06T07:00:00Z (as docker logs)")
    p.add_argument("--prefix", action=argparse.BooleanOptionalAction, default=None,
                   help="lead lines with HOST/NAME | (default: when more than one container)")
    add_target_options(p)


def since_value(text: str | None) -> str | None | bool:
    """What the daemon takes for `--since` (Unix seconds), from what docker logs accepts: a duration
    ago (10m, 1h30m, 45s), Unix seconds, or an RFC 3339 time; False when it is none of those."""
    if text is None:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return text
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|m|s)", text)
    if parts and "".join(n + u for n, u in parts) == text:
        ago = sum(float(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts)
        return f"{time.time() - ago:.0f}"
    stamp = rfc3339_seconds(text)
    return f"{stamp:.0f}" if stamp is not None else False


async def cmd_logs(args: argparse.Namespace, fleet: Fleet) -> int:
    from dockyard.fleet import LogLine, LogNotice, LogSource

    tail: int | str = args.tail
    if tail != "all":
        try:
            tail = int(tail)
        except ValueError:
            print(f"dockyard: logs: --tail takes a number or 'all', not {safe(args.tail)!r}", file=sys.stderr)
            return EXIT_USAGE
    since = since_value(args.since)
    if since is False:
        print(f"dockyard: logs: --since takes 10m, 2h, a Unix time or an RFC 3339 time, not {safe(args.since)!r}",
              file=sys.stderr)
        return EXIT_USAGE
    try:
        found = await resolve(fleet, args.containers, args.host, all_hosts=args.all_hosts)
    except Ambiguous as exc:
        print(f"dockyard: logs: {safe(exc)}", file=sys.stderr)
        return EXIT_USAGE
    failed = False
    for ref in found.missing:
        elsewhere = f" (not answering: {', '.join(found.host_errors)})" if found.host_errors else ""
        print(f"dockyard: {safe(ref)}: no such container{elsewhere}", file=sys.stderr)
        failed = True
    if not found.containers:
        return EXIT_FAILED
    sources = [LogSource(c.host, c.id, c.name) for c in found.containers]
    prefix = len(sources) > 1 if args.prefix is None else args.prefix
    width = max(len(safe(s.label)) for s in sources)
    colours = {"stdout": colour_enabled(sys.stdout), "stderr": colour_enabled(sys.stderr)}
    async for item in fleet.containers.logs(sources, tail=tail, follow=args.follow, since=since,
                                            resume=False):
        if isinstance(item, LogNotice):
            if item.broken:
                failed = True
                print(f"dockyard: {safe(item.source.label)}: {safe(item.message)}", file=sys.stderr, flush=True)
            continue
        assert isinstance(item, LogLine)
        out = sys.stderr if item.stream == "stderr" else sys.stdout
        head = ""
        if prefix:
            label = safe(item.source.label)
            head = paint(label, source_colour(item.source.label), colours[item.stream]) + \
                " " * (width - len(label)) + " | "
        if args.timestamps:
            head += item.timestamp + " "
        out.write(head + safe_line(item.text, colours[item.stream]) + "\n")  # data, never a control sequence
        if args.follow:
            out.flush()
    return EXIT_FAILED if failed else EXIT_OK
