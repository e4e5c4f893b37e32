"""The panes of the app: one table each over the whole fleet (see base.Pane).

Adding a pane takes two things:

1. A module here with a `Pane` subclass: `pane_id`, `title`, `kinds` (the FleetChange kinds that make it
   stale), `columns`, `BINDINGS` (every Binding with an id, `<resource>.<verb>`), `build_rows()` and its
   actions and dialogs. It reads the fleet from `self.fleet` and the scope and filter from the attributes
   the app sets (attributes down); what the app must do (open a screen, change scope) it asks with a message
   nested in the pane class (messages up).
2. One `PaneSpec` in `registry.PANES`: id, number key, the class, `:` aliases, the `:` commands it runs
   (`command_<verb>` methods) and its palette entries.

From the registry the app builds its tabs, number keys, `:` completion and help, the palette and the
list of binding ids `[keys]` may remap; nothing else lists panes.
"""
