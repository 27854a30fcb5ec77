"""`sfops --help` lists the groups without importing them, and says the same as the imported groups."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sfops.cli.app import GROUPS, load_group


@pytest.mark.parametrize("name", sorted(GROUPS))
def test_group_summary_is_the_first_line_of_the_group_help(name: str) -> None:
    assert GROUPS[name][1] == (load_group(name).help or "").strip().splitlines()[0]


def test_root_help_imports_no_command_group() -> None:
    code = (
        "import sys; from sfops.cli.app import GROUPS, main; main(['--help']); "
        "print(sorted(t.split(':')[0] for t, _ in GROUPS.values() if t.split(':')[0] in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert "Commands:" in proc.stdout and "switch" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("group", ["logs", "incident", "oncall", "alerts", "rollback", "agent", "console"])
def test_group_help_imports_no_heavy_library(group: str) -> None:
    """`sfops GROUP --help` stays fast: the store, the Salesforce client and pandas load in the commands."""
    heavy = ("sqlalchemy", "simple_salesforce", "zeep", "pandas", "cryptography", "prometheus_client", "apscheduler")
    code = (
        f"import sys; from sfops.cli.app import main\ntry:\n    main([{group!r}, '--help'])\n"
        f"except SystemExit:\n    pass\nprint(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert proc.stdout.strip().splitlines()[-1] == "[]"
