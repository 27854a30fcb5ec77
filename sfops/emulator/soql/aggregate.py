"""Aggregate queries: GROUP BY, aggregate functions and HAVING, producing AggregateResult rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sfops.emulator.soql.catalog import ObjectInfo, Record
from sfops.emulator.soql.errors import MALFORMED_QUERY, error_at
from sfops.emulator.soql.nodes import Aggregate, DateFunc, FieldRef, OrderItem, Query, SubQuery
from sfops.emulator.soql.predicates import Operand, compile_condition
from sfops.emulator.soql.resolve import Context, FieldPath, resolve, resolve_expr
from sfops.emulator.soql.result import QueryResult
from sfops.emulator.soql.rows import row_operand, semi_join_values, slice_rows, sort_rows
from sfops.emulator.soql.values import key_function, kind_of, sort_key

_AGG_TYPES = {"COUNT": "int", "COUNT_DISTINCT": "int", "AVG": "double"}
# field types no aggregate function accepts (Salesforce's "Support for Field Types in Aggregate Functions")
_NOT_AGGREGATABLE = frozenset(
    {"boolean", "multipicklist", "time", "base64", "encryptedstring", "anyType", "address", "location"}
)


class AggregatePlan:
    """GROUP BY and/or aggregate functions: rows of type AggregateResult."""

    def __init__(self, query: Query, info: ObjectInfo, ctx: Context) -> None:
        self.query, self.info, self.ctx = query, info, ctx
        alias = query.from_alias
        self.groups = [resolve_expr(ctx, info, ref, alias) for ref in query.group_by]
        self.group_ids = {g.identity: i for i, g in enumerate(self.groups)}
        self.aggs: dict[tuple[str, tuple[str, ...] | None], tuple[Aggregate, FieldPath | None]] = {}
        self.columns: list[tuple[str, Callable[[dict[Any, Any]], Any]]] = []
        expr = 0
        for item in query.select:
            if isinstance(item, SubQuery):
                raise error_at(
                    MALFORMED_QUERY,
                    ctx.text,
                    item.pos,
                    "Aggregate queries do not support child relationship subqueries",
                )
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
        self.where = (
            compile_condition(query.where, row_operand(ctx, info, alias), semi_join_values(ctx), ctx.now, ctx.text)
            if query.where is not None
            else None
        )
        self.having = (
            compile_condition(query.having, self._group_operand, semi_join_values(ctx), ctx.now, ctx.text)
            if query.having is not None
            else None
        )
        self.order: list[tuple[Callable[[Any], Any], OrderItem]] = []
        for order in query.order_by:
            operand = self._group_operand(order.expr, "Ordered field must be grouped or aggregated")
            key = key_function(operand.field_type)
            self.order.append((lambda g, o=operand, k=key: k(o.get(g)), order))

    def _group_index(self, ref: FieldRef | DateFunc, message: str) -> int:
        path = resolve_expr(self.ctx, self.info, ref, self.query.from_alias)
        idx = self.group_ids.get(path.identity)
        if idx is None:
            shown = ref.text if isinstance(ref, FieldRef) else f"{ref.func}({ref.arg.text})"
            raise error_at(MALFORMED_QUERY, self.ctx.text, ref.pos, f"{message}: {shown}")
        return idx

    def _aggregate(self, agg: Aggregate) -> tuple[str, tuple[str, ...] | None]:
        path = resolve(self.ctx, self.info, agg.arg, self.query.from_alias) if agg.arg else None
        unsupported = path is not None and (
            path.field.type in _NOT_AGGREGATABLE
            or (agg.func in ("SUM", "AVG") and kind_of(path.field.type) != "number")
        )
        if path is not None and unsupported:
            raise error_at(
                MALFORMED_QUERY,
                self.ctx.text,
                agg.pos,
                f"field {path.field.name} does not support aggregate operator {agg.func}",
            )
        sig = (agg.func, path.identity if path else None)
        self.aggs.setdefault(sig, (agg, path))
        return sig

    def _group_operand(
        self, left: FieldRef | Aggregate | DateFunc, message: str = "Field must be grouped or aggregated"
    ) -> Operand:
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
            groups = sort_rows(groups, self.order)
        groups = slice_rows(groups, self.query.offset, self.query.limit)
        if self.query.count_only:
            return QueryResult([], len(groups), self.info.name, count_only=True)
        records = []
        for g in groups:
            rec: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
            for name, getter in self.columns:
                rec[name] = getter(g)
            records.append(rec)
        return QueryResult(records, len(records), self.info.name)
