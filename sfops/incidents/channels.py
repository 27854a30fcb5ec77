"""Notification channels: email (SMTP), Slack and Teams webhooks, PagerDuty Events API v2, generic webhook.

Every channel is configured under `[alerts.channels.NAME]` in sfops.toml with a `type`. Secrets
(webhook URLs, routing keys, SMTP passwords) come only from the environment: `url_env`,
`routing_key_env`, `password_env`, `secret_env` name the variable, by default
SFOPS_ALERT_<NAME>_URL / _ROUTING_KEY / _PASSWORD / _SECRET.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import smtplib
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3

from sfops.errors import ConfigError, SfopsError
from sfops.incidents.model import PAGERDUTY_SEVERITY, Incident
from sfops.incidents.templates import Message

CHANNEL_TYPES = ("email", "slack", "teams", "pagerduty", "webhook")
DEFAULT_TIMEOUT = 5.0
_ANSWER_BYTES = 4096  # of a receiver's answer, enough for its status text
PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"
# PagerDuty event_action for each phase; other phases are not sent to PagerDuty.
PAGERDUTY_ACTION = {
    "triggered": "trigger",
    "escalation": "trigger",
    "acknowledged": "acknowledge",
    "investigating": "acknowledge",
    "resolved": "resolve",
    "closed": "resolve",
}
_SECRET_KEYS = {
    "slack": ("url",),
    "teams": ("url",),
    "webhook": ("url", "secret"),
    "pagerduty": ("routing_key",),
    "email": ("password",),
}
# The keys each type understands; anything else is a typo that would silently change nothing.
_KEYS = {
    "slack": {"url_env"},
    "teams": {"url_env"},
    "webhook": {"url_env", "secret_env"},
    "pagerduty": {"url", "source", "routing_key_env"},
    "email": {"smtp_host", "smtp_port", "ssl", "starttls", "username", "password_env", "from", "to", "oncall"},
}
_COMMON_KEYS = {"type", "timeout"}


class DeliveryError(SfopsError):
    """A channel could not deliver a notification (retried later from the outbox)."""


class Skipped(Exception):
    """This channel has nothing to send for this phase (e.g. PagerDuty on 'mitigated')."""


@dataclass(frozen=True)
class Channel:
    """One configured channel; secrets resolved from the environment at send time."""

    name: str
    type: str
    options: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict, repr=False)

    def secret(self, key: str, required: bool = True) -> str | None:
        var = self.options.get(f"{key}_env") or f"SFOPS_ALERT_{_env_name(self.name)}_{key.upper()}"
        value = self.env.get(str(var))
        if required and not value:
            raise ConfigError(
                f"Alert channel '{self.name}' needs its {key.replace('_', ' ')} in the environment "
                f"variable {var} (secrets never go in sfops.toml)."
            )
        return value

    @property
    def timeout(self) -> float:
        """Seconds one delivery may take in all (connect, send, answer): a slow receiver must not hold up
        `incident raise`; what it did not take is retried from the outbox."""
        return float(self.options.get("timeout", DEFAULT_TIMEOUT))


def _env_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def parse_channel(name: str, table: Mapping[str, Any], env: Mapping[str, str]) -> Channel:
    """A Channel from its TOML table; refuses secrets written in the file."""
    kind = str(table.get("type", "")).lower()
    if kind not in CHANNEL_TYPES:
        raise ConfigError(
            f"[alerts.channels.{name}] type must be one of {', '.join(CHANNEL_TYPES)}, not '{table.get('type')}'."
        )
    leaked = [k for k in _SECRET_KEYS[kind] if k in table]
    if leaked:
        raise ConfigError(
            f"[alerts.channels.{name}] contains {', '.join(leaked)}: secrets never go in sfops.toml. "
            f'Use {", ".join(k + "_env" for k in leaked)} = "VARIABLE" and set the variable.'
        )
    unknown = sorted(set(table) - _KEYS[kind] - _COMMON_KEYS)
    if unknown:
        raise ConfigError(
            f"[alerts.channels.{name}] has unknown key(s) {', '.join(unknown)} for a {kind} channel. "
            f"Known: {', '.join(sorted(_KEYS[kind] | _COMMON_KEYS))}."
        )
    if kind == "email" and not table.get("smtp_host"):
        raise ConfigError(f"[alerts.channels.{name}] needs smtp_host.")
    if kind == "email" and table.get("username") and not (table.get("ssl") or table.get("starttls")):
        raise ConfigError(
            f"[alerts.channels.{name}] logs in without TLS, which would send the SMTP password in "
            "clear text: set starttls = true (port 587) or ssl = true (port 465)."
        )
    timeout = table.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ConfigError(f"[alerts.channels.{name}] timeout must be a positive number of seconds, not {timeout!r}.")
    return Channel(name=name, type=kind, options=dict(table), env=env)


def send(
    channel: Channel,
    incident: Incident,
    message: Message,
    *,
    recipients: list[str] | None = None,
    session: requests.Session | None = None,
) -> dict[str, Any]:
    """Deliver one message on one channel; raises DeliveryError on failure, Skipped when not applicable."""
    if channel.type == "email":
        return _send_email(channel, message, recipients or [])
    http = session or requests.Session()
    if channel.type == "slack":
        return _post(channel, http, channel.secret("url") or "", slack_payload(incident, message))
    if channel.type == "teams":
        return _post(channel, http, channel.secret("url") or "", teams_payload(incident, message))
    if channel.type == "pagerduty":
        payload = pagerduty_payload(
            incident,
            message,
            channel.secret("routing_key") or "",
            source=str(channel.options.get("source", f"sfops:{incident.org}")),
        )
        return _post(channel, http, str(channel.options.get("url", PAGERDUTY_URL)), payload)
    return _post(
        channel,
        http,
        channel.secret("url") or "",
        webhook_payload(incident, message),
        sign_with=channel.secret("secret", required=False),
    )


# --- payloads ----------------------------------------------------------------------------------------
def slack_payload(incident: Incident, message: Message) -> dict[str, Any]:
    """Slack incoming-webhook body: `text` fallback plus Block Kit blocks."""
    fields = [{"type": "mrkdwn", "text": f"*{k}:*\n{v}"} for k, v in message.facts[:10]]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.subject[:150], "emoji": False}},
        {"type": "section", "fields": fields},
    ]
    body = message.text.split("\n\n", 2)
    if len(body) > 2:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": body[2].strip()[:2900]}})
    text = message.subject
    if message.slack_mentions:  # pings the on-call people (member ids from [oncall.people.NAME] slack = "U...")
        mentions = " ".join(f"<@{m}>" for m in message.slack_mentions)
        blocks.insert(1, {"type": "section", "text": {"type": "mrkdwn", "text": f"On call: {mentions}"}})
        text = f"{mentions} {text}"
    return {"text": text, "blocks": blocks}


def teams_payload(incident: Incident, message: Message) -> dict[str, Any]:
    """Teams Workflows webhook body: a message with one Adaptive Card attachment."""
    colour = "Attention" if incident.severity in ("P1", "P2") else "Warning"
    if message.phase in ("resolved", "closed", "mitigated"):
        colour = "Good"
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": message.subject,
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
                "color": colour,
            },
            {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in message.facts]},
            {"type": "TextBlock", "text": message.text.rstrip().rsplit("\n", 1)[-1], "wrap": True},
        ],
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def pagerduty_payload(incident: Incident, message: Message, routing_key: str, *, source: str) -> dict[str, Any]:
    """PagerDuty Events API v2 body (trigger carries the payload; acknowledge/resolve only the key)."""
    action = PAGERDUTY_ACTION.get(message.phase)
    if action is None:
        raise Skipped(f"PagerDuty has no event for phase '{message.phase}'")
    body: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": (incident.dedup_key or incident.id)[:255],
    }
    if action == "trigger":
        body["payload"] = {
            "summary": f"[{incident.severity}] {incident.summary}"[:1024],
            "source": source,
            "severity": PAGERDUTY_SEVERITY[incident.severity],
            "timestamp": (incident.detected_at.isoformat() if incident.detected_at else None),
            "component": incident.category,
            "group": incident.org,
            "class": incident.category,
            "custom_details": {
                "incident": incident.ref,
                "incident_id": incident.id,
                "status": incident.status.value,
                "occurrences": incident.occurrence_count,
                "release": incident.release,
            },
        }
        body["client"] = "sfops"
    return body


def webhook_payload(incident: Incident, message: Message) -> dict[str, Any]:
    """Generic webhook body: the phase, the incident and the rendered update."""
    return {
        "event": f"incident.{message.phase}",
        "incident": {
            "id": incident.id,
            "ref": incident.ref,
            "org": incident.org,
            "severity": incident.severity,
            "status": incident.status.value,
            "summary": incident.summary,
            "category": incident.category,
            "dedup_key": incident.dedup_key,
            "occurrences": incident.occurrence_count,
            "detected_at": incident.detected_at.isoformat() if incident.detected_at else None,
        },
        "message": message.to_dict(),
    }


# --- transports ----------------------------------------------------------------------------------------
def _post(
    channel: Channel, http: requests.Session, url: str, payload: dict[str, Any], sign_with: str | None = None
) -> dict[str, Any]:
    data = json.dumps(payload, default=str).encode("utf-8")
    headers = {"Content-Type": "application/json", "User-Agent": "sfops"}
    if sign_with:
        digest = hmac.new(sign_with.encode("utf-8"), data, hashlib.sha256).hexdigest()
        headers["X-Sfops-Signature"] = f"sha256={digest}"
    _check_url(channel, url)
    started = time.monotonic()
    try:
        # Never follow a redirect: it would carry the signed payload (or a routing key) somewhere else.
        with http.post(
            url, data=data, headers=headers, timeout=channel.timeout, allow_redirects=False, stream=True
        ) as response:
            answer = _bounded_answer(response, started + channel.timeout)
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        # Never echo the URL: webhook URLs are secrets.
        raise DeliveryError(f"{channel.type} channel '{channel.name}': {type(exc).__name__}") from None
    if 300 <= response.status_code < 400:
        raise DeliveryError(
            f"{channel.type} channel '{channel.name}': HTTP {response.status_code} redirect, not "
            "followed (the payload is not sent on to another address); fix the channel's URL."
        )
    if response.status_code >= 400:
        raise DeliveryError(
            f"{channel.type} channel '{channel.name}': HTTP {response.status_code} "
            f"{answer.decode('utf-8', 'replace')[:200]}"
        )
    return {"status": response.status_code}


def _check_url(channel: Channel, url: str) -> None:
    """https only: an http URL would send the payload, its signature and routing key in clear. Plain http
    is accepted only to this machine (a local relay), where nothing crosses a network."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1", "::1"):
        return
    raise ConfigError(
        f"{channel.type} channel '{channel.name}': its URL must be https:// (got a "
        f"{parts.scheme or 'schemeless'} URL; the address itself is a secret and is not shown)."
    )


def _bounded_answer(response: requests.Response, deadline: float) -> bytes:
    """At most a few KB of the receiver's answer, and no later than the delivery's deadline."""
    out = b""
    while len(out) < _ANSWER_BYTES and time.monotonic() < deadline:
        chunk = response.raw.read1(512, decode_content=True)  # what has arrived: a trickle cannot hold us
        if not chunk:
            break
        out += chunk
    return out[:_ANSWER_BYTES]


def _send_email(channel: Channel, message: Message, recipients: list[str]) -> dict[str, Any]:
    opts = channel.options
    to = [str(a) for a in opts.get("to", [])] + [r for r in recipients if r]
    to = list(dict.fromkeys(to))
    if not to:
        raise Skipped(f"email channel '{channel.name}' has no recipients")
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = str(opts.get("from", "sfops@localhost"))
    mail["To"] = ", ".join(to)
    mail.set_content(message.text)
    mail.add_alternative(message.markdown, subtype="markdown")
    host, port = str(opts["smtp_host"]), int(opts.get("smtp_port", 25))
    try:
        if opts.get("ssl"):
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=channel.timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(host, port, timeout=channel.timeout)
        with smtp:
            if opts.get("starttls"):
                smtp.starttls(context=ssl.create_default_context())
            if opts.get("username"):
                smtp.login(str(opts["username"]), channel.secret("password") or "")
            refused = smtp.send_message(mail)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"email channel '{channel.name}': {type(exc).__name__}: {exc}") from None
    # All refused raises SMTPRecipientsRefused above; a partial refusal is reported, not resent to everyone.
    return {"recipients": [r for r in to if r not in refused], "refused": sorted(refused)}
