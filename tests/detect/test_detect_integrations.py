"""The `integrations` signal (issue 11, item 3): failures and calls sampled from the circuit breakers' counters,
and a rule that fires on a failure rate over its window, not only when a breaker opens."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from detect_support import Harness, config, iso
from emulator_cli_support import emulator_cli_env

from sfops.breakers.core import Snapshot, State
from sfops.cli.app import invoke
from sfops.detect.integrations import integration_events, record_samples
from sfops.detect.rules import default_rules
from sfops.store import Store

RULES = """
[detect]
defaults = false
[[detect.rules]]
name = "payments-failing"
signal = "integrations"
condition = "failure_rate"
threshold = 50
min_calls = 20
window = "15m"
severity = "P2"
summary = "Integration {name}: {value}% of {calls} calls failed in {window}"
"""

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
WINDOW = dt.datetime(2026, 3, 2, 8, 55, tzinfo=dt.UTC)


def snap(failures: int, calls: int, window: dt.datetime = WINDOW, state: State = State.CLOSED) -> Snapshot:
    return Snapshot(
        state=state,
        failure_count=failures,
        request_count=calls,
        window_started_at=window,
        failure_rate=0.9,
        last_error="HTTP 503",
    )


def test_samples_are_the_failures_and_calls_since_the_previous_sample_and_a_reset_starts_over(store: Any) -> None:
    record_samples(store, "prod", [("Payments", snap(2, 10))], T0)
    record_samples(store, "prod", [("Payments", snap(8, 30))], T0 + dt.timedelta(minutes=1))
    record_samples(store, "prod", [("Payments", snap(8, 30))], T0 + dt.timedelta(minutes=2))  # nothing new
    later = WINDOW + dt.timedelta(minutes=10)
    record_samples(store, "prod", [("Payments", snap(1, 4, window=later))], T0 + dt.timedelta(minutes=3))
    found = integration_events(store, "prod", T0, T0 + dt.timedelta(hours=1))
    assert [(e["failures"], e["calls"]) for e in found] == [(2, 10), (6, 20), (1, 4)]
    assert integration_events(store, "other", T0, T0 + dt.timedelta(hours=1)) == []


def test_a_failure_rate_over_the_window_raises_an_incident_before_any_breaker_opened(
    emu: Any, org: Any, store: Any, now_clock: Any
) -> None:
    harness = Harness(org, store, now_clock, config(RULES))
    start = now_clock() - dt.timedelta(minutes=10)
    record_samples(store, "emu", [("Payments", snap(0, 0)), ("Search", snap(0, 0))], start)
    # Payments: 14 of 24 calls failed (58 %); Search: 9 of 12 (75 %) but under min_calls
    record_samples(store, "emu", [("Payments", snap(5, 10)), ("Search", snap(9, 12))], start + dt.timedelta(minutes=2))
    record_samples(store, "emu", [("Payments", snap(14, 24)), ("Search", snap(9, 12))], start + dt.timedelta(minutes=4))
    tick = harness.tick()
    fired = [t for t in tick.transitions if t.kind == "fired"]
    assert [t.observation.group for t in fired] == [{"name": "Payments"}]
    incident = harness.service.get(fired[0].incident_id)
    assert incident.summary == "Integration Payments: 58.3% of 24 calls failed in 15m"
    assert incident.category == "Integration"


def test_a_low_failure_rate_does_not_fire() -> None:
    from sfops.detect.signals import observe_events

    rule = config(RULES).rules[0]
    events = [{"at": T0, "name": "Payments", "failures": 9, "calls": 40}]
    [obs] = observe_events(rule, "prod", events, T0 + dt.timedelta(minutes=1)).values()
    assert obs.value == 22.5 and not obs.true


def test_the_default_rule_watches_every_breaker() -> None:
    rule = next(r for r in default_rules() if r.name == "integration-failure-rate")
    assert (rule.signal, rule.condition, rule.threshold, rule.min_calls) == ("integrations", "failure_rate", 50, 20)


def test_the_agents_breaker_sync_job_samples_every_breaker_for_the_signal(emu: Any, org: Any, tmp_path: Path) -> None:
    env = emulator_cli_env(emu, tmp_path)
    window = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=10)
    record = org.create(
        "Circuit_Breaker__c",
        {
            "Name": "Payments",
            "State__c": "Closed",
            "Failure_Rate_Threshold__c": 90,
            "Minimum_Requests__c": 50,
            "Window_Minutes__c": 60,
            "Window_Started_At__c": iso(window),
            "Failure_Count__c": 3,
            "Request_Count__c": 10,
        },
    )
    first = window + dt.timedelta(minutes=5)

    def tick(at: dt.datetime) -> None:
        code, out, err = invoke(["agent", "run", "--once", "--force", "--jobs", "breaker-sync", "--at", iso(at)], env)
        assert code == 0, out + err

    tick(first)
    org.update("Circuit_Breaker__c", record, {"Failure_Count__c": 15, "Request_Count__c": 30})
    tick(first + dt.timedelta(minutes=1))
    found = integration_events(Store.open(env["SFOPS_STORE_URL"]), "emu", window, first + dt.timedelta(hours=1))
    assert [(e["name"], e["failures"], e["calls"]) for e in found] == [("Payments", 3, 10), ("Payments", 12, 20)]
