"""Modal screens a pane or the app pushes; each returns its answer to a callback (None: cancelled).

    ask.py       AskDialog: a few fields, flags and a choice of hosts (create, tag, pull, push, prune…)
    confirm.py   ConfirmDialog: lists exactly what a destructive action touches, on which host
    hostkey.py   HostKeyDialog: an SSH host key offered: accept once, accept and save, or reject
    info.py      TextDialog: read-only text (the `?` keys, host details, image history, inspect JSON)
    progress.py  ProgressScreen: a fleet operation's progress, one bar per host and per layer
    run.py       RunDialog: the new-container form, run on one or several hosts
"""
