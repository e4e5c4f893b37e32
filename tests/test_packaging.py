"""The distribution as an index would receive it: a wheel built from this checkout with the real build backend.

(The README's install command itself — `pipx install .` with Debian's /usr/bin/python3 in a clean
HOME, then `dockyard --version` — is checked by .ci/run before the tests.)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_carries_publishing_metadata_license_and_data(tmp_path):
    # Built from a copy: the build backend writes egg-info and build/ next to the sources, and the
    # checkout may be read-only to the user running the tests.
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "tui", source / "tui", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(source)],
                   check=True, capture_output=True, timeout=300)
    [wheel] = out.glob("dockyard-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(z.read(info).decode())
        entry_points = z.read(info.replace("METADATA", "entry_points.txt")).decode()
        license_text = z.read(info.replace("METADATA", "licenses/LICENSE")).decode()
    assert meta["License-Expression"] == "MIT" and meta["License-File"] == "LICENSE"
    assert license_text == (ROOT / "LICENSE").read_text() and "MIT License" in license_text
    classifiers = meta.get_all("Classifier")
    assert "Environment :: Console" in classifiers and "Operating System :: POSIX :: Linux" in classifiers
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert meta["Requires-Python"] == ">=3.10" and meta["Description-Content-Type"] == "text/markdown"
    assert any(d.startswith("shtab") for d in meta.get_all("Requires-Dist"))
    assert "dockyard = dockyard.cli.main:main" in entry_points
    assert "dockyard/ui/dockyard.tcss" in names  # package data travels too
