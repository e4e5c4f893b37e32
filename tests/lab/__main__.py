"""`python tests/lab` (or `python -m lab` in tests/): start a lab, print its config, wait for Enter."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/, so `import lab` finds this package

from lab import ALL_HOSTS, Lab, owner  # noqa: E402

owner.stop_on_signals()  # a closed terminal or `kill` stops the lab too
with Lab.start() as running:
    print(f"lab up in {running.startup_seconds:.1f} s at {running.root}")
    print(running.config_toml(ALL_HOSTS))
    input("Enter stops the lab… ")
