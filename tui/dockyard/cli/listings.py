"""The fields `--format` offers for `ps`, `images` and `hosts`, named as docker names them.

`dockyard ps --format '{{.Host}}/{{.Names}}\\t{{.Status}}'`, `{{.ID}}`, `{{json .}}`; `{{.Name}}` is
also accepted for a container's name. Each command's record is built here from the fleet's models,
so the template sees the same values the table prints (the same size and age formatting).
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from dockyard.cli.output import (YELLOW, FormatError, coloured_table, colour_enabled, print_formatted,
                                 state_colour)
from dockyard.imageref import parse_image_ref
from dockyard.textfmt import ago, human_bytes_iec, human_size, short_id

if TYPE_CHECKING:
    from dockyard.fleet import Container, HostStatus, Image

__all__ = ["FormatError", "YELLOW", "coloured_table", "colour_enabled", "state_colour", "host_state_colour",
           "add_format_option", "print_records", "container_record", "image_records", "host_record"]

FIELDS = {
    "ps": ("Host", "ID", "Image", "Command", "CreatedAt", "RunningFor", "Ports", "State", "Status", "Names", "Name",
           "Labels", "Label", "Networks", "Mounts"),
    "images": ("Host", "ID", "Repository", "Tag", "Digest", "CreatedSince", "CreatedAt", "Size", "Containers"),
    "hosts": ("Name", "URL", "Transport", "State", "Reason", "Version", "API", "OS", "Arch", "CPUs", "Memory",
              "Containers", "Running", "Images", "Latency"),
}
HEADERS = {
    "ps": {"ID": "CONTAINER ID", "CreatedAt": "CREATED AT", "RunningFor": "CREATED", "Names": "NAMES",
           "Name": "NAME"},
    "images": {"ID": "IMAGE ID", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT"},
    "hosts": {"CPUs": "CPUS"},
}


def add_format_option(parser: argparse.ArgumentParser, command: str) -> None:
    fields = ", ".join(f"{{{{.{f}}}}}" for f in FIELDS[command] if f != "Label")
    parser.add_argument("--format", metavar="TEMPLATE",
                        help=f"print each row through a Go-style template, as docker does: {fields}; "
                             "{{json .}}; a 'table ' prefix aligns columns under headers")


def print_records(template: str, command: str, records: list[dict[str, Any]]) -> None:
    print_formatted(template, records, FIELDS[command], HEADERS[command])


def host_state_colour(state: str) -> str | None:
    return {"online": "32", "connecting": "33", "disabled": "2"}.get(state, "31")


def _created_at(ts: float | None) -> str:
    """docker's CreatedAt: 2026-12-06 05:01:02 +0000 UTC."""
    if not ts:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S %z %Z", time.localtime(ts))


def container_record(c: Container) -> dict[str, Any]:
    return {
        "Host": c.host, "ID": short_id(c.id), "Image": c.image, "Command": f'"{c.command}"',
        "CreatedAt": _created_at(c.created), "RunningFor": ago(c.created),
        "Ports": ", ".join(str(p) for p in c.ports), "State": c.state, "Status": c.status_now(),
        "Names": c.name, "Name": c.name, "Labels": dict(c.labels), "Label": None,
        "Networks": ",".join(c.networks), "Mounts": ",".join(c.volumes),
    }


def image_records(image: Image) -> list[dict[str, Any]]:
    """One record per tag, as `docker images` lists them (`<none>` for an untagged image)."""
    records = []
    digest = image.digests[0].rpartition("@")[2] if image.digests else "<none>"
    for tag in image.tags or ("<none>:<none>",):
        ref = parse_image_ref(tag)
        records.append({
            "Host": image.host, "ID": short_id(image.id), "Repository": ref.repository, "Tag": ref.tag or "<none>",
            "Digest": digest, "CreatedSince": ago(image.created), "CreatedAt": _created_at(image.created),
            "Size": human_size(image.size), "Containers": "N/A" if image.containers < 0 else str(image.containers),
        })
    return records


def host_record(s: HostStatus) -> dict[str, Any]:
    return {
        "Name": s.name, "URL": s.url, "Transport": s.transport, "State": s.state.value, "Reason": s.reason or "",
        "Version": s.server_version or "", "API": s.api_version or "", "OS": s.os or "", "Arch": s.arch or "",
        "CPUs": "" if s.cpus is None else s.cpus, "Memory": human_bytes_iec(s.memory) if s.memory else "",
        "Containers": "" if s.containers is None else s.containers,
        "Running": "" if s.containers_running is None else s.containers_running,
        "Images": "" if s.images is None else s.images,
        "Latency": f"{s.latency_ms:.1f}ms" if s.latency_ms is not None else "",
    }
