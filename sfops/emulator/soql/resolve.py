"""Name resolution: field paths (LogUser.Name, SetupOwner.Name, CALENDAR_YEAR(CreatedDate)) checked
against the catalog, with INVALID_TYPE / INVALID_FIELD errors pointing at the name, and readers
that follow parent lookups at run time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from sfops.emulator.soql.catalog import Catalog, FieldInfo, ObjectInfo, Record
from sfops.emulator.soql.errors import INVALID_FIELD, INVALID_TYPE, MALFORMED_QUERY, error_at
from sfops.emulator.soql.nodes import DateFunc, FieldRef

_CUSTOM_OBJECT_HINT = (
    "If you are attempting to use a custom object, be sure to append the '__c' after the entity name. "
    "Please reference your WSDL or the describe call for the appropriate names."
)
_CUSTOM_FIELD_HINT = (
    "If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. "
    "Please reference your WSDL or the describe call for the appropriate names."
)
CUSTOM_REL_HINT = (
    "If you are attempting to use a custom relationship, be sure to append the '__r' after the custom "
    "relationship name. Please reference your WSDL or the describe call for the appropriate names."
)


@dataclass
class Context:
    catalog: Catalog
    now: datetime
    include_deleted: bool
    url_base: str
    text: str
    _lookups: dict[str, tuple[str, Record] | None] = field(default_factory=dict)

    def describe(self, name: str, pos: int) -> ObjectInfo:
        info = self.catalog.describe(name)
        if info is None:
            raise error_at(
                INVALID_TYPE, self.text, pos, f"sObject type '{name}' is not supported. {_CUSTOM_OBJECT_HINT}"
            )
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
class FieldPath:
    """A resolved field path: reference fields to follow, then the final field."""

    ref: FieldRef
    steps: tuple[str, ...]
    rel_names: tuple[str, ...]
    field: FieldInfo
    by_object: dict[str, str] | None
    ctx: Context
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


def resolve(ctx: Context, info: ObjectInfo, ref: FieldRef, alias: str | None) -> FieldPath:
    """Check a field path against the catalog (INVALID_FIELD on unknown names) and return its reader."""
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
            raise error_at(
                INVALID_FIELD,
                ctx.text,
                ref.pos,
                f"Didn't understand relationship '{part}' in field path. {CUSTOM_REL_HINT}",
            )
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
            return FieldPath(ref, tuple(steps), tuple(rels), loose, None, ctx, loose=True)
        if not targets or len(targets) > 1:
            raise error_at(
                INVALID_FIELD,
                ctx.text,
                ref.pos,
                f"Didn't understand relationship '{part}' in field path. {CUSTOM_REL_HINT}",
            )
        current = targets[0]
    final = current.field(parts[-1])
    if final is None:
        raise error_at(
            INVALID_FIELD,
            ctx.text,
            ref.pos,
            f"No such column '{parts[-1]}' on entity '{current.name}'. {_CUSTOM_FIELD_HINT}",
        )
    return FieldPath(ref, tuple(steps), tuple(rels), final, None, ctx)


def date_part(func: str, value: Any, source_type: str, zone: tzinfo = UTC) -> Any:
    """Apply a SOQL date function to a wire date/datetime value (in UTC, or `zone` for convertTimezone)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        if source_type == "datetime":
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            moment = moment.astimezone(zone) if moment.tzinfo else moment
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
class FuncPath:
    """A date function over a resolved date/datetime path."""

    func: DateFunc
    inner: FieldPath
    field: FieldInfo

    @property
    def identity(self) -> tuple[str, ...]:
        zone = ("converttimezone",) if self.func.convert else ()
        return (self.func.func.lower().replace("fiscal_", "calendar_"), *zone, *self.inner.identity)

    def get(self, row: Record) -> Any:
        zone = (self.inner.ctx.now.tzinfo or UTC) if self.func.convert else UTC
        return date_part(self.func.func, self.inner.get(row), self.inner.field.type, zone)


def resolve_expr(ctx: Context, info: ObjectInfo, expr: FieldRef | DateFunc, alias: str | None) -> FieldPath | FuncPath:
    """Resolve a plain field path or a date function over one."""
    if isinstance(expr, FieldRef):
        return resolve(ctx, info, expr, alias)
    inner = resolve(ctx, info, expr.arg, alias)
    source = inner.field.type
    if source not in ("date", "datetime") or (expr.func == "HOUR_IN_DAY" and source != "datetime"):
        # [guess] Salesforce's exact wording for a date function on the wrong field type
        raise error_at(
            MALFORMED_QUERY,
            ctx.text,
            expr.pos,
            f"{expr.func} cannot be applied to field {inner.field.name} of type {source}",
        )
    out_type = "date" if expr.func == "DAY_ONLY" else "int"
    return FuncPath(expr, inner, FieldInfo(expr.func, out_type))


def _polymorphic(
    ctx: Context,
    ref: FieldRef,
    name: str,
    targets: list[ObjectInfo],
    steps: tuple[str, ...],
    rels: tuple[str, ...],
) -> FieldPath:
    by_object: dict[str, str] = {}
    first: FieldInfo | None = None
    for target in targets:
        found = target.field(name)
        if found is not None:
            by_object[target.name.lower()] = found.name
            first = first or found
    if first is None:
        raise error_at(
            INVALID_FIELD,
            ctx.text,
            ref.pos,
            f"No such column '{name}' on entity '{targets[0].name}'. {_CUSTOM_FIELD_HINT}",
        )
    return FieldPath(ref, steps, rels, first, by_object, ctx)
