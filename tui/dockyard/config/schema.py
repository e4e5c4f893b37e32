"""The one schema of `config.toml`, and a validator for the subset of JSON Schema it uses.

Why here and not a dependency: the config layer is stdlib-only, and the same dict is exported as
`config/dockyard.schema.json` (`python -m dockyard.config.schema`) so editors (taplo, Even Better TOML)
complete and check the file with exactly the rules Dockyard applies.

Supported keywords: KEYWORDS below (tests/test_config.py walks the schema for any other). Annotations
(ANNOTATIONS) are ignored by the validator. A "number" is finite: TOML's nan and inf are not numbers
in JSON either, and a nan timeout never fires. Semantic checks that a schema cannot express (URL
parsing, duplicates, files on disk) live in `dockyard.config.checks`.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from typing import Any

KeyPath = tuple  # a key path: ("hosts", 2, "url")
Error = tuple  # (KeyPath, message)

KEYWORDS = frozenset({"type", "properties", "required", "additionalProperties", "items", "enum", "minimum",
                      "maximum", "exclusiveMinimum", "minLength", "pattern", "oneOf"})
ANNOTATIONS = frozenset({"$schema", "title", "description", "default", "examples", "x-pattern-message"})


def _timeout(what: str) -> dict:
    return {
        "type": "number",
        "exclusiveMinimum": 0,
        "maximum": 86400,  # a day: beyond that a timer overflows and a wait is a hang anyway
        "description": what,
    }


def _path(what: str) -> dict:
    return {"type": "string", "minLength": 1, "description": what + " `~` is expanded."}


_HOST_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
_HOST_NAME_MSG = "must start with a letter or digit and hold only letters, digits, '.', '_' and '-'"

HOST_TLS_SCHEMA: dict = {
    "type": "object",
    "description": "Client TLS for a tcp:// daemon (dockerd --tlsverify). Either `cert_path` or `ca`/`cert`/`key`.",
    "additionalProperties": False,
    "properties": {
        "ca": _path("CA certificate (PEM) that signed the daemon's certificate; default: the system CAs."),
        "cert": _path("Client certificate (PEM) presented to the daemon; needs `key`."),
        "key": _path("Private key (PEM) of the client certificate; needs `cert`."),
        "cert_path": _path("A directory holding ca.pem, cert.pem and key.pem, like DOCKER_CERT_PATH."),
        "verify": {
            "type": "boolean",
            "default": True,
            "description": "Check the daemon's certificate and name. false is insecure and gives a warning.",
        },
    },
}

HOST_SCHEMA: dict = {
    "type": "object",
    "description": "One Docker daemon of the fleet.",
    "additionalProperties": False,
    "required": ["name", "url"],
    "properties": {
        "name": {
            "type": "string",
            "pattern": _HOST_NAME,
            "x-pattern-message": _HOST_NAME_MSG,
            "description": "Unique name of the host, shown in every view and used on the command line.",
        },
        "url": {
            "type": "string",
            "pattern": "^(unix|tcp|ssh)://",
            "x-pattern-message": "must start with unix://, tcp:// or ssh://",
            "description": (
                "Where the daemon listens: unix:///abs/path.sock, tcp://host[:port] (default port 2376 with TLS, "
                "2375 without) or ssh://[user@]host[:port] (host may be an ~/.ssh/config alias)."
            ),
        },
        "description": {"type": "string", "description": "Free text shown in the Hosts view."},
        "tls": HOST_TLS_SCHEMA,
        "identity_file": {
            "description": "SSH only: private key file(s) to offer, besides ssh-agent and ~/.ssh/config. `~` is expanded.",
            "oneOf": [
                {"type": "string", "minLength": 1},
                {"type": "array", "items": {"type": "string", "minLength": 1}},
            ],
        },
        "known_hosts": _path("SSH only: the one known_hosts file to check host keys against; default: what ssh_config says "
                             "(UserKnownHostsFile, GlobalKnownHostsFile), else ~/.ssh/known_hosts and "
                             "/etc/ssh/ssh_known_hosts."),
        "jump": {
            "description": (
                "SSH only: jump hosts, outermost first, each [user@]host[:port] or an ssh-config alias; "
                "a list, or one comma-separated string like ProxyJump."
            ),
            "oneOf": [
                {"type": "string", "minLength": 1},
                {"type": "array", "items": {"type": "string", "minLength": 1}},
            ],
        },
        "socket": {
            "type": "string",
            "pattern": "^/",
            "x-pattern-message": "must be an absolute path on the SSH host",
            "default": "/var/run/docker.sock",
            "description": "SSH only: the daemon's unix socket on the remote host.",
        },
        "passphrase_command": {
            "type": "string",
            "minLength": 1,
            "description": "SSH only: shell command whose stdout is the passphrase of the identity file (instead of ssh-agent).",
        },
        "ssh_config": _path("SSH only: OpenSSH client config for this host; default: the top-level `ssh_config`."),
        "connect_timeout": _timeout("Seconds to wait for the connection (and SSH handshake); default: top-level value."),
        "request_timeout": _timeout("Seconds to wait for one API request (not streams); default: top-level value."),
        "labels": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Free key/value labels to group and filter hosts (e.g. env = \"prod\").",
        },
        "readonly": {
            "type": "boolean",
            "default": False,
            "description": "Refuse every mutating action on this host (stop, rm, pull, ...).",
        },
        "swarm": {
            "type": "string",
            "minLength": 1,
            "description": "Name of this host's swarm in the SWARM column (default: its first manager host's name).",
        },
        "enabled": {
            "type": "boolean",
            "default": True,
            "description": "false keeps the host in the file but never connects to it.",
        },
    },
}

REGISTRY_SCHEMA: dict = {
    "type": "object",
    "description": "A Docker registry (HTTP API v2 / OCI distribution) to browse.",
    "additionalProperties": False,
    "required": ["url"],
    "properties": {
        "name": {
            "type": "string",
            "pattern": _HOST_NAME,
            "x-pattern-message": _HOST_NAME_MSG,
            "description": "Unique name of the registry; default: the url's host[:port].",
        },
        "url": {
            "type": "string",
            "minLength": 1,
            "description": (
                "https://host[:port], http://host[:port] (implies insecure) or a bare host[:port] "
                "(https; http when insecure = true)."
            ),
        },
        "username": {"type": "string", "minLength": 1, "description": "User name for Basic or token auth."},
        "password_env": {
            "type": "string",
            "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$",
            "x-pattern-message": "must be an environment variable name",
            "description": "Name of the environment variable that holds the password or access token.",
        },
        "password_command": {
            "type": "string",
            "minLength": 1,
            "description": "Shell command whose stdout is the password or access token (e.g. `pass show registry`).",
        },
        "credentials": {
            "enum": ["docker"],
            "description": "\"docker\": take the credentials from the Docker CLI (config.json auths, credsStore, credHelpers).",
        },
        "tls": {
            "type": "object",
            "additionalProperties": False,
            "description": "TLS settings for an https registry.",
            "properties": {
                "ca": _path("CA certificate (PEM) that signed the registry's certificate; default: the system CAs."),
                "verify": {
                    "type": "boolean",
                    "default": True,
                    "description": "Check the registry's certificate. false is insecure and gives a warning.",
                },
            },
        },
        "insecure": {
            "type": "boolean",
            "default": False,
            "description": "Accept an unverified TLS certificate, and plain HTTP for a bare host[:port] url; gives a warning.",
        },
    },
}

CONFIG_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Dockyard configuration (config.toml)",
    "description": "A fleet of Docker daemons and registries for the dockyard TUI and CLI.",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "readonly": {
            "type": "boolean",
            "default": False,
            "description": "Refuse every mutating action on every host (same as --readonly).",
        },
        "import_contexts": {
            "type": "boolean",
            "default": False,
            "description": "Also add the Docker CLI contexts (docker context ls) after the hosts of this file.",
        },
        "docker_hub": {
            "type": "boolean",
            "default": True,
            "description": "List Docker Hub (docker.io) among the registries; false for an air-gapped site "
                           "(no request ever goes to it, `dockyard registry ls` exits 0).",
        },
        "connect_timeout": _timeout("Default connect timeout in seconds for every host."),
        "request_timeout": _timeout("Default request timeout in seconds for every host."),
        "ssh_config": _path("OpenSSH client config used for ssh:// hosts; default ~/.ssh/config."),
        "freshness_cache_minutes": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 10080,
            "default": 15,
            "description": "How long a registry's answer for an image tag is reused before asking again "
                           "(outdated-image checks: the Containers pane's update column, `dockyard outdated`).",
        },
        "ssh_handshakes": {
            "type": "integer",
            "minimum": 1,
            "maximum": 1000,
            "default": 16,
            "description": "SSH hosts connecting at once (handshake and login); an sshd with OpenSSH's default "
                           "MaxStartups 10:30:100 drops connections past 10 unauthenticated ones.",
        },
        "hosts": {
            "type": "array",
            "items": HOST_SCHEMA,
            "description": "The Docker daemons ([[hosts]] tables).",
        },
        "registries": {
            "type": "array",
            "items": REGISTRY_SCHEMA,
            "description": "The registries ([[registries]] tables).",
        },
        "keys": {
            "type": "object",
            "additionalProperties": {"type": "string", "minLength": 1},
            "description": "Key bindings: binding id -> key(s), e.g. \"container.stop\" = \"s\" (comma-separate several keys).",
        },
        "problems": {
            "type": "object",
            "additionalProperties": False,
            "description": "Thresholds of the Problems view and `dockyard problems`.",
            "properties": {
                "restart_loop_count": {
                    "type": "integer", "minimum": 2, "maximum": 1000, "default": 3,
                    "description": "Restarts within restart_loop_window that make a container's restart loop.",
                },
                "restart_loop_window": {
                    "type": "number", "exclusiveMinimum": 0, "maximum": 86400, "default": 600,
                    "description": "Seconds over which restarts are counted; also how long an OOM kill or an "
                                   "unexpected exit is remembered.",
                },
                "service_degraded_after": {
                    "type": "number", "minimum": 0, "maximum": 86400, "default": 60,
                    "description": "Seconds a swarm service may stay below its desired replicas before it is a problem.",
                },
                "reclaimable_gb": {
                    "type": "number", "minimum": 0, "default": 20,
                    "description": "Reclaimable disk space of a daemon (docker system df), in GB, from which it is "
                                   "a problem.",
                },
                "reclaimable_every": {
                    "type": "number", "minimum": 60, "maximum": 604800, "default": 3600,
                    "description": "Seconds between two reads of a daemon's /system/df (slow on big hosts; read "
                                   "only while the Problems view is shown).",
                },
            },
        },
        "events": {
            "type": "object",
            "additionalProperties": False,
            "description": "The fleet-wide event history of the terminal UI.",
            "properties": {
                "keep": {
                    "type": "integer", "minimum": 100, "maximum": 1000000, "default": 5000,
                    "description": "How many events (all hosts together) the Events view keeps; older ones drop off.",
                },
                "read_back": {
                    "type": "number", "minimum": 0, "maximum": 604800, "default": 3600,
                    "description": "Seconds before Dockyard connected whose events the Events view reads back from "
                                   "each daemon when it first opens (what the daemon still holds: dockerd its last "
                                   "256 events); 0 shows only what happens after.",
                },
            },
        },
        "ui": {
            "type": "object",
            "additionalProperties": False,
            "description": "Look and feel of the terminal UI.",
            "properties": {
                "theme": {
                    "type": "string",
                    "minLength": 1,
                    "description": "Textual theme name, e.g. \"textual-dark\", \"ansi-dark\" (terminal palette).",
                },
                "log_tail": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 1000000,
                    "default": 500,
                    "description": "How many past log lines to load when opening a container's logs.",
                },
                "log_buffer": {
                    "type": "integer",
                    "minimum": 100,
                    "maximum": 1000000,
                    "default": 20000,
                    "description": "Most lines a logs view keeps; older ones drop off (memory stays bounded).",
                },
                "refresh_hz": {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "maximum": 60,
                    "default": 2.0,
                    "description": "Maximum repaints per second of a table pane.",
                },
                "shells": {
                    "type": "object",
                    "additionalProperties": {"type": "string", "minLength": 1},
                    "description": "Shell for `e` (exec) per host or image: \"host:NAME\" or \"image:REPO[:TAG]\" "
                                   "-> command, e.g. \"image:postgres\" = \"bash\". Default: sh.",
                },
                "confirm": {
                    "type": "object",
                    "additionalProperties": False,
                    "description": "Whether a single container's action asks first (several at once, kill "
                                   "and remove always ask).",
                    "properties": {
                        action: {"type": "boolean", "default": default,
                                 "description": f"{action.capitalize()} one container only after a yes."}
                        for action, default in (("stop", True), ("restart", True), ("start", False),
                                                ("pause", False))
                    },
                },
            },
        },
        "recreate": {
            "type": "object",
            "additionalProperties": False,
            "description": "How `dockyard recreate` (and the Containers pane's recreate key) judges a replacement.",
            "properties": {
                "grace": {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "maximum": 3600,
                    "default": 10,
                    "description": "Seconds a replacement without a healthcheck must keep running (no exit, no "
                                   "restart) before the old container is removed; otherwise it is rolled back.",
                },
                "health_timeout": {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "maximum": 86400,
                    "default": 120,
                    "description": "Seconds a replacement with a healthcheck has to become healthy; unhealthy, "
                                   "exited, restarted or still starting then: rolled back.",
                },
            },
        },
    },
}


# --- validator -------------------------------------------------------------------------------------

_ARTICLE = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "array": "an array",
    "object": "a table",
    "null": "null",
}


def describe(value: Any) -> str:
    """A short human description of a TOML value, for 'got …' in messages."""
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"string {shown!r}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return f"{type(value).__name__} {value}"  # TOML dates and times


def _is_type(value: Any, name: str) -> bool:
    if name == "string":
        return isinstance(value, str)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float)
                                                                          and math.isfinite(value))
    if name == "array":
        return isinstance(value, list)
    if name == "object":
        return isinstance(value, dict)
    if name == "null":
        return value is None
    raise ValueError(f"unsupported schema type {name!r}")


def _num(value: float) -> str:
    if isinstance(value, int):
        text = str(value)
        return text if len(text) <= 20 else text[:17] + "..."
    return str(int(value)) if value.is_integer() else str(value)


def validate(value: Any, schema: dict, path: KeyPath = ()) -> list[Error]:
    """Check `value` against `schema`; return every error as (key path, message), in document order."""
    errors: list[Error] = []
    if "oneOf" in schema:
        errors += _one_of(value, schema["oneOf"], path)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(value, t) for t in types):
            if isinstance(value, float) and not math.isfinite(value) and "number" in types:
                return errors + [(path, f"must be a finite number (got {value})")]
            wanted = " or ".join(_ARTICLE[t] for t in types)
            return errors + [(path, f"expected {wanted}, got {describe(value)}")]
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(json.dumps(c) for c in schema["enum"])
        errors.append((path, f"must be one of {choices} (got {describe(value)})"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append((path, f"must be at least {_num(schema['minimum'])} (got {_num(value)})"))
        if "maximum" in schema and value > schema["maximum"]:
            errors.append((path, f"must be at most {_num(schema['maximum'])} (got {_num(value)})"))
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            errors.append((path, f"must be greater than {_num(schema['exclusiveMinimum'])} (got {_num(value)})"))
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append((path, "must not be empty" if schema["minLength"] == 1 else f"must have at least {schema['minLength']} characters"))
        elif "pattern" in schema and not re.search(schema["pattern"], value):
            why = schema.get("x-pattern-message", f"must match {schema['pattern']}")
            errors.append((path, f"{why} (got {value!r})"))
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += validate(item, schema["items"], path + (i,))
    if isinstance(value, dict):
        errors += _object(value, schema, path)
    return errors


def _object(value: dict, schema: dict, path: KeyPath) -> list[Error]:
    errors: list[Error] = []
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in props:
            errors += validate(item, props[key], path + (key,))
        elif extra is False:
            close = difflib.get_close_matches(key, list(props), n=1, cutoff=0.6)
            if close:
                errors.append((path + (key,), f"unknown key (did you mean {close[0]!r}?)"))
            else:
                allowed = ", ".join(props)
                errors.append((path + (key,), f"unknown key (allowed here: {allowed})"))
        elif isinstance(extra, dict):
            errors += validate(item, extra, path + (key,))
    for key in schema.get("required", []):
        if key not in value:
            errors.append((path, f"missing required key {key!r}"))
    return errors


def _one_of(value: Any, branches: list[dict], path: KeyPath) -> list[Error]:
    results = [validate(value, branch, path) for branch in branches]
    passing = [r for r in results if not r]
    if len(passing) == 1:
        return []
    if len(passing) > 1:
        return [(path, "matches more than one allowed form")]
    # Report the branch whose type fits (its errors are the precise ones), else list the forms.
    typed = [r for r, b in zip(results, branches) if "type" not in b or _is_type(value, b["type"])]
    if len(typed) == 1:
        return typed[0]
    forms = " or ".join(_form(b) for b in branches)
    return [(path, f"expected {forms}, got {describe(value)}")]


def _form(branch: dict) -> str:
    t = branch.get("type")
    if t == "array" and isinstance(branch.get("items"), dict) and "type" in branch["items"]:
        item = _ARTICLE[branch["items"]["type"]].split(" ", 1)[1]
        return f"an array of {item}s"
    return _ARTICLE.get(t, "a value")


def schema_json() -> str:
    """The text of config/dockyard.schema.json."""
    return json.dumps(CONFIG_SCHEMA, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(schema_json())
