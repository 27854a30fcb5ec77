"""`sfops logs pull` / `report` against the emulator over real HTTPS: API economy, idempotence, crash safety,
REQUEST_LIMIT_EXCEEDED, delete-after-pull, and the end-to-end report."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_support import run_cli
from paths import APEX_LOGS, REPO

import sfops.logs.pull as pull_module
from sfops.emulator.testing import RunningEmulator
from sfops.logs.pull import pull_logs
from sfops.logs.report import logs_report
from sfops.logs.store import get_watermark, known_key
from sfops.salesforce import Org, connect
from sfops.store import Store
from sfops.store.apex_logs import count_logs, iter_summaries, load_body

SOQL_101 = (APEX_LOGS / "synthetic" / "SYNTHETIC-soql-101-trigger-loop-v64.log").read_text()
HEAP = (APEX_LOGS / "synthetic" / "SYNTHETIC-heap-limit-batch-async-v64.log").read_text()
MINIMAL = (APEX_LOGS / "certinia-mcp-minimal-v64.log").read_text()


def seed(emu: RunningEmulator, n: int, body: str = MINIMAL, minute0: int = 0) -> dict[str, str]:
    """n logs, two per StartTime second (ties on the watermark are the interesting case), starting `minute0`
    minutes after an hour ago (after the demo seed's own logs)."""
    base = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    ids = {}
    for i in range(n):
        start = base + dt.timedelta(minutes=minute0, seconds=i // 2)
        ids[emu.emulator.add_apexlog(body, {"StartTime": start.strftime("%Y-%m-%dT%H:%M:%S.000+0000")})] = body
    return ids


def counted_calls(emu: RunningEmulator, since: int) -> list[dict[str, Any]]:
    """API calls that count against the org's limits (not logins or control calls) after position `since`."""
    return [e for e in emu.requests_journal()[since:] if e["counted"]]


def org_log_ids(org: Org) -> set[str]:
    return {r["Id"] for r in org.tooling_query("SELECT Id FROM ApexLog")}


def test_pull_costs_n_plus_one_requests_and_an_empty_pull_costs_one(
    emu: RunningEmulator, org: Org, store: Store
) -> None:
    seed(emu, 20)
    total = len(org_log_ids(org))  # 20 + the demo seed's logs
    before = len(emu.requests_journal())
    result = pull_logs(org, store, "emu", concurrency=4)
    calls = counted_calls(emu, before)
    assert result.complete and result.pulled == total and result.listed == total
    assert len(calls) == total + 1  # one query page + one body each
    assert sum("/Body" in c["path"] for c in calls) == total
    assert count_logs(store, "emu") == total

    before = len(emu.requests_journal())
    again = pull_logs(org, store, "emu")
    assert again.pulled == 0 and len(counted_calls(emu, before)) == 1
    assert again.already_stored >= 1  # the inclusive watermark re-lists the last second's logs

    new = seed(emu, 3, minute0=30)
    third = pull_logs(org, store, "emu")
    assert third.pulled == 3 and count_logs(store, "emu") == total + 3
    for log_id, body in new.items():
        assert load_body(store, "emu", log_id) == body.encode()


class Killed(BaseException):
    """Stands for the process being killed: not an Exception, so nothing in sfops catches it."""


def _kill_at(monkeypatch: pytest.MonkeyPatch, name: str, when: int, after: bool) -> None:
    real: Callable[..., Any] = getattr(pull_module, name)
    counter = itertools.count(1)  # next() is atomic: workers call this concurrently

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        n = next(counter)
        if n == when and not after:
            raise Killed(f"{name} #{when}")
        value = real(*args, **kwargs)
        if n == when and after:
            raise Killed(f"after {name} #{when}")
        return value

    monkeypatch.setattr(pull_module, name, wrapper)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_killed_at_any_point_then_rerun_loses_and_duplicates_nothing(
    emu: RunningEmulator, org: Org, store: Store, concurrency: int
) -> None:
    seed(emu, 90)
    expected = org_log_ids(org)
    kill_points = [
        ("save_log", 1, False),
        ("save_log", 7, True),
        ("set_watermark", 1, False),
        ("set_watermark", 2, True),
        ("save_log", 5, False),
        ("summarize_body", 3, False),
    ]
    for name, when, after in kill_points:
        with pytest.MonkeyPatch.context() as mp:
            _kill_at(mp, name, when, after)
            with pytest.raises(Killed):
                pull_logs(org, store, "emu", concurrency=concurrency)
        assert count_logs(store, "emu") < len(expected)  # every kill left work for the final run
    final = pull_logs(org, store, "emu", concurrency=concurrency)
    assert final.complete
    stored = [meta["id"] for meta, _ in iter_summaries(store, "emu")]
    assert len(stored) == len(set(stored)) == len(expected)
    assert set(stored) == expected
    assert get_watermark(store, "emu") is not None


def test_request_limit_exceeded_stops_cleanly_and_the_next_run_continues(
    emu: RunningEmulator, org: Org, store: Store
) -> None:
    seed(emu, 24)
    expected = org_log_ids(org)

    def exhaust_after_five(done: int, _total: int) -> None:
        if done == 5:
            emu.faults(fail={"count": 1000, "status": 403, "errorCode": "REQUEST_LIMIT_EXCEEDED", "path": "*/Body"})

    result = pull_logs(org, store, "emu", concurrency=1, progress=exhaust_after_five)
    assert result.stopped == "REQUEST_LIMIT_EXCEEDED" and not result.complete
    # the download already running when the quota ran out may still complete
    assert 5 <= result.pulled == count_logs(store, "emu") < len(expected)
    emu.control("DELETE", "faults")
    rest = pull_logs(org, store, "emu", concurrency=3)
    assert rest.complete and rest.pulled == len(expected) - result.pulled
    assert {m["id"] for m, _ in iter_summaries(store, "emu")} == expected


def test_delete_after_pull_removes_the_org_copy_only_once_stored(emu: RunningEmulator, org: Org, store: Store) -> None:
    seed(emu, 4)
    expected = org_log_ids(org)
    result = pull_logs(org, store, "emu", delete_after_pull=True)
    assert result.deleted == len(expected) == result.pulled
    assert org_log_ids(org) == set()
    assert {m["id"] for m, _ in iter_summaries(store, "emu")} == expected


def test_delete_after_pull_on_production_asks_first(emu: RunningEmulator, org: Org, tmp_path: Path) -> None:
    from emulator_cli_support import emulator_cli_env

    seed(emu, 2)
    before = org_log_ids(org)
    env = emulator_cli_env(emu, tmp_path, production=("emu",))
    result = run_cli(["logs", "pull", "--delete-after-pull", "--json"], env=env)
    assert result.exit_code != 0 and "production org" in result.json["message"]
    assert org_log_ids(org) == before  # nothing pulled, nothing deleted
    result = run_cli(["logs", "pull", "--delete-after-pull", "--yes", "--json"], env=env)
    assert result.exit_code == 0, result.stderr
    assert org_log_ids(org) == set() and result.json["result"]["deleted"] == len(before)


def test_pull_then_report_shows_the_limit_failure_and_its_category(
    emu: RunningEmulator, cli_env: dict[str, str]
) -> None:
    seed(emu, 3, body=SOQL_101)
    seed(emu, 1, body=HEAP, minute0=10)
    result = run_cli(["logs", "pull", "--json"], env=cli_env)
    assert result.exit_code == 0, result.stderr
    pulled = result.json["result"]
    assert pulled["stopped"] is None and pulled["pulled"] >= 4
    # 3 + 1 SOQL-101 logs (the emulator's demo seed ships one too) and the heap failure
    assert sum(f["category"] == "governor_limit" for f in pulled["failures"]) == 5

    result = run_cli(["logs", "report", "--json"], env=cli_env)
    assert result.exit_code == 0, result.stderr
    body = result.json["result"]
    rows = {(r["entry_point"], r["limit"]): r for r in body["limits"]}
    # sorted by how close to the limit: heap 104.9 % first, then SOQL 101 %
    assert [(r["entry_point"], r["limit"]) for r in body["limits"][:2]] == [
        ("InvoiceRollupBatch", "heap_size"),
        ("ContactTrigger on Contact trigger event AfterInsert", "soql_queries"),
    ]
    soql = rows[("ContactTrigger on Contact trigger event AfterInsert", "soql_queries")]
    assert (soql["max_pct"], soql["p95_pct"], soql["over_80"], soql["transactions"]) == (101.0, 101.0, 4, 4)
    heap = rows[("InvoiceRollupBatch", "heap_size")]
    assert (heap["max_used"], heap["max"]) == (12583913, 12000000)  # the async maximum, read from the log
    failures = {(f["category"], f["limit"]): f["count"] for f in body["failures"]}
    assert failures[("governor_limit", "soql_queries")] == 4
    assert failures[("governor_limit", "heap_size")] == 1

    result = run_cli(["logs", "report", "--failures"], env=cli_env)
    assert result.exit_code == 0 and "governor_limit" in result.stdout and "soql_queries" in result.stdout


def test_report_over_summaries_without_an_org(store: Store) -> None:
    report = logs_report(store)
    assert report.logs == 0 and report.limits.empty and report.failures.empty


def test_sigkill_mid_pull_several_times_loses_and_duplicates_nothing(
    emu: RunningEmulator, cli_env: dict[str, str]
) -> None:
    """The real thing: `sfops logs pull` in a child process, SIGKILLed at three different fill levels."""
    seed(emu, 45)
    org = connect(emu.org_config(alias="emu"), env={})
    expected = org_log_ids(org)
    store = Store.open(cli_env["SFOPS_STORE_URL"])
    key = org.identity.org_id  # the CLI stores logs by org id (aliases of one org share them)
    emu.faults(latency={"fixed_ms": 40, "jitter_ms": 0})
    env = {**os.environ, **cli_env}
    env.pop("REQUESTS_CA_BUNDLE", None)
    env.pop("CURL_CA_BUNDLE", None)
    kills = 0
    for threshold in (3, 15, 30):
        proc = subprocess.Popen(
            [sys.executable, "-m", "sfops", "logs", "pull", "--concurrency", "2"],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while proc.poll() is None and count_logs(store, key) < threshold and time.monotonic() < deadline:
            time.sleep(0.01)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=30)
    emu.control("DELETE", "faults")
    assert kills >= 2  # at least two runs really died mid-pull
    result = run_cli(["logs", "pull"], env=cli_env)
    assert result.exit_code == 0, result.stderr
    stored = [meta["id"] for meta, _ in iter_summaries(store, key)]
    assert len(stored) == len(set(stored)) and set(stored) == expected
    for log_id in stored:
        assert (
            load_body(store, key, log_id)
            == org.request("GET", f"tooling/sobjects/ApexLog/{log_id}/Body", raw=True).content
        )


def test_transient_body_failures_are_retried(emu: RunningEmulator, org: Org, store: Store) -> None:
    seed(emu, 3)
    expected = org_log_ids(org)
    emu.faults(fail={"count": 2, "status": 503, "errorCode": "SERVER_UNAVAILABLE", "path": "*/Body"})
    result = pull_logs(org, store, "emu", concurrency=1)
    assert result.complete and result.pulled == len(expected)


def test_report_writes_parquet(emu: RunningEmulator, cli_env: dict[str, str], tmp_path: Path) -> None:
    import pandas as pd

    seed(emu, 2, body=SOQL_101)
    assert run_cli(["logs", "pull"], env=cli_env).exit_code == 0
    target = tmp_path / "limits.parquet"
    result = run_cli(["logs", "report", "--parquet", str(target)], env=cli_env)
    assert result.exit_code == 0, result.stderr
    frame = pd.read_parquet(target)
    row = frame[
        (frame["limit"] == "soql_queries")
        & (frame["entry_point"] == "ContactTrigger on Contact trigger event AfterInsert")
    ].iloc[0]
    assert (row["max_pct"], row["over_80"], row["transactions"]) == (101.0, 3, 3)  # 2 + the seeded one
    result = run_cli(["logs", "report", "--parquet", str(tmp_path / "missing" / "x.parquet")], env=cli_env)
    assert result.exit_code == 2 and "does not exist (sfops does not create it)" in result.stderr
    assert "Traceback" not in result.stderr


def test_prune_deletes_old_local_copies_and_never_repulls_them(emu: RunningEmulator, cli_env: dict[str, str]) -> None:
    old = emu.emulator.add_apexlog(MINIMAL, {"StartTime": "2020-01-01T00:00:00.000+0000"})
    seed(emu, 2)
    assert run_cli(["logs", "pull"], env=cli_env).exit_code == 0
    store = Store.open(cli_env["SFOPS_STORE_URL"])
    key = known_key(store, "emu")  # the org id the pull stored them under
    assert key != "emu"
    total = count_logs(store, key)
    result = run_cli(["logs", "prune", "--older-than-days", "30", "--dry-run", "--json"], env=cli_env)
    assert result.exit_code == 0 and result.json["result"]["deleted"] == {"apex_log": 1, "error_event": 0}
    assert count_logs(store, key) == total
    result = run_cli(["logs", "prune", "--older-than-days", "30"], env=cli_env)
    assert result.exit_code == 0 and "Deleted 1 log(s)" in result.stdout
    assert count_logs(store, key) == total - 1 and load_body(store, key, old) is None
    result = run_cli(["logs", "pull", "--json"], env=cli_env)
    assert result.json["result"]["pulled"] == 0  # the watermark is past it: pruned logs stay pruned
