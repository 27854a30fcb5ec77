"""Flattening /limits on the REAL recorded response (wire/limits.json) and the sf-CLI shape."""

from __future__ import annotations

import json

from paths import WIRE

from sfops.limits import LimitRow, flatten_limits, sf_cli_rows

BODY = json.loads((WIRE / "limits.json").read_text(encoding="utf-8"))
NESTED = ("DailyBulkApiBatches", "DailyGenericStreamingApiEvents", "DailyStreamingApiEvents")


def test_every_top_level_entry_becomes_one_row_in_order() -> None:
    rows, skipped = flatten_limits(BODY)
    top = [r for r in rows if r.app is None]
    assert skipped == []
    assert [r.name for r in top] == list(BODY)
    assert len(top) == 48
    api = next(r for r in top if r.name == "DailyApiRequests")
    assert (api.max, api.remaining, api.used) == (15000, 14953, 47)
    assert api.used_pct == 0.31


def test_nested_per_app_entries_become_rows_with_an_app() -> None:
    rows, _ = flatten_limits(BODY)
    apps = [r for r in rows if r.app is not None]
    # 13 connected apps under each of the three streaming/bulk entries, plus PermissionSets.CreateCustom
    assert len(apps) == 3 * 13 + 1
    for name in NESTED:
        names = {r.app for r in apps if r.name == name}
        assert len(names) == 13
        assert {"Workbench", "Dataloader Bulk", "Salesforce for Outlook", "TEST APP"} <= names
    assert LimitRow("PermissionSets", 1000, 992, app="CreateCustom") in apps
    # the app rows never swallow the entry's own Max/Remaining
    bulk = next(r for r in rows if r.name == "DailyBulkApiBatches" and r.app is None)
    assert (bulk.max, bulk.remaining) == (15000, 15000)
    # an app row follows its own entry
    index = {(r.name, r.app): i for i, r in enumerate(rows)}
    assert index[("PermissionSets", None)] + 1 == index[("PermissionSets", "CreateCustom")]


def test_sf_cli_shape_is_top_level_name_max_remaining() -> None:
    rows, _ = flatten_limits(BODY)
    result = sf_cli_rows(rows)
    assert len(result) == len(BODY)
    assert all(set(r) == {"name", "max", "remaining"} for r in result)
    assert result[0] == {"name": "AnalyticsExternalDataSizeMB", "max": 40960, "remaining": 40960}
    assert {"name": "PermissionSets", "max": 1500, "remaining": 1491} in result
    assert not any(r["name"] == "CreateCustom" for r in result)


def test_malformed_entries_are_skipped_and_named() -> None:
    body = {
        "Good": {"Max": 10, "Remaining": 4, "App": {"Max": "x", "Remaining": 1}, "Other": {"Max": 2, "Remaining": 2}},
        "NoRemaining": {"Max": 5},
        "Weird": 7,
        "Text": {"Max": "12", "Remaining": "3"},
    }
    rows, skipped = flatten_limits(body)
    assert rows == [LimitRow("Good", 10, 4), LimitRow("Good", 2, 2, app="Other"), LimitRow("Text", 12, 3)]
    assert skipped == ["Good/App", "NoRemaining", "Weird"]


def test_used_pct_of_a_zero_limit_is_none() -> None:
    row = LimitRow("MonthlyPlatformEventsUsageEntitlement", 0, 0)
    assert row.used == 0 and row.used_pct is None
