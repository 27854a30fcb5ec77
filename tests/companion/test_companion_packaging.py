"""One copy of the companion metadata: the wheel ships force-app/ (through the package's link to it)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from paths import REPO

PREFIX = "sfops/emulator/seed_data/force-app/"


def test_the_wheel_ships_exactly_the_files_of_force_app(tmp_path: Path) -> None:
    # Build from a copy (links kept as links) so the build leaves nothing in the checkout.
    src = tmp_path / "src"
    shutil.copytree(REPO / "sfops", src / "sfops", symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "force-app", src / "force-app")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    assert (src / PREFIX).is_symlink()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path / "dist"),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = (tmp_path / "dist").glob("sfops-*.whl")
    source = {
        p.relative_to(REPO / "force-app").as_posix(): p.read_bytes()
        for p in (REPO / "force-app").rglob("*")
        if p.is_file()
    }
    with zipfile.ZipFile(wheel) as zf:
        shipped = {n[len(PREFIX) :]: zf.read(n) for n in zf.namelist() if n.startswith(PREFIX)}
    assert len(source) > 70
    assert shipped == source
