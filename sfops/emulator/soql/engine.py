"""Evaluate a parsed SOQL query against a Catalog.

`execute` resolves names against the catalog (INVALID_TYPE / INVALID_FIELD with carets), compiles
the WHERE and HAVING trees into closures once, then filters, groups, orders, slices and shapes the
rows the way the REST API returns them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sfops.emulator.soql.catalog import Catalog, FieldInfo, ObjectInfo, Record
from sfops.emulator.soql.errors import INVALID_FIELD, INVALID_TYPE, MALFORMED_QUERY, error_at
from sfops.emulator.soql.nodes import Aggregate, DateFunc, FieldRef, OrderItem, Query, SubQuery
from sfops.emulator.soql.parser import parse
from sfops.emulator.soql.predicates import Operand, compile_condition
from sfops.emulator.soql.result import QueryResult
from sfops.emulator.soql.values import key_function, kind_of, sort_key

_CUSTOM_OBJECT_HINT = (
    "If you are attempting to use a custom object, be sure to append the '__c' after the entity name. "
    "Please reference your WSDL or the describe call for the appropriate names."
)
_CUSTOM_FIELD_HINT = (
    "If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. "
    "Please reference your WSDL or the describe call for the appropriate names."
)
_CUSTOM_REL_HINT = (
    "If you are attempting to use a custom relationship, be sure to append the '__r' after the custom "
    "relationship name. Please reference your WSDL or the describe call for the appropriate names."
)


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
    ctx = _Context(catalog, now, include_deleted, base, parsed.text)
    info = ctx.describe(parsed.from_name, parsed.from_pos)
    plan = _plan(parsed, info, ctx)
    return plan.run()


# -- context and name resolution --------------------------------------------------------------------


@dataclass
class _Context:
    catalog: Catalog
    now: datetime
    include_deleted: bool
    url_base: str
    text: str
    _lookups: dict[str, tuple[str, Record] | None] = field(default_factory=dict)

    def describe(self, name: str, pos: int) -> ObjectInfo:
        info = self.catalog.describe(name)
        if info is None:
            raise error_at(INVALID_TYPE, self.text, pos,
                           f"sObject type '{name}' is not supported. {_CUSTOM_OBJECT_HINT}")
        return info

    def lookup(self, record_id: Any) -> tuple[str, Record] | None:
        if not isinstance(record_id, str) or not record_id:
            return None
        if record_id not in self._lookups:
            self._lookups[record_id] = self.catalog.lookup(record_id)
        return self._lookups[record_id]

    def url(self, object_name: str, record: Mapping[str, Any]) -> dict[str, str]:
        rid = record.get("Id")
        attrs = {"type": object_name}
        if rid:
            attrs["url"] = f"{self.url_base}/{object_name}/{rid}"
        return attrs


@dataclass
class _Path:
    """A resolved field path: reference fields to follow, then the final field."""

    ref: FieldRef
    steps: tuple[str, ...]
    rel_names: tuple[str, ...]
    field: FieldInfo
    by_object: dict[str, str] | None
    ctx: _Context
    loose: bool = False

    @property
    def identity(self) -> tuple[str, ...]:
        return (*(s.lower() for s in self.steps), self.field.name.lower())

    def final(self, object_name: str, record: Record | None = None) -> str | None:
        if self.loose and record is not None:
            wanted = self.field.name.lower()
            return next((k for k in record if k.lower() == wanted), None)
        if self.by_object is None:
            return self.field.name
        return self.by_object.get(object_name.lower())

    def get(self, row: Record) -> Any:
        cur: Record = row
        obj = ""
        for step in self.steps:
            hit = self.ctx.lookup(cur.get(step))
            if hit is None:
                return None
            obj, cur = hit
        name = self.final(obj, cur)
        return cur.get(name) if name else None

    def place(self, out: dict[str, Any], row: Record) -> None:
        """Write this path's value into an output record, nesting parent objects."""
        container, cur = out, row
        obj = ""
        for step, rel in zip(self.steps, self.rel_names, strict=True):
            if rel in container:
                nested = container[rel]
                if nested is None:
                    return
                hit = self.ctx.lookup(cur.get(step))
                if hit is None:  # pragma: no cover - nested only exists when the lookup succeeded
                    return
                obj, cur = hit
                container = nested
                continue
            hit = self.ctx.lookup(cur.get(step))
            if hit is None:
                container[rel] = None
                return
            obj, cur = hit
            nested = {"attributes": self.ctx.url(obj, cur)}
            container[rel] = nested
            container = nested
        name = self.final(obj, cur) if self.steps else self.field.name
        if name is None:
            name = self.field.name
        container[name] = cur.get(name)


def _resolve(ctx: _Context, info: ObjectInfo, ref: FieldRef, alias: str | None) -> _Path:
    parts = list(ref.path)
    if len(parts) > 1:
        head = parts[0].lower()
        # "a.Name" with FROM Account a, or "Account.Name" FROM Account: the qualifier is the object itself
        if (alias and head == alias.lower()) or (head == info.name.lower() and info.relationship(head) is None):
            parts = parts[1:]
    steps: list[str] = []
    rels: list[str] = []
    current = info
    for i, part in enumerate(parts[:-1]):
        rel = current.relationship(part)
        if rel is None or not rel.reference_to:
            raise error_at(INVALID_FIELD, ctx.text, ref.pos,
                           f"Didn't understand relationship '{part}' in field path. {_CUSTOM_REL_HINT}")
        steps.append(rel.name)
        rels.append(rel.relationship_name or part)
        targets = [t for t in (ctx.catalog.describe(name) for name in rel.reference_to) if t is not None]
        last_hop = i == len(parts) - 2
        if len(targets) > 1 and last_hop:
            return _polymorphic(ctx, ref, parts[-1], targets, tuple(steps), tuple(rels))
        if not targets and last_hop:
            # the target is not queryable through this API (e.g. TracedEntity -> User from Tooling):
            # take the field on trust and read it case-insensitively from whatever record the id names
            loose = FieldInfo(parts[-1], "string")
            return _Path(ref, tuple(steps), tuple(rels), loose, None, ctx, loose=True)
        if not targets or len(targets) > 1:
            raise error_at(INVALID_FIELD, ctx.text, ref.pos,
                           f"Didn't understand relationship '{part}' in field path. {_CUSTOM_REL_HINT}")
        current = targets[0]
    final = current.field(parts[-1])
    if final is None:
        raise error_at(INVALID_FIELD, ctx.text, ref.pos,
                       f"No such column '{parts[-1]}' on entity '{current.name}'. {_CUSTOM_FIELD_HINT}")
    return _Path(ref, tuple(steps), tuple(rels), final, None, ctx)


def _date_part(func: str, value: Any, source_type: str) -> Any:
    """Apply a SOQL date function to a wire date/datetime value (UTC)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        if source_type == "datetime":
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            moment = moment.astimezone(UTC) if moment.tzinfo else moment
            day, hour = moment.date(), moment.hour
        else:
            day, hour = date.fromisoformat(value[:10]), 0
    except ValueError:
        return None
    func = func.replace("FISCAL_", "CALENDAR_")  # the emulated org's fiscal year is the calendar year
    if func == "DAY_ONLY":
        return day.isoformat()
    if func == "HOUR_IN_DAY":
        return hour
    parts = {
        "CALENDAR_YEAR": day.year,
        "CALENDAR_MONTH": day.month,
        "CALENDAR_QUARTER": (day.month - 1) // 3 + 1,
        "DAY_IN_MONTH": day.day,
        "DAY_IN_WEEK": day.isoweekday() % 7 + 1,  # 1 = Sunday
        "DAY_IN_YEAR": day.timetuple().tm_yday,
        "WEEK_IN_MONTH": (day.day - 1) // 7 + 1,
        "WEEK_IN_YEAR": (day.timetuple().tm_yday - 1) // 7 + 1,
    }
    return parts[func]


@dataclass
class _FuncPath:
    """A date function over a resolved date/datetime path."""

    func: DateFunc
    inner: _Path
    field: FieldInfo

    @property
    def identity(self) -> tuple[str, ...]:
        return (self.func.func.lower().replace("fiscal_", "calendar_"), *self.inner.identity)

    def get(self, row: Record) -> Any:
        return _date_part(self.func.func, self.inner.get(row), self.inner.field.type)


def _resolve_expr(ctx: _Context, info: ObjectInfo, expr: FieldRef | DateFunc, alias: str | None
                  ) -> _Path | _FuncPath:
    if isinstance(expr, FieldRef):
        return _resolve(ctx, info, expr, alias)
    inner = _resolve(ctx, info, expr.arg, alias)
    source = inner.field.type
    if source not in ("date", "datetime") or (expr.func == "HOUR_IN_DAY" and source != "datetime"):
        # [guess] Salesforce's exact wording for a date function on the wrong field type
        raise error_at(MALFORMED_QUERY, ctx.text, expr.pos,
                       f"{expr.func} cannot be applied to field {inner.field.name} of type {source}")
    out_type = "date" if expr.func == "DAY_ONLY" else "int"
    return _FuncPath(expr, inner, FieldInfo(expr.func, out_type))


def _polymorphic(
    ctx: _Context, ref: FieldRef, name: str, targets: list[ObjectInfo],
    steps: tuple[str, ...], rels: tuple[str, ...],
) -> _Path:
    by_object: dict[str, str] = {}
    first: FieldInfo | None = None
    for target in targets:
        found = target.field(name)
        if found is not None:
            by_object[target.name.lower()] = found.name
            first = first or found
    if first is None:
        raise error_at(INVALID_FIELD, ctx.text, ref.pos,
                       f"No such column '{name}' on entity '{targets[0].name}'. {_CUSTOM_FIELD_HINT}")
    return _Path(ref, steps, rels, first, by_object, ctx)


# -- plans ---------------------------------------------------------------------------------------


def _plan(query: Query, info: ObjectInfo, ctx: _Context) -> _Plan:
    aggregated = query.group_by or any(
        isinstance(s, Aggregate | DateFunc) for s in query.select if not query.count_only)
    if aggregated:
        return _AggregatePlan(query, info, ctx)
    return _RowPlan(query, info, ctx)


class _Plan:
    def run(self) -> QueryResult:  # pragma: no cover - interface
        raise NotImplementedError


def _row_operand(ctx: _Context, info: ObjectInfo, alias: str | None
                 ) -> Callable[[FieldRef | Aggregate | DateFunc], Operand]:
    def operand(left: FieldRef | Aggregate | DateFunc) -> Operand:
        if isinstance(left, Aggregate):  # pragma: no cover - the parser only allows these in HAVING
            raise error_at(MALFORMED_QUERY, ctx.text, left.pos,
                           "Aggregate functions are not allowed in the WHERE clause")
        path = _resolve_expr(ctx, info, left, alias)
        name = left.text if isinstance(left, FieldRef) else left.func
        return Operand(path.get, path.field.type, name)

    return operand


def _semi_join_values(ctx: _Context) -> Callable[[Query, int], set[Any]]:
    def run(sub: Query, pos: int) -> set[Any]:
        info = ctx.describe(sub.from_name, sub.from_pos)
        if len(sub.select) != 1 or not isinstance(sub.select[0], FieldRef):
            raise error_at(MALFORMED_QUERY, ctx.text, pos, "Semi join sub-selects can only query id fields")
        path = _resolve(ctx, info, sub.select[0], sub.from_alias)
        if kind_of(path.field.type) != "id":
            raise error_at(INVALID_FIELD, ctx.text, sub.select[0].pos,
                           f"Semi join sub-selects can only query id fields, cannot use: '{path.field.name}'")
        rows = _RowPlan(sub, info, ctx).matching_rows()
        key = key_function(path.field.type)
        return {key(path.get(r)) for r in rows} - {None}

    return run


def _slice(items: list[Any], offset: int | None, limit: int | None) -> list[Any]:
    start = offset or 0
    return items[start:] if limit is None else items[start:start + limit]


def _sort(items: list[Any], keys: list[tuple[Callable[[Any], Any], OrderItem]]) -> list[Any]:
    """Stable multi-key sort with Salesforce's null placement (ASC nulls first, DESC nulls last)."""
    out = list(items)
    for keyfn, item in reversed(keys):
        nulls_last = item.nulls_last if item.nulls_last is not None else item.descending
        # with reverse=True the smallest rank ends up last
        null_rank = (0 if nulls_last else 2) if item.descending else (2 if nulls_last else 0)

        def full_key(x: Any, keyfn: Callable[[Any], Any] = keyfn, null_rank: int = null_rank) -> Any:
            v = keyfn(x)
            return (null_rank, 0) if v is None else (1, sort_key(v))

        out.sort(key=full_key, reverse=item.descending)
    return out


class _RowPlan(_Plan):
    """A plain (non-aggregate) query, optionally with child subqueries."""

    def __init__(self, query: Query, info: ObjectInfo, ctx: _Context, child_of: str | None = None) -> None:
        self.query, self.info, self.ctx = query, info, ctx
        self.outputs: list[_Path | _ChildPlan] = []
        seen: set[tuple[str, ...]] = set()
        for item in query.select:
            if isinstance(item, SubQuery):
                self.outputs.append(_ChildPlan(item, info, ctx))
            elif isinstance(item, FieldRef):
                path = _resolve(ctx, info, item, query.from_alias)
                if path.identity not in seen:
                    seen.add(path.identity)
                    self.outputs.append(path)
        operand = _row_operand(ctx, info, query.from_alias)
        self.where = (compile_condition(query.where, operand, _semi_join_values(ctx), ctx.now, ctx.text)
                      if query.where is not None else None)
        self.order: list[tuple[Callable[[Any], Any], OrderItem]] = []
        for item in query.order_by:
            if isinstance(item.expr, Aggregate):
                raise error_at(MALFORMED_QUERY, ctx.text, item.expr.pos,
                               "Ordered field must be grouped or aggregated")
            path = _resolve_expr(ctx, info, item.expr, query.from_alias)
            key = key_function(path.field.type)
            self.order.append((lambda r, p=path, k=key: k(p.get(r)), item))

    def filtered(self, rows: Iterable[Record]) -> list[Record]:
        where = self.where
        return [r for r in rows if where(r)] if where is not None else list(rows)

    def ordered(self, rows: list[Record]) -> list[Record]:
        rows = _sort(rows, self.order) if self.order else rows
        return _slice(rows, self.query.offset, self.query.limit)

    def matching_rows(self) -> list[Record]:
        rows = self.ctx.catalog.records(self.info.name, self.ctx.include_deleted)
        return self.ordered(self.filtered(rows))

    def shape(self, row: Record) -> dict[str, Any]:
        out: dict[str, Any] = {"attributes": self.ctx.url(self.info.name, row)}
        for output in self.outputs:
            if isinstance(output, _Path):
                output.place(out, row)
            else:
                out[output.relationship] = output.for_parent(row)
        return out

    def run(self) -> QueryResult:
        rows = self.matching_rows()
        if self.query.count_only:
            return QueryResult([], len(rows), self.info.name, count_only=True)
        return QueryResult([self.shape(r) for r in rows], len(rows), self.info.name)


class _ChildPlan:
    """(SELECT ... FROM ChildRelationship) inside a parent query."""

    def __init__(self, sub: SubQuery, parent: ObjectInfo, ctx: _Context) -> None:
        query = sub.query
        rel = parent.child(query.from_name)
        if rel is None:
            raise error_at(INVALID_TYPE, ctx.text, query.from_pos,
                           f"Didn't understand relationship '{query.from_name}' in FROM part of query call. "
                           f"{_CUSTOM_REL_HINT}")
        if query.count_only or query.group_by or any(isinstance(s, Aggregate) for s in query.select):
            raise error_at(MALFORMED_QUERY, ctx.text, sub.pos,
                           "Aggregate queries are not supported in a subquery")
        child_info = ctx.describe(rel.child_object, query.from_pos)
        self.relationship = rel.name
        self.ctx = ctx
        self.plan = _RowPlan(query, child_info, ctx)
        link = child_info.field(rel.field)
        self.link_name = link.name if link else rel.field
        self.link_key = key_function(link.type if link else "reference")
        self._index: dict[Any, list[Record]] | None = None

    def _children(self) -> dict[Any, list[Record]]:
        if self._index is None:
            index: dict[Any, list[Record]] = {}
            rows = self.ctx.catalog.records(self.plan.info.name, self.ctx.include_deleted)
            for row in self.plan.filtered(rows):
                parent = self.link_key(row.get(self.link_name))
                if parent is not None:
                    index.setdefault(parent, []).append(row)
            self._index = index
        return self._index

    def for_parent(self, parent: Record) -> dict[str, Any] | None:
        children = self._children().get(self.link_key(parent.get("Id")), [])
        rows = self.plan.ordered(children)
        if not rows:
            return None  # Salesforce returns null, not an empty result, for no children
        return {"totalSize": len(rows), "done": True, "records": [self.plan.shape(r) for r in rows]}


# -- aggregate queries -------------------------------------------------------------------------------

_AGG_TYPES = {"COUNT": "int", "COUNT_DISTINCT": "int", "AVG": "double"}
# field types no aggregate function accepts (Salesforce's "Support for Field Types in Aggregate Functions")
_NOT_AGGREGATABLE = frozenset(
    {"boolean", "multipicklist", "time", "base64", "encryptedstring", "anyType", "address", "location"})


class _AggregatePlan(_Plan):
    """GROUP BY and/or aggregate functions: rows of type AggregateResult."""

    def __init__(self, query: Query, info: ObjectInfo, ctx: _Context) -> None:
        self.query, self.info, self.ctx = query, info, ctx
        alias = query.from_alias
        self.groups = [_resolve_expr(ctx, info, ref, alias) for ref in query.group_by]
        self.group_ids = {g.identity: i for i, g in enumerate(self.groups)}
        self.aggs: dict[tuple[str, tuple[str, ...] | None], tuple[Aggregate, _Path | None]] = {}
        self.columns: list[tuple[str, Callable[[dict[Any, Any]], Any]]] = []
        expr = 0
        for item in query.select:
            if isinstance(item, SubQuery):
                raise error_at(MALFORMED_QUERY, ctx.text, item.pos,
                               "Aggregate queries do not support child relationship subqueries")
            if query.count_only:
                continue
            if isinstance(item, Aggregate):
                sig = self._aggregate(item)
                name = item.alias or f"expr{expr}"
                if not item.alias:
                    expr += 1
                self.columns.append((name, lambda g, s=sig: g[s]))
            elif isinstance(item, DateFunc):
                idx = self._group_index(item, "Field must be grouped or aggregated")
                name = item.alias or f"expr{expr}"
                if not item.alias:
                    expr += 1
                self.columns.append((name, lambda g, i=idx: g[("GROUP", i)]))
            else:
                idx = self._group_index(item, "Field must be grouped or aggregated")
                name = item.alias or self.groups[idx].field.name
                self.columns.append((name, lambda g, i=idx: g[("GROUP", i)]))
        self.where = (compile_condition(query.where, _row_operand(ctx, info, alias), _semi_join_values(ctx),
                                        ctx.now, ctx.text) if query.where is not None else None)
        self.having = (compile_condition(query.having, self._group_operand, _semi_join_values(ctx), ctx.now,
                                         ctx.text) if query.having is not None else None)
        self.order: list[tuple[Callable[[Any], Any], OrderItem]] = []
        for order in query.order_by:
            operand = self._group_operand(order.expr, "Ordered field must be grouped or aggregated")
            key = key_function(operand.field_type)
            self.order.append((lambda g, o=operand, k=key: k(o.get(g)), order))

    def _group_index(self, ref: FieldRef | DateFunc, message: str) -> int:
        path = _resolve_expr(self.ctx, self.info, ref, self.query.from_alias)
        idx = self.group_ids.get(path.identity)
        if idx is None:
            shown = ref.text if isinstance(ref, FieldRef) else f"{ref.func}({ref.arg.text})"
            raise error_at(MALFORMED_QUERY, self.ctx.text, ref.pos, f"{message}: {shown}")
        return idx

    def _aggregate(self, agg: Aggregate) -> tuple[str, tuple[str, ...] | None]:
        path = _resolve(self.ctx, self.info, agg.arg, self.query.from_alias) if agg.arg else None
        unsupported = path is not None and (
            path.field.type in _NOT_AGGREGATABLE
            or (agg.func in ("SUM", "AVG") and kind_of(path.field.type) != "number"))
        if path is not None and unsupported:
            raise error_at(MALFORMED_QUERY, self.ctx.text, agg.pos,
                           f"field {path.field.name} does not support aggregate operator {agg.func}")
        sig = (agg.func, path.identity if path else None)
        self.aggs.setdefault(sig, (agg, path))
        return sig

    def _group_operand(self, left: FieldRef | Aggregate | DateFunc,
                       message: str = "Field must be grouped or aggregated") -> Operand:
        if isinstance(left, Aggregate):
            sig = self._aggregate(left)
            _, path = self.aggs[sig]
            ftype = _AGG_TYPES.get(left.func) or (path.field.type if path else "int")
            if left.func == "SUM":
                ftype = "double"
            return Operand(lambda g, s=sig: g[s], ftype, left.func)
        idx = self._group_index(left, message)
        name = left.text if isinstance(left, FieldRef) else left.func
        return Operand(lambda g, i=idx: g[("GROUP", i)], self.groups[idx].field.type, name)

    def _compute(self, rows: list[Record]) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for sig, (agg, path) in self.aggs.items():
            if path is None:
                out[sig] = len(rows)
                continue
            values = [v for v in (path.get(r) for r in rows) if v is not None]
            key = key_function(path.field.type)
            if agg.func == "COUNT":
                out[sig] = len(values)
            elif agg.func == "COUNT_DISTINCT":
                out[sig] = len({key(v) for v in values})
            elif agg.func in ("MIN", "MAX"):
                keyed = [(sort_key(key(v)), v) for v in values if key(v) is not None]
                pick = min if agg.func == "MIN" else max
                out[sig] = pick(keyed, key=lambda kv: kv[0])[1] if keyed else None
            else:
                numbers = [key(v) for v in values if key(v) is not None]
                if not numbers:
                    out[sig] = None
                elif agg.func == "SUM":
                    # int fields sum to an integer; currency/double/percent come back as JSON floats
                    out[sig] = sum(numbers) if path.field.type == "int" else float(sum(numbers))
                else:
                    out[sig] = sum(numbers) / len(numbers)
        return out

    def run(self) -> QueryResult:
        rows = self.ctx.catalog.records(self.info.name, self.ctx.include_deleted)
        rows = [r for r in rows if self.where(r)] if self.where is not None else list(rows)
        buckets: dict[tuple[Any, ...], tuple[list[Any], list[Record]]] = {}
        keys = [key_function(g.field.type) for g in self.groups]
        for row in rows:
            raw = [g.get(row) for g in self.groups]
            bucket_key = tuple(sort_key(k(v)) for k, v in zip(keys, raw, strict=True))
            buckets.setdefault(bucket_key, (raw, []))[1].append(row)
        if not self.groups and not buckets:
            buckets[()] = ([], [])  # an aggregate without GROUP BY always yields one row
        groups = []
        for raw, members in buckets.values():
            g = self._compute(members)
            for i, value in enumerate(raw):
                g[("GROUP", i)] = value
            groups.append(g)
        if self.having is not None:
            groups = [g for g in groups if self.having(g)]
        if self.order:
            groups = _sort(groups, self.order)
        groups = _slice(groups, self.query.offset, self.query.limit)
        if self.query.count_only:
            return QueryResult([], len(groups), self.info.name, count_only=True)
        records = []
        for g in groups:
            rec: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
            for name, getter in self.columns:
                rec[name] = getter(g)
            records.append(rec)
        return QueryResult(records, len(records), self.info.name)
