"""Host keys accepted for this run, without asyncssh: the fleet holds one from the start, and
asyncssh (0.34 s to import) is loaded only once a host needs SSH."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from dockyard.transports.errors import HostKeyUnknown, Unreachable

PassphrasePrompt = Callable[[str, str], Awaitable[str | None]]  # (host name, key path) -> passphrase


def known_hosts_pattern(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


class HostKeyTrust:
    """Host keys the user accepted for this run only ("accept once"); never persisted."""

    def __init__(self) -> None:
        self._accepted: set[tuple[str, int, str]] = set()

    def accept_once(self, problem: HostKeyUnknown) -> None:
        self._accepted.add((problem.host, problem.port, problem.key_line))

    def is_accepted(self, host: str, port: int, key_line: str) -> bool:
        return (host, port, key_line) in self._accepted

    @staticmethod
    def save(problem: HostKeyUnknown, known_hosts_path: str | None = None) -> str:
        """Append the key to known_hosts (creating it 0600 in a 0700 directory); returns the file.

        The file is the one the problem names (the hop's first user known_hosts), else `known_hosts_path`.
        """
        target = problem.save_to or known_hosts_path
        if not target:
            raise Unreachable(f"{problem.hop}: UserKnownHostsFile is none: nowhere to save the key")
        path = Path(target).expanduser()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        pattern = problem.pattern or known_hosts_pattern(problem.host, problem.port)
        line = f"{pattern} {problem.key_line}\n"
        prefix = ""
        if path.exists() and path.stat().st_size:
            with open(path, "rb") as f:
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    prefix = "\n"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a") as f:
            f.write(prefix + line)
        return str(path)
