"""Plain data of kill switches: what a switch is, where it is set, what a flip did."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

SETTING_OBJECT = "Kill_Switch__c"


class Level(StrEnum):
    """Levels of a hierarchy custom setting, lowest precedence first."""

    ORG = "org"
    PROFILE = "profile"
    USER = "user"


@dataclass(frozen=True)
class Switch:
    """One checkbox field of Kill_Switch__c."""

    name: str
    label: str
    help: str | None = None
    default: bool | None = None


@dataclass(frozen=True)
class Scope:
    """Where a value is set: the org default, one profile or one user.

    `name` is what the user typed (profile name or username); `owner_id` is the
    SetupOwnerId once resolved (Organization, Profile or User id).
    """

    level: Level
    name: str | None = None
    owner_id: str | None = None
    profile_id: str | None = None  # for a user scope: the user's profile, used by `show`

    @property
    def label(self) -> str:
        """`org`, `profile:NAME` or `user:USERNAME` — the form the CLI accepts."""
        return self.level.value if self.level is Level.ORG else f"{self.level.value}:{self.name}"


@dataclass(frozen=True)
class SettingRecord:
    """One Kill_Switch__c row: the values of every switch at one owner."""

    id: str
    owner_id: str
    level: Level
    values: dict[str, bool]
    owner_name: str | None = None
    last_modified_at: dt.datetime | None = None
    last_modified_by: str | None = None


@dataclass(frozen=True)
class Resolution:
    """The effective value of one switch for one user or profile, and where it comes from."""

    switch: str
    value: bool | None
    source: Level | None
    org_value: bool | None
    profile_value: bool | None = None
    user_value: bool | None = None
    pinned_by: Level | None = None  # a lower-level record exists and pins this switch


@dataclass(frozen=True)
class Override:
    """A profile- or user-level value of one switch."""

    level: Level
    owner_id: str
    owner_name: str | None
    value: bool


@dataclass(frozen=True)
class SwitchRow:
    """`switch list`: one switch with its org default, overrides and last change."""

    name: str
    label: str
    help: str | None
    org_value: bool | None
    profile_overrides: list[Override] = field(default_factory=list)
    user_overrides: list[Override] = field(default_factory=list)
    last_changed_at: dt.datetime | None = None
    last_changed_by: str | None = None
    last_reason: str | None = None


@dataclass(frozen=True)
class ShowResult:
    """`switch show`: effective values for a user, a profile, or the org default."""

    scope: str
    resolutions: list[Resolution]
    records: list[SettingRecord]
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Change:
    """One switch changed (or to be changed) at one scope."""

    switch: str
    before: bool | None
    after: bool

    @property
    def changed(self) -> bool:
        return self.before is not self.after


@dataclass(frozen=True)
class FlipResult:
    """What a flip did (or, with dry_run, would do)."""

    org: str
    scope: str
    owner_id: str
    record_id: str | None
    changes: list[Change]
    dry_run: bool
    created_record: bool
    pinned: dict[str, bool] = field(default_factory=dict)  # switches a new record pins, with their values
    restore_at: dt.datetime | None = None
    audit_ids: list[int] = field(default_factory=list)
    attempts: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PendingRestore:
    """A scheduled automatic restore (`switch off X --for 2h`)."""

    id: str
    org: str
    scope: str
    owner_id: str
    values: dict[str, bool]  # the values to restore
    set_values: dict[str, bool]  # what sfops set; a restore skips a switch changed since
    due_at: dt.datetime
    actor: str
    reason: str | None = None
    incident_id: str | None = None
    last_audit_id: int = 0  # later audited flips of these switches at this scope cancel their restore
    created_values: dict[str, bool] | None = None  # the whole record, when the flip created it


@dataclass(frozen=True)
class RestoreOutcome:
    """What `restore-due` did with one pending restore."""

    id: str
    scope: str
    due_at: dt.datetime
    restored: dict[str, bool]
    skipped: dict[str, str]  # switch -> why it was left alone
    status: str  # restored | skipped | not-due
    deleted_record: bool = False  # the record sfops created was deleted (un-pinning its owner)


@dataclass(frozen=True)
class HistoryEntry:
    """One audited flip."""

    id: int
    at: dt.datetime
    actor: str
    org: str
    action: str
    switch: str
    scope: str
    before: bool | None
    after: bool | None
    reason: str | None
    incident_id: str | None
    outcome: str
