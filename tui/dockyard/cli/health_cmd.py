"""`dockyard problems` and `dockyard events`: what is wrong across the fleet, and what happened.

Exit codes (as for the other commands): 0 the check ran (problems found or not) / the events were
read; 3 some hosts could not be asked (they are listed as `host-unreachable` problems, or in
`errors`); 2 usage (bad --since, --filter); 1 unexpected.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import TYPE_CHECKING

from dockyard.cli.exits import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE
from dockyard.config.model import Config
from dockyard.textfmt import safe, short_id, table, truncate

if TYPE_CHECKING:  # the controller loads with the command
    from dockyard.fleet import Fleet
    from dockyard.fleet.events import FleetEvent

HEALTH_COMMANDS = ("problems", "events")


class BadMoment(ValueError):
    """--since/--until that is not a time."""


def add_health_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("problems", help="what is wrong now, worst first: hosts down, restart loops, unhealthy, "
                                        "OOM kills, exits, swarm services and nodes, disk")
    p.add_argument("--host", action="append", metavar="NAME", help="only this host (repeatable)")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("events", help="every host's daemon events merged in time order, with a HOST column")
    p.add_argument("--since", metavar="T", help="from T: a duration back (10m, 2h), a unix time or RFC 3339; "
                                                "reads each daemon's history (its last 256 events at most)")
    p.add_argument("--until", metavar="T", help="up to T (same forms; 0s is now)")
    p.add_argument("--host", action="append", metavar="NAME", help="only this host (repeatable)")
    p.add_argument("--filter", action="append", metavar="KEY=VALUE", default=[],
                   help="docker events filter, e.g. type=container, event=die, container=web, label=k=v "
                        "(repeatable); exec_* events (health probes) show only when an event= filter names them")
    p.add_argument("-f", "--follow", action="store_true", help="keep following live events (ctrl-c ends)")
    p.add_argument("--json", action="store_true",
                   help="one JSON document; with -f one JSON object per line")


async def run_health_command(args: argparse.Namespace, config: Config, fleet: Fleet,
                             filters: dict[str, list[str]]) -> int:
    if args.command == "problems":
        return await cmd_problems(fleet, config, args.host, args.json)
    from dockyard.fleet.events import parse_moment

    now = time.time()
    try:
        since = parse_moment(args.since, now) if args.since else None
        until = parse_moment(args.until, now) if args.until else None
    except ValueError as exc:
        raise BadMoment(str(exc)) from None
    if args.follow:
        return await cmd_follow(fleet, args.host, since, until, filters, args.json)
    return await cmd_events(fleet, args.host, since, until if until is not None else now, filters, args.json)


# ---------------------------------------------------------------------- problems


async def cmd_problems(fleet: Fleet, config: Config, hosts: list[str] | None, as_json: bool) -> int:
    from dockyard.fleet.problems import check
    from dockyard.fleet.events import local_clock

    result = await check(fleet, hosts, config.problems)
    now = time.time()
    if as_json:
        print(json.dumps({"problems": [p.to_json() for p in result.problems], "errors": result.errors}, indent=2))
    elif not result.problems:
        print("no problems")
    else:
        from dockyard.fleet.problems import span

        print(table(["SEVERITY", "HOST", "OBJECT", "PROBLEM", "SINCE", "DETAIL"],
                    [[p.severity.upper(), p.host, f"{p.object} {truncate(p.name, 40)}", p.kind,
                      f"{local_clock(int(p.since * 1e9))} ({span(now - p.since)})" if p.since else "-",
                      truncate(p.detail, 120)] for p in result.problems]))
    for err in sorted(result.errors, key=lambda e: e["host"]):
        print(f"dockyard: {safe(err['host'])}: {safe(err['error'])}", file=sys.stderr)
    return EXIT_PARTIAL if result.errors else EXIT_OK


# ---------------------------------------------------------------------- events


def event_line(e: FleetEvent) -> list[str]:
    from dockyard.fleet.events import local_clock

    if e.is_gap:
        return [e.host, local_clock(e.time_ns, date=True), "GAP", "missed", "", e.summary]
    return [e.host, local_clock(e.time_ns, date=True) + f".{e.time_ns % 1_000_000_000 // 1_000_000:03d}", e.type,
            e.action, truncate(e.name or short_id(e.id), 40), truncate(e.summary, 100)]


HEADERS = ["HOST", "TIME", "TYPE", "ACTION", "NAME", "ATTRIBUTES"]


async def cmd_events(fleet: Fleet, hosts: list[str] | None, since: float | None, until: float,
                     filters: dict[str, list[str]], as_json: bool) -> int:
    from dockyard.fleet import FleetError
    from dockyard.fleet.events import merge_in_time_order, read_history

    await fleet.wait_settled(hosts=hosts)
    sessions = fleet.selected(hosts)
    errors: list[dict[str, str]] = []

    async def one(host: str) -> list:
        try:
            return await read_history(fleet, host, since, until, filters or None)
        except FleetError as exc:
            errors.append({"host": host, "error": str(exc)})
            return []

    events = merge_in_time_order(await asyncio.gather(*(one(s.name) for s in sessions)))
    if as_json:
        print(json.dumps({"events": [e.to_json() for e in events], "errors": errors}, indent=2))
    else:
        print(table(HEADERS, [event_line(e) for e in events]))
    for err in sorted(errors, key=lambda e: e["host"]):
        print(f"dockyard: {safe(err['host'])}: {safe(err['error'])}", file=sys.stderr)
    return EXIT_PARTIAL if errors else EXIT_OK


async def cmd_follow(fleet: Fleet, hosts: list[str] | None, since: float | None, until: float | None,
                     filters: dict[str, list[str]], as_json: bool) -> int:
    """Every host's events as they come (after its history from `since`); a host whose stream
    breaks is asked again with backoff, and the time it was away is printed as a gap."""
    from dockyard.fleet.events import daemon_events, event_from_api, folded, gap_event, wants_folded
    from dockyard.fleet.streams import stream_error

    keep_folded = wants_folded(filters)
    queue: asyncio.Queue = asyncio.Queue(maxsize=1024)
    failed: set[str] = set()
    widths = [12, 23, 9, 16, 24]

    def show(event: FleetEvent) -> None:
        if as_json:
            print(json.dumps(event.to_json()), flush=True)
        else:
            cells = event_line(event)
            print("  ".join(safe(c).ljust(w) for c, w in zip(cells, widths)) + "  " + safe(cells[-1]), flush=True)

    async def follow(host: str) -> None:
        start = since
        down: tuple[int, str] | None = None
        delay = 0.5
        while True:
            def opened() -> None:
                nonlocal down, delay
                if down is not None:
                    queue.put_nowait(gap_event(host, down[0], time.time_ns(), down[1]))
                    down, delay = None, 0.5

            try:
                client = await fleet.client(host)
                async for raw in daemon_events(client, since=start, until=until, filters=filters or None,
                                               on_open=opened):
                    event = event_from_api(host, raw)
                    if event is not None and (keep_folded or not folded(event)):
                        await queue.put(event)
                reason = "the daemon closed the events stream"
                if until is not None:
                    return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a host's failure is its gap, never the others' end
                reason = stream_error(exc)
            if down is None:
                down = (time.time_ns(), reason)
                failed.add(host)
                print(f"dockyard: {safe(host)}: events stream lost: {safe(reason)}; retrying", file=sys.stderr)
            start = None  # a reconnect follows from now: what was missed is the gap
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    await fleet.wait_settled(hosts=hosts)
    sessions = fleet.selected(hosts)
    tasks = [asyncio.create_task(follow(s.name)) for s in sessions]
    done = asyncio.ensure_future(asyncio.gather(*tasks, return_exceptions=True))
    try:
        while not (done.done() and queue.empty()):
            getter = asyncio.ensure_future(queue.get())
            finished, _ = await asyncio.wait({getter, done}, return_when=asyncio.FIRST_COMPLETED)
            if getter in finished:
                show(getter.result())
            else:
                getter.cancel()
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return EXIT_PARTIAL if failed else EXIT_OK
