"""`sfops --help` lists the groups without importing them, and says the same as the imported groups."""

from __future__ import annotations

import importlib
import subprocess
import sys

import click
import pytest

from sfops.cli.app import GROUPS, group_docstring


@pytest.mark.parametrize("name", sorted(GROUPS))
def test_group_help_read_from_source_matches_the_imported_group(name: str) -> None:
    module_name, attr = GROUPS[name].split(":")
    group: click.Command = getattr(importlib.import_module(module_name), attr)
    assert group_docstring(name) == group.help


def test_root_help_imports_no_command_group() -> None:
    code = ("import sys; from sfops.cli.app import GROUPS, main; main(['--help']); "
            "print(sorted(m.split(':')[0] for m in GROUPS.values() if m.split(':')[0] in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert "Commands:" in proc.stdout and "switch" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "[]"
