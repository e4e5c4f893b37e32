"""No daemon reply and no controller call ends the app: a failure becomes a notice.

Every pane, view and dialog calls the controller from a Textual worker (`@work`); Textual exits the
app when a worker raises. `DockyardApp._handle_exception` passes a worker's failure to `notice_for`
first, and so is an exception from a key or message handler whose traceback runs through the fleet
layer (a controller call made there): the user reads which host, which operation and why, the
traceback goes to the log, and the app keeps running. Any other exception (a bug in the UI itself)
still ends the app, as Textual does, so tests see it.

Who reads what: the app (its exception hook) and views that report their own failures (`notice`);
the host comes from the error when it knows it, else from the worker's widget.
"""

from __future__ import annotations

import logging
import re

from textual.worker import Worker

from dockyard.fleet import FleetError
from dockyard.textfmt import safe

log = logging.getLogger("dockyard.ui")

# Worker names (method names) that read better in other words.
OPERATIONS = {"_load_inspect": "inspect", "_load_top": "top", "_stream": "logs", "_details": "details"}


def operation_words(worker_name: str) -> str:
    """`action_pull_image` → "pull image"; `_load_top` → "top"."""
    if worker_name in OPERATIONS:
        return OPERATIONS[worker_name]
    name = re.sub(r"^(action_|_?load_|_?run_|_)", "", worker_name)
    return name.replace("_", " ").strip() or "a request"


def host_of(error: BaseException, worker: Worker | None) -> str | None:
    """The host an operation was about: the error's own, else the widget's (a detail view's container)."""
    host = getattr(error, "host", None)
    if isinstance(host, str) and host:
        return host
    node = getattr(worker, "node", None)
    container = getattr(node, "container", None)  # a container view
    for name in (getattr(container, "host", None), getattr(node, "scope", None)):  # a pane's scope
        if isinstance(name, str) and name:
            return name
    return None


CONTROLLER_MODULES = ("dockyard.fleet", "dockyard.transports", "aiodocker", "aiohttp", "asyncssh")


def controller_operation(error: BaseException) -> str | None:
    """For an exception raised outside a worker: the UI function that called the controller when
    it came from there (its traceback passes through the fleet layer or its libraries), else None."""
    ui_function, tb = None, error.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.startswith(CONTROLLER_MODULES):
            return operation_words(ui_function or "")
        if module.startswith("dockyard.ui"):
            ui_function = tb.tb_frame.f_code.co_name
        tb = tb.tb_next
    return None


def notice_for(error: BaseException, worker: Worker | None) -> str:
    """The notice for a worker that failed with `error`."""
    return notice(host_of(error, worker), operation_words(worker.name if worker is not None else ""), error)


def notice(host: str | None, operation: str, error: BaseException) -> str:
    """One line for the user: host, operation, reason (a FleetError's words, else the exception's)."""
    if isinstance(error, FleetError):
        reason = str(error)
        if host and reason.startswith(f"{host}: "):
            reason = reason[len(host) + 2:]
    else:
        log.error("%s failed (%s)", operation, host or "no host", exc_info=error)
        reason = f"unexpected reply or internal error: {type(error).__name__}: {error}"
    return safe(f"{host or 'Dockyard'}: {operation} failed: {reason}")
