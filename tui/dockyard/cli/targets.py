"""Which container a name on the command line means, across a fleet.

A script names containers as it would for docker: a name, a full ID or an ID prefix — or
`HOST/NAME`, the prefix the merged logs print. Across many hosts one name can exist on several
(`web-1` on every node): a command then refuses and lists the hosts, unless the script said
which (`--host`, `HOST/NAME`) or that it means all of them (`--all-hosts`). Nothing is done
when any name is ambiguous; a name found nowhere is reported and the others still go ahead,
as docker does.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dockyard.fleet.models import Container

if TYPE_CHECKING:
    from dockyard.fleet import Fleet


class Ambiguous(Exception):
    """A name matches containers on several hosts (or several on one host by ID prefix)."""


@dataclass
class Resolved:
    """The containers the names mean, and what could not be resolved."""

    containers: list[Container] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # names found on no host that answered
    host_errors: dict[str, str] = field(default_factory=dict)  # hosts that did not answer: why


def add_target_options(parser: argparse.ArgumentParser, *, all_hosts: bool = True) -> None:
    parser.add_argument("--host", action="append", metavar="NAME",
                        help="look for the containers on this host only (repeatable)")
    if all_hosts:
        parser.add_argument("--all-hosts", action="store_true",
                            help="a name on several hosts means every one of them (else: refused)")


def matches(container: Container, ref: str) -> bool:
    """docker's rule: the name (with or without its leading slash), the full ID, or an ID prefix."""
    ref = ref.lstrip("/")
    return container.name == ref or container.id == ref or (len(ref) >= 1 and container.id.startswith(ref)
                                                              and all(c in "0123456789abcdef" for c in ref))


async def resolve(fleet: Fleet, refs: list[str], hosts: list[str] | None, *, all_hosts: bool = False,
                  running_only: bool = False) -> Resolved:
    """List the selected hosts once and match every name; `Ambiguous` before anything is done."""
    result = Resolved()
    listing: list[Container] = []
    async for r in fleet.containers.list(all=not running_only, hosts=hosts):
        if r.ok:
            listing.extend(r.value or [])
        else:
            result.host_errors[r.host] = r.error or "no answer"
    order = {name: i for i, name in enumerate(fleet.sessions)}
    listing.sort(key=lambda c: (order[c.host], c.name))
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for ref in refs:
        host, sep, name = ref.partition("/")
        if sep and host in fleet.sessions:
            candidates = [c for c in listing if c.host == host and matches(c, name)]
        else:
            candidates, name = [c for c in listing if matches(c, ref)], ref
        exact = [c for c in candidates if c.name == name.lstrip("/") or c.id == name]
        if exact:  # a name or full ID wins over prefixes of other IDs
            candidates = exact
        if not candidates:
            result.missing.append(ref)
            continue
        by_host: dict[str, list[Container]] = {}
        for c in candidates:
            by_host.setdefault(c.host, []).append(c)
        several_here = [h for h, cs in by_host.items() if len(cs) > 1]
        if several_here:
            problems.append(f"{ref!r} matches {len(by_host[several_here[0]])} containers on {several_here[0]} "
                            "(an ID prefix shared by several): give more of the ID or the name")
            continue
        if len(by_host) > 1 and not all_hosts:
            problems.append(f"{ref!r} is on {len(by_host)} hosts ({', '.join(by_host)}): say which with "
                            f"--host HOST or HOST/{ref}, or --all-hosts for every one")
            continue
        for c in candidates:
            if c.key not in seen:
                seen.add(c.key)
                result.containers.append(c)
    if problems:
        raise Ambiguous("; ".join(problems) + " — nothing was done")
    return result
