"""The detector records a firing as pending before it raises and pages, and settles it after (issue 11, item 4):
a crash between the two steps neither loses the page nor sends it twice, and the rule's action runs once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from detect_support import LIMIT_EXCEPTION, Harness, config, iso

from sfops.incidents import records
from sfops.logs.errors import import_event_logs
from sfops.store import detection as db

RULES = """
[detect]
defaults = false
[[detect.rules]]
name = "limit-events"
signal = "exceptions"
condition = "threshold"
threshold = 1
window = "15m"
match = { exception_category = "LimitException*" }
severity = "P1"
actions = [{ type = "switch_off", switch = "New_Pricing__c" }]
"""


class Crash(Exception):
    """The process dies here (not an SfopsError: nothing catches it)."""


def failing(emu: Any, org: Any, store: Any, at: dt.datetime) -> None:
    emu.control("POST", "inject", {"exceptions": [{**LIMIT_EXCEPTION, "at": iso(at)}]})
    assert import_event_logs(org, store, "emu").imported == 1


def pages(store: Any, incident_id: str) -> int:
    """How many times the incident was raised (and paged: the trigger and notifications go with the raise),
    and how many "fired" notes the detector wrote on its timeline: both must be exactly one."""
    kinds = [e["kind"] for e in records.events(store, "emu", incident_id)]
    assert kinds.count("detect") == kinds.count("raised")
    return kinds.count("raised")


def actions_done(store: Any, now: dt.datetime) -> list[dict[str, Any]]:
    return [
        r
        for r in db.audit_events(
            store, "emu", "detect.action", now - dt.timedelta(hours=1), now + dt.timedelta(hours=1)
        )
        if r["outcome"] == "done"
    ]


def test_a_crash_after_the_page_but_before_the_settle_does_not_page_or_act_twice(
    emu: Any, org: Any, store: Any, now_clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = Harness(org, store, now_clock, config(RULES))
    failing(emu, org, store, now_clock() - dt.timedelta(minutes=2))
    settle = db.save_alerts

    def crash(*_args: Any, **_kwargs: Any) -> None:
        raise Crash

    monkeypatch.setattr(db, "save_alerts", crash)
    with pytest.raises(Crash):
        harness.tick()
    [pending] = db.firing_rows(store, org="emu")
    assert pending["kind"] == "fired" and pending["details"]["status"] == "pending"
    [incident] = harness.service.find(open_only=True)
    assert pages(store, incident.id) == 1 and len(actions_done(store, now_clock())) == 1

    monkeypatch.setattr(db, "save_alerts", settle)
    now_clock.advance(minutes=1)
    tick = harness.tick()
    assert [t.kind for t in tick.transitions] == ["fired"] and tick.transitions[0].incident_id == incident.id
    [again] = harness.service.find(open_only=True)
    assert again.id == incident.id and again.occurrence_count == 1  # finished, not counted as a repeat
    assert pages(store, incident.id) == 1 and len(actions_done(store, now_clock())) == 1
    [settled] = db.firing_rows(store, org="emu")
    assert settled["id"] == pending["id"] and settled["details"]["status"] == "done"
    assert settled["incident_id"] == incident.id and settled["details"]["actions"][0]["outcome"] == "done"

    now_clock.advance(minutes=1)
    assert [t.kind for t in harness.tick().transitions] == []  # firing: held, nothing pending any more


def test_a_crash_after_the_intent_but_before_the_raise_pages_on_the_next_tick(
    emu: Any, org: Any, store: Any, now_clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = Harness(org, store, now_clock, config(RULES))
    failing(emu, org, store, now_clock() - dt.timedelta(minutes=2))
    real = harness.service.raise_incident

    def crash(*_args: Any, **_kwargs: Any) -> None:
        raise Crash

    monkeypatch.setattr(harness.service, "raise_incident", crash)
    with pytest.raises(Crash):
        harness.tick()
    assert harness.service.find(open_only=True) == []
    assert db.firing_rows(store, org="emu")[0]["details"]["status"] == "pending"

    monkeypatch.setattr(harness.service, "raise_incident", real)
    now_clock.advance(minutes=1)
    harness.tick()
    [incident] = harness.service.find(open_only=True)
    assert incident.occurrence_count == 1 and pages(store, incident.id) == 1
    assert len(actions_done(store, now_clock())) == 1
    [settled] = db.firing_rows(store, org="emu")
    assert settled["details"]["status"] == "done" and settled["incident_id"] == incident.id
