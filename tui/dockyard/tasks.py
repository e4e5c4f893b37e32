"""Stopping a group of asyncio tasks without hanging on one that ignores cancellation.

Stdlib only; any layer may use it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger("dockyard.tasks")
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
