"""Gate pieces without an org: configuration, levels and overrides, thresholds, timing and people with an
injected clock, JUnit output."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from clock_support import Clock
from defusedxml import ElementTree
from release_support import ONCALL_TOML

from sfops.config import ConfigError
from sfops.release.checks import people, timing
from sfops.release.checks.volumes import custom_threshold, standard_threshold
from sfops.release.config import parse_release
from sfops.release.context import GateContext
from sfops.release.junit import junit_xml
from sfops.release.model import CheckResult, Finding, GateReport, Status

FRIDAY_AFTERNOON = dt.datetime(2026, 3, 6, 15, 30, tzinfo=dt.UTC)  # a Friday


def _ctx(store: Any, clock: Clock, sections: dict[str, Any], release: dict[str, Any] | None = None) -> GateContext:
    return GateContext(
        org=None,
        store=store,
        alias="prod",
        repo=".",
        from_ref="A",
        to_ref="B",  # type: ignore[arg-type]
        config=parse_release(release or {}),
        sections=sections,
        clock=clock,
    )


def _toml(text: str) -> dict[str, Any]:
    import tomllib

    return tomllib.loads(text)


def test_config_levels_and_errors() -> None:
    cfg = parse_release({"checks": {"people": "warn", "tests": "off"}, "data_volumes": {"large_object": 10}})
    assert cfg.levels["people"] == "warn" and cfg.levels["tests"] == "off" and cfg.levels["rollback"] == "fail"
    assert cfg.large_object == 10
    with pytest.raises(ConfigError, match="unknown check 'speed'"):
        parse_release({"checks": {"speed": "fail"}})
    with pytest.raises(ConfigError, match="use one of off, warn, fail"):
        parse_release({"checks": {"timing": "maybe"}})
    with pytest.raises(ConfigError, match=r"\[release.kill_switches\] exempt must be a list"):
        parse_release({"kill_switches": {"exempt": "Legacy"}})


def test_levels_and_overrides_decide_the_effective_status() -> None:
    failing = CheckResult("timing", Status.FAIL, "frozen")
    assert failing.effective is Status.FAIL
    failing.level = "warn"
    assert failing.effective is Status.WARN
    failing.level, failing.override_reason = "fail", "INC-1 hot-fix"
    assert failing.effective is Status.OVERRIDDEN
    off = CheckResult("people", Status.FAIL, "gap", level="off")
    report = GateReport("prod", "A", "B", "a" * 40, "b" * 40, FRIDAY_AFTERNOON, [failing, off])
    assert report.status is Status.WARN and report.failed == []


def test_ldv_selectivity_thresholds() -> None:
    assert standard_threshold(500_000) == 150_000
    assert standard_threshold(3_000_000) == 600_000  # 300,000 + 15 % of 2M
    assert standard_threshold(10_000_000) == 1_000_000  # capped
    assert custom_threshold(2_000_000) == 150_000  # 100,000 + 5 % of 1M
    assert custom_threshold(9_000_000) == 333_333


def test_timing_fails_in_a_risky_time_and_passes_outside(store: Any) -> None:
    risky = {
        "rollback": {
            "risky": [{"days": ["Fri"], "from": "14:00", "to": "23:59", "tz": "UTC", "reason": "Friday afternoon"}]
        }
    }
    clock = Clock(FRIDAY_AFTERNOON)
    result = timing.check(_ctx(store, clock, risky))
    assert result.status is Status.FAIL and "Friday afternoon" in result.reason and "--override timing" in result.reason
    clock.advance(days=3)
    assert timing.check(_ctx(store, clock, risky)).status is Status.PASS


def test_people_need_cover_and_a_contact_for_each_alert_channel(store: Any) -> None:
    sections = _toml(ONCALL_TOML)
    clock = Clock(FRIDAY_AFTERNOON)
    assert people.check(_ctx(store, clock, sections)).status is Status.PASS
    sections["oncall"]["people"]["alice"] = {"email": "alice@example.com"}
    sections["alerts"] = {"channels": {"ops": {"type": "slack", "url_env": "SLACK_URL"}}}
    result = people.check(_ctx(store, clock, sections))
    assert result.status is Status.FAIL
    assert [f.message for f in result.findings] == [
        "alice is on call but has no slack in [oncall.people.alice] (an alert channel needs it)"
    ]


def test_people_report_a_gap_inside_the_window(store: Any) -> None:
    sections = _toml(ONCALL_TOML)
    sections["oncall"]["rotations"]["primary"]["restrictions"] = [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"}
    ]
    result = people.check(_ctx(store, Clock(FRIDAY_AFTERNOON), sections))
    assert result.status is Status.FAIL
    assert result.findings[0].message.startswith("nobody on call in 'primary' from 2026-03-06 18:00")
    assert people.check(_ctx(store, Clock(FRIDAY_AFTERNOON), sections, {"people": {"hours": 2}})).status is Status.PASS


def test_junit_has_one_case_per_check_with_failures_and_skips() -> None:
    checks = [
        CheckResult("rollback", Status.FAIL, "stale", [Finding("old", file="x.cls", line=3)]),
        CheckResult("timing", Status.PASS, "ok"),
        CheckResult("tests", Status.OFF, "off", level="off"),
    ]
    report = GateReport("prod", "A", "B", "a" * 40, "b" * 40, FRIDAY_AFTERNOON, checks)
    root = ElementTree.fromstring(junit_xml(report))
    assert root.get("tests") == "3" and root.get("failures") == "1"
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases["rollback"].find("failure").text == "stale\nx.cls:3: old"
    assert cases["tests"].find("skipped") is not None and cases["timing"].find("failure") is None


def test_explain_calls_run_in_parallel_bounded_and_once_per_distinct_statement(store: Any, tmp_path: Any) -> None:
    import threading

    from release_support import apex_class, commit

    from sfops.release.checks import volumes

    statements = "\n".join(
        f"        List<Account> q{i} = [SELECT Id FROM Account WHERE Name = 'n{i % 6}'];"  # noqa: S608
        for i in range(12)
    )
    repo = tmp_path / "repo"
    commit(repo, apex_class("A", "public class A { }\n"), "c1")
    commit(
        repo, apex_class("Q", "public class Q {\n    public static void run() {\n" + statements + "\n    }\n}\n"), "c2"
    )
    barrier = threading.Barrier(3, timeout=10)  # the first three explains must be in flight together
    lock = threading.Lock()
    seen = {"now": 0, "max": 0, "explains": []}

    class Org:
        def describe_global(self) -> dict[str, Any]:
            return {"sobjects": [{"name": "Account", "keyPrefix": "001"}]}

        def describe(self, name: str) -> dict[str, Any]:
            return {"keyPrefix": "001", "fields": [{"name": "Name", "type": "string"}]}

        def request(self, method: str, path: str, params: dict[str, str]) -> dict[str, Any]:
            if "explain" not in params:
                return {"sObjects": [{"name": "Account", "count": 10}]}
            with lock:
                seen["now"] += 1
                seen["max"] = max(seen["max"], seen["now"])
                seen["explains"].append(params["explain"])
                first = len(seen["explains"]) <= 3
            if first:
                barrier.wait()
            with lock:
                seen["now"] -= 1
            return {
                "plans": [
                    {
                        "cardinality": 1,
                        "fields": ["Name"],
                        "leadingOperationType": "Index",
                        "notes": [],
                        "relativeCost": 0.1,
                        "sobjectCardinality": 10,
                        "sobjectType": "Account",
                    }
                ]
            }

    ctx = GateContext(
        org=Org(),
        store=store,
        alias="prod",
        repo=str(repo),
        from_ref="c1",
        to_ref="c2",  # type: ignore[arg-type]
        config=parse_release({"data_volumes": {"concurrency": 3}}),
    )
    result = volumes.check(ctx)

    assert result.status is Status.PASS and result.facts["statements"] == 12
    assert sorted(seen["explains"]) == [f"SELECT Id FROM Account WHERE Name = 'n{i}'" for i in range(6)]  # noqa: S608
    assert seen["max"] == 3
