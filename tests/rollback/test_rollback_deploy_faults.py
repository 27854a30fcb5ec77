"""A rollback deploy whose start reply is lost after the org accepted it (issue 15 item 6): one deploy in
the org, one audit record settled once, and the run (or the re-run) follows the deploy the org started."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
from fault_proxy import assert_one_error_line, proxied_cli_env
from test_rollback_emulator import assert_org_at_a, at_b  # noqa: F401  (the fixture: the org at release B)

from sfops.cli.app import invoke
from sfops.salesforce.metadata import MetadataClient
from sfops.store import Store

pytestmark = pytest.mark.integration

SOAP = "/services/Soap/m/*"


@pytest.fixture
def cli(
    emu: Any,
    at_b: dict[str, Any],  # noqa: F811 - the fixture imported above
    rollback_cli_env: dict[str, str],
    proxy: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    monkeypatch.setattr(
        MetadataClient, "poll", functools.partialmethod(MetadataClient.poll, interval=0.02, max_interval=0.05)
    )
    return proxied_cli_env(rollback_cli_env, emu, proxy)


def deploys(client: MetadataClient, check_only: bool = False) -> list[str]:
    """The org's own list of deploys (Tooling DeployRequest)."""
    flag = "true" if check_only else "false"
    return [
        r["Id"]
        for r in client.org.tooling_query(f"SELECT Id FROM DeployRequest WHERE CheckOnly = {flag} ORDER BY CreatedDate")  # noqa: S608
    ]


def rollback_audits(env: dict[str, str]) -> list[Any]:
    return list(reversed(Store.open(env["SFOPS_STORE_URL"]).audit_history(action_prefix="rollback.")))


def deploy_args(at_b: dict[str, Any], *extra: str) -> list[str]:  # noqa: F811
    return [
        "rollback",
        "deploy",
        "--package",
        str(at_b["dir"]),
        "-o",
        "emu",
        "--skip-drift-check",
        "--reason",
        "INC-9",
        "-w",
        "1",
        *extra,
    ]


def test_a_deploy_whose_reply_is_lost_is_followed_not_started_again(
    emu: Any,
    at_b: dict[str, Any],  # noqa: F811
    cli: dict[str, str],
    proxy: Any,
) -> None:
    client = at_b["client"]
    before = deploys(client)
    proxy.add("lose_reply", path=SOAP, soap_action="deploy")
    code, out, err = invoke(deploy_args(at_b), cli)
    assert code == 0, (out, err)
    assert len(proxy.faults_applied("lose_reply")) == 1
    started = [d for d in deploys(client) if d not in before]
    assert len(started) == 1  # exactly one deploy in the org
    assert "reply to the deploy call was lost" in out + err and started[0] in out + err
    assert_org_at_a(emu, client)
    (audit,) = rollback_audits(cli)
    assert (audit.action, audit.outcome, audit.reason) == ("rollback.deploy", "Succeeded", "INC-9")
    assert audit.details["deploy_id"] == started[0] and audit.details["fingerprint"]


def test_a_rerun_after_a_lost_reply_it_could_not_check_adopts_the_running_deploy(
    emu: Any,
    at_b: dict[str, Any],  # noqa: F811 - the fixture imported above
    cli: dict[str, str],
    proxy: Any,
) -> None:
    client = at_b["client"]
    before = deploys(client)
    proxy.add("lose_reply", path=SOAP, soap_action="deploy")
    proxy.add("lose_reply", method="GET", path="*/tooling/query*", count=10)  # the lookup cannot read the org
    code, out, err = invoke(deploy_args(at_b), cli)
    line = assert_one_error_line(code, out, err, expected_code=1)
    assert "may be running; nothing more was started" in line
    (pending,) = rollback_audits(cli)
    assert pending.outcome == "pending" and "deploy_id" not in pending.details
    assert len([d for d in deploys(client) if d not in before]) == 1  # the org did start it

    proxy.clear()
    code, out, err = invoke(deploy_args(at_b, "--json"), cli)
    assert code == 0, (out, err)
    started = [d for d in deploys(client) if d not in before]
    assert len(started) == 1  # the re-run did not deploy again
    assert f"ADOPTED deploy {started[0]}" in out
    assert_org_at_a(emu, client)
    (settled,) = rollback_audits(cli)  # the same record, settled once
    assert settled.id == pending.id and settled.outcome == "Succeeded"
    assert settled.details["deploy_id"] == started[0]
    # a deliberate third run is a new deploy, not an adoption (it fails: the org is at A already)
    code, out, err = invoke(deploy_args(at_b), cli)
    assert code == 1 and "ADOPTED" not in out + err
    assert len([d for d in deploys(client) if d not in before]) == 2
    assert [a.outcome for a in rollback_audits(cli)] == ["Succeeded", "Failed"]


def test_a_refused_deploy_is_audited_failed_and_not_looked_for_again(
    emu: Any,
    at_b: dict[str, Any],  # noqa: F811
    cli: dict[str, str],
    proxy: Any,
) -> None:
    fault = (
        b'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv='
        b'"http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>'
        b"sf:INSUFFICIENT_ACCESS</faultcode><faultstring>INSUFFICIENT_ACCESS: no Modify Metadata"
        b"</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    proxy.add("respond", path=SOAP, soap_action="deploy", status=500, body=fault, headers={"Content-Type": "text/xml"})
    code, out, err = invoke(deploy_args(at_b), cli)
    line = assert_one_error_line(code, out, err)
    assert "INSUFFICIENT_ACCESS" in line
    (audit,) = rollback_audits(cli)
    assert audit.outcome == "failed" and "INSUFFICIENT_ACCESS" in audit.details["error"]
    assert not proxy.hits or all("tooling" not in h.path for h in proxy.hits)  # the org answered: no lookup


def test_the_emulator_lists_a_deploy_as_pending_from_the_moment_it_is_submitted(at_b: dict[str, Any]) -> None:  # noqa: F811
    client: MetadataClient = at_b["client"]
    package_root: Path = at_b["dir"]
    from sfops.rollback.deploy import zip_folder
    from sfops.salesforce.metadata import DeployOptions

    deploy_id = client.deploy(zip_folder(package_root), DeployOptions(check_only=True, test_level="RunLocalTests"))
    (row,) = client.org.tooling_query(
        f"SELECT Id, Status, CheckOnly, CreatedById, StartDate, CompletedDate FROM DeployRequest "  # noqa: S608
        f"WHERE Id = '{deploy_id}'"
    )
    assert (row["Status"], row["CheckOnly"], row["CompletedDate"]) == ("Pending", True, None)
    assert row["CreatedById"] == client.org.identity.user_id
    client.poll(deploy_id, timeout=60)
    (row,) = client.org.tooling_query(f"SELECT Status, CompletedDate FROM DeployRequest WHERE Id = '{deploy_id}'")  # noqa: S608
    assert row["Status"] == "Succeeded" and row["CompletedDate"]


def test_a_quick_deploy_whose_reply_is_lost_neither_repeats_nor_falls_back(
    emu: Any,
    at_b: dict[str, Any],  # noqa: F811
    cli: dict[str, str],
    proxy: Any,
) -> None:
    client = at_b["client"]
    code, out, err = invoke(["rollback", "validate", "--package", str(at_b["dir"]), "-o", "emu", "-w", "1"], cli)
    assert code == 0, (out, err)
    before = deploys(client)
    proxy.add("lose_reply", path=SOAP, soap_action="deployRecentValidation")
    code, out, err = invoke(
        [
            "rollback",
            "quick",
            "--package",
            str(at_b["dir"]),
            "-o",
            "emu",
            "--skip-drift-check",
            "--reason",
            "INC-9",
            "-w",
            "1",
            "--json",
        ],
        cli,
    )
    assert code == 0, (out, err)
    assert len(proxy.faults_applied("lose_reply")) == 1
    started = [d for d in deploys(client) if d not in before]
    assert len(started) == 1  # the quick deploy, and no full deploy as a "fallback"
    assert '"fell_back": false' in out and "reply to the deploy call was lost" in out
    assert_org_at_a(emu, client)
    assert [(a.action, a.outcome) for a in rollback_audits(cli)] == [
        ("rollback.validate", "Succeeded"),
        ("rollback.quick", "Succeeded"),
    ]


class Killed(BaseException):
    """The process stopping between two lines (no `except Exception` of ours runs)."""


def test_a_run_killed_while_following_its_deploy_is_followed_by_the_rerun(
    emu: Any,
    at_b: dict[str, Any],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deployer, client, store = at_b["deployer"], at_b["client"], at_b["store"]
    before = deploys(client)

    def killed(*_args: Any, **_kwargs: Any) -> Any:
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(client, "poll", killed)
        with pytest.raises(Killed):
            deployer.deploy(at_b["package"], reason="INC-9", skip_drift=True)
    (pending,) = store.audit_history(action_prefix="rollback.")
    assert pending.outcome == "pending" and pending.details["deploy_id"]
    outcome = deployer.deploy(at_b["package"], reason="INC-9", skip_drift=True)
    assert outcome.status == "Succeeded" and outcome.id == pending.details["deploy_id"]
    assert any(n.startswith(f"ADOPTED deploy {outcome.id}") for n in outcome.notes)
    assert [d for d in deploys(client) if d not in before] == [outcome.id]
    (settled,) = store.audit_history(action_prefix="rollback.")
    assert settled.id == pending.id and settled.outcome == "Succeeded"


def test_a_pending_intent_the_org_never_received_is_settled_not_applied(
    emu: Any,
    at_b: dict[str, Any],  # noqa: F811
    proxy: Any,
) -> None:
    from sfops.rollback.deploy import RollbackDeployer
    from sfops.salesforce import connect

    client = at_b["client"]
    before = deploys(client)
    proxied = MetadataClient(
        connect(emu.org_config(alias="emu", instance_url=proxy.url, login_url=proxy.url), env={}), sleep=lambda _s: None
    )
    deployer = RollbackDeployer(proxied, at_b["store"], "emu", actor="rm")
    proxy.add("respond", path=SOAP, soap_action="deploy", status=503, body=b"")  # never reached the org
    proxy.add("lose_reply", method="GET", path="*/tooling/query*", count=10)
    with pytest.raises(Exception, match="nothing more was started"):
        deployer.deploy(at_b["package"], reason="INC-9", skip_drift=True)
    assert deploys(client) == before
    proxy.clear()
    outcome = deployer.deploy(at_b["package"], reason="INC-9", skip_drift=True)
    assert outcome.status == "Succeeded" and not any("ADOPTED" in n for n in outcome.notes)
    assert len([d for d in deploys(client) if d not in before]) == 1
    outcomes = [(a.outcome, a.details.get("why")) for a in reversed(at_b["store"].audit_history())]
    assert outcomes == [("not-applied", "no DeployRequest of this user in its window"), ("Succeeded", None)]


def test_an_intent_older_than_a_day_is_abandoned_not_adopted(
    emu: Any,
    at_b: dict[str, Any],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import datetime as dt

    from sfops.rollback.deploy import RollbackDeployer
    from sfops.rollback.intent import ADOPT_MAX_AGE

    client, store = at_b["client"], at_b["store"]
    before = deploys(client)

    def killed(*_args: Any, **_kwargs: Any) -> Any:
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(client, "poll", killed)
        with pytest.raises(Killed):
            at_b["deployer"].deploy(at_b["package"], reason="INC-9", skip_drift=True)
    later = dt.datetime.now(dt.UTC) + ADOPT_MAX_AGE + dt.timedelta(minutes=1)
    deployer = RollbackDeployer(client, store, "emu", actor="rm", now=lambda: later)
    outcome = deployer.deploy(at_b["package"], reason="INC-9", skip_drift=True)
    assert not any("ADOPTED" in n for n in outcome.notes)
    assert len([d for d in deploys(client) if d not in before]) == 2  # the old one ran; this is a new deploy
    assert [a.outcome for a in reversed(store.audit_history())] == ["abandoned", "Succeeded"]
