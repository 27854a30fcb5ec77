"""`sfops logs analyze` run in-process, offline."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from cli_support import run_cli
from paths import APEX_LOGS

SOQL_101 = str(APEX_LOGS / "synthetic" / "SYNTHETIC-soql-101-trigger-loop-v64.log")
TRUNCATED = str(APEX_LOGS / "SYNTHETIC-certinia-mcp-truncated-skipped-maxsize-v64.log")
ROW_LOCK = str(APEX_LOGS / "synthetic" / "SYNTHETIC-unable-to-lock-row-queueable-v64.log")


def test_analyze_json_reports_category_limits_and_exit_0_for_a_failing_transaction() -> None:
    result = run_cli(["logs", "analyze", SOQL_101, ROW_LOCK, "--json"], env={})
    assert result.exit_code == 0
    body = result.json
    assert body["status"] == 0
    rows = body["result"]["transactions"]
    assert [r["category"] for r in rows] == ["governor_limit", "row_lock"]
    assert rows[0]["limit"] == "soql_queries" and rows[0]["failed"] is True
    assert rows[0]["closest_limits"].startswith("soql_queries 101% (101/100)")
    assert rows[0]["exceptions"] == "System.LimitException: Too many SOQL queries: 101 [fatal]"
    assert rows[0]["entry_point"] == "ContactTrigger on Contact trigger event AfterInsert"
    assert rows[1]["duration_ms"] == 19960.5
    detail = body["result"]["logs"][0]["log"]["transactions"][0]
    assert detail["soql"][0]["executions"] == 101


def test_analyze_table_shows_hint() -> None:
    result = run_cli(["logs", "analyze", SOQL_101], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    assert "governor_limit" in result.stdout and "soql_queries exceeded" in result.stdout
    assert "1 transaction(s) in 1 file(s); 1 failed." in result.stdout


def test_analyze_csv_has_a_header_and_one_row_per_transaction() -> None:
    result = run_cli(["logs", "analyze", SOQL_101, TRUNCATED, "--csv"], env={})
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["category"] for r in rows] == ["governor_limit", "none"]
    assert rows[0]["tx"] == "0" and rows[0]["file"].endswith("trigger-loop-v64.log")


def test_problems_lists_truncation_markers() -> None:
    result = run_cli(["logs", "analyze", TRUNCATED, "--problems", "--json"], env={})
    assert result.exit_code == 0
    kinds = [r["kind"] for r in result.json["result"]]
    assert kinds == ["truncated-skipped", "truncated-max-size", "unexpected-end"]


def test_unreadable_file_exits_1_but_the_others_are_still_analysed(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.log")
    result = run_cli(["logs", "analyze", SOQL_101, missing, str(tmp_path), "--json"], env={})
    assert result.exit_code == 1
    body = result.json
    assert len(body["result"]["transactions"]) == 1
    assert len(body["warnings"]) == 2 and any("nope.log" in w for w in body["warnings"])


def test_a_truncated_gzip_log_is_reported_not_a_traceback(tmp_path: Path) -> None:
    import gzip

    packed = gzip.compress(Path(SOQL_101).read_bytes())
    (tmp_path / "cut.log.gz").write_bytes(packed[: len(packed) // 2])
    result = run_cli(["logs", "analyze", SOQL_101, str(tmp_path / "cut.log.gz"), "--json"], env={})
    assert result.exit_code == 1
    body = result.json
    assert len(body["result"]["transactions"]) == 1
    assert any("damaged gzip file" in w and "cut.log.gz" in w for w in body["warnings"])


def test_analyze_without_files_is_a_usage_error() -> None:
    result = run_cli(["logs", "analyze"], env={})
    assert result.exit_code == 2 and "FILES" in result.stderr


def test_a_directory_stands_for_its_logs(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.log").write_bytes((APEX_LOGS / "certinia-mcp-minimal-v64.log").read_bytes())
    (tmp_path / "b.log").write_bytes(Path(SOQL_101).read_bytes())
    (tmp_path / "notes.txt").write_text("not a log")
    result = run_cli(["logs", "analyze", str(tmp_path), "--json"], env={})
    assert result.exit_code == 0
    assert [r["file"] for r in result.json["result"]["transactions"]] == ["b.log", "a.log"]
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli(["logs", "analyze", str(empty), "--json"], env={})
    assert result.exit_code == 1 and "no .log" in result.json["warnings"][0]
