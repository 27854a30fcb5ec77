"""On-call maths: wall-clock handoffs across DST, layers, restrictions, overrides of overrides, gaps,
and the iCalendar export parsed back with the icalendar library."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from sfops.errors import ConfigError
from sfops.incidents.oncall import (
    Override,
    Rotation,
    add_override,
    cancel_override,
    final_schedule,
    gap_warnings,
    gaps,
    on_call_at,
    parse_oncall,
    stored_overrides,
    to_ics,
)
from sfops.store import Store

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
UTC = dt.UTC


def rotation(**table: object) -> Rotation:
    base = {
        "time_zone": "Europe/Paris",
        "start": "2026-03-23",
        "handoff_time": "09:00",
        "length": "daily",
        "participants": ["alice", "bob", "carol"],
    }
    base.update(table)
    return parse_oncall({"rotations": {"r": base}}).rotation("r")


def test_daily_handoff_stays_at_local_9am_across_spring_forward() -> None:
    rot = rotation()
    schedule = final_schedule(rot, dt.datetime(2026, 3, 28, 9, tzinfo=PARIS), dt.datetime(2026, 3, 31, 9, tzinfo=PARIS))
    starts = [s.start.astimezone(PARIS) for s in schedule]
    assert [s.hour for s in starts] == [9, 9, 9]
    # Sunday 29 March 2026 09:00 CEST -> Monday 09:00: the clocks moved forward overnight... the
    # shift starting Saturday 09:00 CET spans the change and lasts 23 hours.
    lengths = [(s.end - s.start) for s in schedule]
    assert lengths == [dt.timedelta(hours=23), dt.timedelta(hours=24), dt.timedelta(hours=24)]
    # turns rotate by day since the start (23 March = alice): 28th = day 5 -> carol
    assert [s.person for s in schedule] == ["carol", "alice", "bob"]


def test_weekly_handoff_across_fall_back_in_new_york_is_a_25_hour_day_longer() -> None:
    rot = rotation(
        time_zone="America/New_York",
        start="2026-10-26",
        length="weekly",
        handoff_time="10:00",
        participants=["alice", "bob"],
    )
    schedule = final_schedule(
        rot, dt.datetime(2026, 10, 26, 10, tzinfo=NEW_YORK), dt.datetime(2026, 11, 9, 10, tzinfo=NEW_YORK)
    )
    assert [s.person for s in schedule] == ["alice", "bob"]
    # 1 November 2026: EDT -> EST, so the first week is one hour longer than 7 x 24 h
    assert schedule[0].end - schedule[0].start == dt.timedelta(days=7, hours=1)
    assert schedule[0].end.astimezone(NEW_YORK).hour == 10
    assert schedule[1].end - schedule[1].start == dt.timedelta(days=7)


def test_hour_based_lengths_are_exact_durations_even_across_dst() -> None:
    rot = rotation(length="12h", handoff_time="08:00", start="2026-03-28", participants=["a", "b"])
    schedule = final_schedule(rot, dt.datetime(2026, 3, 28, 7, tzinfo=UTC), dt.datetime(2026, 3, 30, 7, tzinfo=UTC))
    assert all(s.end - s.start == dt.timedelta(hours=12) for s in schedule)
    assert [s.person for s in schedule] == ["a", "b", "a", "b"]
    # after the change the local handoff moves from 08:00/20:00 to 09:00/21:00
    assert schedule[-1].start.astimezone(PARIS).hour == 21


def test_now_lookup_and_before_start_is_a_gap() -> None:
    rot = rotation()
    assert on_call_at(rot, dt.datetime(2026, 3, 24, 8, 59, tzinfo=PARIS)).person == "alice"
    assert on_call_at(rot, dt.datetime(2026, 3, 24, 9, 0, tzinfo=PARIS)).person == "bob"
    before = on_call_at(rot, dt.datetime(2026, 3, 1, tzinfo=UTC))
    assert before.person is None and before.source == "gap"


def test_business_hours_restriction_leaves_gaps_reported_as_warnings() -> None:
    rot = rotation(restrictions=[{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"}])
    schedule = final_schedule(rot, dt.datetime(2026, 3, 27, 0, tzinfo=PARIS), dt.datetime(2026, 3, 30, 0, tzinfo=PARIS))
    covered = [s for s in schedule if s.person]
    assert [(s.start.astimezone(PARIS).hour, s.end.astimezone(PARIS).hour) for s in covered] == [(9, 18)]
    holes = gaps(schedule)
    assert len(holes) == 2  # Friday night to Monday
    warnings = gap_warnings(schedule, PARIS)
    assert len(warnings) == 2 and "Nobody is on call in rotation 'r'" in warnings[0]


def test_overnight_restriction_window() -> None:
    rot = rotation(restrictions=[{"days": ["fri"], "start": "22:00", "end": "06:00"}])
    schedule = final_schedule(rot, dt.datetime(2026, 3, 27, 0, tzinfo=PARIS), dt.datetime(2026, 3, 29, 0, tzinfo=PARIS))
    covered = [s for s in schedule if s.person]
    assert covered[0].start == dt.datetime(2026, 3, 27, 22, tzinfo=PARIS)
    assert covered[-1].end == dt.datetime(2026, 3, 28, 6, tzinfo=PARIS)
    # the 09:00 handoff on Saturday falls outside the window: one person covers the whole night
    assert {s.person for s in covered} == {"bob"}


def test_a_later_layer_wins_where_it_has_someone() -> None:
    config = parse_oncall(
        {
            "rotations": {
                "r": {
                    "time_zone": "Europe/Paris",
                    "start": "2026-03-23",
                    "handoff_time": "09:00",
                    "length": "weekly",
                    "participants": ["alice"],
                    "layers": [
                        {
                            "participants": ["weekend-dave"],
                            "length": "daily",
                            "restrictions": [{"days": ["sat", "sun"], "start": "00:00", "end": "24:00"}],
                        }
                    ],
                }
            }
        }
    )
    rot = config.rotation("r")
    assert on_call_at(rot, dt.datetime(2026, 3, 27, 12, tzinfo=PARIS)).person == "alice"
    saturday = on_call_at(rot, dt.datetime(2026, 3, 28, 12, tzinfo=PARIS))
    assert saturday.person == "weekend-dave" and saturday.source == "layer 2"


def test_overrides_of_overrides(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
    rot = rotation()
    day = dt.datetime(2026, 3, 24, 9, tzinfo=PARIS)
    first = add_override(store, "r", "zoe", day + dt.timedelta(hours=2), day + dt.timedelta(hours=10), actor="t")
    add_override(store, "r", "yann", day + dt.timedelta(hours=4), day + dt.timedelta(hours=6), actor="t")
    overrides = stored_overrides(store, "r")
    schedule = final_schedule(rot, day, day + dt.timedelta(hours=12), overrides)
    assert [(s.person, int((s.end - s.start).total_seconds() // 3600)) for s in schedule] == [
        ("bob", 2),
        ("zoe", 2),
        ("yann", 2),
        ("zoe", 4),
        ("bob", 2),
    ]
    assert schedule[2].source == f"override #{first.id + 1}"
    cancel_override(store, first.id)
    schedule = final_schedule(rot, day, day + dt.timedelta(hours=12), stored_overrides(store, "r"))
    assert [s.person for s in schedule] == ["bob", "yann", "bob"]


def test_config_overrides_rank_below_stored_ones() -> None:
    rot = parse_oncall(
        {
            "rotations": {
                "r": {
                    "time_zone": "UTC",
                    "start": "2026-01-05",
                    "length": "weekly",
                    "participants": ["alice"],
                    "overrides": [{"person": "cfg", "start": "2026-01-06T00:00:00Z", "end": "2026-01-07T00:00:00Z"}],
                }
            }
        }
    ).rotation("r")
    at = dt.datetime(2026, 1, 6, 12, tzinfo=UTC)
    assert on_call_at(rot, at).person == "cfg"
    cli_override = Override(
        person="cli", start=at - dt.timedelta(hours=1), end=at + dt.timedelta(hours=1), order=1, id=1
    )
    assert on_call_at(rot, at, [cli_override]).person == "cli"


def test_ics_export_parses_back_with_the_right_events() -> None:
    rot = rotation(
        restrictions=[{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"}],
        participants=['alice, the "first"; responder', "bob"],
    )
    schedule = final_schedule(rot, dt.datetime(2026, 3, 26, tzinfo=PARIS), dt.datetime(2026, 3, 31, tzinfo=PARIS))
    text = to_ics(schedule, calendar_name="On call: r", now=dt.datetime(2026, 3, 1, tzinfo=UTC))
    assert text.endswith("\r\n") and all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    cal = icalendar.Calendar.from_ical(text)
    events = cal.walk("VEVENT")
    covered = [s for s in schedule if s.person]
    assert len(events) == len(covered) == 3  # Thu, Fri, Mon business hours
    for event, shift in zip(events, covered, strict=True):
        assert event.decoded("DTSTART") == shift.start
        assert event.decoded("DTEND") == shift.end
        assert shift.person in str(event.get("SUMMARY"))
    assert len({str(e.get("UID")) for e in events}) == 3
    personal = icalendar.Calendar.from_ical(to_ics(schedule, calendar_name="me", person="bob"))
    assert len(personal.walk("VEVENT")) == sum(1 for s in covered if s.person == "bob")


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"rotations": ["primary"]}, r"\[oncall\.rotations\] must be a table"),
        ({"rotations": {"r": "alice"}}, r"\[oncall\.rotations\.r\] must be a table"),
        ({"people": {"alice": "alice@example.com"}}, r"\[oncall\.people\.alice\] must be a table"),
    ],
)
def test_wrongly_shaped_oncall_sections_are_clear_errors(section: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_oncall(section)


@pytest.mark.parametrize(
    "table,message",
    [
        ({"time_zone": "Mars/Olympus"}, "unknown time zone"),
        ({"length": "fortnightly"}, "must be daily, weekly"),
        ({"handoff_time": "25:00"}, "HH:MM"),
        ({"participants": []}, "no participants"),
        ({"participants": "alice"}, "participants must be a list of strings"),  # not a, l, i, c, e taking turns
        ({"restrictions": "weekdays"}, "restrictions must be a list of tables"),
        ({"restrictions": [{"days": "mon"}]}, "days must be a list of strings"),
        ({"layers": {"participants": ["b"]}}, "layers must be a list of tables"),
        ({"overrides": [{"person": "b", "start": "2026-01-05T09:00Z"}]}, "override 1 needs end"),
    ],
)
def test_bad_rotation_config_is_a_clear_error(table: dict, message: str) -> None:
    base = {"time_zone": "UTC", "start": "2026-01-05", "participants": ["a"], **table}
    with pytest.raises(ConfigError, match=message):
        parse_oncall({"rotations": {"r": base}})
