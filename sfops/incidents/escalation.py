"""Escalation: a P1 (by default) not acknowledged within N minutes notifies the next level.

    [alerts.escalation]
    severities = ["P1"]
    [[alerts.escalation.levels]]
    after_minutes = 15
    channels = ["oncall-email"]
    rotation = "secondary"          # mail whoever is on call there too
    [[alerts.escalation.levels]]
    after_minutes = 30
    channels = ["manager-email"]

`escalate_due` is idempotent: each level fires once per incident (recorded on its timeline), and
acknowledging the incident stops further levels. The agent or cron calls it every minute.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sfops.incidents import records
from sfops.incidents.model import Status
from sfops.incidents.notify import AlertsConfig, Notifier
from sfops.incidents.service import IncidentService


def escalate_due(
    service: IncidentService, notifier: Notifier, config: AlertsConfig, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Fire every escalation level that is due; returns one row per level fired."""
    if not config.escalation:
        return []
    now = now or service.clock()
    fired: list[dict[str, Any]] = []
    pending = service.find(statuses=[Status.NEW.value], severities=list(config.escalation_severities))
    for incident in pending:
        if incident.detected_at is None:
            continue
        age_min = (now - incident.detected_at).total_seconds() / 60
        done = {
            int((e["details"] or {}).get("level", 0))
            for e in records.events(service.store, incident.org, incident.id)
            if e["kind"] == "escalated"
        }
        for level in config.escalation:
            if level.level in done or age_min < level.after_minutes:
                continue
            sent = notifier.notify(
                incident,
                "escalation",
                level.channels,
                rotation=level.rotation,
                note=f"Not acknowledged after {int(age_min)} minutes (level {level.level}).",
                extra={"Escalation level": str(level.level)},
            )
            records.add_event(
                service.store,
                alias=incident.org,
                incident_id=incident.id,
                kind="escalated",
                actor=service.actor,
                at=now,
                note=f"level {level.level} after {int(age_min)} min: {', '.join(level.channels)}",
                details={"level": level.level, "rotation": level.rotation},
            )
            fired.append(
                {
                    "incident": incident.ref,
                    "id": incident.id,
                    "level": level.level,
                    "age_minutes": round(age_min, 1),
                    "channels": list(level.channels),
                    "statuses": [n["status"] for n in sent],
                }
            )
    return fired
