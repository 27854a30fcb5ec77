"""Effective values of a hierarchy custom setting, resolved the way Apex `getInstance()` does.

User overrides profile overrides org, per field; a field is "defined" at a level when the
level's record has a non-null value. Checkbox fields are never null, so a user- or
profile-level record defines (pins) every switch on it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sfops.switches.model import Level, Resolution, SettingRecord


def resolve(
    switch: str, records: Iterable[SettingRecord], *, profile_id: str | None = None, user_id: str | None = None
) -> Resolution:
    """The effective value of `switch` for a user (with their profile) or for a profile."""
    by_level: dict[Level, SettingRecord] = {}
    for record in records:
        if (
            record.level is Level.ORG
            or (record.level is Level.PROFILE and same_id(record.owner_id, profile_id))
            or (record.level is Level.USER and same_id(record.owner_id, user_id))
        ):
            by_level[record.level] = record

    def value_at(level: Level) -> bool | None:
        record = by_level.get(level)
        return None if record is None else record.values.get(switch)

    org_value, profile_value, user_value = value_at(Level.ORG), value_at(Level.PROFILE), value_at(Level.USER)
    value, source = None, None
    for level, candidate in ((Level.USER, user_value), (Level.PROFILE, profile_value), (Level.ORG, org_value)):
        if candidate is not None:
            value, source = candidate, level
            break
    pinned_by = source if source in (Level.USER, Level.PROFILE) else None
    return Resolution(
        switch=switch,
        value=value,
        source=source,
        org_value=org_value,
        profile_value=profile_value,
        user_value=user_value,
        pinned_by=pinned_by,
    )


def level_of(owner_id: str) -> Level | None:
    """The level a SetupOwnerId belongs to, from its key prefix (00D org, 00e profile, 005 user)."""
    prefix = owner_id[:3]
    return {"00D": Level.ORG, "00e": Level.PROFILE, "005": Level.USER}.get(prefix)


def same_id(a: str | None, b: str | None) -> bool:
    """Salesforce ids are equal when their 15-character case-sensitive forms are equal."""
    return bool(a) and bool(b) and a[:15] == b[:15]  # type: ignore[index]
