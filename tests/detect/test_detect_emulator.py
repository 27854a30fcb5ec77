"""The detector end to end against the emulator: injected failures -> stored signals -> one incident,
updated (not duplicated) by a continuing condition, cleared and marked mitigated when the failures stop."""

from __future__ import annotations

import datetime as dt
from typing import Any

from detect_support import LIMIT_EXCEPTION, Harness, config, iso

from sfops.logs.errors import import_event_logs
from sfops.store.detection import firing_rows

RULES = """
[detect]
defaults = false
[[detect.rules]]
name = "limit-events"
signal = "exceptions"
condition = "threshold"
threshold = 2
window = "15m"
clear_after = "10m"
match = { exception_category = "LimitException*" }
severity = "P2"
summary = "{exception_category} in {entry_point} ({count} in {window})"
"""


def inject(emu: Any, at: dt.datetime, n: int, **extra: Any) -> None:
    emu.control(
        "POST",
        "inject",
        {"exceptions": [{**LIMIT_EXCEPTION, **extra, "at": iso(at + dt.timedelta(seconds=i))} for i in range(n)]},
    )


def test_failing_events_raise_one_incident_that_a_continuing_condition_updates(
    emu: Any, org: Any, store: Any, now_clock: Any
) -> None:
    harness = Harness(org, store, now_clock, config(RULES))
    start = now_clock()
    inject(emu, start - dt.timedelta(minutes=5), 3)
    assert import_event_logs(org, store, "emu").imported == 3

    first = harness.tick()
    fired = [t for t in first.transitions if t.kind == "fired"]
    assert len(fired) == 1 and fired[0].incident_ref
    incident = harness.service.get(fired[0].incident_id)
    assert incident.severity == "P2" and incident.occurrence_count == 1
    assert incident.summary == "LimitException: SoqlQueries in Class.QuoteGuard.needsReview (3 in 15m)"

    now_clock.advance(minutes=2)
    harness.tick()  # nothing new: no update, no API call needed
    inject(emu, now_clock() - dt.timedelta(seconds=30), 2)
    import_event_logs(org, store, "emu")
    second = harness.tick()
    assert [t.kind for t in second.transitions] == ["updated"]
    again = harness.service.get(incident.id)
    assert again.id == incident.id and again.occurrence_count == 2
    assert len(harness.service.find(open_only=True)) == 1

    # failures stop: acknowledged incidents are marked mitigated once the condition stayed false clear_after
    harness.service.acknowledge(incident.id)
    now_clock.advance(minutes=10)
    tick = harness.tick()
    assert [t.kind for t in tick.transitions] == [], tick  # the last failures are still in the window
    now_clock.advance(minutes=5)
    assert [t.kind for t in harness.tick().transitions] == []  # false now, but for less than clear_after
    now_clock.advance(minutes=10)
    cleared = harness.tick()
    assert [t.kind for t in cleared.transitions] == ["cleared"]
    assert harness.service.get(incident.id).status.value == "Mitigated"
    kinds = [r["kind"] for r in firing_rows(store, org="emu")]
    assert kinds == ["cleared", "updated", "fired"]
