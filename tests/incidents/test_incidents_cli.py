"""The CLI end to end in-process against the emulator, local receivers and a real SMTP server:
incident lifecycle + notifications, on-call, apex-email, post-mortem, metrics and dashboard."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import icalendar
import pytest
from cli_support import run_cli
from emulator_cli_support import emulator_cli_env
from incidents_support import Mailbox, Receiver

from sfops.config import load_settings
from sfops.emulator.testing import RunningEmulator
from sfops.store import Store

pytestmark = pytest.mark.integration


@pytest.fixture
def cli_env(emu: RunningEmulator, tmp_path: Path, receiver: Receiver, smtp_server: Mailbox) -> dict[str, str]:
    """The shared emulator CLI environment plus alert channels on the local receivers and an on-call rotation."""
    env = emulator_cli_env(
        emu,
        tmp_path,
        extra_toml=f'''
[alerts]
max_attempts = 3
[alerts.routes]
P1 = ["pagerduty", "slack", "teams", "hook", "email"]
P2 = ["slack", "email"]
[alerts.channels.slack]
type = "slack"
[alerts.channels.teams]
type = "teams"
[alerts.channels.hook]
type = "webhook"
[alerts.channels.pagerduty]
type = "pagerduty"
url = "{receiver.url}/pagerduty"
[alerts.channels.email]
type = "email"
smtp_host = "{smtp_server.host}"
smtp_port = {smtp_server.port}
to = ["ops@example.com"]
oncall = "primary"

[oncall]
default_rotation = "primary"
[oncall.people.alice]
email = "alice@example.com"
[oncall.people.bob]
email = "bob@example.com"
[oncall.people.carol]
email = "carol@example.com"
[oncall.rotations.primary]
time_zone = "Europe/Paris"
start = "2026-03-23"
handoff_time = "09:00"
length = "daily"
participants = ["alice", "bob"]
restrictions = [{{days = ["mon", "tue", "wed", "thu", "fri"], start = "09:00", end = "18:00"}}]
''',
    )
    return {
        **env,
        "SFOPS_ALERT_SLACK_URL": f"{receiver.url}/slack",
        "SFOPS_ALERT_TEAMS_URL": f"{receiver.url}/teams",
        "SFOPS_ALERT_HOOK_URL": f"{receiver.url}/hook",
        "SFOPS_ALERT_PAGERDUTY_ROUTING_KEY": "R0UTINGKEY0000000000000000000000",
    }


def run(env: dict[str, str], *args: str) -> dict[str, Any]:
    result = run_cli(["--json", *args], env)
    body = result.json
    assert result.exit_code == body.get("status", body.get("exitCode")), result
    return {"code": result.exit_code, **body}


def test_incident_lifecycle_through_the_cli(
    cli_env: dict[str, str], receiver: Receiver, smtp_server: Mailbox, emu: RunningEmulator
) -> None:
    raised = run(
        cli_env,
        "incident",
        "raise",
        "-s",
        "P1",
        "-m",
        "Checkout fails: CPU limit",
        "--category",
        "Governor Limit",
        "--dedup-key",
        "checkout-cpu",
        "--release",
        "R42",
    )
    assert raised["code"] == 0 and raised["result"]["created"]
    inc_id = raised["result"]["incident"]["id"]
    assert raised["result"]["incident"]["name"] == "INC-00001"  # the org's AutoNumber, as people call it
    assert [n["status"] for n in raised["result"]["notifications"]] == ["sent"] * 5
    assert {r["path"] for r in receiver.requests} == {"/pagerduty", "/slack", "/teams", "/hook"}
    assert smtp_server.messages and "ops@example.com" in smtp_server.messages[0]["rcpt"]

    again = run(
        cli_env, "incident", "raise", "-s", "P1", "-m", "Checkout fails: CPU limit", "--dedup-key", "checkout-cpu"
    )
    assert not again["result"]["created"] and again["result"]["incident"]["occurrence_count"] == 2

    result = run_cli(["incident", "close", inc_id], cli_env)
    assert result.exit_code == 2
    assert "Allowed next states: Triaged, Investigating" in result.stderr
    assert "Traceback" not in result.stderr

    # the dedup key works as a reference too
    assert run(cli_env, "incident", "ack", "checkout-cpu", "--note", "looking")["result"]["previous"] == "New"
    run(cli_env, "incident", "update", inc_id, "--note", "switch flipped")
    run(cli_env, "incident", "mitigate", inc_id)
    resolved = run(
        cli_env,
        "incident",
        "resolve",
        inc_id,
        "--resolution",
        "Rolled back",
        "--root-cause",
        "Loop over 10k rows in trigger",
    )
    assert resolved["result"]["incident"]["status"] == "Resolved"
    pd_actions = [r["json"]["event_action"] for r in receiver.for_path("/pagerduty")]
    assert pd_actions == ["trigger", "acknowledge", "resolve"]

    shown = run(cli_env, "incident", "show", inc_id)
    kinds = [e["kind"] for e in shown["result"]["timeline"]]
    assert kinds[0] == "raised" and "recurred" in kinds and "note" in kinds and kinds.count("status") == 3
    listed = run(cli_env, "incident", "list", "--severity", "P1")
    assert [i["id"] for i in listed["result"]] == [inc_id]
    assert run(cli_env, "incident", "list", "--open")["result"] == []

    events = [e["fields"]["Event_Action__c"] for e in emu.control("GET", "events")["events"]]
    assert events == ["trigger", "acknowledge", "resolve"]

    result = run_cli(["incident", "message", inc_id, "--markdown", "--note", "Next update 10:30"], cli_env)
    assert result.exit_code == 0
    assert "resolved: Checkout fails: CPU limit**" in result.stdout
    assert "**Root cause:** Loop over" in result.stdout
    assert "> Next update 10:30" in result.stdout
    result = run_cli(["incident", "message", inc_id, "--phase", "update"], cli_env)
    assert result.exit_code == 0
    assert "Update on P1: Checkout fails: CPU limit" in result.stdout
    assert "Severity: P1" in result.stdout

    result = run_cli(["incident", "postmortem", inc_id], cli_env)
    assert result.exit_code == 0
    assert "## Action items" in result.stdout
    assert "Loop over 10k rows in trigger" in result.stdout

    config = Path(cli_env["SFOPS_CONFIG"])
    (config.parent / "pm.md").write_text("Custom post-mortem for $ref: $root_cause\n", encoding="utf-8")
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[incidents]\npostmortem_template = "pm.md"\n', encoding="utf-8"
    )
    result = run_cli(["incident", "postmortem", inc_id], cli_env)
    assert result.exit_code == 0
    assert result.stdout.startswith("Custom post-mortem for INC-00001: Loop over 10k rows in trigger")

    run(cli_env, "incident", "close", inc_id)
    metrics = run(cli_env, "incident", "metrics")
    assert metrics["result"]["overall"]["incidents"] == 1 and metrics["result"]["overall"]["mttr"] is not None


def test_failed_notifications_are_warned_and_retried(cli_env: dict[str, str], receiver: Receiver) -> None:
    receiver.status = 500
    raised = run(cli_env, "incident", "raise", "-s", "P2", "-m", "Search slow")
    assert any("slack" in w and "notify-retry" in w for w in raised["warnings"])
    outbox = run(cli_env, "incident", "notifications", "--status", "retry")
    assert [r["channel"] for r in outbox["result"]] == ["slack"]
    receiver.status = 200
    retried = run(cli_env, "incident", "notify-retry", "--failed")
    # not due yet (60 s backoff) and not failed: nothing re-sent
    assert retried["result"] == []


def test_oncall_commands(cli_env: dict[str, str], tmp_path: Path) -> None:
    now = run(cli_env, "oncall", "now", "--at", "2026-03-24T10:00:00+01:00")
    assert now["result"]["person"] == {"name": "bob", "email": "bob@example.com"}
    night = run(cli_env, "oncall", "now", "--at", "2026-03-24T23:00:00+01:00")
    assert night["result"]["person"] is None and night["warnings"]

    added = run(
        cli_env,
        "oncall",
        "override",
        "add",
        "--person",
        "carol",
        "--from",
        "2026-03-24T12:00:00+01:00",
        "--to",
        "2026-03-24T14:00:00+01:00",
        "--reason",
        "dentist",
    )
    assert added["result"]["person"] == "carol"
    assert run(cli_env, "oncall", "now", "--at", "2026-03-24T13:00:00+01:00")["result"]["person"]["name"] == "carol"

    schedule = run(
        cli_env,
        "oncall",
        "schedule",
        "--from",
        "2026-03-27T00:00:00+01:00",
        "--to",
        "2026-03-31T00:00:00+02:00",
        "--tz",
        "Europe/Paris",
    )
    people = [r["person"] for r in schedule["result"]]
    assert people == [None, "alice", None, "bob", None]  # Fri alice (day 4), weekend gap, Mon bob (day 7)
    assert len(schedule["warnings"]) == 3

    ics = tmp_path / "oncall.ics"
    exported = run(
        cli_env,
        "oncall",
        "export",
        "--ics",
        str(ics),
        "--from",
        "2026-03-23T00:00:00+01:00",
        "--to",
        "2026-04-06T00:00:00+02:00",
    )
    cal = icalendar.Calendar.from_ical(ics.read_bytes())
    events = cal.walk("VEVENT")
    # 10 weekdays; the override splits Tuesday 24th into bob, carol, bob: 12 events
    assert len(events) == exported["result"]["events"] == 12
    starts = sorted(e.decoded("DTSTART") for e in events)
    # 30 March is after the DST change: 09:00 CEST = 07:00 UTC
    assert dt.datetime(2026, 3, 30, 7, tzinfo=dt.UTC) in starts
    assert exported["warnings"]
    missing = run(cli_env, "oncall", "export", "--ics", str(tmp_path / "no" / "such" / "dir.ics"))
    assert missing["code"] == 2 and missing["message"].startswith("--ics ")
    assert "does not exist (sfops does not create it)" in missing["message"]

    override_id = str(added["result"]["id"])
    run(cli_env, "oncall", "override", "remove", override_id)
    assert run(cli_env, "oncall", "override", "list")["result"] == []
    result = run_cli(["oncall", "now", "--rotation", "nope"], cli_env)
    assert result.exit_code == 2 and "Unknown rotation 'nope'" in result.stderr


def test_apex_email_recipients(cli_env: dict[str, str], emu: RunningEmulator) -> None:
    listed = run(cli_env, "alerts", "apex-email", "list")
    assert any("replaces the whole recipient list" in w for w in listed["warnings"])
    before = len(listed["result"])
    planned = run(cli_env, "alerts", "apex-email", "add", "--email", "oncall@example.com", "--dry-run")
    assert planned["result"]["created"] and planned["result"]["id"] is None
    assert len(run(cli_env, "alerts", "apex-email", "list")["result"]) == before  # the dry run wrote nothing
    added = run(cli_env, "alerts", "apex-email", "add", "--email", "oncall@example.com", "--reason", "P1 paging")
    assert added["result"]["created"]
    assert not run(cli_env, "alerts", "apex-email", "add", "--email", "ONCALL@example.com")["result"]["created"]
    user = run(cli_env, "alerts", "apex-email", "add", "--user", "oncall@sfops.demo")["result"]
    assert user["kind"] == "user" and user["address"] == "oncall@example.com"
    rows = run(cli_env, "alerts", "apex-email", "list")["result"]
    assert len(rows) == before + 2
    tooling = emu.session()
    token = emu.login()["access_token"]
    records = tooling.get(
        f"{emu.url}/services/data/v64.0/tooling/query",
        params={"q": "SELECT Id, Email, UserId FROM ApexEmailNotification"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ).json()["records"]
    assert sorted(filter(None, (r["Email"] for r in records))) == ["oncall@example.com"]
    assert len([r for r in records if r["UserId"]]) == 1
    would = run(cli_env, "alerts", "apex-email", "remove", "oncall@example.com", "--dry-run")
    assert [r["kind"] for r in would["result"]] == ["email", "user"]
    assert len(run(cli_env, "alerts", "apex-email", "list")["result"]) == before + 2
    removed = run(cli_env, "alerts", "apex-email", "remove", "oncall@example.com")
    assert [r["kind"] for r in removed["result"]] == ["email", "user"]  # the address matches both
    assert len(run(cli_env, "alerts", "apex-email", "list")["result"]) == before
    audit = Store.open(load_settings(cli_env).store_url).audit_history(action_prefix="alerts.apex-email")
    assert [r.action for r in audit] == ["alerts.apex-email.remove"] * 2 + ["alerts.apex-email.add"] * 2
    assert audit[-1].reason == "P1 paging" and audit[-1].target == "ApexEmailNotification:oncall@example.com"
    result = run_cli(["alerts", "apex-email", "add", "--email", "not-an-address"], cli_env)
    assert result.exit_code == 2 and "is not an email address" in result.stderr


def test_legacy_semicolon_separated_recipients(cli_env: dict[str, str], emu: RunningEmulator) -> None:
    token = emu.login()["access_token"]
    resp = emu.session().post(
        f"{emu.url}/services/data/v64.0/tooling/sobjects/ApexEmailNotification/",
        json={"Email": "a@example.com;b@example.com"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    rows = run(cli_env, "alerts", "apex-email", "list")["result"]
    assert {r["address"] for r in rows if r["kind"] == "email"} >= {"a@example.com", "b@example.com"}
    run(cli_env, "alerts", "apex-email", "remove", "a@example.com")
    left = [r["address"] for r in run(cli_env, "alerts", "apex-email", "list")["result"]]
    assert "b@example.com" in left and "a@example.com" not in left


def test_dashboard_is_self_contained(cli_env: dict[str, str], tmp_path: Path) -> None:
    inc = run(cli_env, "incident", "raise", "-s", "P3", "-m", "Report <slow> & stuck")["result"]["incident"]
    run(cli_env, "incident", "ack", inc["id"])
    out = tmp_path / "dash" / "index.html"
    out.parent.mkdir()  # --out never creates the folder it names
    run(cli_env, "incident", "dashboard", "--out", str(out))
    pages = [out, *sorted((tmp_path / "dash" / "index_files").glob("*.html"))]
    assert len(pages) >= 12  # overview, org list, analytics per period, the incident's page
    for path in pages:
        page = path.read_text(encoding="utf-8")
        assert page.startswith("<!DOCTYPE html>") and "<script" not in page, path
        assert not re.search(r"""(src|href|action)=["']?(https?:)?//""", page), path  # nothing from the network
    main = out.read_text(encoding="utf-8")
    assert 'id="kpi-open">1<' in main and "Report &lt;slow&gt; &amp; stuck" in main
    assert 'href="index_files/incident-emu-' in main  # links into the folder of the other pages
    everything = (tmp_path / "dash" / "index_files" / "analytics-emu-all.html").read_text(encoding="utf-8")
    assert 'id="kpi-incidents">1<' in everything


def test_dashboard_shows_org_limits_and_can_be_served(
    cli_env: dict[str, str], tmp_path: Path, emu: RunningEmulator
) -> None:
    import threading
    import urllib.request

    from sfops.web.export import serve_export

    emu.faults(limits={"DataStorageMB": {"Max": 200, "Remaining": 20}})
    out = tmp_path / "dash.html"
    run(cli_env, "incident", "dashboard", "--out", str(out))
    page = out.read_text(encoding="utf-8")
    assert 'data-label="DataStorageMB" data-value="90.0"' in page  # 180 of 200 MB used
    server = serve_export(out, 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{out.name}"
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert resp.status == 200 and resp.read().decode("utf-8") == page
        url = f"http://127.0.0.1:{server.server_address[1]}/dash_files/index.html"
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert resp.status == 200 and b"<h1>Orgs</h1>" in resp.read()
    finally:
        server.shutdown()
        server.server_close()


def test_served_dashboard_exposes_only_the_pages_and_a_bad_port_is_one_line(tmp_path: Path) -> None:
    """The pages' folder is $SFOPS_HOME by default (store, emulator keys): nothing else is served."""
    import threading
    import urllib.error
    import urllib.request

    from sfops.errors import UsageError
    from sfops.web.export import serve_export

    page = tmp_path / "dashboard.html"
    page.write_text("<html>ok</html>", encoding="utf-8")
    (tmp_path / "dashboard_files").mkdir()
    (tmp_path / "dashboard_files" / "index.html").write_text("<html>index</html>", encoding="utf-8")
    (tmp_path / "dashboard_files" / "notes.txt").write_text("private", encoding="utf-8")
    (tmp_path / "sfops.db").write_bytes(b"secret store")
    server = serve_export(page, 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with urllib.request.urlopen(base + "/", timeout=10) as resp:
            assert resp.read() == b"<html>ok</html>"
        with urllib.request.urlopen(base + "/dashboard_files/index.html", timeout=10) as resp:
            assert resp.read() == b"<html>index</html>"
        for other in (
            "/sfops.db",
            "/../sfops.db",
            "/%2e%2e/sfops.db",
            "/dashboard_files/../sfops.db",
            "/dashboard_files/%2e%2e%2fsfops.db",
            "/dashboard_files/notes.txt",
        ):
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(base + other, timeout=10)
            assert err.value.code == 404, other
        with pytest.raises(UsageError, match=r"Cannot serve the dashboard on 127\.0\.0\.1:"):
            serve_export(page, server.server_address[1])  # already bound
    finally:
        server.shutdown()
        server.server_close()
    result = run_cli(["incident", "dashboard", "--serve", "99999"], {})
    assert result.exit_code == 2 and "99999 is not in the range" in result.stderr and "Traceback" not in result.stderr


def test_an_unknown_outbox_status_is_refused_not_an_empty_list() -> None:
    result = run_cli(["incident", "notifications", "--status", "sended"], {})
    assert result.exit_code == 2 and "'sended' is not one of" in result.stderr


def test_broken_alert_config_does_not_stop_raising(cli_env: dict[str, str], emu: RunningEmulator) -> None:
    config = Path(cli_env["SFOPS_CONFIG"])
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            '[alerts.channels.slack]\ntype = "slack"', '[alerts.channels.slack]\ntype = "slack"\nurl = "https://x"'
        ),
        encoding="utf-8",
    )
    raised = run(cli_env, "incident", "raise", "-s", "P1", "-m", "Everything down")
    assert raised["code"] == 0 and raised["result"]["created"]
    assert any(
        w.startswith("Notifications are OFF") and "secrets never go in sfops.toml" in w for w in raised["warnings"]
    )
    assert raised["result"]["event"]["published"]  # the org-side page still goes out
    result = run_cli(["incident", "escalate-due"], cli_env)
    assert result.exit_code == 2
    assert "secrets never go in sfops.toml" in result.stderr  # strict where nothing is at stake
