"""Builds the incident objects (service, notifier, on-call lookup) from sfops settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sfops.config import Settings
from sfops.errors import ConfigError
from sfops.incidents.notify import AlertsConfig, Notifier
from sfops.incidents.oncall import OnCallConfig, on_call_at, parse_oncall, stored_overrides
from sfops.incidents.service import IncidentService
from sfops.salesforce import Org
from sfops.store import Store

Clock = Callable[[], dt.datetime]


@dataclass
class Incidents:
    """Everything a command needs for incidents in one org."""

    service: IncidentService
    notifier: Notifier
    alerts: AlertsConfig
    oncall: OnCallConfig
    options: Mapping[str, Any]
    warnings: list[str] = field(default_factory=list)


def oncall_lookup(config: OnCallConfig, store: Store) -> Callable[[str, dt.datetime], list[dict[str, Any]]]:
    """(rotation, at) -> the person on call there (with contact details), or nobody."""

    def lookup(rotation: str, at: dt.datetime) -> list[dict[str, Any]]:
        if rotation not in config.rotations:
            return []
        shift = on_call_at(config.rotations[rotation], at, stored_overrides(store, rotation))
        return [config.person(shift.person)] if shift.person else []

    return lookup


def build(
    settings: Settings,
    org: Org,
    store: Store,
    *,
    alias: str,
    actor: str,
    clock: Clock | None = None,
    strict: bool = True,
) -> Incidents:
    """Service + notifier wired from `[alerts]`, `[oncall]` and `[incidents]`.

    strict=False: a broken `[alerts]`/`[oncall]` section does not stop the incident itself from being
    recorded; notifications are then off and the problem is returned in `warnings`.
    """
    warnings: list[str] = []
    try:
        alerts = AlertsConfig.from_settings(settings.section("alerts"), settings.env)
    except ConfigError as exc:
        if strict:
            raise
        alerts = AlertsConfig()
        warnings.append(f"Notifications are OFF: {exc.message}")
    try:
        oncall = parse_oncall(settings.section("oncall"))
    except ConfigError as exc:
        if strict:
            raise
        oncall = OnCallConfig()
        warnings.append(f"On-call lookup is OFF: {exc.message}")
    options = settings.section("incidents")
    notifier = Notifier(
        alerts,
        store,
        alias=alias,
        actor=actor,
        clock=clock,
        oncall=oncall_lookup(oncall, store),
        oncall_rotation=settings.section("alerts").get("oncall_rotation") or oncall.default_rotation,
    )
    service = IncidentService(org, store, alias=alias, actor=actor, clock=clock, notifier=notifier)
    return Incidents(
        service=service, notifier=notifier, alerts=alerts, oncall=oncall, options=options, warnings=warnings
    )
