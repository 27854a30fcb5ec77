"""`logs analyze` on a file that is not an Apex debug log warns instead of reporting "none" silently."""

from __future__ import annotations

from pathlib import Path

from cli_support import run_cli
from paths import APEX_LOGS


def test_a_file_that_is_not_an_apex_log_is_warned_about(tmp_path: Path) -> None:
    other = tmp_path / "notes.log"
    other.write_text("hello world\nthis is not a log\n", encoding="utf-8")
    real = APEX_LOGS / "certinia-mcp-minimal-v64.log"
    result = run_cli(["logs", "analyze", str(other), str(real), "--json"], {"COLUMNS": "80"})
    assert result.exit_code == 0
    warnings = result.json["warnings"]
    assert len(warnings) == 1 and warnings[0].startswith(f"{other}: not an Apex debug log")
    human = run_cli(["logs", "analyze", str(other)], {"COLUMNS": "80"})
    assert "Warning:" in human.stdout and "not an Apex debug log" in " ".join(human.stdout.split())
    assert "not an Apex" not in run_cli(["logs", "analyze", str(real)], {"COLUMNS": "80"}).stdout
