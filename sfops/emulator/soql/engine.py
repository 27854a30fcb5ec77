"""Evaluate a parsed SOQL query against a Catalog.

`execute` resolves names against the catalog (INVALID_TYPE / INVALID_FIELD with carets), compiles
the WHERE and HAVING trees into closures once, then filters, groups, orders, slices and shapes the
rows the way the REST API returns them (rows.py for plain queries, aggregate.py for grouped ones).
"""

from __future__ import annotations

from datetime import datetime

from sfops.emulator.soql.aggregate import AggregatePlan
from sfops.emulator.soql.catalog import Catalog, ObjectInfo
from sfops.emulator.soql.fields import expand as expand_fields
from sfops.emulator.soql.nodes import Aggregate, DateFunc, Query
from sfops.emulator.soql.parser import parse
from sfops.emulator.soql.resolve import Context
from sfops.emulator.soql.result import QueryResult
from sfops.emulator.soql.rows import RowPlan


def execute(
    query: str | Query,
    catalog: Catalog,
    *,
    now: datetime,
    include_deleted: bool = False,
    api_version: str = "60.0",
    tooling: bool = False,
) -> QueryResult:
    """Run a SOQL query (text or parsed) against `catalog`.

    `now` anchors date literals (UTC). `include_deleted` is queryAll. `api_version` ("60.0" or
    "v60.0") and `tooling` shape the records' attributes.url. Raises SoqlError on bad queries.
    """
    parsed = parse(query) if isinstance(query, str) else query
    version = api_version[1:] if api_version[:1] in ("v", "V") else api_version
    base = f"/services/data/v{version}/{'tooling/' if tooling else ''}sobjects"
    ctx = Context(catalog, now, include_deleted, base, parsed.text)
    info = ctx.describe(parsed.from_name, parsed.from_pos)
    parsed = expand_fields(parsed, ctx, info.name, version)
    plan = _plan(parsed, info, ctx)
    return plan.run()


# -- context and name resolution --------------------------------------------------------------------


def _plan(query: Query, info: ObjectInfo, ctx: Context) -> RowPlan | AggregatePlan:
    aggregated = query.group_by or any(
        isinstance(s, Aggregate | DateFunc) for s in query.select if not query.count_only
    )
    if aggregated:
        return AggregatePlan(query, info, ctx)
    return RowPlan(query, info, ctx)
