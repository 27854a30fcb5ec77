"""Each signal read from the store (async jobs, breakers, failed deploys, debug-log failures, Error_Log__c),
an idle tick that costs no org call, firings readable for metrics, and `sfops detect` on the command line."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from detect_support import config
from emulator_cli_support import emulator_cli_env

from sfops.cli.app import invoke
from sfops.detect import collect_async_failures, firing_counts, firings, run_detection
from sfops.detect.signals import events
from sfops.store import schema
from sfops.store.changes import save_changes
from sfops.store.error_events import save_errors

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


class Recorder:
    """An incident service stand-in that records raises (these tests are about signals, not the org)."""

    def __init__(self) -> None:
        self.raised: list[dict[str, Any]] = []

    def raise_incident(self, severity: str, summary: str, **kw: Any) -> Any:
        self.raised.append({"severity": severity, "summary": summary, **kw})
        n = len(self.raised)
        return SimpleNamespace(
            incident=SimpleNamespace(id=f"a03{n:015d}", ref=f"INC-{n}"), created=True, recurred=False
        )


def tick(store: Any, toml: str, now: dt.datetime = NOW, *, org: Any = None) -> tuple[Any, Recorder]:
    recorder = Recorder()

    def no_org() -> Any:
        raise AssertionError("this tick must not reach the org")

    result = run_detection(
        store,
        config(toml),
        alias="prod",
        now=now,
        production=True,
        actor="agent",
        incidents=lambda: SimpleNamespace(service=recorder),
        get_org=(lambda: org) if org is not None else no_org,
    )
    return result, recorder


class NoChanges:
    def query(self, soql: str) -> list[Any]:
        return []

    tooling_query = query


def rule(signal: str, **extra: str) -> str:
    lines = "\n".join(f"{k} = {v}" for k, v in extra.items())
    return (
        f'[detect]\ndefaults = false\n[[detect.rules]]\nname = "{signal}-rule"\nsignal = "{signal}"\n'
        f'severity = "P3"\nwindow = "1h"\n{lines}\n'
    )


def test_failed_async_jobs_are_collected_and_detected(emu: Any, org: Any, store: Any) -> None:
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    emu.control(
        "POST",
        "inject",
        {
            "async_jobs": [
                {
                    "apex_class": "ErrorLogger",
                    "job_type": "BatchApex",
                    "status": "Failed",
                    "at": at.isoformat(),
                    "extended_status": "First error: Apex CPU time limit exceeded",
                    "errors": 3,
                }
            ]
        },
    )
    assert collect_async_failures(org, store, "prod") == 1
    assert collect_async_failures(org, store, "prod") == 0  # idempotent
    found = events(store, "prod", "async_jobs", at - dt.timedelta(minutes=1), at + dt.timedelta(minutes=1))
    assert found[0]["apex_class"] == "ErrorLogger" and found[0]["job_type"] == "BatchApex"
    result, recorder = tick(
        store,
        rule("async_jobs", summary='"{job_type} {apex_class} {status}: {message}"'),
        dt.datetime.now(dt.UTC),
        org=NoChanges(),
    )
    assert [t.kind for t in result.transitions] == ["fired"]
    assert recorder.raised[0]["summary"] == "BatchApex ErrorLogger Failed: First error: Apex CPU time limit exceeded"


def test_breaker_opened_and_failed_deploy_signals(store: Any) -> None:
    store.record_audit(
        actor="alice",
        alias="prod",
        action="breaker.open",
        target="Circuit_Breaker__c.ERP",
        before={"state": "closed"},
        after={"state": "open"},
        at=NOW - dt.timedelta(minutes=3),
    )
    save_changes(
        store,
        "prod",
        "DeployRequest",
        [
            {
                "id": "0Af000000000001",
                "at": NOW - dt.timedelta(minutes=20),
                "kind": "deploy",
                "status": "Failed",
                "who": "CI",
                "summary": "Deployment Failed: 2 component(s)",
                "components": [],
                "details": {},
            },
            {
                "id": "0Af000000000002",
                "at": NOW - dt.timedelta(minutes=10),
                "kind": "deploy",
                "status": "Succeeded",
                "who": "CI",
                "summary": "Deployment Succeeded",
                "components": [],
                "details": {},
            },
        ],
    )
    opened = events(store, "prod", "breakers", NOW - dt.timedelta(hours=1), NOW)
    assert [e["name"] for e in opened] == ["ERP"]
    failed = events(store, "prod", "deploys", NOW - dt.timedelta(hours=1), NOW)
    assert [e["id"] for e in failed] == ["0Af000000000001"]
    _result, recorder = tick(
        store, rule("breakers") + rule("deploys").replace("[detect]\ndefaults = false\n", ""), org=NoChanges()
    )
    assert sorted(r["dedup_key"] for r in recorder.raised) == [
        "sfops:prod:breakers-rule:ERP",
        "sfops:prod:deploys-rule:0Af000000000001",
    ]


def test_debug_log_failures_and_error_log_records_feed_the_failures_signal(store: Any) -> None:
    with store.begin() as conn:
        conn.execute(
            schema.apex_log.insert().values(
                org="prod",
                id="07L000000000001",
                start_time=NOW - dt.timedelta(minutes=2),
                body=b"",
                body_bytes=0,
                pulled_at=NOW,
                summary=[
                    {
                        "tx": 0,
                        "failed": True,
                        "category": "governor_limit",
                        "fingerprint": "f1",
                        "entry_point": "QuoteTrigger on Contact",
                        "exceptions": "[fatal] LimitException",
                    },
                    {"tx": 1, "failed": False, "category": "none"},
                ],
            )
        )
    save_errors(
        store,
        "prod",
        "Error_Log__c",
        [
            {
                "id": "a0E000000000001",
                "occurred_at": NOW - dt.timedelta(minutes=1),
                "exception_type": "System.DmlException",
                "message": "UNABLE_TO_LOCK_ROW",
                "stack": "",
                "category": "row_lock",
                "fingerprint": "f2",
                "entry_point": "OrderSync.run",
                "user_id": None,
                "request_id": None,
                "details": {},
            }
        ],
        "wm",
        None,
    )
    found = events(store, "prod", "failures", NOW - dt.timedelta(hours=1), NOW)
    assert [(e["source"], e["category"]) for e in found] == [
        ("ApexLog", "governor_limit"),
        ("Error_Log__c", "row_lock"),
    ]


def test_an_idle_tick_costs_no_org_call_and_firings_are_readable(store: Any) -> None:
    save_errors(
        store,
        "prod",
        "EventLogFile",
        [
            {
                "id": "0AT1:0",
                "occurred_at": NOW - dt.timedelta(minutes=1),
                "exception_type": "System.LimitException",
                "message": "Apex CPU time limit exceeded",
                "stack": "Class.Heavy.run: line 3",
                "category": "governor_limit",
                "fingerprint": "f9",
                "entry_point": "Class.Heavy.run",
                "user_id": None,
                "request_id": None,
                "details": {"exception_category": "LimitException: CpuTime"},
            }
        ],
        "wm",
        None,
    )
    fired, _ = tick(store, "", org=NoChanges())  # the default rules
    assert {t.rule.name for t in fired.transitions if t.kind == "fired"} >= {"limit-exception-event"}
    idle, recorder = tick(store, "", NOW + dt.timedelta(minutes=1))  # get_org raises if anything calls the org
    assert idle.errors == [] and recorder.raised == [] and idle.transitions == []
    rows = firings(store, org="prod")
    assert rows and rows[0]["kind"] == "fired"
    assert firing_counts(store)[("prod", "limit-exception-event", "fired")] == 1


def test_detect_rules_and_replay_on_the_command_line(emu: Any, tmp_path: Path) -> None:
    env = emulator_cli_env(emu, tmp_path, production=["emu"], extra_toml="[detect]\nmax_actions_per_hour = 1\n")
    code, out, err = invoke(["detect", "rules", "--json"], env)
    assert code == 0, err
    body = json.loads(out)["result"]
    assert body["max_actions_per_hour"] == 1 and any(r["name"] == "api-requests-forecast" for r in body["rules"])
    from sfops.store import Store

    store = Store.open(env["SFOPS_STORE_URL"])
    now = dt.datetime.now(dt.UTC)
    save_errors(
        store,
        "emu",
        "EventLogFile",
        [
            {
                "id": f"0AT1:{i}",
                "occurred_at": now - dt.timedelta(hours=3, minutes=-i),
                "exception_type": "System.LimitException",
                "message": "Too many SOQL queries: 101",
                "stack": "Class.Q.run: line 1",
                "category": "governor_limit",
                "fingerprint": "fq",
                "entry_point": "Class.Q.run",
                "user_id": None,
                "request_id": None,
                "details": {"exception_category": "LimitException: SoqlQueries"},
            }
            for i in range(3)
        ],
        "wm",
        None,
    )
    code, out, err = invoke(
        ["detect", "test", "--since", "4h", "--step", "5m", "--rule", "limit-exception-event", "--json"], env
    )
    assert code == 0, err
    transitions = json.loads(out)["result"]["transitions"]
    assert [t["kind"] for t in transitions] == ["fired", "cleared"]
    fired_at = dt.datetime.fromisoformat(transitions[0]["at"])
    assert now - dt.timedelta(hours=3, minutes=5) <= fired_at <= now - dt.timedelta(hours=2, minutes=55)
    assert invoke(["detect", "firings", "--json"], env)[1].count('"kind"') == 0  # a replay records nothing
    code, _, err = invoke(["detect", "test", "--rule", "nope"], env)
    assert code == 2 and "Unknown rule(s) nope" in err


def test_a_bad_detect_section_does_not_fail_the_log_pull(emu: Any, tmp_path: Path) -> None:
    env = emulator_cli_env(emu, tmp_path, extra_toml='[detect]\nmode = "loud"\n')
    code, out, _ = invoke(["agent", "run", "--once", "--jobs", "logs-pull,detect", "--json"], env)
    attempts = {a["job"]: a for a in json.loads(out)["result"]}
    assert attempts["logs-pull"]["outcome"] == "partial"
    summary = attempts["logs-pull"]["summary"]
    assert "new log(s) stored" in summary and "detect failed" in summary
    assert attempts["detect"]["outcome"] == "failed" and "mode must be one of" in attempts["detect"]["error"]
    assert code == 68
