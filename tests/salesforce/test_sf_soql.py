"""SOQL escaping: quoting per Salesforce's escape rules, literals, and injection attempts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from sfops.salesforce import soql_like, soql_literal, soql_quote


@pytest.mark.parametrize(
    ("raw", "quoted"),
    [
        ("Acme", "'Acme'"),
        ("O'Brien", "'O\\'Brien'"),
        ("back\\slash", "'back\\\\slash'"),
        ('say "hi"', "'say \\\"hi\\\"'"),
        ("line1\nline2\r\tend", "'line1\\nline2\\r\\tend'"),
        ("bell\b form\f", "'bell\\b form\\f'"),
        ("", "''"),
        ("ünïcödé ✓", "'ünïcödé ✓'"),
    ],
)
def test_soql_quote_escapes_each_special_character(raw: str, quoted: str) -> None:
    assert soql_quote(raw) == quoted


@pytest.mark.parametrize(
    "attack",
    [
        "x' OR Name != '",
        "x\\' OR Id != null OR Name = '",
        "' OR '1'='1",
        "abc\\",
        "a'; DELETE FROM Account; --",
    ],
)
def test_injection_attempts_stay_inside_one_string_literal(attack: str) -> None:
    literal = soql_quote(attack)
    # Walk the literal as SOQL's lexer would: it must end exactly at the last character.
    assert literal[0] == "'"
    i, body = 1, []
    while True:
        char = literal[i]
        if char == "\\":
            body.append(literal[i : i + 2])
            i += 2
            continue
        if char == "'":
            break
        body.append(char)
        i += 1
    assert i == len(literal) - 1, f"string closed early: {literal}"
    unescaped = "".join(b[1] if b.startswith("\\") else b for b in body)
    assert unescaped == attack


def test_backslash_is_escaped_before_quote_so_an_escape_cannot_be_neutralised() -> None:
    assert soql_quote("\\'") == "'\\\\\\''"


def test_like_escapes_wildcards_and_adds_requested_ones() -> None:
    assert soql_like("50%_off") == "'50\\%\\_off'"
    assert soql_like("Acme", suffix=True) == "'Acme%'"
    assert soql_like("O'B", prefix=True, suffix=True) == "'%O\\'B%'"


def test_literals_for_python_values() -> None:
    assert soql_literal(True) == "true"
    assert soql_literal(False) == "false"
    assert soql_literal(None) == "null"
    assert soql_literal(42) == "42"
    assert soql_literal(-1.5) == "-1.5"
    assert soql_literal(1e-7) == "0.0000001"
    assert soql_literal(Decimal("12.50")) == "12.50"
    assert soql_literal(dt.date(2026, 1, 2)) == "2026-01-02"
    assert soql_literal(dt.datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05Z"
    cet = dt.timezone(dt.timedelta(hours=1))
    assert soql_literal(dt.datetime(2026, 1, 2, 3, 4, 5, 250000, tzinfo=cet)) == "2026-01-02T02:04:05.250Z"
    assert soql_literal("it's") == "'it\\'s'"
    assert soql_literal(["a", "b'"]) == "('a', 'b\\'')"
    assert soql_literal((1, 2)) == "(1, 2)"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), [], object(), b"bytes"])
def test_values_without_a_soql_form_are_refused(bad: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        soql_literal(bad)


def test_quote_refuses_non_strings() -> None:
    with pytest.raises(TypeError):
        soql_quote(5)  # type: ignore[arg-type]
