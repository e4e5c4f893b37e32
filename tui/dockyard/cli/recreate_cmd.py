"""`dockyard recreate NAME…`: replace containers with the newer image of their reference, safely.

One container at a time by default (`--parallel N`), stopping at the first rollback or failure like
a rolling update (see dockyard.fleet.recreate for what is kept and how a rollback works).
Exit codes: 0 every container recreated (or already on the newest image); 3 one was rolled back,
failed, refused (a swarm task, an `--rm` container) or skipped, or a host did not answer; 2 usage
(no such container), read-only; 1 unexpected.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from dockyard.config import Config
from dockyard.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from dockyard.textfmt import human_size, safe, short_id, table

if TYPE_CHECKING:  # the controller loads with the command
    from dockyard.fleet import Fleet
    from dockyard.fleet.recreate import RecreatePlan, RecreateReport


def add_recreate_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "recreate", help="replace containers with the newer image of their tag, rolling back one that does not hold",
        description="Recreate each named container (on every host that has it, or --host) from its own "
                    "configuration with the image its reference now names: env, labels, mounts and anonymous "
                    "volumes, ports, networks, restart policy and resources are kept. A replacement that exits, "
                    "restarts or turns unhealthy within the grace period is removed and the old container runs "
                    "again under its name (exit 3).")
    p.add_argument("names", nargs="*", metavar="NAME", help="container names or IDs")
    p.add_argument("--host", action="append", metavar="NAME", help="only on this host (repeatable)")
    p.add_argument("--pull", action="store_true", help="pull each reference on its host first (with your login)")
    p.add_argument("--all-outdated", action="store_true",
                   help="every container whose image is older than what the registry serves for its tag")
    p.add_argument("--parallel", type=int, default=1, metavar="N",
                   help="recreate N containers at a time (default 1); the first rollback stops the rest")
    p.add_argument("--dry-run", action="store_true", help="print what would be done, change nothing")
    p.add_argument("--json", action="store_true", help="one JSON document with a report per container")


def _say(text: str, as_json: bool) -> None:
    if not as_json:
        print(text, flush=True)


async def cmd_recreate(args: argparse.Namespace, config: Config, fleet: Fleet) -> int:
    if args.parallel < 1:
        print("dockyard: recreate: --parallel must be 1 or more", file=sys.stderr)
        return EXIT_USAGE
    if not args.names and not args.all_outdated:
        print("dockyard: recreate: name at least one container, or --all-outdated", file=sys.stderr)
        return EXIT_USAGE
    containers, missing, failed = await fleet.recreate.find(args.names, args.host) if args.names else ([], [], [])
    errors = [{"host": r.host, "error": r.error or ""} for r in failed]
    if args.all_outdated:
        outdated, problems = await _outdated(fleet, args.host)
        named = {c.key for c in containers}
        containers += [c for c in outdated if c.key not in named]
        order = {h: i for i, h in enumerate(fleet.sessions)}
        containers.sort(key=lambda c: (order.get(c.host, 0), c.name))
        errors += problems
    for e in errors:
        print(f"dockyard: {safe(e['host'])}: {safe(e['error'])}", file=sys.stderr)
    if missing:
        where = ", ".join(args.host) if args.host else "any host that answered"
        for name in missing:
            print(f"dockyard: recreate: no container named {safe(name)} on {safe(where)}", file=sys.stderr)
        if args.json:
            print(json.dumps({"containers": [], "errors": errors + [{"error": f"no container named {n}"}
                                                                    for n in missing]}, indent=2))
        return EXIT_FAILED if errors else EXIT_USAGE  # nothing done: a misspelt name must not half-run
    if not containers:
        _say("nothing to recreate", args.json)
        if args.json:
            print(json.dumps({"containers": [], "errors": errors}, indent=2))
        return EXIT_FAILED if errors else EXIT_OK
    if args.dry_run:
        plans = await fleet.recreate.plan([(c.host, c.id) for c in containers], pull=args.pull)
        _print_plans(plans, args.json, errors)
        return EXIT_FAILED if errors or any(p.refused for p in plans) else EXIT_OK
    reports = await _run(fleet, config, containers, args)
    if args.json:
        print(json.dumps({"containers": [_report_json(r) for r in reports], "errors": errors}, indent=2))
    else:
        _summary(reports)
    return EXIT_OK if all(r.ok for r in reports) and not errors else EXIT_FAILED


async def _outdated(fleet: Fleet, hosts: list[str] | None) -> tuple[list, list[dict[str, str]]]:
    """The containers the registry check (fleet/freshness.py) finds `outdated` now, and what could not
    be checked (a host or a registry that did not answer: its containers are left alone)."""
    report = await fleet.freshness.check(refresh=True, hosts=hosts)
    rows = [r.container for r in report.rows if r.freshness.state == "outdated"]
    return rows, [{"host": e.get("host") or e.get("reference") or e.get("registry") or "", "error": e["error"]}
                  for e in report.errors]


async def _run(fleet: Fleet, config: Config, targets: list,
               args: argparse.Namespace) -> list[RecreateReport]:
    from dockyard.cli.registry_cmd import image_auth

    logins: dict[str, object] = {}

    async def auth(reference: str):
        if reference not in logins:
            logins[reference] = await image_auth(config, reference, "pulling")
        return logins[reference]

    tty = sys.stdout.isatty() and not args.json
    last: dict[tuple[str, str, str | None], str] = {}
    reports = []
    async for ev in fleet.recreate.run(targets, pull=args.pull, parallel=args.parallel, auth=auth):
        who = f"{ev.host}/{ev.name}"
        if ev.done:
            reports.append(ev.report)
            _say(f"{safe(who)}: {_result_line(ev.report)}", args.json)
            for line in ev.report.logs:
                _say(f"    | {safe(line)}", args.json)
        elif ev.kind == "pull":
            key = (ev.host, ev.name, ev.layer)
            if last.get(key) == ev.status and not tty:
                continue  # a line per layer status change; byte counts only on a terminal
            last[key] = ev.status
            size = f" {human_size(ev.current)}/{human_size(ev.total)}" if tty and ev.total else ""
            _say(f"{safe(who)}: {short_id(ev.layer)}: {safe(ev.status)}{size}", args.json)
        else:
            _say(f"{safe(who)}: {safe(ev.status)}", args.json)
    return reports


def _change(r: RecreateReport) -> str:
    """old → new: digests when the images have them for the reference's repository, else image IDs."""
    old = r.old_digest or r.old_image
    new = r.new_digest if r.old_digest and r.new_digest else r.new_image
    if not new:
        return short_id(old, "-")
    return f"{short_id(old, '?')} → {short_id(new, '?')}"


def _result_line(r: RecreateReport) -> str:
    if r.outcome == "recreated":
        note = f"; {safe(r.reason)}" if r.reason else ""
        return (f"recreated ({_change(r)}, container {short_id(r.old_id)} → {short_id(r.new_id)}{note}) "
                f"in {r.elapsed:.1f}s")
    if r.outcome == "rolled-back":
        return (f"ROLLED BACK: {safe(r.reason)}; the old container {short_id(r.old_id)} runs again"
                + (" — its last log lines:" if r.logs else ""))
    return f"{r.outcome}: {safe(r.reason)}"


def _summary(reports: list[RecreateReport]) -> None:
    print()
    print(table(["HOST", "NAME", "RESULT", "IMAGE", "OLD → NEW"],
                [[r.host, r.name, r.outcome.upper() if r.outcome == "rolled-back" else r.outcome, r.image or "-",
                  _change(r) if r.old_image else "-"] for r in reports]))
    for r in reports:
        if not r.ok:
            print(f"dockyard: {safe(r.host)}: {safe(r.name)}: {safe(r.outcome)}: {safe(r.reason)}", file=sys.stderr)


def _report_json(r: RecreateReport) -> dict:
    data = r.to_json()
    data["ok"] = r.ok
    data["logs"] = list(r.logs)
    return data


def _print_plans(plans: list[RecreatePlan], as_json: bool, errors: list[dict[str, str]]) -> None:
    if as_json:
        print(json.dumps({"plan": [p.to_json() | {"keeps": list(p.keeps)} for p in plans], "errors": errors},
                         indent=2))
        return
    print("dry run: nothing is changed")
    for p in plans:
        head = f"{p.host}/{p.name}"
        if p.refused:
            print(f"{safe(head)}: refused: {safe(p.refused)}")
            continue
        now = short_id(p.digest) if p.digest else short_id(p.image_id)
        first = f"pull {p.image} on {p.host}, then " if p.pull else ""
        print(f"{safe(head)}: {safe(first)}replace {short_id(p.id)} ({safe(p.state)}, {safe(p.image)} {now}) "
              f"with a new container from the image {safe(p.image)} names"
              + ("" if p.state in ("running", "restarting", "paused") else " (created, not started: it is not running)"))
        if p.tag_image == p.image_id:
            print(f"    {safe(p.image)} on {safe(p.host)} is the image it runs: "
                  + ("recreated only if the pull brings a newer one" if p.pull else "nothing to do (--pull?)"))
        elif p.tag_image is None:
            print(f"    {safe(p.image)} is not on {safe(p.host)}" + ("" if p.pull else ": --pull would fetch it"))
        else:
            print(f"    {safe(p.image)} on {safe(p.host)} is now {short_id(p.tag_image)}")
        for line in p.keeps:
            print(f"    keep {safe(line)}")
