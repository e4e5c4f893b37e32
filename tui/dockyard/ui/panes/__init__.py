"""The panes of the app: one table each over the whole fleet (see base.Pane).

Adding a pane (say Services) takes two things, nothing else:

1. `panes/services.py` with a `Pane` subclass: `pane_id`, `kinds` (the FleetChange kinds that
   make it stale), `columns`, `BINDINGS = key_table("service", ...)` (ids `service.<action>`, which
   `[keys]` may remap), `build_rows()` (best from a pure `service_row(...)` function that
   tests/test_render.py can check without a daemon), `mark_key()` if rows can be marked, and its own
   actions and dialogs (`self.ask(dialog, then)`, workers calling `self.fleet.<resource>`).
   It reads what the app hands down: `self.fleet`, `self.registries`, `self.scope`, `self.match`
   (the `/` filter). What only the app can do (open a screen, change scope or filter, repaint the
   tabs line) it asks with a message nested in the pane class (`ContainersPane.OpenLogs`) that the
   app handles (`on_containers_pane_open_logs`).
2. One `PaneSpec` in `registry.PANES`: id, number key, title, where the class is ("module:Class",
   imported once the first frame is up), `:` aliases, the `:` commands it runs (`command_<verb>`
   methods), its palette entries (pane actions) and `lists`, the object kinds whose rows it holds
   (enter on an event or a problem about one goes there).

From the registry the app builds its tabs, number keys, `:` completion and help, the palette, the
binding ids `[keys]` may remap and where "go to" lands; nothing else lists panes. The README's key
tables are written by hand: a new pane adds its number key and its keys there.
"""
