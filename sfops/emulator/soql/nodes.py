"""The SOQL syntax tree produced by `parser.parse`. Every node remembers its offset in the text
(`pos`) so semantic errors can point their caret at it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldRef:
    """A field or relationship path as written: ("LogUser", "Name")."""

    path: tuple[str, ...]
    pos: int
    alias: str | None = None

    @property
    def text(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class Aggregate:
    """COUNT(), COUNT(f), COUNT_DISTINCT(f), MIN, MAX, SUM, AVG."""

    func: str  # upper-case
    arg: FieldRef | None
    pos: int
    alias: str | None = None


@dataclass(frozen=True)
class DateFunc:
    """CALENDAR_YEAR(f), DAY_ONLY(f), HOUR_IN_DAY(convertTimezone(f)) ... over a date/datetime field."""

    func: str  # upper-case
    arg: FieldRef
    pos: int
    alias: str | None = None
    convert: bool = False  # convertTimezone(f): in the running user's time zone instead of UTC


@dataclass(frozen=True)
class Literal:
    """A value in a condition.

    kind: "string" | "number" | "boolean" | "null" | "date" | "datetime" | "dateliteral".
    value: str | int | float | bool | None | date | datetime | (name, n) for date literals.
    """

    kind: str
    value: Any
    pos: int
    raw: str | None = None  # strings: the body as written (LIKE needs the backslash-escaped % and _)


@dataclass
class Comparison:
    """`field op value`: op is one of = != < <= > >= LIKE IN NOT IN INCLUDES EXCLUDES."""

    left: FieldRef | Aggregate | DateFunc
    op: str
    value: Literal | list[Literal] | Query
    pos: int
    value_pos: int


@dataclass
class BoolOp:
    """AND / OR over two or more conditions."""

    op: str
    items: list[Condition]
    pos: int


@dataclass
class Not:
    """NOT condition."""

    item: Condition
    pos: int


Condition = Comparison | BoolOp | Not


@dataclass
class SubQuery:
    """A child relationship subquery in the select list: (SELECT ... FROM Contacts)."""

    query: Query
    pos: int


@dataclass(frozen=True)
class FieldsFunc:
    """FIELDS(ALL | STANDARD | CUSTOM) in a select list; `fields.expand` replaces it with FieldRefs."""

    group: str
    pos: int


SelectItem = FieldRef | Aggregate | DateFunc | SubQuery


@dataclass(frozen=True)
class OrderItem:
    """One ORDER BY key. nulls_last None means the default (first for ASC, last for DESC)."""

    expr: FieldRef | Aggregate | DateFunc
    descending: bool = False
    nulls_last: bool | None = None


@dataclass
class Query:
    """A parsed SELECT statement (or subquery)."""

    text: str
    select: list[SelectItem]
    from_name: str
    from_pos: int
    from_alias: str | None = None
    where: Condition | None = None
    group_by: list[FieldRef | DateFunc] = field(default_factory=list)
    having: Condition | None = None
    order_by: list[OrderItem] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    count_only: bool = False
    security_enforced: bool = False
    # FIELDS(...) items, each with the index in `select` it stands before (expanded by fields.expand)
    fields_groups: list[tuple[int, FieldsFunc]] = field(default_factory=list)
