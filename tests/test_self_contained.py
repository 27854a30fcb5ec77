"""The suite needs nothing outside the repository: a fresh clone runs it all (tests/conftest.py also fails
the run when any test opens a file in the project's shared folder beside the repository)."""

from __future__ import annotations

import re

from paths import DATA, REPO

SOURCES = [*REPO.glob("tests/**/*.py"), *REPO.glob("benchmarks/**/*.py"), *REPO.glob("scripts/**/*.py")]
GUARDS = {"test_self_contained.py", "conftest.py"}  # they name the folder in order to guard against it
OUTSIDE = re.compile(r"""(\.\./shared|parent\s*/\s*["']shared["']|["']\.\.["']\s*,\s*["']shared["'])""")


def test_no_test_benchmark_or_script_reads_the_shared_folder_beside_the_repo() -> None:
    offenders = [
        f"{path.relative_to(REPO)}:{number}"
        for path in SOURCES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line) and not line.lstrip().startswith("#") and path.name not in GUARDS
    ]
    assert offenders == []


def test_every_data_folder_has_a_provenance_file() -> None:
    folders = [path for path in DATA.iterdir() if path.is_dir()]
    assert folders, "tests/data is empty"
    for folder in folders:
        assert any(folder.glob("PROVENANCE.md")) or any(folder.glob("*/README.md")), folder
