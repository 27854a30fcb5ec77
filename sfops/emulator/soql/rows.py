"""Plain (non-aggregate) queries: filter, order, slice and shape rows, with child subqueries and
semi-joins."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sfops.emulator.soql.catalog import ObjectInfo, Record
from sfops.emulator.soql.errors import INVALID_FIELD, INVALID_TYPE, MALFORMED_QUERY, error_at
from sfops.emulator.soql.nodes import Aggregate, DateFunc, FieldRef, OrderItem, Query, SubQuery
from sfops.emulator.soql.predicates import Operand, compile_condition
from sfops.emulator.soql.resolve import CUSTOM_REL_HINT, Context, FieldPath, resolve, resolve_expr
from sfops.emulator.soql.result import QueryResult
from sfops.emulator.soql.values import key_function, kind_of, sort_key


def row_operand(
    ctx: Context, info: ObjectInfo, alias: str | None
) -> Callable[[FieldRef | Aggregate | DateFunc], Operand]:
    """How WHERE reads its left-hand sides from a row of `info`."""

    def operand(left: FieldRef | Aggregate | DateFunc) -> Operand:
        if isinstance(left, Aggregate):  # pragma: no cover - the parser only allows these in HAVING
            raise error_at(
                MALFORMED_QUERY, ctx.text, left.pos, "Aggregate functions are not allowed in the WHERE clause"
            )
        path = resolve_expr(ctx, info, left, alias)
        name = left.text if isinstance(left, FieldRef) else left.func
        return Operand(path.get, path.field.type, name)

    return operand


def semi_join_values(ctx: Context) -> Callable[[Query, int], set[Any]]:
    """Runs `Id IN (SELECT AccountId FROM Contact ...)` subqueries to a set of id keys."""

    def run(sub: Query, pos: int) -> set[Any]:
        info = ctx.describe(sub.from_name, sub.from_pos)
        if len(sub.select) != 1 or not isinstance(sub.select[0], FieldRef):
            raise error_at(MALFORMED_QUERY, ctx.text, pos, "Semi join sub-selects can only query id fields")
        path = resolve(ctx, info, sub.select[0], sub.from_alias)
        if kind_of(path.field.type) != "id":
            raise error_at(
                INVALID_FIELD,
                ctx.text,
                sub.select[0].pos,
                f"Semi join sub-selects can only query id fields, cannot use: '{path.field.name}'",
            )
        rows = RowPlan(sub, info, ctx).matching_rows()
        key = key_function(path.field.type)
        return {key(path.get(r)) for r in rows} - {None}

    return run


def slice_rows(items: list[Any], offset: int | None, limit: int | None) -> list[Any]:
    """OFFSET then LIMIT."""
    start = offset or 0
    return items[start:] if limit is None else items[start : start + limit]


def sort_rows(items: list[Any], keys: list[tuple[Callable[[Any], Any], OrderItem]]) -> list[Any]:
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


class RowPlan:
    """A plain (non-aggregate) query, optionally with child subqueries."""

    def __init__(self, query: Query, info: ObjectInfo, ctx: Context) -> None:
        self.query, self.info, self.ctx = query, info, ctx
        self.outputs: list[FieldPath | ChildPlan] = []
        seen: set[tuple[str, ...]] = set()
        for item in query.select:
            if isinstance(item, SubQuery):
                self.outputs.append(ChildPlan(item, info, ctx))
            elif isinstance(item, FieldRef):
                path = resolve(ctx, info, item, query.from_alias)
                if path.identity not in seen:
                    seen.add(path.identity)
                    self.outputs.append(path)
        operand = row_operand(ctx, info, query.from_alias)
        self.where = (
            compile_condition(query.where, operand, semi_join_values(ctx), ctx.now, ctx.text)
            if query.where is not None
            else None
        )
        self.order: list[tuple[Callable[[Any], Any], OrderItem]] = []
        for item in query.order_by:
            if isinstance(item.expr, Aggregate):
                raise error_at(MALFORMED_QUERY, ctx.text, item.expr.pos, "Ordered field must be grouped or aggregated")
            path = resolve_expr(ctx, info, item.expr, query.from_alias)
            key = key_function(path.field.type)
            self.order.append((lambda r, p=path, k=key: k(p.get(r)), item))

    def filtered(self, rows: Iterable[Record]) -> list[Record]:
        where = self.where
        return [r for r in rows if where(r)] if where is not None else list(rows)

    def ordered(self, rows: list[Record]) -> list[Record]:
        rows = sort_rows(rows, self.order) if self.order else rows
        return slice_rows(rows, self.query.offset, self.query.limit)

    def matching_rows(self) -> list[Record]:
        rows = self.ctx.catalog.records(self.info.name, self.ctx.include_deleted)
        return self.ordered(self.filtered(rows))

    def shape(self, row: Record) -> dict[str, Any]:
        out: dict[str, Any] = {"attributes": self.ctx.url(self.info.name, row)}
        for output in self.outputs:
            if isinstance(output, FieldPath):
                output.place(out, row)
            else:
                out[output.relationship] = output.for_parent(row)
        return out

    def run(self) -> QueryResult:
        rows = self.matching_rows()
        if self.query.count_only:
            return QueryResult([], len(rows), self.info.name, count_only=True)
        return QueryResult([self.shape(r) for r in rows], len(rows), self.info.name)


class ChildPlan:
    """(SELECT ... FROM ChildRelationship) inside a parent query."""

    def __init__(self, sub: SubQuery, parent: ObjectInfo, ctx: Context) -> None:
        query = sub.query
        rel = parent.child(query.from_name)
        if rel is None:
            raise error_at(
                INVALID_TYPE,
                ctx.text,
                query.from_pos,
                f"Didn't understand relationship '{query.from_name}' in FROM part of query call. {CUSTOM_REL_HINT}",
            )
        if query.count_only or query.group_by or any(isinstance(s, Aggregate | DateFunc) for s in query.select):
            raise error_at(MALFORMED_QUERY, ctx.text, sub.pos, "Aggregate queries are not supported in a subquery")
        child_info = ctx.describe(rel.child_object, query.from_pos)
        self.relationship = rel.name
        self.ctx = ctx
        self.plan = RowPlan(query, child_info, ctx)
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
