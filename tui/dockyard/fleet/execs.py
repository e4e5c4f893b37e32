"""Interactive exec in a container on any host, through the Docker API (no docker CLI anywhere).

`POST /containers/{id}/exec` then `POST /exec/{id}/start` upgraded to a raw stream: over a
unix socket, TCP, TLS or an SSH channel alike, since the upgraded connection is whatever
our transport gave aiohttp. The UI only sees `ExecSession` (bytes in, bytes out, resize).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import aiodocker
from aiodocker.containers import DockerContainer

from dockyard.fleet.errors import DaemonError, FleetError
from dockyard.textfmt import short_id

if TYPE_CHECKING:
    from dockyard.fleet.docker_api import DockerClient

# Exit codes when the runtime could not start the command (missing or not executable).
NOT_FOUND_CODES = (126, 127)


class ExecSession:
    """One running exec: read its output, write its input, resize its TTY, learn its exit code."""

    def __init__(self, client: DockerClient, host: str, container: str, cmd: Sequence[str], exec_: Any,
                 stream: Any, tty: bool):
        self._client = client
        self.host = host
        self.container = container
        self.cmd = list(cmd)
        self._exec = exec_
        self._stream = stream
        self.tty = tty

    async def read(self) -> bytes | None:
        """Next chunk of output (stdout and stderr merged under a TTY); None at the end."""
        try:
            message = await self._stream.read_out()
        except (aiodocker.DockerError, OSError):
            return None
        return None if message is None else message.data

    async def read_stream(self) -> tuple[int, bytes] | None:
        """Next chunk with where it came from (1 stdout, 2 stderr; always 1 under a TTY); None at the end."""
        try:
            message = await self._stream.read_out()
        except (aiodocker.DockerError, OSError):
            return None
        return None if message is None else (message.stream, message.data)

    async def write(self, data: bytes) -> None:
        await self._stream.write_in(data)

    async def close_input(self) -> None:
        """End of input (stdin reached its end) while the output keeps coming: a half-close."""
        response = getattr(self._stream, "_resp", None)
        transport = response.connection.transport if response is not None and response.connection else None
        if transport is not None and transport.can_write_eof():
            with contextlib.suppress(OSError, RuntimeError):
                transport.write_eof()

    async def resize(self, rows: int, cols: int) -> None:
        if self.tty:
            with contextlib.suppress(aiodocker.DockerError, DaemonError):
                await self._exec.resize(h=rows, w=cols)

    async def exit_code(self) -> int | None:
        try:
            info = await self._exec.inspect()
        except (aiodocker.DockerError, DaemonError):
            return None
        return None if info.get("Running") else info.get("ExitCode")

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._stream.close()

    def explain_exit(self, code: int | None) -> str | None:
        """Words for "the shell is not in this image" and friends."""
        if code in NOT_FOUND_CODES:
            return (f"could not run {self.cmd[0]!r} in container {self.container} on {self.host} (not found "
                    f"or not executable, exit {code}) — try another shell, e.g. sh, ash or bash")
        return None


async def open_exec(client: DockerClient, host: str, container_id: str, cmd: Sequence[str], *,
                    tty: bool = True, env: dict[str, str] | None = None, user: str = "",
                    workdir: str | None = None, rows: int | None = None, cols: int | None = None,
                    stdin: bool = True) -> ExecSession:
    """Create and start an exec; refuses clearly when the container is not running. `stdin=False`:
    the command reads an empty input (as `docker exec` without -i)."""
    container = DockerContainer(client, id=container_id)
    try:
        exec_ = await container.exec(list(cmd), stdin=stdin, stdout=True, stderr=True, tty=tty,
                                     user=user, environment=env, workdir=workdir)
    except DaemonError as exc:
        # dockerd: 409 "is not running"; Podman: 500 "can only create exec sessions on running
        # containers: container state improper"
        if exc.status == 409 or "state improper" in exc.message:
            raise FleetError(f"container {short_id(container_id)} on {host} is not running") from None
        raise
    stream = exec_.start(detach=False)
    await stream._init()  # noqa: SLF001 - open the upgraded connection now, so errors surface here
    session = ExecSession(client, host, short_id(container_id), cmd, exec_, stream, tty)
    if rows and cols:
        await session.resize(rows, cols)
    return session


DETACH_KEYS = "ctrl-p,ctrl-q"


class AttachSession(ExecSession):
    """Attached to the container's main process; the daemon ends it on the detach keys."""

    async def resize(self, rows: int, cols: int) -> None:
        if self.tty:
            with contextlib.suppress(aiodocker.DockerError, DaemonError):
                await self._exec.resize(h=rows, w=cols)

    async def exit_code(self) -> int | None:
        return None  # detaching leaves the process running

    def explain_exit(self, code: int | None) -> str | None:
        return None


async def open_attach(client: DockerClient, host: str, container_id: str, *,
                      detach_keys: str = DETACH_KEYS) -> AttachSession:
    container = DockerContainer(client, id=container_id)
    info = await container.show()
    if not (info.get("State") or {}).get("Running"):
        raise FleetError(f"container {short_id(container_id)} on {host} is not running")
    tty = bool((info.get("Config") or {}).get("Tty"))
    stream = container.attach(stdin=bool((info.get("Config") or {}).get("OpenStdin")), stdout=True, stderr=True,
                              detach_keys=detach_keys)
    await stream._init()  # noqa: SLF001 - surface errors now
    return AttachSession(client, host, short_id(container_id), ["attach"], container, stream, tty)
