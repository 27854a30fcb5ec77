"""Routing incident notifications to channels, through a circuit breaker per channel and an outbox.

Every notification is written to the store's `notification` table (the outbox) BEFORE it is sent,
then sent through the channel's breaker. Failures are retried with exponential backoff
(`sfops incident notify-retry`, or the agent) up to `max_attempts`; after that they stay in the
outbox as `failed` and are reported, never dropped silently.

    [alerts]
    max_attempts = 5            # per notification
    retry_base_seconds = 60     # 60 s, 120 s, 240 s ...
    [alerts.routes]             # channels per severity
    P1 = ["pagerduty", "slack", "oncall-email"]
    P2 = ["slack", "oncall-email"]
    [alerts.channels.slack]
    type = "slack"              # URL from $SFOPS_ALERT_SLACK_URL
    [alerts.channels.oncall-email]
    type = "email"
    smtp_host = "smtp.example.com"
    to = ["ops@example.com"]
    oncall = "primary"          # also mail whoever is on call in rotation 'primary'
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from sfops.breakers import BreakerConfig, CircuitBreaker, CircuitOpenError, StoreStorage
from sfops.config import toml_table
from sfops.errors import ConfigError, SfopsError
from sfops.incidents import records
from sfops.incidents.channels import Channel, DeliveryError, Skipped, parse_channel, send
from sfops.incidents.model import SEVERITIES, Incident, Status
from sfops.incidents.templates import Message, render
from sfops.store import Store, notifications

Clock = Callable[[], dt.datetime]
# (rotation, at) -> the people on call: dicts with at least "name", optionally "email".
OnCallLookup = Callable[[str, dt.datetime], list[dict[str, Any]]]

STALE_SENDING = dt.timedelta(minutes=10)
PENDING, SENDING, SENT, RETRY, FAILED, SKIPPED = "pending", "sending", "sent", "retry", "failed", "skipped"
CONFIG_ERROR_PREFIX = "configuration error: "  # last_error of a row that failed on the configuration, not delivery


@dataclass(frozen=True)
class EscalationLevel:
    """Notify `channels` (and the on-call of `rotation`) when unacknowledged after `after_minutes`."""

    level: int
    after_minutes: float
    channels: tuple[str, ...]
    rotation: str | None = None


@dataclass(frozen=True)
class AlertsConfig:
    """The `[alerts]` section, parsed."""

    channels: dict[str, Channel] = field(default_factory=dict)
    routes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    max_attempts: int = 5
    retry_base_seconds: float = 60.0
    breaker_failures: int = 3
    breaker_cooldown_seconds: float = 300.0
    escalation_severities: tuple[str, ...] = ("P1",)
    escalation: tuple[EscalationLevel, ...] = ()

    @classmethod
    def from_settings(cls, section: Mapping[str, Any], env: Mapping[str, str]) -> AlertsConfig:
        """Parse `[alerts]`; unknown channel names in routes and wrongly shaped values are configuration errors."""
        channels = {
            name: parse_channel(name, toml_table(table, f"[alerts.channels.{name}]"), env)
            for name, table in toml_table(section.get("channels"), "[alerts.channels]").items()
        }
        routes: dict[str, tuple[str, ...]] = {}
        for severity, names in toml_table(section.get("routes"), "[alerts.routes]").items():
            if severity.upper() not in SEVERITIES:
                raise ConfigError(f"[alerts.routes] key '{severity}' is not a severity ({', '.join(SEVERITIES)}).")
            routes[severity.upper()] = tuple(_known(channels, names, f"[alerts.routes] {severity}"))
        esc = toml_table(section.get("escalation"), "[alerts.escalation]")
        raw_levels = esc.get("levels") or []
        if not isinstance(raw_levels, list):
            raise ConfigError("[alerts.escalation] levels must be a list of tables.")
        levels = []
        for i, lv in enumerate(raw_levels):
            where = f"[alerts.escalation] level {i + 1}"
            lv = toml_table(lv, where)
            levels.append(
                EscalationLevel(
                    level=i + 1,
                    after_minutes=_number(lv, "after_minutes", 15, float, where),
                    channels=tuple(_known(channels, lv.get("channels", []), where)),
                    rotation=lv.get("rotation"),
                )
            )
        severities = esc.get("severities", ["P1"])
        if not isinstance(severities, list) or not all(isinstance(v, str) for v in severities):
            raise ConfigError('[alerts.escalation] severities must be a list like ["P1", "P2"].')
        return cls(
            channels=channels,
            routes=routes,
            max_attempts=_number(section, "max_attempts", 5, int),
            retry_base_seconds=_number(section, "retry_base_seconds", 60, float),
            breaker_failures=_number(section, "breaker_failures", 3, int),
            breaker_cooldown_seconds=_number(section, "breaker_cooldown_seconds", 300, float),
            escalation_severities=tuple(s.upper() for s in severities),
            escalation=tuple(levels),
        )


def _number(table: Mapping[str, Any], key: str, default: float, kind: type, where: str = "[alerts]") -> Any:
    value = table.get(key, default)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or value < 0
        or (kind is int and not float(value).is_integer())
    ):
        raise ConfigError(
            f"{where} {key} must be a non-negative {'whole ' if kind is int else ''}number, not {value!r}."
        )
    return kind(value)


def _known(channels: Mapping[str, Channel], names: Any, where: str) -> list[str]:
    if not isinstance(names, str | list | None):
        raise ConfigError(f"{where}: channels must be a channel name or a list of them, not {names!r}.")
    names = [names] if isinstance(names, str) else list(names or [])
    unknown = [n for n in names if n not in channels]
    if unknown:
        raise ConfigError(
            f"{where}: unknown channel(s) {', '.join(unknown)}. Configured: {', '.join(sorted(channels)) or '(none)'}."
        )
    return names


def _incident_dict(incident: Incident) -> dict[str, Any]:
    out = dataclasses.asdict(incident)
    out["status"] = incident.status.value
    for k, v in out.items():
        if isinstance(v, dt.datetime):
            out[k] = v.isoformat()
    return out


def _incident_from(data: Mapping[str, Any]) -> Incident:
    values = dict(data)
    values["status"] = Status(values["status"])
    for k, v in values.items():
        if k.endswith("_at") and isinstance(v, str):
            values[k] = dt.datetime.fromisoformat(v)
    return Incident(**values)


class Notifier:
    """Sends lifecycle notifications by severity route; callable as the IncidentService notifier."""

    def __init__(
        self,
        config: AlertsConfig,
        store: Store,
        *,
        alias: str,
        actor: str,
        clock: Clock | None = None,
        oncall: OnCallLookup | None = None,
        oncall_rotation: str | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.alias = alias
        self.actor = actor
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.oncall = oncall
        self.oncall_rotation = oncall_rotation
        self.session = session or requests.Session()

    def __call__(self, incident: Incident, phase: str, *, note: str | None = None) -> list[dict[str, Any]]:
        return self.notify(incident, phase, self.config.routes.get(incident.severity, ()), note=note)

    def notify(
        self,
        incident: Incident,
        phase: str,
        channel_names: tuple[str, ...] | list[str],
        *,
        note: str | None = None,
        rotation: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """Queue one notification per channel in the outbox, then try to deliver each now."""
        now = self.clock()
        extra = dict(extra or {})
        on_call = self._on_call(rotation or self.oncall_rotation, now)
        if on_call:
            extra.setdefault("On call", ", ".join(p["name"] for p in on_call))
        message = render(incident, phase, note=note, alias=self.alias, extra=extra)
        mentions = [str(p["slack"]) for p in on_call if p.get("slack")]
        if mentions:
            message = dataclasses.replace(message, slack_mentions=list(dict.fromkeys(mentions)))
        results = []
        for name in channel_names:
            channel = self.config.channels[name]
            recipients: list[str] = []
            if channel.type == "email":
                # the channel's own rotation, plus the escalation level's rotation when escalating
                who = self._on_call(channel.options.get("oncall"), now) + self._on_call(rotation, now)
                recipients = [p["email"] for p in who if p.get("email")]
            row_id = self._enqueue(incident, name, phase, message, recipients, now)
            results.append(self.deliver(row_id))
        return results

    def _on_call(self, rotation: str | None, at: dt.datetime) -> list[dict[str, Any]]:
        if not rotation or self.oncall is None:
            return []
        return self.oncall(rotation, at)

    def _enqueue(
        self, incident: Incident, channel: str, phase: str, message: Message, recipients: list[str], now: dt.datetime
    ) -> int:
        payload = {"incident": _incident_dict(incident), "message": message.to_dict(), "recipients": recipients}
        return notifications.insert_notification(
            self.store,
            dict(
                alias=self.alias,
                incident_id=incident.id,
                channel=channel,
                kind=self.config.channels[channel].type,
                phase=phase,
                payload=payload,
                status=PENDING,
                attempts=0,
                created_at=now,
                next_attempt_at=now,
            ),
        )

    def _breaker(self, channel: str) -> CircuitBreaker:
        config = BreakerConfig(
            name=f"notify.{channel}",
            max_failures=self.config.breaker_failures,
            cooldown=dt.timedelta(seconds=self.config.breaker_cooldown_seconds),
            exclude=(Skipped, ConfigError),
        )
        return CircuitBreaker(config, StoreStorage(self.store, f"notify.{channel}"), clock=self.clock)

    def deliver(self, row_id: int) -> dict[str, Any]:
        """Try to send one outbox row now; update its status; returns a summary dict."""
        # Claim the row so that two senders (the agent and a CLI retry) never send it twice.
        row, claimed = notifications.claim(
            self.store, row_id, claimable=(PENDING, RETRY, FAILED), status=SENDING, at=self.clock()
        )
        if not claimed:
            return {
                "id": row_id,
                "channel": row["channel"],
                "phase": row["phase"],
                "status": row["status"],
                "attempts": row["attempts"],
                "error": "being sent by another process or already sent",
                "next_attempt_at": row["next_attempt_at"],
            }
        payload = row["payload"]
        incident = _incident_from(payload["incident"])
        message = Message.from_dict(payload["message"])
        channel = self.config.channels.get(row["channel"])
        now = self.clock()
        attempts = int(row["attempts"]) + 1
        values: dict[str, Any] = {"attempts": attempts}
        detail: dict[str, Any] = {}
        if channel is None:
            values.update(status=FAILED, last_error=f"channel '{row['channel']}' is no longer configured")
        else:
            try:
                detail = self._breaker(channel.name).call(
                    send,
                    channel,
                    incident,
                    message,
                    recipients=list(payload.get("recipients") or []),
                    session=self.session,
                )
                values.update(status=SENT, sent_at=now, last_error=None)
            except Skipped as exc:
                values.update(status=SKIPPED, last_error=str(exc))
            except CircuitOpenError as exc:
                values.update(
                    status=RETRY,
                    attempts=attempts - 1,
                    last_error=exc.message,
                    next_attempt_at=exc.retry_at or now + dt.timedelta(seconds=self.config.breaker_cooldown_seconds),
                )
            except ConfigError as exc:  # a missing secret: no retry can fix it, only the configuration
                values.update(status=FAILED, last_error=f"{CONFIG_ERROR_PREFIX}{exc.message}")
            except (DeliveryError, SfopsError) as exc:
                if attempts >= self.config.max_attempts:
                    values.update(status=FAILED, last_error=exc.message)
                else:
                    delay = self.config.retry_base_seconds * 2 ** (attempts - 1)
                    values.update(
                        status=RETRY, last_error=exc.message, next_attempt_at=now + dt.timedelta(seconds=delay)
                    )
        notifications.update_notification(self.store, row_id, values)
        status = values["status"]
        if status != SKIPPED:
            kind = "notified" if status == SENT else "notify_failed"
            note = f"{row['phase']} via {row['channel']}" + (
                "" if status == SENT else f" ({status}: {values.get('last_error')})"
            )
            records.add_event(
                self.store,
                alias=row["alias"] or row["org"],
                incident_id=row["incident_id"],
                kind=kind,
                actor=self.actor,
                at=now,
                note=note,
                details={"notification_id": row_id, "channel": row["channel"], **detail},
            )
        return {
            "id": row_id,
            "channel": row["channel"],
            "phase": row["phase"],
            "status": status,
            "attempts": values["attempts"],
            "error": values.get("last_error"),
            "next_attempt_at": values.get("next_attempt_at"),
        }

    def retry_due(self, *, include_failed: bool = False) -> list[dict[str, Any]]:
        """Re-send every outbox row due for retry (and, with include_failed, the failed ones)."""
        now = self.clock()
        # a sender that died mid-send left its row "sending": hand it back after a grace period
        notifications.release_stuck(
            self.store,
            self.alias,
            status=SENDING,
            claimed_before=now - STALE_SENDING,
            new_status=RETRY,
            last_error="sender stopped while sending",
        )
        wanted = [RETRY, PENDING] + ([FAILED] if include_failed else [])
        due = []
        for row_id, next_at, status in notifications.queued(self.store, self.alias, wanted):
            if next_at is not None and next_at.tzinfo is None:
                next_at = next_at.replace(tzinfo=dt.UTC)
            if status == FAILED or next_at is None or next_at <= now:
                if status == FAILED:
                    notifications.update_notification(self.store, row_id, {"attempts": 0})
                due.append(row_id)
        return [self.deliver(row_id) for row_id in due]


def outbox(
    store: Store, alias: str | None = None, statuses: list[str] | None = None, incident_id: str | None = None
) -> list[dict[str, Any]]:
    """Outbox rows (newest first) without their payloads."""
    return notifications.outbox_rows(store, alias, statuses, incident_id)
