"""Raising an incident when the network lies: the insert is applied by the org but its reply is lost
(issue 15 item 1), and a 503 on the insert (item 7). Through the fault proxy, in-process CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from emulator_cli_support import emulator_cli_env
from fault_proxy import FaultProxy, assert_one_error_line, proxied_cli_env
from incidents_support import Receiver

from sfops.cli.app import invoke
from sfops.emulator.testing import RunningEmulator
from sfops.incidents import records
from sfops.store import Store

pytestmark = pytest.mark.integration

INSERT = "/services/data/*/sobjects/Incident_Log__c/"


@pytest.fixture
def env(emu: RunningEmulator, tmp_path: Path, receiver: Receiver, proxy: FaultProxy) -> dict[str, str]:
    base = emulator_cli_env(
        emu,
        tmp_path,
        extra_toml=f'''
[alerts.routes]
P1 = ["pagerduty", "slack"]
[alerts.channels.slack]
type = "slack"
[alerts.channels.pagerduty]
type = "pagerduty"
url = "{receiver.url}/pagerduty"
''',
    )
    return {
        **proxied_cli_env(base, emu, proxy),
        "SFOPS_ALERT_SLACK_URL": f"{receiver.url}/slack",
        "SFOPS_ALERT_PAGERDUTY_ROUTING_KEY": "R0UTINGKEY0000000000000000000000",
    }


def raise_p1(env: dict[str, str]) -> tuple[int, str, str]:
    return invoke(["--json", "incident", "raise", "-s", "P1", "-m", "Checkout fails", "--dedup-key", "checkout"], env)


def org_incidents(emu: RunningEmulator) -> list[dict[str, Any]]:
    from sfops.salesforce import connect

    org = connect(emu.org_config(alias="check"), env={})
    return org.query(
        "SELECT Id, Occurrence_Count__c, Dedup_Key__c FROM Incident_Log__c WHERE Dedup_Key__c = 'checkout'"
    )


def trigger_events(emu: RunningEmulator) -> list[dict[str, Any]]:
    return [
        e
        for e in emu.control("GET", "events")["events"]
        if "Event_Action__c" in json.dumps(e) and "trigger" in json.dumps(e)
    ]


def assert_raised_once(env: dict[str, str], emu: RunningEmulator, receiver: Receiver) -> None:
    rows = org_incidents(emu)
    assert len(rows) == 1 and rows[0]["Occurrence_Count__c"] == 1
    assert len(trigger_events(emu)) == 1
    assert len(receiver.for_path("/pagerduty")) == 1 and len(receiver.for_path("/slack")) == 1
    store = Store.open(env["SFOPS_STORE_URL"])
    kinds = [e["kind"] for e in records.events(store, "emu", rows[0]["Id"])]
    assert kinds.count("raised") == 1 and kinds.count("recurred") == 0 and kinds.count("event") == 1
    assert records.raise_intent(store, "emu", "checkout") is None  # settled


def test_a_lost_insert_reply_is_retried_and_recognised_as_our_own(
    env: dict[str, str], emu: RunningEmulator, proxy: FaultProxy, receiver: Receiver
) -> None:
    proxy.add("lose_reply", method="POST", path=INSERT)
    code, out, err = raise_p1(env)
    assert code == 0, err
    result = json.loads(out)["result"]
    assert result["created"] is True and result["incident"]["occurrence_count"] == 1
    assert len(proxy.faults_applied("lose_reply")) == 1
    assert [h.status for h in proxy.hits if h.method == "POST" and "Incident_Log__c" in h.path] == [201, 400]
    assert_raised_once(env, emu, receiver)


def test_a_rerun_after_the_reply_was_lost_every_time_finishes_the_raise(
    env: dict[str, str], emu: RunningEmulator, proxy: FaultProxy, receiver: Receiver
) -> None:
    proxy.add("lose_reply", method="POST", path=INSERT, count=3)  # the first attempt and both retries
    code, out, err = invoke(["incident", "raise", "-s", "P1", "-m", "Checkout fails", "--dedup-key", "checkout"], env)
    line = assert_one_error_line(code, out, err)
    assert "gave up after 3 attempt(s)" in line
    assert len(org_incidents(emu)) == 1  # the org applied the insert...
    assert receiver.requests == [] and trigger_events(emu) == []  # ...but nobody was paged yet
    code, out, err = raise_p1(env)  # the operator runs it again
    assert code == 0, err
    result = json.loads(out)["result"]
    assert result["created"] is True and result["incident"]["occurrence_count"] == 1
    assert_raised_once(env, emu, receiver)
    code, out, err = raise_p1(env)  # a real repeat afterwards is counted and does not page again
    assert code == 0 and json.loads(out)["result"]["created"] is False
    assert org_incidents(emu)[0]["Occurrence_Count__c"] == 2
    assert len(receiver.for_path("/pagerduty")) == 1 and len(trigger_events(emu)) == 1


def test_a_503_on_the_insert_is_retried(env: dict[str, str], emu: RunningEmulator, receiver: Receiver) -> None:
    emu.faults(fail={"count": 1, "status": 503, "method": "POST", "path": "/services/data/*/sobjects/Incident_Log__c"})
    code, out, err = raise_p1(env)
    assert code == 0, err
    assert json.loads(out)["result"]["created"] is True
    assert_raised_once(env, emu, receiver)


def test_an_open_incident_never_paged_from_here_is_paged_on_its_next_raise(
    env: dict[str, str], emu: RunningEmulator, receiver: Receiver
) -> None:
    from sfops.salesforce import connect

    org = connect(emu.org_config(alias="other"), env={})  # raised elsewhere (Apex, another host): no page here
    org.create(
        "Incident_Log__c",
        {
            "Dedup_Key__c": "checkout",
            "Severity__c": "P1",
            "Status__c": "New",
            "Message__c": "Checkout fails",
            "Occurrence_Count__c": 1,
        },
    )
    code, out, err = raise_p1(env)
    assert code == 0, err
    assert json.loads(out)["result"]["created"] is False
    assert len(receiver.for_path("/pagerduty")) == 1 and len(trigger_events(emu)) == 1
    code, out, err = raise_p1(env)
    assert code == 0 and len(receiver.for_path("/pagerduty")) == 1 and len(trigger_events(emu)) == 1
