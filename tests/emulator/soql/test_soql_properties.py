"""Property tests: random WHERE trees agree with a direct Python evaluation of SOQL semantics, and
no input makes the engine raise anything but SoqlError."""
# ruff: noqa: S608  -- the queries are generated on purpose: they are the engine's input

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfops.emulator.ids import IdFactory
from sfops.emulator.soql import MemoryCatalog, SoqlError, execute
from sfops.emulator.soql.catalog import FieldInfo, ObjectInfo

NOW = datetime(2026, 11, 26, 18, 30, tzinfo=UTC)
BASE_DAY = date(2026, 11, 20)
WORDS = ["a", "A", "ab", "Ab", "b", "ba", "abc", "ABC", "x", ""]

# -- data ------------------------------------------------------------------------------------------

rows_strategy = st.lists(
    st.tuples(
        st.none() | st.sampled_from(WORDS),
        st.none() | st.integers(-3, 3),
        st.booleans(),
        st.none() | st.integers(0, 10),
    ),
    max_size=12,
)


def make_catalog(rows: list[tuple[Any, ...]]) -> tuple[MemoryCatalog, list[dict[str, Any]]]:
    cat = MemoryCatalog()
    cat.add_object(
        ObjectInfo.build(
            "Thing__c",
            [
                FieldInfo("Id", "id"),
                FieldInfo("Name", "string"),
                FieldInfo("N__c", "int"),
                FieldInfo("Flag__c", "boolean"),
                FieldInfo("D__c", "date"),
            ],
        )
    )
    ids = IdFactory()
    stored = []
    for name, n, flag, day in rows:
        stored.append(
            cat.insert(
                "Thing__c",
                {
                    "Id": ids.new("a00"),
                    "Name": name,
                    "N__c": n,
                    "Flag__c": flag,
                    "D__c": None if day is None else (BASE_DAY + timedelta(days=day)).isoformat(),
                },
            )
        )
    return cat, stored


# -- conditions: (soql text, python predicate) ------------------------------------------------------


def like(value: str, pattern: str) -> bool:
    """Wildcard match by dynamic programming (independent of the engine's regex translation)."""
    value, pattern = value.lower(), pattern.lower()
    memo: dict[tuple[int, int], bool] = {}

    def m(i: int, j: int) -> bool:
        if (i, j) not in memo:
            if j == len(pattern):
                memo[i, j] = i == len(value)
            elif pattern[j] == "%":
                memo[i, j] = m(i, j + 1) or (i < len(value) and m(i + 1, j))
            else:
                memo[i, j] = i < len(value) and (pattern[j] == "_" or pattern[j] == value[i]) and m(i + 1, j + 1)
        return memo[i, j]

    return m(0, 0)


def compare(op: str, v: Any, lit: Any) -> bool:
    """SOQL comparison on already-normalised values; None is a SQL-ish null."""
    if lit is None:
        return (v is None) if op == "=" else (v is not None) if op == "!=" else False
    if op == "=":
        return v is not None and v == lit
    if op == "!=":
        return v is None or v != lit
    if v is None:
        return False
    return {"<": v < lit, "<=": v <= lit, ">": v > lit, ">=": v >= lit}[op]


field_names = st.sampled_from(["Name", "name", "NAME"])
ops = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])


@st.composite
def leaf(draw: st.DrawFn) -> tuple[str, Any]:
    kind = draw(st.sampled_from(["name", "name_like", "name_in", "n", "n_in", "flag", "date"]))
    if kind == "name":
        op, lit = draw(ops), draw(st.none() | st.sampled_from(WORDS))
        text = f"{draw(field_names)} {op} {'null' if lit is None else repr(lit)}"
        low = None if lit is None else lit.lower()
        return text, lambda r: compare(op, None if r["Name"] is None else r["Name"].lower(), low)
    if kind == "name_like":
        pat = draw(st.text(alphabet="aAbx%_", max_size=4))
        return f"Name LIKE '{pat}'", lambda r: r["Name"] is not None and like(r["Name"], pat)
    if kind == "name_in":
        values = draw(st.lists(st.none() | st.sampled_from(WORDS), min_size=1, max_size=3))
        negate = draw(st.booleans())
        lits = ", ".join("null" if v is None else repr(v) for v in values)
        lowered = {v.lower() for v in values if v is not None}
        has_null = any(v is None for v in values)

        def in_list(r: dict[str, Any]) -> bool:
            return has_null if r["Name"] is None else r["Name"].lower() in lowered

        if negate:
            return f"Name NOT IN ({lits})", lambda r: not in_list(r)
        return f"Name IN ({lits})", in_list
    if kind == "n":
        op, lit = draw(ops), draw(st.none() | st.integers(-4, 4))
        return f"n__c {op} {'null' if lit is None else lit}", lambda r: compare(op, r["N__c"], lit)
    if kind == "n_in":
        values = draw(st.lists(st.integers(-3, 3), min_size=1, max_size=3))
        return (f"N__c IN ({', '.join(map(str, values))})", lambda r: r["N__c"] is not None and r["N__c"] in values)
    if kind == "flag":
        op, lit = draw(st.sampled_from(["=", "!="])), draw(st.booleans())
        return f"Flag__c {op} {str(lit).lower()}", lambda r: compare(op, r["Flag__c"], lit)
    op, offset = draw(ops), draw(st.none() | st.integers(-1, 11))
    day = None if offset is None else BASE_DAY + timedelta(days=offset)
    return (
        f"D__c {op} {'null' if day is None else day.isoformat()}",
        lambda r: compare(op, None if r["D__c"] is None else date.fromisoformat(r["D__c"]), day),
    )


def combine(children: st.SearchStrategy[tuple[str, Any]]) -> st.SearchStrategy[tuple[str, Any]]:
    def build(op: str, parts: list[tuple[str, Any]]) -> tuple[str, Any]:
        text = f" {op} ".join(f"({t})" for t, _ in parts)
        preds = [p for _, p in parts]
        if op == "AND":
            return text, lambda r: all(p(r) for p in preds)
        return text, lambda r: any(p(r) for p in preds)

    def negate(part: tuple[str, Any]) -> tuple[str, Any]:
        text, pred = part
        return f"NOT ({text})", lambda r: not pred(r)

    return st.one_of(
        st.builds(build, st.sampled_from(["AND", "OR"]), st.lists(children, min_size=2, max_size=3)),
        st.builds(negate, children),
    )


conditions = st.recursive(leaf(), combine, max_leaves=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_strategy, cond=conditions)
def test_where_matches_a_direct_evaluation(rows: list[tuple[Any, ...]], cond: tuple[str, Any]) -> None:
    text, predicate = cond
    cat, stored = make_catalog(rows)
    result = execute(f"SELECT Id FROM thing__C WHERE {text}", cat, now=NOW)
    assert [r["Id"] for r in result.records] == [r["Id"] for r in stored if predicate(r)]


@settings(max_examples=100, deadline=None)
@given(rows=rows_strategy, desc=st.booleans(), nulls=st.sampled_from(["", " NULLS FIRST", " NULLS LAST"]))
def test_order_by_matches_a_direct_sort(rows: list[tuple[Any, ...]], desc: bool, nulls: str) -> None:
    cat, stored = make_catalog(rows)
    result = execute(f"SELECT Id, N__c FROM Thing__c ORDER BY N__c {'DESC' if desc else 'ASC'}{nulls}", cat, now=NOW)
    nulls_last = nulls == " NULLS LAST" or (desc and nulls == "")
    values = [r["N__c"] for r in stored if r["N__c"] is not None]
    ordered = sorted(values, reverse=desc)
    none_count = len(stored) - len(values)
    expected = ordered + [None] * none_count if nulls_last else [None] * none_count + ordered
    assert [r["N__c"] for r in result.records] == expected


VOCAB = [
    "SELECT",
    "FROM",
    "WHERE",
    "Id",
    "Name",
    "Account",
    "Contact",
    "ApexLog",
    "(",
    ")",
    ",",
    "=",
    "!=",
    "<",
    ">=",
    "LIKE",
    "IN",
    "NOT",
    "AND",
    "OR",
    "'x'",
    "'%a_'",
    "5",
    "-2.5",
    "null",
    "TRUE",
    "2026-01-01",
    "2026-01-01T00:00:00Z",
    "TODAY",
    "LAST_N_DAYS",
    ":",
    "3",
    "ORDER",
    "BY",
    "DESC",
    "NULLS",
    "LAST",
    "LIMIT",
    "OFFSET",
    "GROUP",
    "COUNT",
    "()",
    "SUM",
    "AVG",
    "HAVING",
    "Owner.Name",
    "LogUser.Name",
    "Contacts",
    "INCLUDES",
    "EXCLUDES",
    "Tags__c",
    "CreatedDate",
    "LastActivityDate",
    "Active__c",
    "NumberOfEmployees",
    "'",
    "\\",
    "*",
    ";",
    ":x",
    "SetupOwner.Name",
    "Kill_Switch__c",
    "FOR",
    "UPDATE",
    "WITH",
    "ALL",
    "ROWS",
    "CALENDAR_YEAR",
    "DAY_ONLY",
    "HOUR_IN_DAY",
    "convertTimezone",
    "MAX",
    "COUNT_DISTINCT",
    "a",
    "USING",
    "SCOPE",
]


def _only_soql_errors(org: Any, text: str) -> None:
    try:
        result = execute(text, org.cat, now=NOW)
    except SoqlError as err:
        assert err.error_code and err.message
        return
    assert result.total_size == (result.total_size if result.count_only else len(result.records))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prefix=st.sampled_from(
        [
            "SELECT ",
            "SELECT Name FROM Account WHERE ",
            "SELECT Id FROM Account ",
            "SELECT Industry, COUNT(Id) FROM Account GROUP BY ",
        ]
    ),
    words=st.lists(st.sampled_from(VOCAB), max_size=16),
)
def test_token_soup_only_raises_soql_errors(org: Any, prefix: str, words: list[str]) -> None:
    _only_soql_errors(org, prefix + " ".join(words))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=60))
def test_arbitrary_text_only_raises_soql_errors(org: Any, text: str) -> None:
    _only_soql_errors(org, text)


# -- the client's escaping and the emulator's parsing agree ------------------------------------------


@settings(max_examples=200, deadline=None)
@given(value=st.text(max_size=30))
def test_client_quoting_round_trips_through_the_parser(value: str) -> None:
    from sfops.emulator.soql import parse
    from sfops.salesforce.soql import soql_quote

    assert parse(f"SELECT Id FROM Account WHERE Name = {soql_quote(value)}").where.value.value == value


@settings(max_examples=200, deadline=None)
@given(value=st.text(alphabet="ab%_'\\\"\n", min_size=1, max_size=8), other=st.text(alphabet="ab%_", max_size=8))
def test_client_like_escaping_matches_literally(value: str, other: str) -> None:
    from sfops.salesforce.soql import soql_like

    cat, _ = make_catalog([])
    cat.insert("Thing__c", {"Id": "a005g0000000001AAA"[:15], "Name": value})
    cat.insert("Thing__c", {"Id": "a005g0000000002AAA"[:15], "Name": other})
    result = execute(f"SELECT Name FROM Thing__c WHERE Name LIKE {soql_like(value)}", cat, now=NOW)
    expected = [value] + ([other] if other.lower() == value.lower() else [])
    assert [r["Name"] for r in result.records] == expected
