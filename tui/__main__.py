"""`python -m tui` is the same as the `dockyard` command."""

from tui.cli.main import main

raise SystemExit(main())
