"""The Query Performance Feedback resource: `GET /services/data/vNN.0/query?explain=<SOQL>`.

Documented at developer.salesforce.com, REST API Developer Guide, "Query Performance Feedback"
(resources_query_performance_feedback.htm): the response is `{"plans": [...]}` sorted from most to
least optimal, each plan with cardinality, fields, leadingOperationType (Index, Other, Sharing,
TableScan), notes[] ({description, fields, tableEnumOrId}), relativeCost, sobjectCardinality and
sobjectType; a bad SOQL string is MALFORMED_QUERY, a bad report or list view id INVALID_ID. A list view
id is explained as its object's query (no reports exist here).

The emulator builds its plans from its own schema and rows, the way the optimizer reasons:

- indexed fields: Id, Name, OwnerId, CreatedDate, SystemModstamp, RecordTypeId, lookups and
  master-detail fields, Email on Contact and Lead (standard indexes); unique and external-id fields
  (custom indexes);
- an Index plan for each top-level AND filter on an indexed field with an operator an index serves
  (=, IN, <, <=, >, >=, LIKE without a leading wildcard); its cardinality is the number of rows that
  filter matches, its relativeCost that cardinality over the selectivity threshold of the Large Data
  Volumes guide (standard: 30 % of the first million records and 15 % beyond, at most 1,000,000;
  custom: 10 % and 5 %, at most 333,333);
- with a configured data volume (`POST /__emulator__/volumes {"Account": 2000000}`) the object counts
  that many records and each filter's cardinality scales with it (the share of rows it matches);
- always a TableScan plan: cardinality = the rows the whole WHERE matches, relativeCost grows with
  the object's size (0.65 for a small object, as in the guide's example, rising past 1 at about 154,000
  records);
- notes name filters the plan cannot use: "Not considering filter for optimization because unindexed"
  and, for negative operators on an indexed field, "... because of a negative filter operator".
Sharing and Other plans are not modelled.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any

from sfops.emulator.values import now_utc
from sfops.emulator.wire import ApiError

if TYPE_CHECKING:
    from sfops.emulator.app import Emulator
    from sfops.emulator.schema import ObjectDef

STANDARD_INDEXED = frozenset({"id", "name", "ownerid", "createddate", "systemmodstamp", "recordtypeid"})
EMAIL_INDEXED = frozenset({"contact", "lead"})
INDEX_OPERATORS = frozenset({"=", "IN", "<", "<=", ">", ">=", "LIKE"})
NEGATIVE_OPERATORS = frozenset({"!=", "<>", "NOT IN", "EXCLUDES"})
MILLION = 1_000_000
UNINDEXED = "Not considering filter for optimization because unindexed"
NEGATIVE = "Not considering filter for optimization because of a negative filter operator"
_ID = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")


def threshold(records: int, custom: bool) -> float:
    """Selectivity threshold (rows) of a standard or custom index for an object of `records` rows."""
    first, beyond, cap = (0.10, 0.05, 333_333) if custom else (0.30, 0.15, MILLION)
    return min(first * min(records, MILLION) + beyond * max(records - MILLION, 0), cap)


def index_kind(obj: ObjectDef, field_name: str) -> str | None:
    """'standard', 'custom' or None (not indexed) for a field of the object."""
    f = obj.field(field_name)
    if f is None:
        return None
    low = f.name.lower()
    if low in STANDARD_INDEXED or f.type == "reference" or f.name_field or f.type == "id":
        return "standard"
    if low == "email" and obj.name.lower() in EMAIL_INDEXED:
        return "standard"
    if f.unique or f.external_id:
        return "custom"
    return None


def _list_view_query(emu: Emulator, view_id: str) -> str | None:
    """The SOQL of a list view of the org (its object, and its CreatedDate filter), or None."""
    from sfops.emulator import listviews

    if not view_id.startswith("00B"):
        return None
    for obj in emu.schema:
        if "data" not in obj.apis or obj.is_event or not obj.queryable:
            continue
        view = listviews.find(obj, view_id)
        if view is not None:
            where = " WHERE CreatedDate = THIS_WEEK" if view.created_this_week else ""
            return f"SELECT Id FROM {obj.name}{where}"  # noqa: S608 - schema names only
    return None


def explain(emu: Emulator, text: str, version: str) -> dict[str, Any]:
    """The plans for a SOQL statement (or INVALID_ID for something that is an id but not a report/list view)."""
    from sfops.emulator.soql import SoqlError, execute, parse
    from sfops.emulator.soql.nodes import BoolOp, Comparison, FieldRef, Literal

    stripped = text.strip()
    if _ID.match(stripped):
        view_query = _list_view_query(emu, stripped)
        if view_query is None:  # no reports here, and not one of the org's list views
            raise ApiError(400, "INVALID_ID", f"The report or list view id is not valid: {stripped}")
        stripped = view_query
    catalog = emu.catalog(False)
    try:
        parsed = parse(stripped)
        execute(parsed, catalog, now=now_utc(), api_version=version)  # names checked like a real query
    except SoqlError as err:
        raise ApiError(400, err.error_code, err.message) from None
    obj = emu.schema.get(parsed.from_name)
    assert obj is not None  # execute() resolved it
    rows = emu.store.count(obj.name)
    records = emu.state.volume(obj)  # a configured data volume scales what the rows say

    def count(where: Any) -> int:
        query = dataclasses.replace(
            parsed,
            select=[],
            where=where,
            count_only=True,
            order_by=[],
            limit=None,
            offset=None,
            group_by=[],
            having=None,
        )
        matched = execute(query, catalog, now=now_utc(), api_version=version).total_size
        return round(matched * records / rows) if rows and records != rows else matched

    conjuncts = []
    if parsed.where is not None:
        conjuncts = (
            parsed.where.items if isinstance(parsed.where, BoolOp) and parsed.where.op == "AND" else [parsed.where]
        )
    plans: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    for cond in conjuncts:
        if not isinstance(cond, Comparison) or not isinstance(cond.left, FieldRef) or len(cond.left.path) != 1:
            continue
        name = cond.left.path[0]
        field = obj.field(name)
        kind = index_kind(obj, name)
        canonical = field.name if field else name
        if kind is None:
            notes.append({"description": UNINDEXED, "fields": [canonical], "tableEnumOrId": obj.name})
            continue
        op = cond.op.upper()
        leading_wildcard = op == "LIKE" and isinstance(cond.value, Literal) and str(cond.value.value).startswith("%")
        if op in NEGATIVE_OPERATORS or op not in INDEX_OPERATORS or leading_wildcard:
            notes.append(
                {
                    "description": NEGATIVE if op in NEGATIVE_OPERATORS else UNINDEXED,
                    "fields": [canonical],
                    "tableEnumOrId": obj.name,
                }
            )
            continue
        matched = count(cond)
        limit = threshold(records, kind == "custom")
        plans.append(
            {
                "cardinality": matched,
                "fields": [canonical],
                "leadingOperationType": "Index",
                "notes": [],
                "relativeCost": round(matched / limit, 4) if limit else 0.0,
                "sobjectCardinality": records,
                "sobjectType": obj.name,
            }
        )
    result_rows = count(parsed.where) if parsed.where is not None else records
    plans.append(
        {
            "cardinality": result_rows,
            "fields": [],
            "leadingOperationType": "TableScan",
            "notes": [],
            "relativeCost": round(0.65 * max(1.0, records / 100_000), 4),
            "sobjectCardinality": records,
            "sobjectType": obj.name,
        }
    )
    for plan in plans:
        plan["notes"] = [
            n for n in notes if plan["leadingOperationType"] == "TableScan" or n["fields"] != plan["fields"]
        ]
    plans.sort(key=lambda p: (p["relativeCost"], p["leadingOperationType"] == "TableScan"))
    return {"plans": plans}
