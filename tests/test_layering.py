"""The layering of docs/architecture.md, enforced on the import statements of sfops/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from paths import REPO

PACKAGE = REPO / "sfops"


def imports_of(path: Path) -> set[str]:
    """Every module name a file imports (absolute names; relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def layer_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0].removesuffix(".py")


FILES = sorted(p for p in PACKAGE.rglob("*.py"))
RULES = [
    # (forbidden import prefix, layers allowed to import it, why)
    ("sfops.cli", {"cli", "__main__"}, "the domain must not depend on the CLI"),
    ("sfops.emulator", {"cli", "emulator"}, "client code reaches the emulator only over HTTPS"),
    ("simple_salesforce", {"salesforce"}, "sfops.salesforce is the only code that talks to an org"),
    ("sqlalchemy", {"store"}, "sfops.store is the only code that talks to the local database"),
]


@pytest.mark.parametrize("prefix,allowed,why", RULES, ids=[r[0] for r in RULES])
def test_layering(prefix: str, allowed: set[str], why: str) -> None:
    offenders = [f"{p.relative_to(REPO)} imports {name}" for p in FILES if layer_of(p) not in allowed
                 for name in imports_of(p) if name == prefix or name.startswith(prefix + ".")]
    assert not offenders, f"{why}:\n" + "\n".join(offenders)


def test_emulator_imports_nothing_above_it() -> None:
    allowed = ("sfops.emulator", "sfops.errors", "sfops.config")
    offenders = [f"{p.relative_to(REPO)} imports {name}" for p in FILES if layer_of(p) == "emulator"
                 for name in imports_of(p) if name.startswith("sfops") and not name.startswith(allowed)]
    assert not offenders, "\n".join(offenders)
