"""Purpose-built fault servers for what a real daemon can't do on demand.

`FreezableProxy` forwards a unix socket to a real daemon until `freeze()`, after which it
holds every byte: a daemon that was fine and then wedged (until `thaw()`: one that was slow).
`hold("/images/json", "/info")` holds only the requests whose path contains one of those (one
slow kind of reply) until `release()`.
"""

from __future__ import annotations

import asyncio


class FreezableProxy:
    def __init__(self, listen_path: str, target_path: str):
        self.listen_path = listen_path
        self.target_path = target_path
        self._open = asyncio.Event()
        self._open.set()
        self._server: asyncio.AbstractServer | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._held_paths: tuple[bytes, ...] = ()
        self._released = asyncio.Event()
        self._released.set()
        self.held = 0  # requests held so far

    async def start(self) -> FreezableProxy:
        self._server = await asyncio.start_unix_server(self._handle, self.listen_path)
        return self

    def freeze(self) -> None:
        self._open.clear()

    def hold(self, *paths: str) -> None:
        self._held_paths = tuple(p.encode() for p in paths)
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    def _holds(self, data: bytes) -> bool:
        """Whether this chunk from the client starts a request for a held path."""
        if not self._held_paths or self._released.is_set():
            return False
        line = data.split(b"\r\n", 1)[0]
        parts = line.split(b" ")
        return len(parts) == 3 and parts[2].startswith(b"HTTP/") and any(p in parts[1] for p in self._held_paths)

    def thaw(self) -> None:
        """Pass the held bytes on and forward again: a host that was slow, not dead."""
        self._open.set()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for w in self._writers:
            w.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_unix_connection(self.target_path)
        self._writers += [writer, up_writer]

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, upstream: bool = False) -> None:
            try:
                while data := await src.read(65536):
                    await self._open.wait()
                    if upstream and self._holds(data):
                        self.held += 1
                        await self._released.wait()
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer, upstream=True), pipe(up_reader, writer))
