"""Images pane: every image of every host, a drift view by tag, pull/push/transfer/prune.

Drift view (`v`): one row per repository:tag with the hosts that have it; a tag that
points at different image IDs on different hosts is marked DRIFT.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from textual.binding import Binding

from dockyard.fleet import Image
from dockyard.textfmt import ago, human_size
from dockyard.ui.panes.base import Column, Pane, Row, cell


def short_id(image_id: str) -> str:
    return image_id.split(":")[-1][:12]


class ImagesPane(Pane):
    pane_id = "images"
    title = "Images"
    kinds = frozenset({"images", "containers", "host"})
    columns = (
        Column("mark", " ", 1), Column("host", "HOST"), Column("ref", "REPOSITORY:TAG"), Column("id", "IMAGE ID"),
        Column("size", "SIZE"), Column("created", "CREATED"), Column("used", "USED BY"),
    )
    drift_columns = (
        Column("mark", " ", 1), Column("ref", "REPOSITORY:TAG"), Column("state", "DRIFT"),
        Column("hosts", "HOSTS"), Column("ids", "IMAGE IDS"), Column("missing", "MISSING ON"),
    )
    BINDINGS = [
        Binding("space", "mark", "Mark", id="image.mark"),
        Binding("v", "toggle_drift", "Drift view", id="image.drift"),
        Binding("d", "toggle_dangling", "Dangling", id="image.dangling"),
        Binding("p", "pull", "Pull", id="image.pull"),
        Binding("P", "push", "Push", id="image.push"),
        Binding("t", "tag", "Tag", id="image.tag"),
        Binding("T", "transfer", "Transfer", id="image.transfer"),
        Binding("h", "history", "History", id="image.history"),
        Binding("enter", "inspect", "Inspect", id="image.inspect"),
        Binding("ctrl+d", "remove", "Remove", id="image.remove"),
        Binding("x", "prune", "Prune", id="image.prune"),
        Binding("o", "sort", "Sort", id="image.sort"),
    ]
    MUTATING = frozenset({"pull", "push", "tag", "transfer", "remove", "prune"})

    def mark_key(self, row: Row) -> tuple[str, str] | None:
        image = row.data[0] if row.data else None
        return (image.host, image.id) if image is not None else None

    def __init__(self) -> None:
        super().__init__()
        self.drift_view = False
        self.show_dangling = False
        self.marked: set[tuple[str, str]] = set()  # (host, image id)

    @property
    def active_columns(self):  # type: ignore[override]
        return self.drift_columns if self.drift_view else self.columns

    # ------------------------------------------------------------------ rows

    def images(self) -> list[Image]:
        return self.dock.fleet.cached("images", self.dock.scope_hosts())

    def build_rows(self) -> list[Row]:
        return self._drift_rows() if self.drift_view else self._image_rows()

    def _image_rows(self) -> list[Row]:
        dock = self.dock
        match = dock.filter_matcher()
        used = Counter((c.host, c.image_id) for c in dock.fleet.cached("containers", dock.scope_hosts()))
        order = {name: i for i, name in enumerate(dock.fleet.sessions)}
        images = self.images()
        self.marked &= {(i.host, i.id) for i in images}
        rows = []
        for image in images:
            refs = list(image.tags) or (["<none>:<none>"] if self.show_dangling else [])
            for ref in refs:
                users = used[(image.host, image.id)]
                texts = [image.host, ref, short_id(image.id), human_size(image.size), ago(image.created), str(users)]
                if not match(texts, {"host": image.host, "image": ref, "labels": image.labels, "name": ref}):
                    continue
                marked = (image.host, image.id) in self.marked
                cells = (cell("●" if marked else " ", "bold magenta"),) + tuple(
                    cell(t, "dim" if ref.startswith("<none>") else "") for t in texts)
                rows.append(Row(f"{image.host}\x00{image.id}\x00{ref}", cells, {
                    "host": image.host, "ref": ref, "id": image.id, "size": image.size, "created": -image.created,
                    "used": users, "order": (order.get(image.host, 0), ref)}, (image, ref)))
        rows.sort(key=lambda r: r.sort_values["order"])
        return rows

    def _drift_rows(self) -> list[Row]:
        dock = self.dock
        match = dock.filter_matcher()
        by_ref: dict[str, dict[str, str]] = defaultdict(dict)
        hosts_seen: set[str] = set()
        for image in self.images():
            hosts_seen.add(image.host)
            for ref in image.tags:
                by_ref[ref][image.host] = image.id
        rows = []
        for ref in sorted(by_ref):
            hosts = by_ref[ref]
            ids = sorted(set(hosts.values()))
            drifted = len(ids) > 1
            missing = sorted(hosts_seen - set(hosts))
            ids_text = ", ".join(f"{short_id(i)} ({', '.join(h for h, v in sorted(hosts.items()) if v == i)})"
                                 for i in ids) if drifted else short_id(ids[0])
            texts = [ref, "DRIFT" if drifted else "same", ", ".join(sorted(hosts)), ids_text, ", ".join(missing)]
            if not match(texts, {"image": ref, "name": ref}):
                continue
            style = "bold red" if drifted else ""
            cells = (cell(" "),) + tuple(cell(t, style if i in (0, 1, 3) else "") for i, t in enumerate(texts))
            rows.append(Row(f"drift\x00{ref}", cells, {"ref": ref, "state": not drifted, "hosts": len(hosts),
                                                       "ids": len(ids), "missing": len(missing)}, (None, ref)))
        return rows

    def header_parts(self) -> list:
        return [("  ", ""), ("drift view" if self.drift_view else "per host", "dim")]

    # ------------------------------------------------------------------ selection

    def selected(self) -> list[tuple[Image, str]]:
        """Marked images (one entry each), else the cursor row."""
        if self.marked and not self.drift_view:
            seen: dict[tuple[str, str], tuple[Image, str]] = {}
            for r in self.rows:
                image, ref = r.data
                if (image.host, image.id) in self.marked:
                    seen.setdefault((image.host, image.id), (image, ref))
            return list(seen.values())
        row = self.cursor_row_data()
        if row is None or row.data is None or row.data[0] is None:
            return []
        return [row.data]

    def cursor_ref(self) -> str:
        row = self.cursor_row_data()
        return row.data[1] if row is not None and row.data else ""

    # ------------------------------------------------------------------ actions

    def action_toggle_drift(self) -> None:
        self.drift_view = not self.drift_view
        self.reset_columns()
        self.sort_key = ""
        self.refresh_data()
        self.dock.flash("drift view: one row per tag across hosts" if self.drift_view else "images per host")
        self.dock.update_summary()

    def action_toggle_dangling(self) -> None:
        self.show_dangling = not self.show_dangling
        self.refresh_data()
        self.dock.flash("showing dangling images" if self.show_dangling else "hiding dangling images")

    def action_pull(self) -> None:
        self.dock.images_pull(self.cursor_ref())

    def action_push(self) -> None:
        self.dock.images_push(self.selected())

    def action_tag(self) -> None:
        self.dock.images_tag(self.selected())

    def action_transfer(self) -> None:
        self.dock.images_transfer(self.selected())

    def action_history(self) -> None:
        chosen = self.selected()
        if chosen:
            self.dock.images_history(*chosen[0])

    def action_inspect(self) -> None:
        chosen = self.selected()
        if chosen:
            self.dock.images_inspect(*chosen[0])

    def on_data_table_row_selected(self, event) -> None:
        event.stop()
        if self.drift_view:
            ref = self.cursor_ref()
            self.drift_view = False
            self.reset_columns()
            self.dock.set_filter(f"image:{ref}")
        else:
            self.action_inspect()

    def action_remove(self) -> None:
        self.dock.images_remove(self.selected())

    def action_prune(self) -> None:
        self.dock.images_prune()

