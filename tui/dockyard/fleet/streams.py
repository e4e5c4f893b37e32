"""Long daemon streams (pull, push, save/load): their errors in words, and merging several.

Streams do not go through `HostSession.call` (whose request timeout would cut a long pull
short): they take the session's client once it is online and run without a total timeout;
a connection lost half-way becomes that host's error result.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiohttp

from dockyard.fleet.errors import DaemonError, FleetError
from dockyard.tasks import cancel_and_wait


def encode_auth(auth: dict[str, str] | str | None) -> str:
    """The X-Registry-Auth header: base64url(JSON) of {username, password, serveraddress} or
    {identitytoken}; an already encoded string passes through; None → anonymous ("{}")."""
    if isinstance(auth, str):
        return auth
    payload = json.dumps(auth or {}).encode()
    return base64.urlsafe_b64encode(payload).decode()


def stream_error(exc: BaseException) -> str:
    """What went wrong with a stream, in words for a host's result."""
    if isinstance(exc, DaemonError):
        return exc.message
    if isinstance(exc, FleetError):
        return str(exc)
    if isinstance(exc, asyncio.TimeoutError):
        return "the daemon stopped answering"
    if isinstance(exc, aiohttp.ClientError):
        return f"connection lost: {exc}" if str(exc) else f"connection lost ({type(exc).__name__})"
    return f"unexpected error: {type(exc).__name__}: {exc}"


def message_error(msg: dict[str, Any]) -> str | None:
    """The error a JSON-lines progress message carries, if any."""
    if "error" in msg or "errorDetail" in msg:
        detail = msg.get("errorDetail") or {}
        return str(detail.get("message") or msg.get("error") or "unknown error")
    return None


async def merge(streams: Sequence[AsyncIterator[Any]]) -> AsyncIterator[Any]:
    """Interleave several async iterators, yielding items as they come."""
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=256)
    done = object()

    async def run(stream: AsyncIterator[Any]) -> None:
        try:
            async for item in stream:
                await queue.put(item)
        finally:
            await queue.put(done)

    tasks = [asyncio.ensure_future(run(s)) for s in streams]
    remaining = len(tasks)
    try:
        while remaining:
            item = await queue.get()
            if item is done:
                remaining -= 1
            else:
                yield item
    finally:
        await cancel_and_wait(tasks, "merged streams")
