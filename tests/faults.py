"""Purpose-built fault servers for what a real daemon can't do on demand.

`FreezableProxy` forwards a unix socket to a real daemon until `freeze()`, after which it
holds every byte: a daemon that was fine and then wedged (until `thaw()`: one that was slow).
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

    async def start(self) -> FreezableProxy:
        self._server = await asyncio.start_unix_server(self._handle, self.listen_path)
        return self

    def freeze(self) -> None:
        self._open.clear()

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

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    await self._open.wait()
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
