"""`dockyard services|nodes|service …|node …`: every swarm of the fleet from the shell.

A swarm is listed once however many of its managers are configured (see dockyard.fleet.swarm).
Exit codes (as for the other commands): 0 ok; 3 a host or swarm did not answer, or an update
paused or rolled back; 2 usage (unknown or ambiguous name, bad N), read-only; 1 unexpected.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from dockyard.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from dockyard.fleet import FleetError, ReadOnlyError
from dockyard.imageref import parse_image_ref
from dockyard.fleet import models
from dockyard.fleet.models import AVAILABILITIES, ROLES
from dockyard.textfmt import ago, natural_key, rfc3339_seconds, safe, short_id, table, truncate

if TYPE_CHECKING:  # the controller loads with the command (dockyard.fleet is lazy), the swarm models with it
    from dockyard.fleet import Fleet
    from dockyard.fleet.models import HostResult, SwarmService, SwarmSnapshot, SwarmTask

SWARM_COMMANDS = ("services", "nodes", "service", "node")


def add_swarm_parser(sub: argparse._SubParsersAction) -> None:
    def swarm_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--swarm", metavar="S", help="the swarm (its SWARM name or ID) when a name is in several")

    p = sub.add_parser("services", help="swarm services of every swarm, each listed once")
    p.add_argument("--host", action="append", metavar="NAME", help="only swarms this host manages (repeatable)")
    swarm_option(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("nodes", help="swarm nodes of every swarm")
    p.add_argument("--host", action="append", metavar="NAME", help="only swarms this host manages (repeatable)")
    swarm_option(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("service", help="change a swarm service: scale, update, rollback, logs")
    ssub = p.add_subparsers(dest="service_command", metavar="SUBCOMMAND", required=True)
    c = ssub.add_parser("scale", help="set replicas: NAME=N [NAME=N …]")
    c.add_argument("targets", nargs="+", metavar="NAME=N")
    swarm_option(c)
    c = ssub.add_parser("update", help="rolling update to an image (or --force); waits, printing each task's progress")
    c.add_argument("name", metavar="NAME")
    c.add_argument("--image", metavar="REF", help="the new image reference")
    c.add_argument("--force", action="store_true", help="replace every task even if nothing changed")
    c.add_argument("--detach", "-d", action="store_true", help="do not wait for the update to finish")
    swarm_option(c)
    c = ssub.add_parser("rollback", help="back to the previous spec; waits, printing each task's progress")
    c.add_argument("name", metavar="NAME")
    c.add_argument("--detach", "-d", action="store_true", help="do not wait for the rollback to finish")
    swarm_option(c)
    c = ssub.add_parser("logs", help="the service's logs from all its tasks (SERVICE.SLOT@NODE | line)")
    c.add_argument("name", metavar="NAME")
    c.add_argument("-f", "--follow", action="store_true", help="keep following")
    c.add_argument("--tail", type=int, default=200, metavar="N", help="lines per task to start with (default 200)")
    swarm_option(c)

    p = sub.add_parser("node", help="change a swarm node")
    nsub = p.add_subparsers(dest="node_command", metavar="SUBCOMMAND", required=True)
    c = nsub.add_parser("update", help="availability, role, labels of a node (by hostname or ID)")
    c.add_argument("node", metavar="HOSTNAME")
    c.add_argument("--availability", choices=AVAILABILITIES)
    c.add_argument("--role", choices=ROLES, help="promote (manager) or demote (worker)")
    c.add_argument("--label-add", action="append", default=[], metavar="KEY=VALUE")
    c.add_argument("--label-rm", action="append", default=[], metavar="KEY")
    swarm_option(c)


def _say(text: str) -> None:
    print(text, flush=True)


def _fail(message: str, code: int) -> int:
    print(f"dockyard: {safe(message)}", file=sys.stderr)
    return code


async def run_swarm_command(args: argparse.Namespace, fleet: Fleet) -> int:
    from dockyard.fleet.swarm import AmbiguousName, SwarmError

    try:
        if args.command in ("services", "nodes"):
            return await cmd_list(fleet, args.command, args.host, args.swarm, args.json)
        await fleet.swarm.discover()
        if not fleet.swarm.swarms():
            return _fail("no swarm manager among the configured hosts (or none answered)", EXIT_FAILED)
        if args.command == "node":
            return await cmd_node_update(fleet, args)
        if args.service_command == "scale":
            return await cmd_scale(fleet, args.targets, args.swarm)
        if args.service_command == "logs":
            return await cmd_logs(fleet, args.name, args.swarm, args.follow, args.tail)
        return await cmd_update(fleet, args)
    except (AmbiguousName, ReadOnlyError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    except SwarmError as exc:
        return _fail(str(exc), EXIT_USAGE if str(exc).startswith(("no service", "no node", "no swarm named"))
                     else EXIT_FAILED)
    except FleetError as exc:
        return _fail(str(exc), EXIT_FAILED)


# ---------------------------------------------------------------------- lists


async def _snapshots(fleet: Fleet, hosts: list[str] | None,
                     swarm: str | None) -> tuple[list[SwarmSnapshot], list[dict[str, str]]]:
    results: list[HostResult[None]] = await fleet.swarm.discover(hosts)
    errors = [{"host": r.host, "error": r.error or ""} for r in results if not r.ok]
    targets = [fleet.swarm.find(swarm)] if swarm else fleet.swarm.swarms()
    if hosts:
        targets = [s for s in targets if set(s.managers) & set(hosts)]
    snapshots = [await fleet.swarm.load(s) for s in targets]
    for snap in snapshots:
        if snap.error:
            errors.append({"host": ", ".join(snap.swarm.managers), "swarm": snap.swarm.name, "error": snap.error})
    return [s for s in snapshots if not s.error], errors


async def cmd_list(fleet: Fleet, kind: str, hosts: list[str] | None, swarm: str | None, as_json: bool) -> int:
    snapshots, errors = await _snapshots(fleet, hosts, swarm)
    if kind == "services":
        rows = [s for snap in snapshots for s in sorted(snap.services, key=lambda s: natural_key(s.name))]
        if not as_json:
            _say(table(["SWARM", "ID", "NAME", "MODE", "REPLICAS", "IMAGE", "PORTS", "UPDATED", "STACK"],
                       [[s.swarm, short_id(s.id), s.name, s.mode, f"{s.running}/{s.desired}", truncate(s.image, 40),
                         ", ".join(s.ports), ago(rfc3339_seconds(s.updated)), s.stack or ""] for s in rows]))
    else:
        rows = [n for snap in snapshots for n in sorted(snap.nodes, key=lambda n: (natural_key(n.hostname), n.id))]
        if not as_json:
            _say(table(["SWARM", "ID", "HOSTNAME", "STATUS", "AVAILABILITY", "MANAGER STATUS", "ENGINE VERSION"],
                       [[n.swarm, short_id(n.id), n.hostname, n.state, n.availability, n.manager_status, n.engine]
                        for n in rows]))
    if as_json:
        print(json.dumps({kind: [r.to_json() for r in rows], "errors": errors}, indent=2))
    for err in errors:
        where = f"swarm {err['swarm']}" if "swarm" in err else err["host"]
        print(f"dockyard: {safe(where)}: {safe(err['error'])}", file=sys.stderr)
    return EXIT_FAILED if errors else EXIT_OK


# ---------------------------------------------------------------------- actions


async def cmd_scale(fleet: Fleet, targets: list[str], swarm: str | None) -> int:
    from dockyard.fleet.swarm import AmbiguousName

    wanted = []
    for item in targets:
        name, sep, count = item.partition("=")
        if not sep or not name or not count.isdigit():
            return _fail(f"bad target {item!r}: expected NAME=N (N a whole number)", EXIT_USAGE)
        wanted.append((name, int(count)))
    failed = 0
    for name, count in wanted:
        where, service = await fleet.swarm.find_service(name, swarm)
        try:
            await fleet.swarm.scale(where, service["ID"], count)
        except (ReadOnlyError, AmbiguousName):
            raise
        except FleetError as exc:
            failed += 1
            _fail(f"{name}: {exc}", EXIT_FAILED)
            continue
        _say(f"{safe(name)} scaled to {count} (swarm {safe(where.name)})")
    return EXIT_FAILED if failed else EXIT_OK


def _progress_line(event: SwarmService | SwarmTask) -> str:
    if isinstance(event, models.SwarmTask):
        where = f" on {event.node}" if event.node else ""
        error = f": {event.error}" if event.error else ""
        return f"  {safe(event.name)} {short_id(event.id)}{safe(where)}: {safe(event.state)} (desired {safe(event.desired)})" \
               f"{safe(error)}  {safe(event.image)}"
    update = event.update
    if update is None:
        return f"{safe(event.name)}: {event.running}/{event.desired} running"
    message = f": {update.message}" if update.message else ""
    return f"{safe(event.name)}: update {safe(update.state)}{safe(message)}"


async def cmd_update(fleet: Fleet, args: argparse.Namespace) -> int:
    rollback = args.service_command == "rollback"
    if not rollback and not args.image and not args.force:
        return _fail("service update needs --image REF or --force", EXIT_USAGE)
    where, service = await fleet.swarm.find_service(args.name, args.swarm)
    sid = service["ID"]
    auth = None
    if rollback:
        warnings = await fleet.swarm.rollback(where, sid)
    elif args.image:
        from dockyard.cli.registry_cmd import image_auth

        auth = await image_auth(fleet.config, args.image, "updating")  # as --with-registry-auth
        warnings = await fleet.swarm.update_image(where, sid, args.image, auth=auth)
        if args.force:
            warnings += await fleet.swarm.force_update(where, sid)
    else:
        warnings = await fleet.swarm.force_update(where, sid)
    for warning in warnings:
        print(f"warning: {safe(warning)}", file=sys.stderr)
    what = "rollback" if rollback else "update"
    _say(f"{safe(args.name)}: {what} requested (swarm {safe(where.name)})")
    if args.detach:
        return EXIT_OK
    last: SwarmService | None = None
    unpulled = False  # a task failed for want of the image: the nodes could not pull it
    async for event in fleet.swarm.follow_update(where, sid):
        _say(_progress_line(event))
        if isinstance(event, models.SwarmService):
            last = event
        elif event.error.startswith("No such image"):
            unpulled = True
    if last is not None and last.update is not None and last.update.failed and not rollback:
        hint = ""
        if unpulled and args.image and auth is None:
            registry = parse_image_ref(args.image).registry_host
            hint = (f" (the nodes could not pull {args.image}, and no credentials for {registry} were sent: "
                    f"`docker login {registry}` or a [[registries]] entry gives them)")
        return _fail(f"{args.name}: update {last.update.state}: {last.update.message}{hint}", EXIT_FAILED)
    if last is not None and last.update is not None and last.update.state == "rollback_paused":
        return _fail(f"{args.name}: rollback paused: {last.update.message}", EXIT_FAILED)
    return EXIT_OK


async def cmd_logs(fleet: Fleet, name: str, swarm: str | None, follow: bool, tail: int) -> int:
    where, service = await fleet.swarm.find_service(name, swarm)
    broken = False
    async for item in fleet.swarm.service_logs(where, service["ID"], tail=tail, follow=follow):
        if hasattr(item, "text"):
            _say(f"{safe(item.source.name)} | {safe(item.text)}")
        else:
            broken = broken or item.broken
            print(f"dockyard: {safe(name)}: {safe(item.message)}", file=sys.stderr)
    return EXIT_FAILED if broken else EXIT_OK


async def cmd_node_update(fleet: Fleet, args: argparse.Namespace) -> int:
    labels = {}
    for item in args.label_add:
        key, sep, value = item.partition("=")
        if not key:
            return _fail(f"bad label {item!r}: expected KEY=VALUE", EXIT_USAGE)
        labels[key] = value
    if args.availability is None and args.role is None and not labels and not args.label_rm:
        return _fail("node update needs --availability, --role, --label-add or --label-rm", EXIT_USAGE)
    where, node = await fleet.swarm.find_node(args.node, args.swarm)
    await fleet.swarm.update_node(where, node["ID"], availability=args.availability, role=args.role,
                                  add_labels=labels, remove_labels=args.label_rm)
    changes = [f"{k} {v}" for k, v in (("availability", args.availability), ("role", args.role)) if v]
    changes += [f"label {k}={v}" for k, v in labels.items()] + [f"label -{k}" for k in args.label_rm]
    _say(f"{safe(args.node)} ({short_id(node['ID'])}, swarm {safe(where.name)}): {safe(', '.join(changes))}")
    return EXIT_OK
