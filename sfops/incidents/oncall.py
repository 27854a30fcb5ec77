"""On-call rotations: layers, wall-clock handoffs in a time zone, restrictions, overrides, gaps, iCalendar.

    [oncall]
    default_rotation = "primary"
    [oncall.people.alice]
    email = "alice@example.com"
    [oncall.rotations.primary]
    time_zone = "Europe/Paris"
    start = "2026-01-05"            # the first handoff day (local)
    handoff_time = "09:00"          # local wall-clock time of every handoff
    length = "weekly"               # daily | weekly | "3d" | "12h"
    participants = ["alice", "bob", "carol"]
    restrictions = [{days = ["mon", "tue", "wed", "thu", "fri"], start = "09:00", end = "18:00"}]
    [[oncall.rotations.primary.layers]]   # optional: extra layers; a later layer wins where it has someone
    participants = ["dave"]
    length = "daily"
    restrictions = [{days = ["sat", "sun"], start = "00:00", end = "24:00"}]

Day-based lengths hand off at the local handoff time, so a shift that spans a DST change is 23 or
25 hours long (people hand over at 09:00 whatever the offset). Hour-based lengths ("12h") are
exact durations from the first handoff. Overrides (from the config or `sfops oncall override`)
sit above every layer; a later override wins over an earlier one where they overlap.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sfops.clock import aware
from sfops.config import toml_table
from sfops.errors import ConfigError, UsageError

if TYPE_CHECKING:  # the store (SQLAlchemy) is imported only by the functions that use it
    from sfops.store import Store

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Restriction:
    """A local-time window on some weekdays (end <= start means it runs past midnight)."""

    days: tuple[int, ...]
    start: dt.time
    end_minutes: int  # minutes after the start day's midnight; may exceed 24 h for overnight windows

    def windows(self, day: dt.date, zone: ZoneInfo) -> list[tuple[dt.datetime, dt.datetime]]:
        """The UTC interval this restriction opens on local `day` (none if it is not one of its days)."""
        if day.weekday() not in self.days:
            return []
        begin = dt.datetime.combine(day, self.start, tzinfo=zone)
        end_day = day + dt.timedelta(days=self.end_minutes // 1440)
        end_min = self.end_minutes % 1440
        end = dt.datetime.combine(end_day, dt.time(end_min // 60, end_min % 60), tzinfo=zone)
        return [(begin.astimezone(dt.UTC), end.astimezone(dt.UTC))]


@dataclass(frozen=True)
class Layer:
    """One rotation layer: participants taking turns of a fixed length."""

    participants: tuple[str, ...]
    zone: ZoneInfo
    start: dt.date
    handoff: dt.time
    days: int = 0  # day-based length (wall clock)
    hours: float = 0.0  # hour-based length (exact)
    restrictions: tuple[Restriction, ...] = ()

    def boundary(self, k: int) -> dt.datetime:
        """The UTC start of turn k (turn 0 starts at the first handoff)."""
        if self.days:
            local = dt.datetime.combine(self.start + dt.timedelta(days=k * self.days), self.handoff, tzinfo=self.zone)
            return local.astimezone(dt.UTC)
        first = dt.datetime.combine(self.start, self.handoff, tzinfo=self.zone).astimezone(dt.UTC)
        return first + dt.timedelta(hours=self.hours * k)

    def turn_at(self, at: dt.datetime) -> int:
        """The index of the turn containing `at` (negative before the first handoff)."""
        if self.days:
            local_days = (at.astimezone(self.zone).date() - self.start).days
            k = local_days // self.days
        else:
            first = self.boundary(0)
            k = int((at - first) // dt.timedelta(hours=self.hours))
        while self.boundary(k) > at:
            k -= 1
        while self.boundary(k + 1) <= at:
            k += 1
        return k

    def shifts(self, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime, str]]:
        """(start, end, person) of every turn overlapping [start, end), clipped, restrictions applied."""
        out: list[tuple[dt.datetime, dt.datetime, str]] = []
        k = max(self.turn_at(start), 0)
        while True:
            s, e = self.boundary(k), self.boundary(k + 1)
            if s >= end:
                break
            person = self.participants[k % len(self.participants)]
            s, e = max(s, start), min(e, end)
            if s < e:
                out.extend((a, b, person) for a, b in self._restricted(s, e))
            k += 1
        return out

    def _restricted(self, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
        if not self.restrictions:
            return [(start, end)]
        windows: list[tuple[dt.datetime, dt.datetime]] = []
        day = start.astimezone(self.zone).date() - dt.timedelta(days=2)  # overnight windows reach back
        last = end.astimezone(self.zone).date()
        while day <= last:
            for r in self.restrictions:
                windows.extend(r.windows(day, self.zone))
            day += dt.timedelta(days=1)
        clipped = [(max(a, start), min(b, end)) for a, b in sorted(windows)]
        return _merge_intervals([(a, b) for a, b in clipped if a < b])


@dataclass(frozen=True)
class Override:
    """`person` covers [start, end) of a rotation; a higher `order` wins over a lower one."""

    person: str
    start: dt.datetime
    end: dt.datetime
    order: int
    id: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Rotation:
    """A named rotation: layers (lowest first) plus config overrides."""

    name: str
    layers: tuple[Layer, ...]
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True)
class Shift:
    """One segment of the final schedule; person None is a gap."""

    rotation: str
    start: dt.datetime
    end: dt.datetime
    person: str | None
    source: str  # "layer N", "override #id", "gap"

    def row(self, zone: ZoneInfo | None = None) -> dict[str, Any]:
        z = zone or dt.UTC
        return {
            "rotation": self.rotation,
            "start": self.start.astimezone(z),
            "end": self.end.astimezone(z),
            "person": self.person or "(nobody)",
            "source": self.source,
        }


@dataclass
class OnCallConfig:
    """The `[oncall]` section, parsed."""

    rotations: dict[str, Rotation] = field(default_factory=dict)
    people: dict[str, dict[str, Any]] = field(default_factory=dict)
    default_rotation: str | None = None

    def rotation(self, name: str | None) -> Rotation:
        """A rotation by name (or the default); a clear error lists the known ones."""
        name = name or self.default_rotation or (next(iter(self.rotations)) if len(self.rotations) == 1 else None)
        if not name:
            raise ConfigError(
                "No rotation given and no [oncall] default_rotation.", actions=["sfops oncall now --rotation NAME"]
            )
        if name not in self.rotations:
            raise UsageError(f"Unknown rotation '{name}'. Rotations: {', '.join(sorted(self.rotations)) or '(none)'}.")
        return self.rotations[name]

    def person(self, name: str) -> dict[str, Any]:
        """A participant's contact details (at least its name)."""
        return {"name": name, **self.people.get(name, {})}

    def participants(self) -> set[str]:
        """Everyone who takes turns in some rotation."""
        return {p for r in self.rotations.values() for layer in r.layers for p in layer.participants}

    def check_override_person(self, name: str) -> None:
        """An override must name someone sfops can reach or who is on a rotation: a typo would otherwise put
        nobody reachable on call."""
        if name not in self.participants() and not has_contact(self.person(name)):
            known = ", ".join(sorted(self.participants() | set(self.people))) or "(none)"
            raise UsageError(
                f"'{name}' is in no rotation and has no contact details in [oncall.people.{name}]. "
                f"Known people: {known}."
            )


def has_contact(person: dict[str, Any]) -> bool:
    """Whether notifications can reach someone: any contact detail besides the name."""
    return any(v for k, v in person.items() if k != "name")


def rotation_zone(rotation: Rotation) -> dt.tzinfo:
    """The rotation's time zone (its first layer's): where dates without an offset are read."""
    return rotation.layers[0].zone if rotation.layers else dt.UTC


# --- parsing ------------------------------------------------------------------------------------------
def _zone(name: str, where: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: unknown time zone '{name}' (use an IANA name like Europe/Paris).") from None


def _time(value: str, where: str) -> dt.time:
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", str(value).strip())
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise ConfigError(f"{where}: '{value}' is not a HH:MM time.")
    return dt.time(int(m[1]), int(m[2]))


def _minutes(value: str, where: str) -> int:
    if str(value).strip() == "24:00":
        return 1440
    t = _time(value, where)
    return t.hour * 60 + t.minute


def _length(value: Any, where: str) -> tuple[int, float]:
    text = str(value).strip().lower()
    if text == "daily":
        return 1, 0.0
    if text == "weekly":
        return 7, 0.0
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([dhw])", text)
    if not m or float(m[1]) <= 0:
        raise ConfigError(f"{where}: length '{value}' must be daily, weekly, or like '3d', '2w', '12h'.")
    if m[2] == "h":
        return 0, float(m[1])
    if not float(m[1]).is_integer():
        raise ConfigError(f"{where}: day/week lengths must be whole numbers.")
    return int(float(m[1])) * (7 if m[2] == "w" else 1), 0.0


def _strings(value: Any, key: str, where: str, example: str) -> tuple[str, ...]:
    """A TOML list of non-empty strings (a bare string would otherwise be iterated letter by letter)."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where}: {key} must be a list of strings, e.g. {key} = {example}.")
    return tuple(value)


def _tables(value: Any, key: str, where: str) -> list[Mapping[str, Any]]:
    """A TOML list of tables (absent = empty)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise ConfigError(f"{where}: {key} must be a list of tables (see docs/oncall.md).")
    return value


def _restriction(table: Mapping[str, Any], where: str) -> Restriction:
    days = []
    for d in _strings(table.get("days", list(DAYS)), "days", where, '["mon", "tue"]'):
        key = str(d).strip().lower()[:3]
        if key not in DAYS:
            raise ConfigError(f"{where}: unknown day '{d}'.")
        days.append(DAYS.index(key))
    start = _time(table.get("start", "00:00"), where)
    end = _minutes(table.get("end", "24:00"), where)
    begin = start.hour * 60 + start.minute
    if end <= begin:
        end += 1440  # overnight window
    return Restriction(days=tuple(days), start=start, end_minutes=end)


def _layer(table: Mapping[str, Any], defaults: Mapping[str, Any], where: str) -> Layer:
    merged = {**defaults, **table}
    if not merged.get("participants"):
        raise ConfigError(f"{where}: participants is empty.")
    participants = _strings(merged["participants"], "participants", where, '["alice", "bob"]')
    days, hours = _length(merged.get("length", "weekly"), where)
    try:
        start = dt.date.fromisoformat(str(merged.get("start", "2026-01-05")))
    except ValueError:
        raise ConfigError(f"{where}: start '{merged.get('start')}' is not a YYYY-MM-DD date.") from None
    return Layer(
        participants=participants,
        zone=_zone(str(merged.get("time_zone", "UTC")), where),
        start=start,
        handoff=_time(merged.get("handoff_time", "09:00"), where),
        days=days,
        hours=hours,
        restrictions=tuple(_restriction(r, where) for r in _tables(merged.get("restrictions"), "restrictions", where)),
    )


def parse_oncall(section: Mapping[str, Any]) -> OnCallConfig:
    """Parse `[oncall]` into rotations and people."""
    rotations: dict[str, Rotation] = {}
    for key in ("rotations", "people"):
        if not isinstance(section.get(key) or {}, Mapping):
            raise ConfigError(f"[oncall.{key}] must be a table of named tables (see docs/oncall.md).")
    for name, table in (section.get("rotations") or {}).items():
        where = f"[oncall.rotations.{name}]"
        table = toml_table(table, where, see="docs/oncall.md")
        base = {k: v for k, v in table.items() if k not in ("layers", "overrides")}
        defaults: dict[str, Any] = {k: base[k] for k in ("time_zone", "start", "handoff_time", "length") if k in base}
        layers = [_layer(base, {}, where)] if base.get("participants") else []
        layers += [
            _layer(t, defaults, f"{where} layer {i + 1}")
            for i, t in enumerate(_tables(table.get("layers"), "layers", where))
        ]
        if not layers:
            raise ConfigError(f"{where} has no participants and no layers.")
        overrides = tuple(
            _config_override(o, i, where) for i, o in enumerate(_tables(table.get("overrides"), "overrides", where))
        )
        rotations[name] = Rotation(name=name, layers=tuple(layers), overrides=overrides)
    people = {
        str(k): dict(toml_table(v, f"[oncall.people.{k}]", see="docs/oncall.md"))
        for k, v in (section.get("people") or {}).items()
    }
    default = section.get("default_rotation")
    if default and default not in rotations:
        raise ConfigError(f"[oncall] default_rotation '{default}' is not a configured rotation.")
    return OnCallConfig(rotations=rotations, people=people, default_rotation=default)


def _config_override(table: Mapping[str, Any], index: int, where: str) -> Override:
    missing = [k for k in ("person", "start", "end") if not table.get(k)]
    if missing:
        raise ConfigError(f"{where}: override {index + 1} needs {', '.join(missing)}.")
    return Override(
        person=str(table["person"]),
        start=_config_moment(table["start"], where),
        end=_config_moment(table["end"], where),
        order=index - 10_000,
        reason=table.get("reason"),
    )


def _config_moment(value: Any, where: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value))
        except ValueError:
            raise ConfigError(f"{where}: '{value}' is not an ISO date-time.") from None
    if moment.tzinfo is None:
        raise ConfigError(f"{where}: '{value}' needs a UTC offset or Z (e.g. 2026-03-01T09:00:00+01:00).")
    return moment.astimezone(dt.UTC)


# --- the final schedule ---------------------------------------------------------------------------------
def final_schedule(
    rotation: Rotation, start: dt.datetime, end: dt.datetime, overrides: Iterable[Override] = ()
) -> list[Shift]:
    """The computed schedule over [start, end): overrides above layers, later layers above earlier."""
    if end <= start:
        raise UsageError("The schedule window is empty: --to must be after --from.")
    start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    layer_shifts = [layer.shifts(start, end) for layer in rotation.layers]
    all_overrides = sorted([*rotation.overrides, *overrides], key=lambda o: o.order)
    points = {start, end}
    for shifts in layer_shifts:
        for s, e, _ in shifts:
            points.update((s, e))
    for o in all_overrides:
        points.update(p for p in (o.start, o.end) if start < p < end)
    cuts = sorted(p for p in points if start <= p <= end)
    segments: list[Shift] = []
    for a, b in itertools.pairwise(cuts):
        person, source = None, "gap"
        for o in reversed(all_overrides):
            if o.start <= a and b <= o.end:
                person, source = o.person, f"override #{o.id}" if o.id is not None else "override (config)"
                break
        else:
            for index in range(len(layer_shifts) - 1, -1, -1):
                hit = next((p for s, e, p in layer_shifts[index] if s <= a and b <= e), None)
                if hit is not None:
                    person, source = hit, f"layer {index + 1}"
                    break
        if segments and segments[-1].person == person and segments[-1].source == source and segments[-1].end == a:
            segments[-1] = Shift(rotation.name, segments[-1].start, b, person, source)
        else:
            segments.append(Shift(rotation.name, a, b, person, source))
    return segments


def gaps(schedule: list[Shift]) -> list[Shift]:
    """The segments where nobody is on call."""
    return [s for s in schedule if s.person is None]


def gap_warnings(schedule: list[Shift], zone: ZoneInfo | None = None) -> list[str]:
    """Human warnings for every gap."""
    z = zone or dt.UTC
    return [
        f"Nobody is on call in rotation '{g.rotation}' from {g.start.astimezone(z):%Y-%m-%d %H:%M %Z} "
        f"to {g.end.astimezone(z):%Y-%m-%d %H:%M %Z}."
        for g in gaps(schedule)
    ]


def on_call_at(rotation: Rotation, at: dt.datetime, overrides: Iterable[Override] = ()) -> Shift:
    """The final-schedule segment covering `at` (person None when nobody is on call)."""
    segment = final_schedule(rotation, at, at + dt.timedelta(seconds=1), overrides)[0]
    return segment


def _merge_intervals(items: list[tuple[dt.datetime, dt.datetime]]) -> list[tuple[dt.datetime, dt.datetime]]:
    out: list[tuple[dt.datetime, dt.datetime]] = []
    for a, b in sorted(items):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


# --- overrides in the store -------------------------------------------------------------------------------
def add_override(
    store: Store,
    rotation: str,
    person: str,
    start: dt.datetime,
    end: dt.datetime,
    *,
    actor: str,
    reason: str | None = None,
    now: dt.datetime | None = None,
) -> Override:
    """Record an override (it wins over every earlier override where they overlap)."""
    from sfops.store import oncall_overrides

    if end <= start:
        raise UsageError("An override must end after it starts.")
    now = now or dt.datetime.now(dt.UTC)
    row_id = oncall_overrides.insert_override(
        store,
        rotation=rotation,
        person=person,
        start=start.astimezone(dt.UTC),
        end=end.astimezone(dt.UTC),
        reason=reason,
        created_by=actor,
        created_at=now,
    )
    return Override(
        person=person,
        start=start.astimezone(dt.UTC),
        end=end.astimezone(dt.UTC),
        order=row_id,
        id=row_id,
        reason=reason,
    )


def cancel_override(store: Store, override_id: int, *, now: dt.datetime | None = None) -> None:
    """Cancel an override (kept for history)."""
    from sfops.store import oncall_overrides

    if not oncall_overrides.cancel_override(store, override_id, now or dt.datetime.now(dt.UTC)):
        raise UsageError(f"No active override #{override_id}.")


def stored_overrides(store: Store, rotation: str) -> list[Override]:
    """The active overrides of a rotation, oldest first."""
    from sfops.store import oncall_overrides

    rows = oncall_overrides.active_overrides(store, rotation)
    return [
        Override(
            person=r["person"],
            start=aware(r["start"]),
            end=aware(r["end"]),
            order=r["id"],
            id=r["id"],
            reason=r["reason"],
        )
        for r in rows
    ]


# --- iCalendar ---------------------------------------------------------------------------------------------
def to_ics(
    schedule: list[Shift], *, calendar_name: str, now: dt.datetime | None = None, person: str | None = None
) -> str:
    """RFC 5545 text: one VEVENT per final shift (gaps excluded), optionally only one person's."""
    stamp = _ics_time(now or dt.datetime.now(dt.UTC))
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//sfops//on-call//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_ics_text(calendar_name)}",
    ]
    for shift in schedule:
        if shift.person is None or (person and shift.person != person):
            continue
        uid = f"{shift.rotation}-{_ics_time(shift.start)}-{re.sub(r'[^A-Za-z0-9]', '', shift.person)}@sfops"
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_ics_time(shift.start)}",
            f"DTEND:{_ics_time(shift.end)}",
            f"SUMMARY:{_ics_text(f'On call: {shift.person} ({shift.rotation})')}",
            f"DESCRIPTION:{_ics_text(f'Source: {shift.source}')}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def _ics_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Fold to 75 octets per RFC 5545 (continuation lines start with a space)."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    parts: list[str] = []
    current = b""
    for ch in line:
        enc = ch.encode("utf-8")
        limit = 75 if not parts else 74
        if len(current) + len(enc) > limit:
            parts.append(current.decode("utf-8"))
            current = b""
        current += enc
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)
