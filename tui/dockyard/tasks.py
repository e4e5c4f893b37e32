"""Stopping a group of asyncio tasks without hanging on one that ignores cancellation.

Stdlib only; any layer may use it.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

log = logging.getLogger("dockyard.tasks")
T = TypeVar("T")
STOP_GRACE = 5.0  # s: how long stopping waits for a task or a close before leaving it behind


async def wait_within_grace(tasks: Iterable[asyncio.Future[Any]], what: str, grace: float = STOP_GRACE) -> None:
    """Wait for `tasks` at most `grace` seconds and never longer: quitting, or a reconnect, must not
    hang on a connection that ignores cancellation (a whole test run once waited forever on one).
    What is left behind is logged with where it was stuck."""
    tasks = list(tasks)
    if not tasks:
        return
    done, pending = await asyncio.wait(tasks, timeout=grace)
    for task in done:
        if not task.cancelled():
            task.exception()  # retrieved: no "exception was never retrieved" noise
    for task in pending:
        stack = task.get_stack() if isinstance(task, asyncio.Task) else []
        where = "; ".join(f"{f.f_code.co_name}:{f.f_lineno}" for f in stack)
        name = task.get_name() if isinstance(task, asyncio.Task) else repr(task)
        log.warning("%s: %s still running after %gs, left behind (at %s)", what, name, grace, where)


async def cancel_and_wait(tasks: Iterable[asyncio.Future[Any]], what: str, grace: float = STOP_GRACE) -> None:
    """Cancel every task, then wait for them to finish within `grace` (see `wait_within_grace`)."""
    tasks = list(tasks)
    for task in tasks:
        task.cancel()
    await wait_within_grace(tasks, what, grace)


async def within(awaitable: Awaitable[T], limit: float) -> T:
    """`await awaitable` for at most `limit` seconds (asyncio.TimeoutError after).

    On 3.11+ `asyncio.timeout`: `asyncio.wait_for` of 3.10/3.11 loses a cancellation that arrives
    as its answer does, and a loop that lost its cancel runs on (a fleet of 500 closing waited
    5 s on sessions that had). 3.10 has only wait_for."""
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(limit):
            return await awaitable
    return await asyncio.wait_for(awaitable, limit)
