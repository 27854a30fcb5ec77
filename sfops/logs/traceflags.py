"""USER_DEBUG trace flags: `sfops logs trace on|off|list`.

Platform rules respected here: a trace flag window is at most 24 hours (Salesforce refuses an ExpirationDate more
than 24 h after StartDate); one user may not have two overlapping flags of the same log type (the platform answers
FIELD_INTEGRITY_EXCEPTION "already being traced"), so an existing flag is extended instead of a second one
created; a DebugLevel is shared by every flag that points to it, so an existing level is never modified —
only a missing one is created, with levels that make limit blocks appear (APEX_PROFILING FINE).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sfops.errors import UsageError
from sfops.salesforce.soql import soql_literal, soql_quote
from sfops.salesforce.values import format_datetime

if TYPE_CHECKING:
    from sfops.salesforce import Org
    from sfops.store import Store

Confirm = Callable[[str], None]  # sees what is about to be written; raises to abort

MAX_MINUTES = 24 * 60
DEFAULT_MINUTES = 30
DEFAULT_LEVEL = "SFOPS_LIMITS"
# Salesforce's DeveloperName rule (checked here so a typo is refused before anything is created)
_DEVELOPER_NAME = re.compile(r"(?!.*__)(?=.{1,80}$)[A-Za-z][A-Za-z0-9_]*(?<!_)")
# Enough for per-transaction limits, SOQL/DML, callouts and exceptions without FINEST's size cost.
DEFAULT_LEVELS: dict[str, str] = {
    "ApexCode": "FINE",
    "ApexProfiling": "FINE",
    "Callout": "INFO",
    "Database": "INFO",
    "System": "DEBUG",
    "Validation": "INFO",
    "Visualforce": "INFO",
    "Workflow": "INFO",
}
_ORDER = ["NONE", "ERROR", "WARN", "INFO", "DEBUG", "FINE", "FINER", "FINEST"]


@dataclass
class TraceFlagInfo:
    """A USER_DEBUG trace flag as sfops shows it."""

    id: str | None  # None for a flag a dry run would create
    user_id: str
    user: str | None
    level: str | None
    start: str | None
    expiration: str | None
    action: str = ""  # created | extended | deleted | listed, or "would ..." in a dry run
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # information: a DebugLevel created (or one a dry run would)


def resolve_user(org: Org, user: str) -> tuple[str, str]:
    """(Id, Username) for a username or a User Id."""
    field_name = "Id" if user.startswith("005") and len(user) in (15, 18) and user.isalnum() else "Username"
    soql = f"SELECT Id, Username FROM User WHERE {field_name} = {soql_quote(user)} LIMIT 1"  # noqa: S608 - quoted
    rows = org.query(soql)
    if not rows:
        raise UsageError(f"No user {user!r} in this org.", actions=["Pass the exact username or a 005… Id."])
    return rows[0]["Id"], rows[0]["Username"]


def ensure_debug_level(org: Org, name: str, *, create: bool = True) -> tuple[str | None, list[str], list[str]]:
    """(Id, warnings, notes) of DebugLevel `name`, created with DEFAULT_LEVELS when missing (None without
    `create`). Never modifies an existing one."""
    fields = ", ".join(["Id", "DeveloperName", *DEFAULT_LEVELS])
    soql = f"SELECT {fields} FROM DebugLevel WHERE DeveloperName = {soql_quote(name)}"  # noqa: S608 - quoted
    rows = org.tooling_query(soql)
    if rows:
        level = rows[0]
        warnings = []
        profiling = str(level.get("ApexProfiling") or "NONE")
        if profiling not in _ORDER or _ORDER.index(profiling) < _ORDER.index("FINE"):
            warnings.append(
                f"DebugLevel {name} has ApexProfiling {profiling}: limit blocks may be missing. "
                "It is shared, so sfops leaves it unchanged; pass --level with another name."
            )
        return level["Id"], warnings, []
    levels = ", ".join(f"{k} {v}" for k, v in DEFAULT_LEVELS.items())
    if not create:
        return None, [], [f"Would create DebugLevel {name} ({levels})."]
    created = org.request(
        "POST",
        "tooling/sobjects/DebugLevel/",
        json={"DeveloperName": name, "MasterLabel": name, "Language": "en_US", **DEFAULT_LEVELS},
    )
    return created["id"], [], [f"Created DebugLevel {name} ({levels})."]


def _flags(org: Org, user_id: str | None = None) -> list[dict[str, Any]]:
    where = "LogType = 'USER_DEBUG'"
    if user_id is not None:
        where += f" AND TracedEntityId = {soql_quote(user_id)}"
    soql = (
        "SELECT Id, TracedEntityId, DebugLevelId, LogType, StartDate, ExpirationDate "  # noqa: S608 - quoted
        f"FROM TraceFlag WHERE {where} ORDER BY ExpirationDate DESC"
    )
    return org.tooling_query(soql)


def trace_on(
    org: Org,
    store: Store,
    user: str,
    *,
    actor: str,
    reason: str | None = None,
    level: str | None = None,
    minutes: int = DEFAULT_MINUTES,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    confirm: Confirm | None = None,
) -> TraceFlagInfo:
    """Create or extend the user's USER_DEBUG trace flag for `minutes` (1 … 1440), audited.

    With `dry_run` nothing is written: the action reads "would create" / "would extend". `confirm`
    (if given) is asked before the first write and may raise to abort."""
    flag = _trace_on(
        org, user, level=level, minutes=minutes, now=now, dry_run=dry_run, confirm=None if dry_run else confirm
    )
    if not dry_run:
        _audit(store, org, flag, actor=actor, reason=reason)
    return flag


def _trace_on(
    org: Org,
    user: str,
    *,
    level: str | None,
    minutes: int,
    now: dt.datetime | None,
    dry_run: bool,
    confirm: Confirm | None,
) -> TraceFlagInfo:
    if not 1 <= minutes <= MAX_MINUTES:
        raise UsageError(f"--minutes must be between 1 and {MAX_MINUTES}: Salesforce limits a trace flag to 24 hours.")
    if level is not None and not _DEVELOPER_NAME.fullmatch(level):
        raise UsageError(
            f"--level {level!r} is not a valid DebugLevel name: letters, digits and single underscores, "
            "starting with a letter, not ending with an underscore, at most 80 characters."
        )
    user_id, username = resolve_user(org, user)
    if confirm is not None:
        confirm(f"Trace {user} for {minutes} minutes (debug logs count against storage).")
    level_name = level or DEFAULT_LEVEL
    level_id, warnings, notes = ensure_debug_level(org, level_name, create=not dry_run)
    start = now or dt.datetime.now(dt.UTC)
    values: dict[str, Any] = {
        "StartDate": format_datetime(start),
        "ExpirationDate": format_datetime(start + dt.timedelta(minutes=minutes)),
    }
    existing = _flags(org, user_id)
    if existing:
        flag = existing[0]
        if level is not None or not flag.get("DebugLevelId"):
            values["DebugLevelId"] = level_id
        else:
            level_name = _level_names(org, [flag["DebugLevelId"]]).get(flag["DebugLevelId"], level_name)
        if not dry_run:
            org.request("PATCH", f"tooling/sobjects/TraceFlag/{flag['Id']}", json=values)
        return TraceFlagInfo(
            flag["Id"],
            user_id,
            username,
            level_name,
            values["StartDate"],
            values["ExpirationDate"],
            "would extend" if dry_run else "extended",
            warnings,
            notes,
        )
    if dry_run:
        return TraceFlagInfo(
            None,
            user_id,
            username,
            level_name,
            values["StartDate"],
            values["ExpirationDate"],
            "would create",
            warnings,
            notes,
        )
    created = org.request(
        "POST",
        "tooling/sobjects/TraceFlag/",
        json={"TracedEntityId": user_id, "DebugLevelId": level_id, "LogType": "USER_DEBUG", **values},
    )
    return TraceFlagInfo(
        created["id"],
        user_id,
        username,
        level_name,
        values["StartDate"],
        values["ExpirationDate"],
        "created",
        warnings,
        notes,
    )


def trace_off(
    org: Org,
    store: Store,
    user: str,
    *,
    actor: str,
    reason: str | None = None,
    dry_run: bool = False,
    confirm: Confirm | None = None,
) -> list[TraceFlagInfo]:
    """Delete the user's USER_DEBUG trace flags, each deletion audited (with `dry_run`, only list them as
    "would delete"). `confirm` (if given) is asked before anything is deleted and may raise to abort."""
    user_id, username = resolve_user(org, user)
    if confirm is not None and not dry_run:
        confirm(f"Delete the USER_DEBUG trace flags of {user}.")
    out = []
    for flag in _flags(org, user_id):
        if not dry_run:
            org.request("DELETE", f"tooling/sobjects/TraceFlag/{flag['Id']}")
        info = TraceFlagInfo(
            flag["Id"],
            user_id,
            username,
            None,
            flag.get("StartDate"),
            flag.get("ExpirationDate"),
            "would delete" if dry_run else "deleted",
        )
        if not dry_run:
            _audit(store, org, info, actor=actor, reason=reason)
        out.append(info)
    return out


def _audit(store: Store, org: Org, flag: TraceFlagInfo, *, actor: str, reason: str | None) -> None:
    from sfops.store import org_keys  # lazily, like the Store type above

    org_keys.key_for(store, org)  # audited under the org id (every alias of it sees the record)
    store.record_audit(
        actor=actor,
        alias=org.alias,
        action=f"logs.trace.{flag.action}",
        target=f"TraceFlag:{flag.user}",
        reason=reason,
        after={"id": flag.id, "level": flag.level, "expires": flag.expiration},
    )


def _level_names(org: Org, ids: Iterable[str | None]) -> dict[str, str]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    rows = org.tooling_query(f"SELECT Id, DeveloperName FROM DebugLevel WHERE Id IN {soql_literal(wanted)}")  # noqa: S608
    return {r["Id"]: r["DeveloperName"] for r in rows}


def trace_list(org: Org) -> list[TraceFlagInfo]:
    """Every USER_DEBUG trace flag of the org with its user and debug level names."""
    flags = _flags(org)
    levels = _level_names(org, [f.get("DebugLevelId") for f in flags])
    user_ids = sorted({f["TracedEntityId"] for f in flags if str(f["TracedEntityId"]).startswith("005")})
    users: dict[str, str] = {}
    if user_ids:
        rows = org.query(f"SELECT Id, Username FROM User WHERE Id IN {soql_literal(user_ids)}")  # noqa: S608 - quoted
        users = {r["Id"]: r["Username"] for r in rows}
    return [
        TraceFlagInfo(
            f["Id"],
            f["TracedEntityId"],
            users.get(f["TracedEntityId"]),
            levels.get(f.get("DebugLevelId") or ""),
            f.get("StartDate"),
            f.get("ExpirationDate"),
            "listed",
        )
        for f in flags
    ]
