"""What the "new container" form asks for, validated field by field, and the API body it becomes.

Parsing lives here (not in the UI) so the form, the CLI and tests share one set of rules;
each error names the field it belongs to, so the form can mark it inline.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

RESTART_POLICIES = ("no", "on-failure", "always", "unless-stopped")
NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
PORT_RE = re.compile(r"^(?:(?P<ip>[0-9.]+|\[[0-9a-fA-F:]+\]):)?(?:(?P<host>\d+):)?(?P<cont>\d+)(?:/(?P<proto>tcp|udp|sctp))?$")


@dataclass
class RunSpec:
    image: str
    name: str = ""
    command: str = ""
    env: str = ""  # "A=1 B=two" or one per line
    ports: str = ""  # "8080:80 127.0.0.1:9000:9000/udp"
    volumes: str = ""  # "/src:/dst:ro named:/data"
    restart: str = "no"
    labels: str = ""  # "k=v k2=v2"
    network: str = "default"
    errors: dict[str, str] = field(default_factory=dict)

    def validate(self) -> dict[str, str]:
        """Field name -> message, empty when the spec can run."""
        errors: dict[str, str] = {}
        if not self.image.strip():
            errors["image"] = "an image is required"
        elif any(c.isspace() for c in self.image.strip()):
            errors["image"] = "no spaces in an image reference"
        if self.name and not NAME_RE.match(self.name):
            errors["name"] = "letters, digits, '_', '.', '-' (starting with a letter or digit)"
        try:
            shlex.split(self.command)
        except ValueError as exc:
            errors["command"] = f"cannot parse: {exc}"
        for key, parser in (("env", _pairs), ("labels", _pairs), ("ports", _ports), ("volumes", _volumes)):
            try:
                parser(getattr(self, key))
            except ValueError as exc:
                errors[key] = str(exc)
        if self.restart not in RESTART_POLICIES:
            errors["restart"] = f"one of {', '.join(RESTART_POLICIES)}"
        if not self.network.strip():
            errors["network"] = "a network mode is required (default, none, host, bridge or a network name)"
        self.errors = errors
        return errors

    def body(self) -> dict[str, Any]:
        """The `POST /containers/create` body (call `validate()` first)."""
        exposed: dict[str, dict] = {}
        bindings: dict[str, list[dict[str, str]]] = {}
        for ip, host_port, cont, proto in _ports(self.ports):
            key = f"{cont}/{proto}"
            exposed[key] = {}
            if host_port or ip:
                bindings.setdefault(key, []).append({"HostIp": ip, "HostPort": host_port})
        binds, mounts = [], []
        for source, target, mode in _volumes(self.volumes):
            binds.append(f"{source}:{target}" + (f":{mode}" if mode else ""))
        host_config: dict[str, Any] = {
            "RestartPolicy": {"Name": "" if self.restart == "no" else self.restart},
            "PortBindings": bindings, "Binds": binds, "Mounts": mounts,
        }
        if self.network.strip() != "default":
            host_config["NetworkMode"] = self.network.strip()
        body: dict[str, Any] = {
            "Image": self.image.strip(),
            "Env": [f"{k}={v}" for k, v in _pairs(self.env)],
            "Labels": dict(_pairs(self.labels)),
            "ExposedPorts": exposed,
            "HostConfig": host_config,
        }
        if self.command.strip():
            body["Cmd"] = shlex.split(self.command)
        return body


def _items(text: str) -> list[str]:
    return [w for w in re.split(r"[\s,]+", text.strip()) if w]


def _pairs(text: str) -> list[tuple[str, str]]:
    out = []
    for item in (line for line in re.split(r"\n|(?<!\\)\s+", text.strip()) if line):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"{item!r} is not KEY=VALUE")
        out.append((key, value))
    return out


def _ports(text: str) -> list[tuple[str, str, str, str]]:
    out = []
    for item in _items(text):
        m = PORT_RE.match(item)
        if not m:
            raise ValueError(f"{item!r}: use [IP:]HOST:CONTAINER[/tcp|udp] or CONTAINER")
        for part in ("host", "cont"):
            if m.group(part) and not 0 < int(m.group(part)) < 65536:
                raise ValueError(f"{item!r}: port out of range")
        out.append(((m.group("ip") or "").strip("[]"), m.group("host") or "", m.group("cont"),
                    m.group("proto") or "tcp"))
    return out


def _volumes(text: str) -> list[tuple[str, str, str]]:
    out = []
    for item in _items(text):
        parts = item.split(":")
        if len(parts) not in (2, 3) or not parts[0] or not parts[1].startswith("/"):
            raise ValueError(f"{item!r}: use SOURCE:/container/path[:ro|rw] (SOURCE: a host path or volume name)")
        if len(parts) == 3 and parts[2] not in ("ro", "rw"):
            raise ValueError(f"{item!r}: mode must be ro or rw")
        out.append((parts[0], parts[1], parts[2] if len(parts) == 3 else ""))
    return out
