"""`sfops logs pull` summarises the failures it found by fingerprint, with counts, at 80 and 120 columns."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from cli_support import run_cli
from test_logs_pull import HEAP, SOQL_101, seed

from sfops.emulator.testing import RunningEmulator
from sfops.logs.pull import failure_groups


@pytest.mark.parametrize("width", ["80", "120"])
def test_pull_prints_one_row_per_fingerprint_with_its_count(
    emu: RunningEmulator, cli_env: dict[str, str], width: str
) -> None:
    seed(emu, 40, body=SOQL_101)
    seed(emu, 3, body=HEAP, minute0=30)
    env = {**cli_env, "COLUMNS": width}
    result = run_cli(["logs", "pull"], env)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= int(width)
    assert len(lines) < 30  # not 40+ two-line rows
    counts = [int(m.group(1)) for line in lines if (m := re.match(r"│ (\d+) +│", line))]
    assert counts == sorted(counts, reverse=True) and counts[0] == 41 and 3 in counts  # 40 + the demo seed's one
    text = " ".join(result.stdout.split())  # the message wraps at the terminal's width
    total = re.search(r"(\d+) failed transaction\(s\) in (\d+) group\(s\)", text)
    assert total and int(total.group(1)) == sum(counts) and int(total.group(2)) == len(counts)
    assert "sfops logs report --failures" in text


def test_failure_groups_count_by_fingerprint_and_keep_each_log_once() -> None:
    rows = [
        {
            "log_id": f"07L{i % 3}",
            "fingerprint": "aa" if i < 5 else "bb",
            "category": "governor_limit",
            "entry_point": "T",
            "limit": "soql_queries",
            "exceptions": "LimitException",
        }
        for i in range(7)
    ]
    groups = failure_groups(rows)
    assert [(g["fingerprint"], g["count"]) for g in groups] == [("aa", 5), ("bb", 2)]
    assert groups[0]["logs"] == ["07L0", "07L1", "07L2"]
    assert Counter(r["fingerprint"] for r in rows) == {g["fingerprint"]: g["count"] for g in groups}
