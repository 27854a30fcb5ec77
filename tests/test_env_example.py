""".env.example documents every SFOPS_ environment variable the product reads."""

from __future__ import annotations

import re

from paths import REPO

NOT_VARIABLES = {"SFOPS_LIMITS"}  # the name of the DebugLevel sfops creates, not an environment variable


def test_every_variable_the_code_reads_is_documented() -> None:
    names: set[str] = set()
    for path in (REPO / "sfops").rglob("*.py"):
        names |= set(re.findall(r"\bSFOPS_[A-Z0-9_]*[A-Z0-9]\b", path.read_text(encoding="utf-8")))
    documented = set(re.findall(r"\bSFOPS_[A-Z0-9_]*[A-Z0-9]\b", (REPO / ".env.example").read_text()))
    missing = sorted(n for n in names - documented - NOT_VARIABLES if not n.startswith("SFOPS_ORG_"))
    assert not missing, f"add to .env.example: {missing}"


def test_uncommenting_and_filling_any_variable_gives_exactly_that_value(tmp_path) -> None:
    """Each description sits on its own comment line: a value typed after `NAME=` (or the example shown
    there) is exactly what sfops reads, with no description glued to it."""
    from dotenv import dotenv_values

    lines = [line for line in (REPO / ".env.example").read_text().splitlines() if re.match(r"# SFOPS_\w+=", line)]
    assert len(lines) > 20
    for line in lines:
        name, _, example = line.removeprefix("# ").partition("=")
        filled = f"{name}={example or 's3cret  with spaces'}"
        dotenv = tmp_path / ".env"
        dotenv.write_text(filled + "\n", encoding="utf-8")
        assert dotenv_values(dotenv) == {name: example or "s3cret  with spaces"}, line
