"""The panes of the app: one table each over the whole fleet (see base.Pane)."""
