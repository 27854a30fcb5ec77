"""Scope, value, assignment and duration parsing: what users type before anything reaches an org."""

from __future__ import annotations

import datetime as dt

import pytest

from sfops.errors import UsageError
from sfops.switches import Level, parse_assignments, parse_duration, parse_scope, parse_value


@pytest.mark.parametrize("text", [None, "org", " ORG "])
def test_org_scope_is_the_default(text: str | None) -> None:
    scope = parse_scope(text)
    assert scope.level is Level.ORG and scope.label == "org"


def test_profile_and_user_scopes_keep_the_name_verbatim() -> None:
    assert parse_scope("profile:Custom: Sales Profile").name == "Custom: Sales Profile"
    user = parse_scope("user:o'brien@example.com")
    assert user.level is Level.USER and user.name == "o'brien@example.com"
    assert user.label == "user:o'brien@example.com"


@pytest.mark.parametrize("text", ["team:x", "profile", "profile:", "user:  ", "everyone", "user:a\nb"])
def test_bad_scopes_are_usage_errors_naming_the_valid_forms(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_scope(text)
    assert "Bad scope" in info.value.message


@pytest.mark.parametrize(("text", "value"), [("on", True), ("OFF", False), ("true", True), ("0", False)])
def test_values(text: str, value: bool) -> None:
    assert parse_value(text) is value


def test_bad_value() -> None:
    with pytest.raises(UsageError, match="use on or off"):
        parse_value("maybe")


def test_assignments_keep_order_and_refuse_duplicates() -> None:
    assert parse_assignments(["B=off", "A=on"]) == {"B": False, "A": True}
    with pytest.raises(UsageError, match="given twice"):
        parse_assignments(["A=on", "a=off"])
    with pytest.raises(UsageError, match="NAME=on"):
        parse_assignments(["A"])
    with pytest.raises(UsageError):
        parse_assignments([])


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("15m", 900), ("2h", 7200), ("1h30m", 5400), ("1d", 86400)])
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "2", "h", "2x", "0m", "31d", "1h-5m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(UsageError):
        parse_duration(text)
