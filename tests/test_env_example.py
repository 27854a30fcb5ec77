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
