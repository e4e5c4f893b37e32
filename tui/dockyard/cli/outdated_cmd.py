"""`dockyard outdated`: which containers run an image older than what the registry now serves.

One registry request per distinct image reference across the selected hosts (fleet/freshness.py),
never one per container or host. Exit 0, or 3 when a host or a registry did not answer (its
containers are then `unknown`; the rest are still listed).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from dockyard.cli.exits import EXIT_OK, EXIT_PARTIAL
from dockyard.textfmt import safe, short_id, table, truncate

if TYPE_CHECKING:
    from dockyard.fleet import Fleet
    from dockyard.fleet.freshness import Freshness


def add_outdated_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("outdated", help="containers whose image is older than what its registry serves for the tag",
                       description="Ask each image reference's registry once for the tag's current digest and "
                                   "compare it with the image each container runs. STATUS: current, outdated, "
                                   "local (built or loaded on the host), pinned (created by digest), unknown "
                                   "(the registry did not say; why on stderr).")
    p.add_argument("--host", action="append", metavar="NAME", help="only this host (repeatable)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def digests_cell(f: Freshness) -> str:
    """RUNNING → AVAILABLE, short: one digest when they agree."""
    running = short_id(f.running_digest, "-")
    if f.state == "outdated":
        return f"{running} → {short_id(f.registry_digest, '-')}"
    if f.state == "unknown":
        return f"{running} → ?"
    return running


async def cmd_outdated(args: argparse.Namespace, fleet: Fleet) -> int:
    report = await fleet.freshness.check(hosts=args.host)
    created_as = {r.container.key: fleet.freshness.reference_of(r.container) or r.container.image
                  for r in report.rows}  # as the user wrote it (`nginx:1.27`), not canonical
    if args.json:
        print(json.dumps({
            "containers": [{"host": r.container.host, "name": r.container.name, "id": r.container.id,
                            "image": created_as[r.container.key], "reference": r.freshness.reference,
                            "status": r.freshness.state,
                            "running_digest": r.freshness.running_digest,
                            "registry_digest": r.freshness.registry_digest, "reason": r.freshness.reason,
                            "checked_at": r.freshness.checked_at}
                           for r in report.rows],
            "errors": report.errors,
        }, indent=2))
    else:
        print(table(["HOST", "NAME", "IMAGE", "STATUS", "RUNNING → AVAILABLE"],
                    [[r.container.host, r.container.name, truncate(created_as[r.container.key], 60), r.freshness.state,
                      digests_cell(r.freshness)] for r in report.rows]))
    for err in report.errors:
        where = err.get("host") or err.get("reference") or ""
        print(f"dockyard: {safe(where)}: {safe(err['error'])}", file=sys.stderr)
    return EXIT_PARTIAL if report.errors else EXIT_OK
