"""Refuse secrets written in clear in the config file, without ever repeating their value.

Runs before the schema, and removes what it reports, so a `password = "..."` is one precise error
("use password_env …") rather than a generic "unknown key".
"""

from __future__ import annotations

import re
from typing import Any

from dockyard.config.report import KeyPath, Report

_SECRET_REFS = {"password_env", "password_command", "passphrase_command"}
_SECRET_WORDS = {"password", "passwd", "pass", "pwd", "passphrase", "secret", "token", "auth", "apikey"}
_SECRET_PARTS = ("password", "passphrase", "secret", "token")


def is_secret(key: str) -> bool:
    k = key.lower()
    if k in _SECRET_REFS:
        return False
    return bool(set(re.split(r"[^a-z0-9]+", k)) & _SECRET_WORDS) or any(p in k for p in _SECRET_PARTS)


def refuse_secrets(node: Any, key: KeyPath, report: Report) -> None:
    """Remove every secret-looking key (so the schema does not report it twice) with an error that hides its value."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            refuse_secrets(item, key + (i,), report)
        return
    if not isinstance(node, dict) or key == ("keys",):  # [keys] maps binding ids, not secrets
        return
    for name in list(node):
        if is_secret(name):
            del node[name]
            section = key[0] if key else None
            if section == "registries":
                hint = 'use password_env = "VAR", password_command = "cmd" or credentials = "docker"'
            elif section == "hosts":
                hint = "use ssh-agent, or passphrase_command for a key's passphrase"
            else:
                hint = ("use password_env / password_command / credentials = \"docker\" in [[registries]], "
                        "ssh-agent / passphrase_command in [[hosts]]")
            report.error(key + (name,), f"secrets in clear are not allowed in the config file; {hint}")
        else:
            refuse_secrets(node[name], key + (name,), report)
