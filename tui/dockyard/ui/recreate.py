"""The Containers pane's recreate: confirm (each container with its host, old → new digest when
known), then the progress screen — a row per container with its steps and pull progress, its
result in green or red — and a notice per container that did not come through.

The work itself is the controller's (dockyard.fleet.recreate), which also refuses read-only hosts.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from dockyard.fleet import Container
from dockyard.textfmt import short_id
from dockyard.ui.dialogs.confirm import ConfirmDialog, Option
from dockyard.ui.dialogs.progress import ProgressScreen, Reporter

if TYPE_CHECKING:
    from dockyard.fleet.recreate import RecreateReport
    from dockyard.ui.panes.base import Pane


def digest_change(pane: Pane, c: Container) -> str:
    """`old → new` for the confirmation: the registry check's digests when it has run, else the image ID."""
    checker = getattr(pane.fleet, "freshness", None)
    state = checker.state_of(c.host, c.id) if checker is not None else None
    running = getattr(state, "running_digest", None)
    available = getattr(state, "registry_digest", None)
    if running and available and running != available:
        return f"{short_id(running)} → {short_id(available)}"
    if running and available:
        return f"{short_id(running)} (the registry's is the same)"
    return f"{short_id(c.image_id, '?')} → newest {c.image}"


def ask_recreate(pane: Pane, targets: list[Container]) -> None:
    """Confirm, then recreate `targets` one at a time, stopping at the first rollback."""
    if not targets:
        pane.flash("no container selected", error=True)
        return
    targets = pane.changeable(targets)  # read-only fleet refused, read-only or offline hosts skipped: said first
    if not targets:
        return
    hosts = Counter(c.host for c in targets)
    where = ", ".join(f"{n} on {h}" for h, n in sorted(hosts.items()))
    title = (f"Recreate {len(targets)} container(s) with the newer image: {where}? One at a time; a replacement "
             f"that exits, restarts or turns unhealthy is rolled back and the rest are left alone.")
    lines = [(c.host, f"{c.name}  {c.image}  {digest_change(pane, c)}") for c in targets]
    options = [Option("pull", "Pull each image on its host first (with your login)", True)]
    pane.ask(ConfirmDialog(title, lines, "Recreate", options),
             lambda chosen: _start(pane, targets, bool(chosen.get("pull"))))


def _start(pane: Pane, targets: list[Container], pull: bool) -> None:
    async def run(report: Reporter) -> str:
        results: list[RecreateReport] = []
        layers: dict[tuple[str, str], tuple[int, int]] = {}
        for c in targets:
            report(f"{c.host}/{c.name}", "waiting")
        async for ev in pane.fleet.recreate.run(targets, pull=pull,
                                                auth=pane.registry_auth):
            row = f"{ev.host}/{ev.name}"
            if ev.kind == "pull" and ev.layer:
                if ev.total:
                    layers[(row, ev.layer)] = (ev.current or 0, ev.total)
                done = [v for (r, _), v in layers.items() if r == row]
                report(row, f"pulling: {ev.status}", sum(c for c, _ in done), sum(t for _, t in done) or None)
            elif ev.kind == "step":
                report(row, ev.status)
            elif ev.report is not None:
                results.append(ev.report)
                report(row, _words(ev.report), final=ev.report.ok)
                if not ev.report.ok and ev.report.outcome != "skipped":
                    last = f" — last log line: {ev.report.logs[-1]}" if ev.report.logs else ""
                    pane.flash(f"recreate {ev.report.name} on {ev.report.host}: {_words(ev.report)}{last}",
                               error=True)
        counts = Counter(r.outcome for r in results)
        return "; ".join(f"{outcome} {n}" for outcome, n in counts.items()) or "nothing done"

    pane.app.push_screen(ProgressScreen(f"Recreate {len(targets)} container(s)" + (", pulling first" if pull else ""),
                                        run, "esc closes; the container under way is still finished or rolled back"))


def _words(r: RecreateReport) -> str:
    if r.outcome == "recreated":
        return f"recreated: {short_id(r.old_digest or r.old_image)} → {short_id(r.new_digest or r.new_image)}"
    if r.outcome == "rolled-back":
        logs = f" | {r.logs[-1]}" if r.logs else ""
        return f"ROLLED BACK: {r.reason}{logs}"
    return f"{r.outcome}: {r.reason}"
