"""Notifications against real local receivers: an HTTP server standing in for Slack, Teams, PagerDuty and
a generic webhook, and a real SMTP server (aiosmtpd). Outbox, retries, breaker per channel, secrets."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from pathlib import Path

import pytest
from clock_support import Clock
from incidents_support import ONCALL_SECTION, Mailbox, Receiver, alerts_section

from sfops.errors import ConfigError
from sfops.incidents import records
from sfops.incidents.model import Incident, Status
from sfops.incidents.notify import AlertsConfig, Notifier, outbox
from sfops.incidents.oncall import parse_oncall
from sfops.incidents.templates import PHASES, render
from sfops.incidents.wiring import oncall_lookup
from sfops.store import Store


def _incident(severity: str = "P1", **kw: object) -> Incident:
    values: dict = {
        "id": "a035g000000001gAAA",
        "org": "emu",
        "severity": severity,
        "status": Status.NEW,
        "summary": "Order sync failing: HTTP 503",
        "name": "INC-00042",
        "category": "Integration",
        "dedup_key": "erp-503",
        "release": "R42",
        "detected_at": dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC),
    }
    values.update(kw)
    return Incident(**values)


def _notifier(
    store: Store, receiver: Receiver, env: dict[str, str], clock: Clock, smtp: Mailbox | None = None
) -> Notifier:
    config = AlertsConfig.from_settings(alerts_section(receiver, smtp), env)
    oncall = parse_oncall(ONCALL_SECTION)
    return Notifier(
        config,
        store,
        alias="emu",
        actor="alice",
        clock=clock,
        oncall=oncall_lookup(oncall, store),
        oncall_rotation="primary",
    )


def test_p1_trigger_reaches_every_channel_with_the_right_shapes(
    store: Store, receiver: Receiver, alerts_env: dict[str, str], clock: Clock, smtp_server: Mailbox
) -> None:
    notifier = _notifier(store, receiver, alerts_env, clock, smtp_server)
    results = notifier(_incident(), "triggered")
    assert [r["status"] for r in results] == ["sent"] * 5

    (pd,) = receiver.for_path("/pagerduty")
    body = pd["json"]
    assert body["routing_key"] == "R0UTINGKEY0000000000000000000000"
    assert body["event_action"] == "trigger" and body["dedup_key"] == "erp-503"
    assert body["payload"]["severity"] == "critical"
    assert body["payload"]["summary"] == "[P1] Order sync failing: HTTP 503"
    assert body["payload"]["source"] == "sfops:emu" and body["payload"]["component"] == "Integration"

    (slack,) = receiver.for_path("/slack")
    assert "[INC-00042] New P1 incident" in slack["json"]["text"]
    assert slack["json"]["blocks"][0]["type"] == "header"
    facts = {f["text"].split("\n")[0] for f in slack["json"]["blocks"][2]["fields"]}
    assert "*Severity:*" in facts and "*On call:*" in facts
    # bob (on call, Slack member id U0BOB) is pinged
    assert slack["json"]["text"].startswith("<@U0BOB> [INC-00042]")
    assert slack["json"]["blocks"][1]["text"]["text"] == "On call: <@U0BOB>"

    (teams,) = receiver.for_path("/teams")
    attachment = teams["json"]["attachments"][0]
    assert teams["json"]["type"] == "message"
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    factset = next(b for b in card["body"] if b["type"] == "FactSet")
    # second week of the rotation (handoff Mon 2 Nov 09:00 Paris = 08:00 UTC, before the 09:00 UTC clock)
    assert {"title": "On call", "value": "bob"} in factset["facts"]

    (hook,) = receiver.for_path("/hook")
    assert hook["json"]["event"] == "incident.triggered" and hook["json"]["incident"]["ref"] == "INC-00042"
    expected = hmac.new(b"s3cret", hook["raw"], hashlib.sha256).hexdigest()
    assert hook["headers"]["X-Sfops-Signature"] == f"sha256={expected}"

    (mail,) = smtp_server.messages
    assert sorted(mail["rcpt"]) == ["bob@example.com", "ops@example.com"]
    assert mail["msg"]["Subject"] == "[INC-00042] New P1 incident: Order sync failing: HTTP 503"
    plain = mail["msg"].get_body(("plain",)).get_content()
    assert "Severity: P1" in plain and "Release: R42" in plain
    assert "**Severity:** P1" in mail["msg"].get_body(("markdown",)).get_content()
    # every delivery is on the incident's timeline
    kinds = [e["kind"] for e in records.events(store, "emu", "a035g000000001gAAA")]
    assert kinds.count("notified") == 5


def test_pagerduty_acknowledge_and_resolve_carry_only_the_key(
    store: Store, receiver: Receiver, alerts_env: dict[str, str], clock: Clock
) -> None:
    notifier = _notifier(store, receiver, alerts_env, clock)
    notifier(_incident(status=Status.TRIAGED), "acknowledged")
    results = notifier(_incident(status=Status.MITIGATED), "mitigated")
    notifier(_incident(status=Status.RESOLVED, resolution="rolled back"), "resolved")
    bodies = [r["json"] for r in receiver.for_path("/pagerduty")]
    assert [b["event_action"] for b in bodies] == ["acknowledge", "resolve"]
    assert all("payload" not in b and b["dedup_key"] == "erp-503" for b in bodies)
    assert {r["channel"]: r["status"] for r in results}["pagerduty"] == "skipped"


@pytest.mark.parametrize("severity,expected", [("P2", "error"), ("P3", "warning"), ("P4", "info")])
def test_pagerduty_severity_mapping(
    severity: str, expected: str, store: Store, receiver: Receiver, alerts_env: dict[str, str], clock: Clock
) -> None:
    notifier = _notifier(store, receiver, alerts_env, clock)
    notifier.notify(_incident(severity), "triggered", ["pagerduty"])
    assert receiver.for_path("/pagerduty")[0]["json"]["payload"]["severity"] == expected


def test_routing_by_severity(store: Store, receiver: Receiver, alerts_env: dict[str, str], clock: Clock) -> None:
    notifier = _notifier(store, receiver, alerts_env, clock)
    notifier(_incident("P3"), "triggered")
    notifier(_incident("P4"), "triggered")
    assert [r["path"] for r in receiver.requests] == ["/hook"]


def test_failures_are_kept_in_the_outbox_and_retried(
    store: Store, receiver: Receiver, alerts_env: dict[str, str], clock: Clock
) -> None:
    notifier = _notifier(store, receiver, alerts_env, clock)
    receiver.status = 500
    (result,) = notifier.notify(_incident(), "triggered", ["slack"])
    assert result["status"] == "retry" and "HTTP 500" in result["error"] and result["attempts"] == 1
    assert result["next_attempt_at"] == clock.now + dt.timedelta(seconds=60)
    # not due yet: nothing is re-sent
    assert notifier.retry_due() == []
    receiver.status = 200
    clock.advance(seconds=61)
    (again,) = notifier.retry_due()
    assert again["status"] == "sent" and again["attempts"] == 2
    assert len(receiver.for_path("/slack")) == 2
    assert [r["status"] for r in outbox(store, "emu")] == ["sent"]
    assert "HTTP 500" in next(
        e["note"] for e in records.events(store, "emu", "a035g000000001gAAA") if e["kind"] == "notify_failed"
    )


def test_breaker_opens_per_channel_refuses_without_using_attempts_then_probes(
    store: Store, receiver: Receiver, alerts_env: dict[str, str], clock: Clock
) -> None:
    notifier = _notifier(store, receiver, alerts_env, clock)  # breaker_failures=2, cooldown 600 s
    receiver.status = 503
    first = notifier.notify(_incident(), "triggered", ["slack"])
    second = notifier.notify(_incident(), "update", ["slack"])
    assert [r["status"] for r in first + second] == ["retry", "retry"]
    assert len(receiver.for_path("/slack")) == 2
    # the slack breaker is open: a third notification is refused without a request or a used attempt
    (third,) = notifier.notify(_incident(), "update", ["slack"])
    assert third["status"] == "retry" and "open" in third["error"] and third["attempts"] == 0
    assert len(receiver.for_path("/slack")) == 2
    # other channels have their own breaker
    assert notifier.notify(_incident(), "update", ["hook"])[0]["status"] == "retry"
    assert len(receiver.for_path("/hook")) == 1
    # backoff elapsed but the breaker is still cooling down: still no request
    clock.advance(seconds=61)
    assert {r["status"] for r in notifier.retry_due()} == {"retry"}
    assert len(receiver.for_path("/slack")) == 2
    # after the cooldown one probe goes through, succeeds and closes the breaker for the rest
    receiver.status = 200
    clock.advance(seconds=600)
    notifier.retry_due()
    rows = {r["id"]: r for r in outbox(store, "emu") if r["channel"] == "slack"}
    assert [rows[i]["status"] for i in sorted(rows)] == ["sent", "sent", "sent"]
    assert [rows[i]["attempts"] for i in sorted(rows)] == [2, 2, 1]
    assert len(receiver.for_path("/slack")) == 5


def test_max_attempts_then_failed_then_manual_retry(
    store: Store, receiver: Receiver, alerts_env: dict[str, str], clock: Clock
) -> None:
    config = AlertsConfig.from_settings({**alerts_section(receiver), "breaker_failures": 10}, alerts_env)
    notifier = Notifier(config, store, alias="emu", actor="alice", clock=clock)
    receiver.status = 500
    notifier.notify(_incident(), "triggered", ["hook"])
    for _ in range(4):
        clock.advance(minutes=10)
        notifier.retry_due()
    (row,) = outbox(store, "emu")
    assert row["status"] == "failed" and row["attempts"] == 3
    assert len(receiver.for_path("/hook")) == 3
    receiver.status = 200
    assert notifier.retry_due() == []
    (done,) = notifier.retry_due(include_failed=True)
    assert done["status"] == "sent"


def test_unreachable_receiver_is_a_delivery_failure_without_the_secret_url(
    store: Store, receiver: Receiver, clock: Clock
) -> None:
    env = {"SFOPS_ALERT_SLACK_URL": "http://127.0.0.1:9/hooks/T000/B000/SECRETTOKEN"}
    config = AlertsConfig.from_settings({"channels": {"slack": {"type": "slack", "timeout": 2}}}, env)
    (result,) = Notifier(config, store, alias="emu", actor="a", clock=clock).notify(_incident(), "triggered", ["slack"])
    assert result["status"] == "retry" and "SECRETTOKEN" not in result["error"]


def test_smtp_down_is_retried(
    store: Store, receiver: Receiver, alerts_env: dict[str, str], clock: Clock, smtp_server: Mailbox
) -> None:
    section = alerts_section(receiver, smtp_server)
    section["channels"]["email"]["smtp_port"] = 9  # nothing listens there
    config = AlertsConfig.from_settings(section, alerts_env)
    (result,) = Notifier(config, store, alias="emu", actor="a", clock=clock).notify(_incident(), "triggered", ["email"])
    assert result["status"] == "retry" and "email channel 'email'" in result["error"]


def test_secrets_in_the_toml_are_refused_and_missing_ones_are_clear(store: Store, clock: Clock) -> None:
    with pytest.raises(ConfigError, match=r"secrets never go in sfops\.toml"):
        AlertsConfig.from_settings({"channels": {"s": {"type": "slack", "url": "https://hooks.slack.com/x"}}}, {})
    with pytest.raises(ConfigError, match="unknown channel"):
        AlertsConfig.from_settings({"channels": {}, "routes": {"P1": ["nope"]}}, {})
    config = AlertsConfig.from_settings({"channels": {"s": {"type": "slack", "url_env": "MY_HOOK"}}}, {})
    (result,) = Notifier(config, store, alias="emu", actor="a", clock=clock).notify(_incident(), "triggered", ["s"])
    assert result["status"] == "failed" and "MY_HOOK" in result["error"]  # configuration: no retry can fix it


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"max_attempts": "five"}, r"\[alerts\] max_attempts must be a non-negative whole number"),
        ({"retry_base_seconds": -1}, "retry_base_seconds must be a non-negative number"),
        ({"channels": "slack"}, r"\[alerts\.channels\] must be a table"),
        ({"channels": {"s": {"type": "slack", "timeout": "soon"}}}, "timeout must be a positive number"),
        ({"routes": {"P1": 5}}, "channels must be a channel name or a list"),
        ({"escalation": {"levels": ["x"]}}, "level 1 must be a table"),
        ({"escalation": {"levels": [{"after_minutes": "ten"}]}}, "after_minutes must be a non-negative number"),
        ({"escalation": {"severities": "P1"}}, "severities must be a list"),
        ({"channels": {"m": {"type": "email", "smtp_host": "smtp.example.com", "username": "u"}}}, "without TLS"),
    ],
)
def test_wrongly_shaped_alerts_config_is_a_config_error(section: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        AlertsConfig.from_settings(section, {})


def test_templates_for_every_phase_in_text_and_markdown() -> None:
    inc = _incident(
        summary="Orders *failing* [prod]", resolution="Rolled back", root_cause="bad deploy", status=Status.RESOLVED
    )
    for phase in PHASES:
        message = render(inc, phase, note="next update 10:30")
        assert message.subject.startswith("[INC-00042] ")
        assert "Note: next update 10:30" in message.text and "> next update 10:30" in message.markdown
    resolved = render(inc, "resolved")
    assert "Resolution: Rolled back" in resolved.text and "Root cause: bad deploy" in resolved.text
    assert r"Orders \*failing\* \[prod\]" in resolved.markdown
    assert "Resolution" not in render(inc, "triggered").text
    with pytest.raises(ValueError, match="unknown phase"):
        render(inc, "party")


def test_outbox_survives_a_new_process(
    tmp_path: Path, receiver: Receiver, alerts_env: dict[str, str], clock: Clock
) -> None:
    url = f"sqlite:///{tmp_path / 'box.db'}"
    receiver.status = 500
    _notifier(Store.open(url), receiver, alerts_env, clock).notify(_incident(), "triggered", ["teams"])
    receiver.status = 200
    clock.advance(minutes=5)
    (row,) = _notifier(Store.open(url), receiver, alerts_env, clock).retry_due()
    assert row["status"] == "sent" and len(receiver.for_path("/teams")) == 2


def test_a_row_is_sent_once_even_when_two_senders_race(
    store: Store, receiver: Receiver, alerts_env: dict[str, str], clock: Clock
) -> None:
    notifier = _notifier(store, receiver, alerts_env, clock)
    receiver.status = 500
    (row,) = notifier.notify(_incident(), "triggered", ["hook"])
    receiver.status = 200
    clock.advance(minutes=2)
    first = notifier.deliver(row["id"])
    second = notifier.deliver(row["id"])  # e.g. the agent and a CLI retry picked the same row
    assert first["status"] == "sent" and second["status"] == "sent" and "already sent" in second["error"]
    assert len(receiver.for_path("/hook")) == 2  # the failed first try + one successful send


def test_a_row_left_sending_by_a_dead_sender_is_retried_later(
    store: Store, receiver: Receiver, alerts_env: dict[str, str], clock: Clock
) -> None:
    from sfops.store import schema

    notifier = _notifier(store, receiver, alerts_env, clock)
    receiver.status = 500
    (row,) = notifier.notify(_incident(), "triggered", ["hook"])
    with store.begin() as conn:  # simulate a crash right after claiming the row
        conn.execute(schema.notification.update().values(status="sending", next_attempt_at=clock.now))
    receiver.status = 200
    clock.advance(minutes=5)
    assert notifier.retry_due() == []
    clock.advance(minutes=6)
    (done,) = notifier.retry_due()
    assert done["id"] == row["id"] and done["status"] == "sent"
