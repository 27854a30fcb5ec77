"""The rule conditions and the alert state machine, on synthetic events (no org): threshold, rate, new
fingerprint, forecast, `for`, hysteresis, flapping, and the default rule set."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest
from detect_support import config

from sfops.detect import default_rules, engine
from sfops.detect.rules import parse_rule
from sfops.detect.signals import MemoryFingerprints, observe_events, observe_limits
from sfops.errors import ConfigError

T0 = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


def rule(**over: Any) -> Any:
    raw = {
        "name": "r",
        "signal": "exceptions",
        "condition": "threshold",
        "threshold": 3,
        "window": "10m",
        "severity": "P2",
        "clear_after": "5m",
        **over,
    }
    return parse_rule(raw, "test")


def ev(minute: float, fp: str = "aaa", **extra: Any) -> dict[str, Any]:
    return {
        "at": T0 + dt.timedelta(minutes=minute),
        "fingerprint": fp,
        "source": "EventLogFile",
        "exception_category": "LimitException: CpuTime",
        "entry_point": "Class.A.run",
        **extra,
    }


class Run:
    """Steps one rule over a fixed event list, keeping its states like the detector does."""

    def __init__(self, r: Any, events: list[dict[str, Any]], fps: MemoryFingerprints | None = None) -> None:
        self.rule, self.events, self.fps = r, events, fps
        self.states: dict[str, dict[str, Any]] = {}

    def at(self, minute: float) -> list[str]:
        now = T0 + dt.timedelta(minutes=minute)
        seen = [e for e in self.events if e["at"] <= now]
        if self.fps is not None:
            self.fps.remember({e["fingerprint"]: (e["at"], "x") for e in seen})
        obs = observe_events(self.rule, "org", seen, now, self.fps)
        out = []
        for t in engine.step(self.rule, obs, self.states, now):
            self.states[t.key] = t.state
            if t.kind != "held":
                out.append(t.kind)
        return out


def test_threshold_fires_at_the_count_and_groups_by_fingerprint() -> None:
    run = Run(rule(), [ev(1), ev(2), ev(2.5, fp="bbb"), ev(3)])
    assert run.at(2.6) == []  # aaa twice, bbb once: below 3
    assert run.at(3) == ["fired"]
    assert list(run.states) == ["sfops:org:r:aaa"]


def test_rate_is_events_per_minute_over_the_window() -> None:
    events = [ev(i * 0.5) for i in range(10)]  # 2 per minute for 5 minutes
    assert Run(rule(condition="rate", rate=1, window="5m"), events).at(5) == ["fired"]
    assert Run(rule(condition="rate", rate=3, window="5m"), events).at(5) == []


def test_match_filters_with_globs_and_lists() -> None:
    events = [ev(1), ev(1.5, exception_category="QueryException")]
    assert Run(rule(threshold=2, match={"exception_category": "LimitException*"}), events).at(2) == []
    assert Run(
        rule(threshold=2, group_by=["source"], match={"exception_category": ["LimitException*", "QueryException"]}),
        events,
    ).at(2) == ["fired"]


def test_new_fingerprint_fires_only_for_fingerprints_never_seen() -> None:
    fps = MemoryFingerprints()
    fps.remember({"old": (T0 - dt.timedelta(days=3), "x")})
    run = Run(
        rule(signal="failures", condition="new_fingerprint", window="1h"), [ev(1, fp="old"), ev(2, fp="new")], fps
    )
    assert run.at(3) == ["fired"]
    assert [k for k, s in run.states.items() if s["state"] == "firing"] == ["sfops:org:r:new"]
    assert run.at(62) == []  # still inside the window
    assert run.at(64) == []  # first seen more than the window ago: no longer new; clears after clear_after
    assert run.at(68) == ["cleared"]


def test_for_holds_the_alert_pending_until_the_condition_lasted() -> None:
    events = [ev(m) for m in range(0, 30)]
    run = Run(rule(threshold=1, **{"for": "10m"}), events)
    assert run.at(1) == ["pending"]
    assert run.at(5) == []
    assert run.at(11) == ["fired"]


def test_pending_resets_when_the_condition_stops_before_for() -> None:
    run = Run(rule(threshold=1, window="2m", **{"for": "10m"}), [ev(0)])
    assert run.at(1) == ["pending"]
    assert run.at(5) == ["reset"]


def test_hysteresis_a_gap_shorter_than_clear_after_keeps_one_alert() -> None:
    events = [ev(0), ev(0.1), ev(0.2), ev(13), ev(13.1), ev(13.2)]
    run = Run(rule(window="10m", clear_after="5m"), events)
    assert run.at(1) == ["fired"]
    assert run.at(11) == []  # false since 10.2, for less than 5 minutes
    assert run.at(13.5) == ["updated"]  # true again: same alert, updated, not a second firing
    assert run.at(24) == []
    assert run.at(29) == ["cleared"]


def test_flapping_alert_stays_firing_until_quiet_for_the_flap_window() -> None:
    bursts = [ev(b + i * 0.1) for b in (0, 20, 40) for i in range(3)]
    run = Run(rule(window="5m", clear_after="5m", flap_window="1h", flap_max=3), bursts)
    kinds = [k for minute in range(0, 120) for k in run.at(minute)]
    # fires, clears, fires, clears, fires (third time inside the hour): then damped, cleared only an hour later
    assert kinds == ["fired", "cleared", "fired", "cleared", "fired", "damped", "cleared"]


def test_limits_threshold_and_forecast() -> None:
    frame = pd.DataFrame(
        {
            "taken_at": pd.to_datetime([T0 - dt.timedelta(hours=h) for h in (4, 2, 0)], utc=True),
            "name": ["DailyApiRequests"] * 3,
            "app": [""] * 3,
            "max": [100000] * 3,
            "remaining": [60000, 40000, 20000],
        }
    )
    high = observe_limits(rule(signal="limits", threshold=75, match={"name": "DailyApiRequests"}), "org", frame, T0)
    (obs,) = high.values()
    assert obs.true and obs.value == 80.0
    soon = observe_limits(rule(signal="limits", condition="forecast", within="6h"), "org", frame, T0)
    (forecast,) = soon.values()
    assert forecast.true and forecast.value == pytest.approx(2.0)  # 10,000/h used, 20,000 left
    later = observe_limits(rule(signal="limits", condition="forecast", within="1h"), "org", frame, T0)
    assert not next(iter(later.values())).true


def test_default_rules_parse_and_sfops_toml_overrides_them() -> None:
    names = [r.name for r in default_rules()]
    assert {"limit-exception", "api-requests-forecast", "api-requests-high", "new-failure"} <= set(names)
    cfg = config("""
[detect]
mode = "observe"
[[detect.rules]]
name = "limit-exception"
severity = "P1"
actions = [{ type = "switch_off", switch = "New_Pricing__c" }]
[[detect.rules]]
name = "storage-high"
enabled = false
""")
    by_name = {r.name: r for r in cfg.rules}
    assert by_name["limit-exception"].severity == "P1" and by_name["limit-exception"].signal == "failures"
    assert by_name["limit-exception"].actions[0].target == "New_Pricing__c"
    assert "storage-high" not in by_name and cfg.mode == "observe"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[detect]\nmode = "loud"', "mode must be one of act, observe"),
        ('[[detect.rules]]\nname = "x"\nsignal = "logs"\nseverity = "P1"', "signal must be one of"),
        (
            '[[detect.rules]]\nname = "x"\nsignal = "limits"\ncondition = "new_fingerprint"\nseverity = "P1"',
            "new_fingerprint needs signal failures or exceptions",
        ),
        (
            '[[detect.rules]]\nname = "x"\nsignal = "failures"\nseverity = "P1"\n'
            'actions = [{ type = "switch_off", switch = "{name}" }]',
            "must be a literal name",
        ),
        ('[[detect.rules]]\nname = "x"\nsignal = "failures"\nseverity = "P1"\nwindow = "soon"', "bad duration"),
        ('[[detect.rules]]\nname = "x"\nsignal = "failures"\nseverity = "P9"', "severity must be one of"),
        ('[detect]\nquiet = [{ start = "25:00", end = "06:00" }]', "quiet[0]"),
    ],
)
def test_bad_rules_are_one_clear_configuration_error(toml: str, message: str) -> None:
    text = toml if toml.startswith("[detect]") else "[detect]\n" + toml.replace("[[detect.rules]]", "[[detect.rules]]")
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        config(text)
