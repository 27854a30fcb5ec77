"""FIELDS(ALL | STANDARD | CUSTOM): expanded into the object's fields before a query is resolved.

Rules from the SOQL guide ("SELECT", section on FIELDS()): available from API 51.0; ALL and CUSTOM are
unbounded, so the query must be limited to at most 200 rows; a field selected twice (explicitly and
through FIELDS()) is INVALID_FIELD "duplicate field selected: Id". Subqueries may use it too.
"""

from __future__ import annotations

from dataclasses import replace

from sfops.emulator.soql.errors import INVALID_FIELD, MALFORMED_QUERY, SoqlError, error_at
from sfops.emulator.soql.nodes import FieldRef, FieldsFunc, Query, SelectItem, SubQuery
from sfops.emulator.soql.resolve import Context

MIN_VERSION = 51.0
MAX_UNBOUNDED_ROWS = 200


def expand(query: Query, ctx: Context, object_name: str, api_version: str) -> Query:
    """`query` with its FIELDS() items replaced by FieldRefs of `object_name` (describe order); a field
    selected twice is refused."""
    expansions: dict[int, list[SelectItem]] = {}
    for index, group in query.fields_groups:
        expansions.setdefault(index, []).extend(_fields(query, group, ctx, object_name, api_version))
    items: list[SelectItem] = []
    for index, item in enumerate(query.select):
        items.extend(expansions.get(index, []))
        items.append(_subquery(item, query, ctx, object_name, api_version) if isinstance(item, SubQuery) else item)
    items.extend(expansions.get(len(query.select), []))
    seen: set[str] = set()
    for item in items:
        if isinstance(item, FieldRef) and item.alias is None:
            key = item.text.lower()
            if key in seen:  # the guide's example body has no caret
                raise SoqlError(INVALID_FIELD, f"duplicate field selected: {item.text}")
            seen.add(key)
    return replace(query, select=items, fields_groups=[])


def _fields(query: Query, item: FieldsFunc, ctx: Context, object_name: str, api_version: str) -> list[SelectItem]:
    if float(api_version) < MIN_VERSION:
        raise error_at(MALFORMED_QUERY, query.text, item.pos, "unexpected token: '('")
    if item.group != "STANDARD" and (query.limit is None or query.limit > MAX_UNBOUNDED_ROWS):
        raise error_at(
            MALFORMED_QUERY,
            query.text,
            item.pos,
            f"The SOQL FIELDS function must have a LIMIT of at most {MAX_UNBOUNDED_ROWS}",
        )
    info = ctx.describe(object_name, query.from_pos)
    names = [
        f.name
        for f in info.fields.values()
        if item.group == "ALL" or (item.group == "CUSTOM") == f.name.lower().endswith("__c")
    ]
    if not names:
        # [guess] the guide says FIELDS(CUSTOM) on an object without custom fields is an error
        raise error_at(MALFORMED_QUERY, query.text, item.pos, f"FIELDS({item.group}) selects no fields of {info.name}")
    return [FieldRef((name,), item.pos) for name in names]


def _subquery(item: SubQuery, parent: Query, ctx: Context, object_name: str, api_version: str) -> SubQuery:
    if not item.query.fields_groups:
        return item
    info = ctx.describe(object_name, parent.from_pos)
    name = item.query.from_name.split(".")[-1]
    child = info.child(name)
    if child is None:
        return item  # the resolver reports the unknown relationship with its caret
    return SubQuery(expand(item.query, ctx, child.child_object, api_version), item.pos)
