"""Compile WHERE / HAVING trees into closures, once per query, typed by the field's describe type.

Literals are checked against the field type here (INVALID_FIELD "value of filter criterion ..."),
ids are validated (INVALID_QUERY_FILTER_OPERATOR "invalid ID field"), and date values become
half-open ranges so `CreatedDate = TODAY` means "within today" and `> TODAY` means "after today".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sfops.emulator.soql.dates import date_literal_range
from sfops.emulator.soql.errors import (
    INVALID_FIELD,
    INVALID_QUERY_FILTER_OPERATOR,
    MALFORMED_QUERY,
    error_at,
)
from sfops.emulator.soql.nodes import (
    Aggregate,
    BoolOp,
    Comparison,
    Condition,
    DateFunc,
    FieldRef,
    Literal,
    Not,
    Query,
)
from sfops.emulator.soql.values import filter_type_name, is_id, key_function, kind_of, micros

Predicate = Callable[[Any], bool]


@dataclass(frozen=True)
class Operand:
    """The left side of a comparison: how to read it from a row (or group) and its describe type."""

    get: Callable[[Any], Any]
    field_type: str
    name: str


def compile_condition(
    cond: Condition,
    operand: Callable[[FieldRef | Aggregate | DateFunc], Operand],
    semi_join: Callable[[Query, int], set[Any]],
    now: datetime,
    text: str,
) -> Predicate:
    """Turn a condition tree into a predicate over rows (or aggregate groups)."""
    compiler = _Compiler(operand, semi_join, now, text)
    return compiler.condition(cond)


class _Compiler:
    def __init__(
        self,
        operand: Callable[[FieldRef | Aggregate | DateFunc], Operand],
        semi_join: Callable[[Query, int], set[Any]],
        now: datetime,
        text: str,
    ) -> None:
        self.operand, self.semi_join, self.now, self.text = operand, semi_join, now, text

    def condition(self, cond: Condition) -> Predicate:
        if isinstance(cond, BoolOp):
            parts = [self.condition(c) for c in cond.items]
            if cond.op == "AND":
                return lambda r: all(p(r) for p in parts)
            return lambda r: any(p(r) for p in parts)
        if isinstance(cond, Not):
            inner = self.condition(cond.item)
            return lambda r: not inner(r)
        return self.comparison(cond)

    # -- literals ----------------------------------------------------------------------------------
    def _type_error(self, lit: Literal, opnd: Operand, quoted: bool) -> Exception:
        tname = filter_type_name(opnd.field_type)
        should = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
        return error_at(
            INVALID_FIELD,
            self.text,
            lit.pos,
            f"value of filter criterion for field '{opnd.name}' must be of type {tname} and {should}",
        )

    def _range(self, lit: Literal, kind: str) -> tuple[int, int]:
        """Date / datetime literal -> [lo, hi) in the field's key domain."""
        if lit.kind == "dateliteral":
            name, n = lit.value
            try:
                start, end = date_literal_range(name, n, self.now)
            except (OverflowError, ValueError):
                raise error_at(MALFORMED_QUERY, self.text, lit.pos, f"unexpected token: '{name}:{n}'") from None
            if kind == "datetime":
                return micros(start), micros(end)
            lo = start.date().toordinal()
            hi = end.date().toordinal() + (0 if end.time() == datetime.min.time() else 1)
            return lo, hi
        if kind == "date":
            d: date = lit.value
            return d.toordinal(), d.toordinal() + 1
        t = micros(lit.value)
        return t, t + 1

    def _value(self, lit: Literal, opnd: Operand, kind: str, op: str) -> Any:
        """Check a literal against the field type; return its key (a (lo, hi) range for dates)."""
        if lit.kind == "null":
            return None
        if kind in ("text", "id", "multipicklist", "time"):
            if lit.kind != "string":
                raise self._type_error(lit, opnd, quoted=True)
            if kind == "id" and op != "LIKE" and lit.value and not is_id(lit.value):
                raise error_at(INVALID_QUERY_FILTER_OPERATOR, self.text, lit.pos, f"invalid ID field: {lit.value}")
            return key_function(opnd.field_type)(lit.value)
        if kind == "number":
            if lit.kind != "number":
                raise self._type_error(lit, opnd, quoted=False)
            return lit.value
        if kind == "boolean":
            if lit.kind != "boolean":
                raise self._type_error(lit, opnd, quoted=False)
            return lit.value
        wanted = "date" if kind == "date" else "datetime"
        if lit.kind not in (wanted, "dateliteral"):
            raise self._type_error(lit, opnd, quoted=False)
        return self._range(lit, kind)

    # -- comparisons -------------------------------------------------------------------------------
    def comparison(self, cmp: Comparison) -> Predicate:
        opnd = self.operand(cmp.left)
        kind = kind_of(opnd.field_type)
        key = key_function(opnd.field_type)
        get = opnd.get
        op = cmp.op
        self._check_operator(cmp, opnd, kind)

        if isinstance(cmp.value, Query):
            if kind != "id":
                raise error_at(
                    INVALID_FIELD,
                    self.text,
                    cmp.pos,
                    f"Semi join sub-selects are only allowed on id fields, not '{opnd.name}'",
                )
            ids = self.semi_join(cmp.value, cmp.value_pos)
            if op == "IN":
                return lambda r: key(get(r)) in ids
            return lambda r: key(get(r)) not in ids

        if op in ("INCLUDES", "EXCLUDES"):
            assert isinstance(cmp.value, list)
            wanted = [self._value(lit, opnd, kind, op) for lit in cmp.value]
            sets = [s for s in wanted if s]

            def includes(r: Any) -> bool:
                v = key(get(r))
                return v is not None and any(s <= v for s in sets)

            if op == "INCLUDES":
                return includes
            return lambda r: not includes(r)

        if op == "LIKE":
            assert isinstance(cmp.value, Literal)
            if cmp.value.kind == "null":
                return lambda r: False
            pattern = _like_regex(cmp.value.raw if cmp.value.raw is not None else str(cmp.value.value))
            return lambda r: isinstance(v := get(r), str) and pattern.fullmatch(v) is not None

        if op in ("IN", "NOT IN"):
            assert isinstance(cmp.value, list)
            values = [self._value(lit, opnd, kind, op) for lit in cmp.value]
            test = _membership(values, kind in ("date", "datetime"))
            if op == "IN":
                return lambda r: test(key(get(r)))
            return lambda r: not test(key(get(r)))

        assert isinstance(cmp.value, Literal)
        value = self._value(cmp.value, opnd, kind, op)
        if value is None:
            if op == "=":
                return lambda r: key(get(r)) is None
            if op == "!=":
                return lambda r: key(get(r)) is not None
            return lambda r: False
        if kind in ("date", "datetime"):
            lo, hi = value
            return _range_predicate(op, lo, hi, lambda r: key(get(r)))
        return _scalar_predicate(op, value, lambda r: key(get(r)))

    def _check_operator(self, cmp: Comparison, opnd: Operand, kind: str) -> None:
        op = cmp.op
        bad = (
            (op in ("INCLUDES", "EXCLUDES") and kind != "multipicklist")
            or (op == "LIKE" and kind not in ("text", "id"))
            or (op in ("<", "<=", ">", ">=") and kind in ("boolean", "multipicklist"))
        )
        if bad:
            raise error_at(INVALID_QUERY_FILTER_OPERATOR, self.text, cmp.pos, f"invalid operator on field: {opnd.name}")


def _membership(values: list[Any], ranged: bool) -> Callable[[Any], bool]:
    has_null = any(v is None for v in values)
    if ranged:
        ranges = [v for v in values if v is not None]
        return lambda v: has_null if v is None else any(lo <= v < hi for lo, hi in ranges)
    members = {v for v in values if v is not None}
    return lambda v: has_null if v is None else v in members


def _range_predicate(op: str, lo: int, hi: int, get: Callable[[Any], Any]) -> Predicate:
    if op == "=":
        return lambda r: (v := get(r)) is not None and lo <= v < hi
    if op == "!=":
        return lambda r: (v := get(r)) is None or not (lo <= v < hi)
    if op == "<":
        return lambda r: (v := get(r)) is not None and v < lo
    if op == "<=":
        return lambda r: (v := get(r)) is not None and v < hi
    if op == ">":
        return lambda r: (v := get(r)) is not None and v >= hi
    return lambda r: (v := get(r)) is not None and v >= lo


def _scalar_predicate(op: str, value: Any, get: Callable[[Any], Any]) -> Predicate:
    if op == "=":
        return lambda r: get(r) == value
    if op == "!=":
        return lambda r: get(r) != value
    if op == "<":
        return lambda r: (v := get(r)) is not None and v < value
    if op == "<=":
        return lambda r: (v := get(r)) is not None and v <= value
    if op == ">":
        return lambda r: (v := get(r)) is not None and v > value
    return lambda r: (v := get(r)) is not None and v >= value


def _like_regex(raw: str) -> re.Pattern[str]:
    """SOQL LIKE: % any run, _ one char, backslash escapes; case-insensitive, whole value."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            nxt = raw[i + 1]
            out.append(re.escape({"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}.get(nxt, nxt)))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


__all__ = ["Operand", "Predicate", "compile_condition"]
