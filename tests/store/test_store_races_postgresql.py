"""Processes racing on one PostgreSQL store (what a team shares): state upserts and identical kill-switch
flips (issue 15 item 9). Threads with their own Store (own connection pool) stand in for processes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from emulator_cli_support import emulator_cli_env

from sfops.cli.app import invoke
from sfops.salesforce import connect
from sfops.store import Store
from sfops.switches import flip

pytestmark = pytest.mark.integration


def race(n: int, work: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    results: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            start.wait(10)
            results.append(work(i))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results, errors


def test_set_state_from_racing_processes_never_collides(postgres: Any) -> None:
    url = postgres.new_database()
    Store.open(url)
    stores = [Store.open(url) for _ in range(8)]

    def work(i: int) -> None:
        for round_ in range(20):
            stores[i].set_state(f"race.{round_}", {"writer": i})

    _, errors = race(8, work)
    assert errors == []
    assert all(Store.open(url).get_state(f"race.{r}")["writer"] in range(8) for r in range(20))


def test_identical_flips_racing_write_one_audit_record(emu: Any, postgres: Any) -> None:
    url = postgres.new_database()
    Store.open(url)

    def work(i: int) -> Any:
        org = connect(emu.org_config(alias="emu"), env={})
        return flip(org, Store.open(url), {"External_Sync__c": False}, actor=f"op{i}", reason="ERP down")

    results, errors = race(4, work)
    assert errors == []
    assert sorted(len(r.audit_ids) for r in results) == [0, 0, 0, 1]
    audits = Store.open(url).audit_history()
    assert [(a.action, a.outcome) for a in audits] == [("switch.off", "done")]


def test_racing_cli_flips_on_postgresql_exit_0_without_tracebacks(emu: Any, postgres: Any, tmp_path: Path) -> None:
    env = {**emulator_cli_env(emu, tmp_path), "SFOPS_STORE_URL": postgres.new_database()}
    assert invoke(["switch", "list"], env)[0] == 0  # the store exists and the describe is cached

    results, errors = race(3, lambda i: invoke(["switch", "off", "New_Pricing__c", "--reason", "P1"], env))
    assert errors == []
    assert [code for code, _, _ in results] == [0, 0, 0]
    assert all("Traceback" not in out + err for _, out, err in results)
    audits = Store.open(env["SFOPS_STORE_URL"]).audit_history()
    assert [(a.target, a.outcome) for a in audits] == [("Kill_Switch__c.New_Pricing__c", "done")]
