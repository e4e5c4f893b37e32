"""A unix-socket proxy that delays every reply from the daemon by a fixed latency.

Used by the fan-out benchmark to stand in for far-away hosts: each proxy is a separate
socket in front of one real lab daemon, so N proxies look like N hosts 100 ms away.
"""

from __future__ import annotations

import asyncio
import os


class LatencyProxy:
    def __init__(self, listen_path: str, target_path: str, delay: float):
        self.listen_path = listen_path
        self.target_path = target_path
        self.delay = delay
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        if os.path.exists(self.listen_path):
            os.unlink(self.listen_path)
        self._server = await asyncio.start_unix_server(self._handle, self.listen_path)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_unix_connection(self.target_path)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, delay: float) -> None:
            """A delay line: each chunk leaves `delay` after it arrived, order kept, no pile-up."""
            loop = asyncio.get_running_loop()
            queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

            async def feed() -> None:
                while data := await src.read(65536):
                    queue.put_nowait((loop.time() + delay, data))
                queue.put_nowait((loop.time() + delay, b""))

            feeder = asyncio.create_task(feed())
            try:
                while True:
                    due, data = await queue.get()
                    wait = due - loop.time()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    if not data:
                        break
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                feeder.cancel()
                dst.close()

        # requests go straight through; each reply chunk waits `delay` (one round trip)
        try:
            await asyncio.gather(pipe(reader, up_writer, 0), pipe(up_reader, writer, self.delay))
        except asyncio.CancelledError:
            pass


async def _serve(directory: str, target: str, delay: float, count: int) -> None:
    proxies = [LatencyProxy(f"{directory}/p{i}.sock", target, delay) for i in range(count)]
    for p in proxies:
        await p.start()
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    # A separate process, so the proxies' CPU does not count against the fleet under test.
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--delay", type=float, default=0.1)
    parser.add_argument("--count", type=int, default=50)
    a = parser.parse_args()
    asyncio.run(_serve(a.dir, a.target, a.delay, a.count))
