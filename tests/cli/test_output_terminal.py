"""The shared rendering at a fixed terminal width: 80 and 120 columns, one timestamp format, notes
that are not warnings."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from rich.console import Console

from sfops.cli.output import Result, render, when_text

MOMENTS = [
    "2026-12-06T20:07:54.233000+00:00",
    "2026-12-06T19:16:54.233000",
    "2026-12-06T21:19:16.000+0000",
    dt.datetime(2026, 12, 6, 21, 22, 53, 992381),
    dt.datetime(2026, 12, 6, 22, 17, tzinfo=dt.UTC),
]

# the shape of `org list` and `incident notifications`: Ids, timestamps, long free text
ORGS = [
    {
        "alias": "emulator",
        "default": True,
        "auth": "password",
        "instance_url": "https://localhost:39267",
        "username": "admin@sfops.demo",
        "production": True,
        "api_version": "64.0",
        "last_checked": "2026-12-06T21:19:16.000+0000",
    }
]
NOTIFICATIONS = [
    {
        "id": i,
        "incident": "INC-00001",
        "channel": channel,
        "kind": "raised",
        "status": "sent",
        "attempts": 1,
        "created": dt.datetime(2026, 12, 6, 21, 17, tzinfo=dt.UTC),
        "sent": dt.datetime(2026, 12, 6, 21, 17, 30, tzinfo=dt.UTC),
        "error": "HTTP 503 from the webhook receiver, retried with backoff" if i == 2 else "",
    }
    for i, channel in enumerate(["pagerduty", "slack", "teams", "oncall-email"], 1)
]


def shown(result: Result, width: int) -> str:
    console = Console(file=io.StringIO(), width=width)
    render(result, as_json=False, console=console)
    return console.file.getvalue()


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("rows", [ORGS, NOTIFICATIONS], ids=["org list", "notifications"])
def test_tables_fit_the_terminal_without_splitting_headers_ids_or_timestamps(rows: list[dict], width: int) -> None:
    text = shown(Result(data=rows, title="T"), width)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    header = next(line for line in lines if line.startswith("┃"))
    shown_columns = [h.strip() for h in header.strip("┃").split("┃")]
    dropped = [c for c in rows[0] if c not in shown_columns]
    for column in shown_columns:  # a header is whole on its first line: never cut inside a word
        assert column in rows[0], (column, text)
    for row in rows:
        for column in shown_columns:
            cell = str(row[column]) if not isinstance(row[column], dt.datetime | bool) else None
            if cell and len(cell) <= 30 and " " not in cell:  # Ids, statuses: on one line
                assert cell in text
    assert text.count("2026-12-06 21:17 UTC") == (
        2 * len(rows) if "sent" in shown_columns else len(rows) if "created" in shown_columns else 0
    )
    if dropped:
        assert f"not shown at {width} columns: {', '.join(dropped)}" in text
    else:
        assert "not shown" not in text


def test_at_120_columns_nothing_is_dropped_and_at_80_the_optional_columns_go_first() -> None:
    assert "not shown" not in shown(Result(data=NOTIFICATIONS), 120)
    text = shown(Result(data=NOTIFICATIONS, optional=["attempts", "created"]), 80)
    assert "not shown at 80 columns: attempts, created" in text


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
def test_every_timestamp_is_shown_one_way(moment: object) -> None:
    text = shown(Result(data=[{"at": moment}]), 80)
    assert when_text(moment) in text  # type: ignore[arg-type]
    assert "T" not in when_text(moment).replace("UTC", "")  # type: ignore[arg-type]
    assert when_text(moment).endswith(" UTC") and len(when_text(moment)) == 20  # type: ignore[arg-type]


def test_json_timestamps_are_iso_8601_with_an_offset() -> None:
    console = Console(file=io.StringIO(), width=80)
    naive = dt.datetime(2026, 12, 6, 21, 22, 53, 992381)
    render(Result(data={"at": naive}), as_json=True, console=console)
    assert json.loads(console.file.getvalue())["result"]["at"] == "2026-12-06T21:22:53.992381+00:00"
    assert dt.datetime.fromisoformat(json.loads(console.file.getvalue())["result"]["at"]).utcoffset() is not None


def test_notes_are_information_not_warnings() -> None:
    text = shown(Result(data={"x": 1}, notes=["JUnit results: out.xml"], warnings=["2 tests failed"]), 80)
    assert "JUnit results: out.xml" in text and "Warning: JUnit" not in text
    assert "Warning: 2 tests failed" in text
    console = Console(file=io.StringIO(), width=80)
    render(Result(data={"x": 1}, notes=["JUnit results: out.xml"]), as_json=True, console=console)
    assert json.loads(console.file.getvalue())["warnings"] == []


def test_a_moment_asked_for_in_a_zone_keeps_the_shape_and_names_the_zone() -> None:
    from zoneinfo import ZoneInfo

    paris = dt.datetime(2026, 3, 30, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert when_text(paris) == "2026-03-30 09:00 CEST"
    assert when_text(paris.astimezone(dt.UTC)) == "2026-03-30 07:00 UTC"
    assert when_text(dt.datetime(2026, 3, 30, 7, 0, tzinfo=ZoneInfo("UTC"))) == "2026-03-30 07:00 UTC"


def test_a_document_is_written_as_is_at_any_width() -> None:
    markdown = "| Time | Who | What |\n|---|---|---|\n| 2026-12-06 23:54 | demo-release-manager | " + "x" * 120 + " |\n"
    text = shown(Result(data={"markdown": markdown}, message=markdown, document=True), 80)
    assert text == markdown  # a table row stays one line, whatever the terminal
    wrapped = shown(Result(data={}, message=markdown), 80)
    assert wrapped != markdown  # prose messages do wrap


def test_csv_keeps_iso_moments_for_spreadsheets_and_scripts() -> None:
    console = Console(file=io.StringIO(), width=80)
    render(
        Result(data=[{"at": dt.datetime(2026, 12, 6, 21, 17, tzinfo=dt.UTC)}]),
        as_json=False,
        console=console,
        fmt="csv",
    )
    assert console.file.getvalue().splitlines() == ["at", "2026-12-06T21:17:00+00:00"]
