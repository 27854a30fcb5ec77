"""Parser and tokenizer: structure of parsed queries and MALFORMED_QUERY for bad syntax."""
# ruff: noqa: S608  -- these tests build SOQL text on purpose: it is the engine's input

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from sfops.emulator.soql import SoqlError, parse
from sfops.emulator.soql.lexer import tokenize
from sfops.emulator.soql.nodes import Aggregate, BoolOp, Comparison, FieldRef, Not, SubQuery


def test_keywords_and_names_are_case_insensitive_and_paths_kept_as_written() -> None:
    q = parse("select Id, LogUser.Name, debuglevel.apexcode FROM ApexLog where Status = 'Success'")
    assert [s.path for s in q.select] == [("Id",), ("LogUser", "Name"), ("debuglevel", "apexcode")]
    assert q.from_name == "ApexLog"
    assert isinstance(q.where, Comparison) and q.where.op == "=" and q.where.value.value == "Success"


def test_count_only() -> None:
    q = parse("SELECT COUNT() FROM Account")
    assert q.count_only and q.select == [Aggregate("COUNT", None, 7)]


def test_full_clause_order() -> None:
    q = parse(
        "SELECT Name, (SELECT LastName FROM Contacts WHERE Email != null ORDER BY LastName LIMIT 2) "
        "FROM Account a USING SCOPE everything WHERE a.Name LIKE 'A%' WITH SECURITY_ENFORCED "
        "ORDER BY Name DESC NULLS FIRST, CreatedDate LIMIT 10 OFFSET 5 FOR VIEW"
    )
    assert q.from_alias == "a" and q.security_enforced
    assert isinstance(q.select[1], SubQuery) and q.select[1].query.limit == 2
    assert [(o.expr.path, o.descending, o.nulls_last) for o in q.order_by] == [
        (("Name",), True, False),
        (("CreatedDate",), False, None),
    ]
    assert (q.limit, q.offset) == (10, 5)


def test_aggregates_aliases_group_by_having() -> None:
    q = parse(
        "SELECT CampaignId, SUM(Amount) total, count(id) FROM Opportunity GROUP BY CampaignId "
        "HAVING COUNT(Id) > 1 ORDER BY SUM(Amount) DESC"
    )
    assert isinstance(q.select[1], Aggregate) and q.select[1].alias == "total"
    assert isinstance(q.select[2], Aggregate) and q.select[2].func == "COUNT" and q.select[2].alias is None
    assert q.group_by == [FieldRef(("CampaignId",), q.group_by[0].pos)]
    assert isinstance(q.having, Comparison) and isinstance(q.having.left, Aggregate)
    assert isinstance(q.order_by[0].expr, Aggregate)


def test_and_or_not_with_parentheses() -> None:
    q = parse("SELECT Id FROM A WHERE (X = 1 OR Y = 2) AND (NOT Z = 3) AND W IN ('a', 'b')")
    assert isinstance(q.where, BoolOp) and q.where.op == "AND" and len(q.where.items) == 3
    assert isinstance(q.where.items[0], BoolOp) and q.where.items[0].op == "OR"
    assert isinstance(q.where.items[1], Not)
    assert [v.value for v in q.where.items[2].value] == ["a", "b"]


def test_leading_not_and_not_in_and_semi_join() -> None:
    q = parse("SELECT Id FROM Account WHERE NOT Name = 'x'")
    assert isinstance(q.where, Not)
    q = parse("SELECT Id FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact)")
    assert q.where.op == "NOT IN" and q.where.value.from_name == "Contact"


def test_literals() -> None:
    q = parse(
        "SELECT Id FROM A WHERE a = null AND b = TRUE AND c = false AND d = -4.5 AND e = 2026-11-26 "
        "AND f = 2026-11-26T10:00:00Z AND g = 2026-11-26T10:00:00.123+05:30 AND h = LAST_N_DAYS:7 "
        "AND i = today AND j = 42"
    )
    values = [(c.value.kind, c.value.value) for c in q.where.items]
    assert values == [
        ("null", None),
        ("boolean", True),
        ("boolean", False),
        ("number", -4.5),
        ("date", date(2026, 11, 26)),
        ("datetime", datetime(2026, 11, 26, 10, tzinfo=UTC)),
        ("datetime", datetime(2026, 11, 26, 10, 0, 0, 123000, tzinfo=timezone(timedelta(hours=5, minutes=30)))),
        ("dateliteral", ("LAST_N_DAYS", 7)),
        ("dateliteral", ("TODAY", None)),
        ("number", 42),
    ]


@pytest.mark.parametrize(
    ("written", "value"),
    [
        (r"'it\'s'", "it's"),
        (r"'a\\b'", "a\\b"),
        (r"'line\nnext'", "line\nnext"),
        (r"'tab\there'", "tab\there"),
        (r"'q\"q'", 'q"q'),
        (r"'50\%'", "50%"),
        (r"'a\_b'", "a_b"),
    ],
)
def test_string_escapes(written: str, value: str) -> None:
    q = parse(f"SELECT Id FROM A WHERE Name = {written}")
    assert q.where.value.value == value


def test_like_keeps_raw_escapes_for_pattern_building() -> None:
    q = parse(r"SELECT Id FROM A WHERE Name LIKE '50\%%'")
    assert q.where.value.raw == r"50\%%"


def test_tokenizer_positions() -> None:
    toks = tokenize("SELECT Id FROM X WHERE d > 2026-01-02 AND n <> 5")
    assert [(t.kind, t.pos) for t in toks if t.kind in ("DATE", "OP", "NUMBER")] == [
        ("OP", 25),
        ("DATE", 27),
        ("OP", 44),
        ("NUMBER", 47),
    ]
    assert toks[-1].kind == "EOF"


@pytest.mark.parametrize(
    ("text", "column", "detail"),
    [
        ("SELECT Id FROM", 15, "unexpected token: <EOF>"),
        ("SELECT * FROM Account", 8, "unexpected token: '*'"),
        ("SELECT Id Account", 18, "unexpected token: <EOF>"),
        ("SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'", 56, "unexpected token: 'OR'"),
        ("SELECT Id FROM Account WHERE Name = 'a' AND NOT Name = 'b'", 45, "unexpected token: 'NOT'"),
        ("SELECT Id FROM Account ORDER BY Name WHERE Name = 'x'", 38, "unexpected token: 'WHERE'"),
        ("SELECT Id FROM Account WHERE Name = :name", 37, "Bind variables only allowed in Apex code"),
        ("SELECT Id FROM Account WHERE Name = Other", 37, "Bind variables only allowed in Apex code"),
        ("SELECT Id FROM Account LIMIT -1", 30, "unexpected token: '-1'"),
        ("SELECT Id, COUNT() FROM Account", 18, "unexpected token: ')'"),
        ("SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS", 55, "unexpected token: <EOF>"),
        ("SELECT Id FROM Account WHERE Name = 'unterminated", 37, "unexpected token: ''unterminated'"),
        ("SELECT Id FROM Account LIMIT 5 garbage", 32, "unexpected token: 'garbage'"),
        ("SELECT Id, (SELECT Id, (SELECT Id FROM C) FROM B) FROM A", 24, "unexpected token: '('"),
    ],
)
def test_malformed_queries_point_at_the_offending_token(text: str, column: int, detail: str) -> None:
    with pytest.raises(SoqlError) as info:
        parse(text)
    err = info.value
    assert err.error_code == "MALFORMED_QUERY"
    lines = err.message.split("\n")
    assert lines[0] == "" and lines[1] == text
    assert lines[2] == " " * (column - 1) + "^"
    assert lines[3] == f"ERROR at Row:1:Column:{column}"
    assert lines[4] == detail


def test_multi_line_query_reports_row_and_shows_that_line() -> None:
    text = "SELECT Id, Email, Name\nFROM Contact\nWHERE Name LIKE 'test' AND LastName = 'x' OR Email = 'y'"
    with pytest.raises(SoqlError) as info:
        parse(text)
    assert info.value.message.split("\n")[1:4] == [
        "WHERE Name LIKE 'test' AND LastName = 'x' OR Email = 'y'",
        " " * 42 + "^",
        "ERROR at Row:3:Column:43",
    ]


def test_bad_escape_is_malformed() -> None:
    with pytest.raises(SoqlError) as info:
        parse(r"SELECT Id FROM A WHERE Name = 'a\qb'")
    assert info.value.error_code == "MALFORMED_QUERY"
    assert "Illegal character sequence '\\q'" in info.value.message


def test_offset_above_2000_is_out_of_range() -> None:
    with pytest.raises(SoqlError) as info:
        parse("SELECT Id FROM Account OFFSET 2001")
    assert info.value.error_code == "NUMBER_OUTSIDE_VALID_RANGE"


def test_all_rows_is_rejected_over_the_api() -> None:
    with pytest.raises(SoqlError) as info:
        parse("SELECT Id FROM Account ALL ROWS")
    assert info.value.error_code == "MALFORMED_QUERY"


@pytest.mark.parametrize("clause", ["FOR UPDATE", "FOR REFERENCE", "FOR VIEW", "WITH USER_MODE"])
def test_accepted_and_ignored_clauses(clause: str) -> None:
    assert parse(f"SELECT Id FROM Account {clause}").from_name == "Account"


def test_deep_nesting_is_a_soql_error_not_a_crash() -> None:
    assert parse("SELECT Id FROM A WHERE " + "(" * 50 + "X = 1" + ")" * 50).where.value.value == 1
    with pytest.raises(SoqlError) as info:
        parse("SELECT Id FROM A WHERE " + "(" * 5000 + "X = 1" + ")" * 5000)
    assert info.value.error_code == "MALFORMED_QUERY"
