"""Small facts the project states about itself stay true."""

from __future__ import annotations

import re
import tomllib

from paths import REPO

NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}


def test_the_license_is_an_spdx_string_with_a_setuptools_that_reads_it() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "Apache-2.0"  # a table makes setuptools print a deprecation box
    assert not any(c.startswith("License ::") for c in project["project"].get("classifiers", []))
    assert "setuptools>=77" in project["build-system"]["requires"]


def test_the_emulator_docs_count_the_seeded_logs() -> None:
    match = re.search(r"`--seed demo` adds two users, (\w+) debug logs", (REPO / "docs" / "emulator.md").read_text())
    logs = list((REPO / "sfops" / "emulator" / "seed_data" / "apexlogs").glob("*.log"))
    assert match and NUMBERS[match.group(1)] == len(logs)
