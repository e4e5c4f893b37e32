"""`dockyard registry …`: browse v2/OCI registries from the shell, delete a manifest by digest.

Exit codes (as for the other commands): 0 ok; 2 usage, configuration, credentials unavailable,
read-only, or a delete not confirmed; 3 the registry answered with an error (unauthorized, not
found, deletion disabled, rate limited, TLS failure, not a registry, unreachable); 1 unexpected.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import TYPE_CHECKING

from dockyard.cli.exits import EXIT_OK, EXIT_REGISTRY, EXIT_USAGE
from dockyard.config import Config
from dockyard.registry import BadReference, CredentialError, ReadOnlyRegistry, RegistryError
from dockyard.textfmt import human_size, natural_key, safe, table

if TYPE_CHECKING:  # what the commands use loads with them (the terminal UI builds this parser too)
    from dockyard.registry import CredentialSource, Manifest, RegistryClient, RegistryEntry

PING_TIMEOUT = 10.0


async def image_auth(config: Config, image: str, doing: str) -> dict[str, str] | None:
    """The credentials the TUI would send for `image` (config registries, `docker login`) with a
    pull, a push or a service update; a credential source that fails is a warning and the daemon
    goes anonymous (`doing` says what: "pulling")."""
    try:
        from dockyard.registry import Registries

        return await Registries(config).auth_for(image)
    except RegistryError as exc:
        print(f"warning: {safe(exc.message)}; {doing} without credentials", file=sys.stderr)
        return None


def add_registry_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("registry", help="browse v2/OCI registries: repositories, tags, manifests; delete by digest")
    rsub = p.add_subparsers(dest="registry_command", metavar="SUBCOMMAND", required=True)
    c = rsub.add_parser("ls", help="the registries and their login status; with REGISTRY, its repositories")
    c.add_argument("registry", nargs="?", metavar="REGISTRY", help="a registry name (or host[:port])")
    c.add_argument("--json", action="store_true", help="machine-readable output")
    c = rsub.add_parser("tags", help="the tags of a repository")
    c.add_argument("registry", metavar="REGISTRY")
    c.add_argument("repository", metavar="REPO")
    c.add_argument("--json", action="store_true", help="machine-readable output")
    c = rsub.add_parser("inspect", help="a manifest: digest, platforms, layers, created, labels")
    c.add_argument("registry", metavar="REGISTRY")
    c.add_argument("reference", metavar="REPO:TAG|REPO@DIGEST")
    c.add_argument("--json", action="store_true", help="machine-readable output")
    c = rsub.add_parser("rm", help="delete a manifest by digest (every tag pointing at it goes too)")
    c.add_argument("registry", metavar="REGISTRY")
    c.add_argument("reference", metavar="REPO@DIGEST")
    c.add_argument("-y", "--yes", action="store_true", help="do not ask (required when not on a terminal)")


def _err(message: str) -> None:
    print(f"dockyard: {safe(message)}", file=sys.stderr)


async def cmd_registry(args: argparse.Namespace, config: Config) -> int:
    """Entry point from `dockyard.cli.main`; every registry error becomes words and an exit code."""
    from dockyard.registry import Registries  # the client (aiohttp) loads with the command

    registries = Registries(config, readonly=bool(getattr(args, "readonly", False) or config.readonly))
    entries = registries.entries
    for w in registries.warnings:
        print(f"warning: {safe(w)}", file=sys.stderr)
    try:
        if args.registry_command == "ls" and args.registry is None:
            return await cmd_registry_overview(entries, registries.credentials, config, args.json)
        entry = registries.find(args.registry)
        if entry is None:
            names = ", ".join(e.name for e in entries) or "none"
            return _failed(args, f"no registry named {args.registry!r} (registries: {names})", EXIT_USAGE)
        async with registries.client(entry.name) as client:
            if args.registry_command == "ls":
                return await cmd_registry_repositories(client, args.json)
            if args.registry_command == "tags":
                return await cmd_registry_tags(client, args.repository, args.json)
            if args.registry_command == "inspect":
                return await cmd_registry_inspect(client, args.reference, args.json)
            if args.registry_command == "rm":
                return await cmd_registry_rm(client, args.reference, args.yes)
    except (BadReference, CredentialError, ReadOnlyRegistry) as exc:
        return _failed(args, str(exc), EXIT_USAGE)
    except RegistryError as exc:
        return _failed(args, str(exc), EXIT_REGISTRY)
    return _failed(args, f"unknown registry command {args.registry_command!r}", EXIT_USAGE)


def _failed(args: argparse.Namespace, message: str, code: int) -> int:
    """The error on stderr; with --json also a document whose `errors` holds it (never empty stdout)."""
    if getattr(args, "json", False):
        print(json.dumps({"registry": getattr(args, "registry", None),
                          "errors": [{"registry": getattr(args, "registry", None), "error": message}]}, indent=2))
    _err(message)
    return code


async def _ping(entry: RegistryEntry, credentials: CredentialSource) -> dict:
    row = {"name": entry.name, "url": entry.config.url, "source": entry.source,
           "credentials": credentials.describe(entry.config), "auth": None, "user": None, "status": None,
           "latency_ms": None, "error": None}
    try:
        from dockyard.registry import RegistryClient

        async with RegistryClient(entry.config, credentials=credentials, timeout=PING_TIMEOUT) as client:
            result = await client.ping()
    except RegistryError as exc:
        row["status"] = type(exc).words
        row["error"] = str(exc)
        return row
    row.update(auth=result.auth, user=result.user, status=result.login_status,
               latency_ms=round(result.latency_ms, 1))
    return row


async def cmd_registry_overview(entries: list[RegistryEntry], credentials: CredentialSource, config: Config,
                                as_json: bool) -> int:
    rows = await asyncio.gather(*(_ping(e, credentials) for e in entries))
    failed = [r for r in rows if r["error"]]
    if as_json:
        print(json.dumps({"registries": rows,
                          "errors": [{"registry": r["name"], "error": r["error"]} for r in failed]}, indent=2))
    else:
        for w in config.warnings:  # e.g. a plain-HTTP registry
            print(f"warning: {safe(w)}", file=sys.stderr)
        print(table(["NAME", "URL", "SOURCE", "CREDENTIALS", "STATUS", "LATENCY"],
                    [[r["name"], r["url"], r["source"], r["credentials"], r["status"],
                      f"{r['latency_ms']:.1f}ms" if r["latency_ms"] is not None else "-"] for r in rows]))
    for r in failed:
        _err(r["error"])
    return EXIT_REGISTRY if failed else EXIT_OK


async def cmd_registry_repositories(client: RegistryClient, as_json: bool) -> int:
    repositories: list[str] = []
    async for page in client.catalog_pages():
        repositories.extend(page)
        if not as_json:  # stream: the first page shows before the last is asked for
            for name in page:
                print(safe(name))
            sys.stdout.flush()
    if as_json:
        print(json.dumps({"registry": client.name, "repositories": repositories, "errors": []}, indent=2))
    return EXIT_OK


async def cmd_registry_tags(client: RegistryClient, repository: str, as_json: bool) -> int:
    tags: list[str] = []
    async for page in client.tag_pages(repository):
        page = sorted(page, key=natural_key)  # distribution 2.8 answers tags unsorted (and all in one page); text and JSON alike
        tags.extend(page)
        if not as_json:
            for tag in page:
                print(safe(tag))
            sys.stdout.flush()
    if as_json:
        print(json.dumps({"registry": client.name, "repository": client.repository(repository), "tags": tags,
                          "errors": []}, indent=2))
    return EXIT_OK


def _manifest_text(client: RegistryClient, m: Manifest) -> str:
    digest_ref = client.image_reference(m.repository, digest=m.digest)
    by_digest = ":" in m.reference  # a tag never holds ':'
    shown = digest_ref if by_digest else client.image_reference(m.repository, tag=m.reference)
    lines = [f"Reference:   {shown}",
             f"Digest:      {m.digest}",
             f"Pull by:     {digest_ref}",
             f"Media type:  {m.media_type}",
             f"Size:        {human_size(m.total_size)} ({m.size} B manifest)"]
    if m.is_index:
        lines.append(f"Platforms:   {len(m.platforms)}")
        rows = [[str(p) + (" (attestation)" if p.is_attestation else ""), p.digest, human_size(p.size)]
                for p in m.platforms]
        lines += ["  " + line for line in table(["PLATFORM", "DIGEST", "MANIFEST SIZE"], rows).splitlines()]
    else:
        if m.platform:
            lines.append(f"Platform:    {m.platform}")
        if m.created:
            lines.append(f"Created:     {m.created}")
        if m.entrypoint:
            lines.append(f"Entrypoint:  {json.dumps(list(m.entrypoint))}")
        if m.command:
            lines.append(f"Command:     {json.dumps(list(m.command))}")
        if m.labels:
            lines.append("Labels:")
            lines += [f"  {k}={v}" for k, v in sorted(m.labels.items())]
        lines.append(f"Layers:      {len(m.layers)}")
        rows = [[layer.digest, human_size(layer.size)] for layer in m.layers]
        lines += ["  " + line for line in table(["DIGEST", "SIZE"], rows).splitlines()]
    return "\n".join(safe(line) for line in lines)


async def cmd_registry_inspect(client: RegistryClient, reference: str, as_json: bool) -> int:
    from dockyard.registry import parse_reference

    ref = parse_reference(reference)
    m = await client.manifest(ref.repository, ref.ref)
    if as_json:
        data = m.to_json()
        data["pull"] = client.image_reference(m.repository, digest=m.digest)
        data["errors"] = []
        print(json.dumps(data, indent=2))
    else:
        print(_manifest_text(client, m))
    return EXIT_OK


async def _ask(question: str) -> bool:
    loop = asyncio.get_running_loop()

    def ask() -> str:
        sys.stderr.write(question)
        sys.stderr.flush()
        return sys.stdin.readline()

    answer = await loop.run_in_executor(None, ask)
    return answer.strip().lower() in ("y", "yes")


async def cmd_registry_rm(client: RegistryClient, reference: str, yes: bool) -> int:
    from dockyard.registry import parse_reference

    ref = parse_reference(reference, default_tag=None)
    if not ref.digest:
        _err(f"rm takes REPO@DIGEST (got {reference!r}): the registry deletes a manifest by digest, and with it "
             f"every tag pointing at it; find the digest with `dockyard registry inspect {client.name} {reference}`")
        return EXIT_USAGE
    if client.readonly:
        raise ReadOnlyRegistry(f"registry {client.name}: read-only mode: not deleting {ref}", registry=client.name)
    if not yes:
        if not (sys.stdin.isatty() and os.isatty(sys.stderr.fileno())):
            _err(f"not deleting {ref} without --yes (not a terminal to ask on); every tag pointing at that "
                 "digest would go too")
            return EXIT_USAGE
        try:
            tags = await client.tags_for_digest(ref.repository, ref.digest)
        except RegistryError:
            tags = None
        which = (f"these tags go too: {', '.join(tags)}" if tags else
                 "no tag points at it" if tags == [] else "every tag pointing at it goes too")
        if not await _ask(f"Delete {client.name} {ref}? {which}. [y/N] "):
            _err("not deleted")
            return EXIT_USAGE
    await client.delete(ref.repository, ref.digest)
    print(f"deleted {safe(client.name)} {safe(str(ref))} (and every tag that pointed at it)")
    return EXIT_OK
