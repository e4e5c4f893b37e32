"""`dockyard` entry point: the TUI by default, or a headless command over the same fleet.

Exit codes: 0 every host answered; 3 some hosts failed (the others' results are still
printed, errors on stderr and in JSON); 2 usage or configuration error; 1 unexpected.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from dockyard import __version__
from dockyard.cli.exits import EXIT_DRIFT, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, EXIT_UNEXPECTED, EXIT_USAGE
from dockyard.imageref import parse_image_ref
from dockyard.textfmt import ago, human_bytes_iec, human_size, natural_key, safe, short_id, table, truncate
from dockyard.config import Config, ConfigError, load_config, no_endpoint_help, select_contexts
from dockyard.fleet import HostResult, HostState, ReadOnlyError
from dockyard.cli.completion import add_completion_parser
from dockyard.cli.outdated_cmd import add_outdated_parser, cmd_outdated
from dockyard.cli.containers_cmd import ACTIONS, add_container_action_parsers
from dockyard.cli.exec_cmd import add_exec_parser
from dockyard.cli.logs_cmd import add_logs_parser
from dockyard.cli import listings
from dockyard.cli.options import add_global_options, merge_global_options, share_global_options
from dockyard.cli.recreate_cmd import add_recreate_parser, cmd_recreate
from dockyard.cli.health_cmd import HEALTH_COMMANDS, BadMoment, add_health_parser, run_health_command
from dockyard.cli.registry_cmd import add_registry_parser, cmd_registry, image_auth
from dockyard.cli.swarm_cmd import SWARM_COMMANDS, add_swarm_parser, run_swarm_command

if TYPE_CHECKING:  # the fleet controller and the registry client load when a command needs them
    from dockyard.fleet import Fleet


class UsageError(Exception):
    """Bad arguments found after parsing (unknown host name, malformed filter)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dockyard",
        description="Manage many Docker daemons at once. Without a command, starts the terminal UI.",
    )
    add_global_options(parser)
    parser.add_argument("--pane", metavar="NAME", default="containers",
                        help="the pane the terminal UI opens on, e.g. hosts or images (default: containers)")
    parser.add_argument("--version", action="version", version=f"dockyard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("hosts", help="one row per host: state, version, resources, latency")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    listings.add_format_option(p, "hosts")

    p = sub.add_parser("ps", help="containers across hosts, like docker ps with a HOST column")
    p.add_argument("-a", "--all", action="store_true", help="show stopped containers too")
    p.add_argument("--host", action="append", metavar="NAME", help="only this host (repeatable)")
    p.add_argument("--filter", "-f", action="append", metavar="KEY=VALUE", default=[],
                   help="docker ps filter, e.g. status=running, label=app=web, name=db (repeatable)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("-q", "--quiet", action="store_true", help="only container IDs, one a line (as docker ps -q)")
    listings.add_format_option(p, "ps")

    p = sub.add_parser("images", help="images across hosts")
    p.add_argument("--host", action="append", metavar="NAME", help="only this host (repeatable)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("-q", "--quiet", action="store_true", help="only image IDs, one a line (as docker images -q)")
    listings.add_format_option(p, "images")

    add_image_commands(sub)
    add_logs_parser(sub)
    add_container_action_parsers(sub)
    add_exec_parser(sub)

    p = sub.add_parser("config", help="configuration tools")
    csub = p.add_subparsers(dest="config_command", metavar="SUBCOMMAND", required=True)
    csub.add_parser("check", help="validate the config (--config PATH) and print the resolved hosts")

    add_registry_parser(sub)
    add_swarm_parser(sub)
    add_outdated_parser(sub)
    add_recreate_parser(sub)
    add_health_parser(sub)
    add_completion_parser(sub)
    share_global_options(parser)  # last: every subcommand above, nested too, takes them
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    return merge_global_options(build_parser().parse_args(argv))


def load_fleet_config(args: argparse.Namespace) -> Config:
    """The config file (or Docker contexts), cut down to `--context` names when given."""
    config = load_config(args.config)
    if args.context:
        try:
            config = select_contexts(config, args.context)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    return config


def no_terminal_message() -> str | None:
    """Why the full-screen UI cannot start here, or None when it can.

    Without a terminal (`ssh HOST dockyard` without -t, a pipe, cron) Textual would draw into a file
    or spin on a dead input; it reads stdin and draws on stderr, and stdout is where a redirect
    means "I wanted text". Checked before Textual is imported, so this answer is immediate."""
    missing = [name for name, stream in (("stdin", sys.stdin), ("stdout", sys.stdout), ("stderr", sys.stderr))
               if stream is None or not stream.isatty()]
    if not missing:
        return None
    which = " and ".join(missing)
    return (f"dockyard: the terminal UI needs a terminal, but {which} {'is' if len(missing) == 1 else 'are'} not one: "
            "over SSH run `ssh -t HOST dockyard`; in scripts, pipes and cron use a headless command such as "
            "`dockyard ps` or `dockyard hosts` (`dockyard --help` lists them).")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command is None and (message := no_terminal_message()):
        print(message, file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.command == "config":
            return config_check(args.config)
        if args.command == "completion":
            from dockyard.cli.completion import cmd_completion

            return cmd_completion(args, build_parser())
        config = load_fleet_config(args)
        if args.command is None:
            from dockyard.fleet.prefetch import Prefetch

            prefetch = Prefetch(config.hosts)  # the daemons list while Textual imports (fleet/prefetch.py)
            from dockyard.ui.app import run_app  # Textual is imported only for the UI
            from dockyard.ui.panes.registry import PANES, spec_for_verb

            spec = spec_for_verb(args.pane)
            if spec is None:
                raise UsageError(f"no pane named {args.pane!r} (panes: {', '.join(s.id for s in PANES)})")
            return run_app(config, readonly=args.readonly or None, pane=spec.id, prefetch=prefetch)
        if args.command == "registry":  # no fleet: registries only
            return asyncio.run(cmd_registry(args, config))
        if not config.hosts:
            raise UsageError(no_endpoint_help(config))
        return asyncio.run(run_command(args, config))
    except ConfigError as exc:
        _json_error(args, f"configuration error: {exc}")
        print(f"dockyard: configuration error:\n{exc}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        _json_error(args, str(exc))
        print(f"dockyard: {safe(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except listings.FormatError as exc:
        _json_error(args, str(exc))
        print(f"dockyard: {safe(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except ReadOnlyError as exc:  # the user's own setting, not a failure: one line, exit 2
        _json_error(args, f"{args.command}: {exc}")
        print(f"dockyard: {args.command}: {safe(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - never a traceback in a user's terminal
        if os.environ.get("DOCKYARD_DEBUG"):
            raise
        print(f"dockyard: unexpected error: {type(exc).__name__}: {safe(exc)}\n"
              "(set DOCKYARD_DEBUG=1 for a traceback)", file=sys.stderr)
        return EXIT_UNEXPECTED


def _json_error(args: argparse.Namespace, message: str) -> None:
    """`--json` always prints a document: here one with only the error that stopped the command."""
    if getattr(args, "json", False):
        print(json.dumps({"errors": [{"error": message}]}, indent=2))


async def _prompt_passphrase(host: str, key_path: str) -> str | None:
    """Ask on the terminal when there is one; otherwise there is nobody to ask."""
    if not sys.stdin.isatty():
        return None
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, getpass.getpass, f"Passphrase for {key_path} ({host}): ")


def _check_hosts(config: Config, names: list[str] | None) -> None:
    known = {h.name for h in config.hosts}
    for name in names or []:
        if name not in known:
            raise UsageError(f"no host named {name!r} in the fleet (hosts: {', '.join(sorted(known)) or 'none'})")


def _parse_filters(items: list[str]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"bad filter {item!r}: expected KEY=VALUE (e.g. status=running, label=app=web)")
        filters.setdefault(key, []).append(value)
    return filters


def _warn(config: Config) -> None:
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)


async def run_command(args: argparse.Namespace, config: Config) -> int:
    hosts = getattr(args, "host", None)
    _check_hosts(config, hosts)
    filters = _parse_filters(getattr(args, "filter", []) or [])
    from dockyard.fleet import Fleet

    fleet = Fleet(config, live=False, readonly=args.readonly or None, passphrase_prompt=_prompt_passphrase)
    for notice in fleet.notices:  # e.g. too few file descriptors for the fleet: said before connecting
        print(f"warning: {notice}", file=sys.stderr)
    async with fleet:
        if args.command == "hosts":
            return await cmd_hosts(fleet, config, args.json, args.format)
        if args.command in SWARM_COMMANDS:
            return await run_swarm_command(args, fleet)
        if args.command in HEALTH_COMMANDS:
            try:
                return await run_health_command(args, config, fleet, filters)
            except BadMoment as exc:
                raise UsageError(str(exc)) from None
        if args.command == "ps":
            return await cmd_ps(fleet, hosts, args.all, filters, args.json, args.quiet, args.format)
        if args.command in ACTIONS:
            from dockyard.cli.containers_cmd import cmd_container_action

            return await cmd_container_action(args, fleet)
        if args.command == "logs":
            from dockyard.cli.logs_cmd import cmd_logs

            return await cmd_logs(args, fleet)
        if args.command == "exec":
            from dockyard.cli.exec_cmd import cmd_exec

            return await cmd_exec(args, fleet)
        if args.command in IMAGE_COMMANDS or (args.command == "images" and getattr(args, "drift", False)):
            return await run_image_command(args, config, fleet)
        if args.command == "images":
            return await cmd_images(fleet, hosts, args.json, args.quiet, args.format)
        if args.command == "outdated":
            return await cmd_outdated(args, fleet)
        if args.command == "recreate":
            return await cmd_recreate(args, config, fleet)
    raise UsageError(f"unknown command {args.command!r}")


def _report(results: list[HostResult], as_json: bool, key: str, rows: list) -> int:
    errors = [{"host": r.host, "error": r.error} for r in results if not r.ok]
    if as_json:
        print(json.dumps({key: [row.to_json() for row in rows], "errors": errors}, indent=2))
    for err in sorted(errors, key=lambda e: e["host"]):
        print(f"dockyard: {safe(err['host'])}: {safe(err['error'])}", file=sys.stderr)
    return EXIT_PARTIAL if errors else EXIT_OK


async def cmd_ps(fleet: Fleet, hosts, all_: bool, filters, as_json: bool, quiet: bool = False,
                 template: str | None = None) -> int:
    results = [r async for r in fleet.containers.list(all=all_, hosts=hosts, filters=filters or None)]
    order = {name: i for i, name in enumerate(fleet.sessions)}  # config order (a dict: 5,000 rows × 500 hosts)
    rows = sorted((c for r in results if r.ok for c in r.value),
                  key=lambda c: (order[c.host], -c.created, natural_key(c.name)))
    if quiet and not as_json:
        for c in rows:
            print(short_id(c.id))
    elif template and not as_json:
        listings.print_records(template, "ps", [listings.container_record(c) for c in rows])
    elif not as_json:
        colour = listings.colour_enabled()
        print(listings.coloured_table(
            ["HOST", "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"],
            [[c.host, short_id(c.id), truncate(c.image, 30), '"' + truncate(c.command, 20) + '"', ago(c.created),
              c.status, ", ".join(str(p) for p in c.ports), c.name] for c in rows],
            [[None] * 5 + [listings.state_colour(c.state, c.status)] + [None, None] for c in rows], colour,
        ))
    return _report(results, as_json, "containers", rows)


async def cmd_images(fleet: Fleet, hosts, as_json: bool, quiet: bool = False, template: str | None = None) -> int:
    results = [r async for r in fleet.images.list(hosts=hosts)]
    order = {name: i for i, name in enumerate(fleet.sessions)}
    rows = sorted((i for r in results if r.ok for i in r.value),
                  key=lambda i: (order[i.host], -i.created))
    if quiet and not as_json:
        for image in rows:
            print(short_id(image.id))
    elif template and not as_json:
        listings.print_records(template, "images", [rec for i in rows for rec in listings.image_records(i)])
    elif not as_json:
        lines = []
        for image in rows:
            for tag in image.tags or ("<none>:<none>",):
                ref = parse_image_ref(tag)
                lines.append([image.host, ref.repository, ref.tag or "<none>", short_id(image.id), ago(image.created),
                              human_size(image.size)])
        print(table(["HOST", "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"], lines))
    return _report(results, as_json, "images", rows)


async def cmd_hosts(fleet: Fleet, config: Config, as_json: bool, template: str | None = None) -> int:
    await fleet.wait_settled()
    await fleet.refresh_info()
    statuses = fleet.hosts()
    failed = [s for s in statuses if s.state not in (HostState.ONLINE, HostState.DISABLED)]
    if as_json:
        print(json.dumps({"hosts": [s.to_json() for s in statuses],
                          "errors": [{"host": s.name, "error": f"{s.state.value}: {s.reason}"} for s in failed]},
                         indent=2))
    elif template:
        _warn(config)
        listings.print_records(template, "hosts", [listings.host_record(s) for s in statuses])
    else:
        _warn(config)
        rows = []
        for s in statuses:
            state = s.state.value
            if s.host_key is not None:
                state += f" ({s.host_key.key_type} {s.host_key.fingerprint})"
            rows.append([
                s.name, s.transport, state, s.server_version or "-", s.api_version or "-",
                f"{s.os}/{s.arch}" if s.os else "-", s.cpus if s.cpus is not None else "-",
                human_bytes_iec(s.memory),
                f"{s.containers_running}/{s.containers}" if s.containers is not None else "-",
                s.images if s.images is not None else "-",
                f"{s.latency_ms:.1f}ms" if s.latency_ms is not None else "-",
            ])
        colour = listings.colour_enabled()
        print(listings.coloured_table(["NAME", "TRANSPORT", "STATE", "VERSION", "API", "OS/ARCH", "CPUS", "MEMORY",
                                       "CONTAINERS", "IMAGES", "LATENCY"], rows,
                                      [[None, None, listings.host_state_colour(s.state.value)] + [None] * 8
                                       for s in statuses], colour))
    for s in failed:
        print(f"dockyard: {safe(s.name)}: {safe(s.state.value)}: {safe(s.reason)}", file=sys.stderr)
    return EXIT_PARTIAL if failed else EXIT_OK


def config_check(path: str | None) -> int:
    config = load_config(path)
    where = config.path or "no config file: the fleet is your Docker CLI contexts"
    print(f"config: {where}")
    rows = []
    for h in config.hosts:
        opts = []
        if h.tls is not None:
            opts.append("tls" + ("" if h.tls.verify else " (verify off)"))
        if h.jump:
            opts.append("jump " + " -> ".join(h.jump))
        if h.scheme == "ssh":
            opts.append(f"socket {h.socket}")
        if h.readonly:
            opts.append("readonly")
        if h.labels:
            opts.append("labels " + ",".join(f"{k}={v}" for k, v in h.labels.items()))
        rows.append([h.name, h.url, h.transport_name, "yes" if h.enabled else "no", h.source, "; ".join(opts)])
    print(table(["NAME", "URL", "TRANSPORT", "ENABLED", "SOURCE", "OPTIONS"], rows))
    for r in config.registries:
        secret = ("password from $" + r.password_env if r.password_env else
                  "password from command" if r.password_command else
                  "Docker credential store" if r.credentials == "docker" else "anonymous")
        print(f"registry {safe(r.name)}: {safe(r.url)} ({secret})")
    _warn(config)
    if not config.hosts:
        print(f"warning: {no_endpoint_help(config)}", file=sys.stderr)
    print(f"OK: {len(config.hosts)} host(s), {len(config.registries)} registr{'y' if len(config.registries) == 1 else 'ies'}")
    return EXIT_OK


# ---------------------------------------------------------------------- images: pull, transfer, images --drift

IMAGE_COMMANDS = ("pull", "transfer")


def add_image_commands(sub: argparse._SubParsersAction) -> None:
    """`pull`, `transfer`, and `--drift` on the `images` command added before."""
    p = sub.add_parser("pull", help="pull an image onto several hosts at once")
    p.add_argument("image", metavar="IMAGE", help="image reference, e.g. registry:5000/team/app:1.2")
    p.add_argument("--host", action="append", metavar="NAME", help="pull onto this host (repeatable; default: all)")
    p.add_argument("--json", action="store_true", help="one JSON document with per-host results")

    p = sub.add_parser("transfer", help="copy images host to host without a registry (streamed save → load)")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image references or IDs on the source")
    p.add_argument("--from", dest="source", required=True, metavar="HOST", help="the host that has the images")
    p.add_argument("--to", dest="targets", action="append", required=True, metavar="HOST",
                   help="a host to copy them to (repeatable)")
    p.add_argument("--json", action="store_true", help="one JSON document with per-target results")

    images = sub.choices["images"]
    images.add_argument("--drift", action="store_true",
                        help="group by REPOSITORY:TAG across hosts and flag tags whose image IDs differ")
    images.add_argument("--exit-code", action="store_true",
                        help="with --drift: exit 1 when a tag drifts, 0 when none does (as git diff --exit-code)")


async def run_image_command(args: argparse.Namespace, config: Config, fleet: Fleet) -> int:
    if args.command == "pull":
        auth = await image_auth(config, args.image, "pulling")
        return await cmd_pull(fleet, args.image, args.host, args.json, auth)
    if args.command == "transfer":
        _check_hosts(config, [args.source, *args.targets])
        return await cmd_transfer(fleet, args.images, args.source, args.targets, args.json)
    return await cmd_drift(fleet, args.host, args.json, args.exit_code)


async def cmd_pull(fleet: Fleet, image: str, hosts, as_json: bool, auth: dict[str, str] | None = None) -> int:
    tty = sys.stdout.isatty() and not as_json
    results = []
    last_status: dict[tuple[str, str | None], str] = {}
    async for ev in fleet.images.pull(image, hosts, auth=auth):
        if ev.done:
            results.append(ev)
            if not as_json and ev.ok:
                print(f"{safe(ev.host)}: pulled {safe(image)} ({short_id(ev.image_id, '-')}) in {ev.elapsed:.1f}s")
            continue
        if as_json:
            continue
        key = (ev.host, ev.layer)
        # a line per status change; byte counts only on a terminal
        if last_status.get(key) == ev.status and not tty:
            continue
        last_status[key] = ev.status
        size = f" {human_size(ev.current)}/{human_size(ev.total)}" if ev.total else ""
        what = f"{short_id(ev.layer)}: " if ev.layer else ""
        print(f"{safe(ev.host)}: {safe(what)}{safe(ev.status)}{size}", flush=tty)
    failed = [r for r in results if not r.ok]
    if as_json:
        print(json.dumps({
            "image": image,
            "results": [{"host": r.host, "ok": r.ok, "image_id": r.image_id, "digest": r.digest,
                         "error": r.error, "seconds": round(r.elapsed, 3)} for r in results],
            "errors": [{"host": r.host, "error": r.error} for r in failed],
        }, indent=2))
    for r in sorted(failed, key=lambda r: r.host):
        print(f"dockyard: {safe(r.host)}: pull failed: {safe(r.error)}", file=sys.stderr)
    return EXIT_PARTIAL if failed else EXIT_OK


async def cmd_transfer(fleet: Fleet, images: list[str], source: str, targets: list[str], as_json: bool) -> int:
    tty = sys.stdout.isatty() and not as_json
    results = []
    async for ev in fleet.images.transfer(images, source, targets):
        if ev.done:
            results.append(ev)
            if not as_json and ev.ok:
                ids = ", ".join(f"{safe(ref)}={short_id(i, '-')}" for ref, i in ev.image_ids.items())
                end = "\n" if not tty else "\x1b[K\n"
                print(f"\r{safe(ev.target)}: loaded and verified {ids} "
                      f"({human_size(ev.bytes)} in {ev.elapsed:.1f}s)", end=end)
        elif tty:
            total = f" of ~{human_size(ev.total)}" if ev.total else ""
            print(f"\r{safe(source)}: {human_size(ev.bytes)}{total} at {human_size(ev.rate)}/s\x1b[K",
                  end="", flush=True)
    failed = [r for r in results if not r.ok]
    if as_json:
        print(json.dumps({
            "source": source, "images": images,
            "results": [{"target": r.target, "ok": r.ok, "image_ids": r.image_ids, "error": r.error,
                         "bytes": r.bytes, "seconds": round(r.elapsed, 3), "bytes_per_second": round(r.rate)}
                        for r in results],
            "errors": [{"host": r.target, "error": r.error} for r in failed],
        }, indent=2))
    elif tty:
        print()
    for r in sorted(failed, key=lambda r: r.target or ""):
        print(f"dockyard: {safe(r.target)}: transfer failed: {safe(r.error)}", file=sys.stderr)
    return EXIT_PARTIAL if failed else EXIT_OK


async def cmd_drift(fleet: Fleet, hosts, as_json: bool, exit_code: bool = False) -> int:
    rows, failed = await fleet.images.drift_report(hosts)
    if as_json:
        print(json.dumps({"drift": [r.to_json() for r in rows],
                          "errors": [{"host": r.host, "error": r.error} for r in failed]}, indent=2))
    else:
        answered = [h for h in fleet.sessions if h not in {r.host for r in failed}
                    and (not hosts or h in hosts)]
        print(listings.coloured_table(
            ["REPOSITORY:TAG", "DRIFT", *[h.upper() for h in answered]],
            [[r.reference, "DRIFT" if r.drifted else "", *[short_id(r.hosts.get(h), "-") for h in answered]]
             for r in rows],
            [[None, listings.YELLOW if r.drifted else None] + [None] * len(answered) for r in rows],
            listings.colour_enabled()))
    for r in sorted(failed, key=lambda r: r.host):
        print(f"dockyard: {safe(r.host)}: {safe(r.error)}", file=sys.stderr)
    if failed:
        return EXIT_PARTIAL
    return EXIT_DRIFT if exit_code and any(r.drifted for r in rows) else EXIT_OK
