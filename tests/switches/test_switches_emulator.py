"""Kill switches against the emulator over real HTTPS: list/show/flip/dry-run/restore/audit,
hierarchy and pinning, concurrency, row-lock retries, bad names and scopes, API-call budgets."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from switches_support import journal_len, rest_calls

from sfops.errors import RecordLockedError, UsageError
from sfops.salesforce import LockRetry
from sfops.switches import (
    FlipResult,
    Level,
    flip,
    history,
    list_switches,
    pending_restores,
    restore_due,
    show_switches,
)

pytestmark = pytest.mark.integration
SWITCHES = ["Async_Recalculation__c", "Auto_Escalation__c", "External_Sync__c", "New_Pricing__c", "Outbound_Email__c"]
ONCALL = "oncall@sfops.demo"  # profile "Standard User" in the emulator's demo seed
NO_WAIT = LockRetry(sleep=lambda _s: None)


def writes(emu, since: int) -> list[dict]:  # type: ignore[no-untyped-def]
    """Record writes (not the read-only composite POST) since journal position `since`."""
    return [
        e for e in rest_calls(emu, since) if e["method"] in ("PATCH", "POST", "DELETE") and "/sobjects/" in e["path"]
    ]


def org_values(org) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    org_id = org.query("SELECT Id FROM Organization")[0]["Id"]
    rows = org.query(f"SELECT {', '.join(SWITCHES)} FROM Kill_Switch__c WHERE SetupOwnerId = '{org_id}'")  # noqa: S608
    return {k: rows[0][k] for k in SWITCHES}


def test_list_discovers_switches_from_the_describe_with_labels_help_and_org_defaults(emu, org, store) -> None:
    rows = list_switches(org, store)
    assert [r.name for r in rows] == SWITCHES
    pricing = next(r for r in rows if r.name == "New_Pricing__c")
    assert pricing.label == "New Pricing" and pricing.help and "pricing engine" in pricing.help
    assert all(r.org_value is True for r in rows)
    assert all(not r.profile_overrides and not r.user_overrides for r in rows)


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_flip_needs_a_reason_a_dry_run_does_not(emu, org, store, reason: str | None) -> None:
    mark = journal_len(emu)
    with pytest.raises(UsageError, match="--reason"):
        flip(org, store, {"New_Pricing__c": False}, actor="alice", reason=reason)
    assert rest_calls(emu, mark) == []  # refused before any API call
    assert flip(org, store, {"New_Pricing__c": False}, actor="alice", reason=reason, dry_run=True).dry_run
    assert org_values(org)["New_Pricing__c"] is True and history(store, "emu") == []


def test_switch_off_at_org_scope_writes_and_audits(emu, org, store) -> None:
    result = flip(org, store, {"new_pricing": False}, actor="alice", reason="INC-7 wrong totals", incident_id="INC-7")
    assert [(c.switch, c.before, c.after) for c in result.changes] == [("New_Pricing__c", True, False)]
    assert not result.created_record and not result.dry_run and len(result.audit_ids) == 1
    assert org_values(org)["New_Pricing__c"] is False
    assert org_values(org)["External_Sync__c"] is True
    (entry,) = history(store, "emu")
    assert (entry.actor, entry.switch, entry.scope, entry.before, entry.after, entry.reason, entry.incident_id) == (
        "alice",
        "New_Pricing__c",
        "org",
        True,
        False,
        "INC-7 wrong totals",
        "INC-7",
    )
    assert entry.action == "switch.off" and entry.org == "emu"
    listed = {r.name: r for r in list_switches(org, store)}
    assert listed["New_Pricing__c"].org_value is False and listed["New_Pricing__c"].last_changed_by == "alice"
    mark = journal_len(emu)
    again = flip(org, store, {"New_Pricing__c": False}, actor="bob", reason="twice")
    assert not again.changes[0].changed and again.audit_ids == [] and writes(emu, mark) == []
    assert len(history(store, "emu")) == 1


def test_dry_run_shows_before_and_after_and_writes_nothing(emu, org, store) -> None:
    mark = journal_len(emu)
    result = flip(org, store, {"External_Sync__c": False, "New_Pricing__c": True}, actor="a", reason="r", dry_run=True)
    assert result.dry_run and [(c.switch, c.before, c.after, c.changed) for c in result.changes] == [
        ("External_Sync__c", True, False, True),
        ("New_Pricing__c", True, True, False),
    ]
    assert writes(emu, mark) == []
    assert org_values(org)["External_Sync__c"] is True and history(store, "emu") == []


def test_set_several_switches_is_one_patch(emu, org, store) -> None:
    flip(org, store, {"Outbound_Email__c": False}, actor="a", reason="warm the cache")
    mark = journal_len(emu)
    flip(
        org,
        store,
        {"External_Sync__c": False, "Outbound_Email__c": True, "Auto_Escalation__c": False},
        actor="a",
        reason="r",
    )
    (write,) = writes(emu, mark)
    assert write["method"] == "PATCH"
    values = org_values(org)
    assert (values["External_Sync__c"], values["Outbound_Email__c"], values["Auto_Escalation__c"]) == (
        False,
        True,
        False,
    )
    assert len(history(store, "emu")) == 4


def test_user_record_pins_every_switch_and_hierarchy_resolves_user_over_profile_over_org(emu, org, store) -> None:
    profile = flip(org, store, {"External_Sync__c": False}, scope="profile:Standard User", actor="a", reason="r")
    assert profile.created_record and set(profile.pinned) == set(SWITCHES) - {"External_Sync__c"}
    assert "pins the other 4 switches" in profile.warnings[0]
    user = flip(org, store, {"External_Sync__c": True}, scope=f"user:{ONCALL}", actor="a", reason="r")
    assert user.created_record and user.changes[0].before is False  # inherited from the profile
    # Org-level flip of another switch does not reach the pinned user (nor the pinned profile)
    flip(org, store, {"New_Pricing__c": False}, actor="a", reason="r")
    shown = show_switches(org, store, scope=f"user:{ONCALL}")
    by = {r.switch: r for r in shown.resolutions}
    assert (by["External_Sync__c"].value, by["External_Sync__c"].source) == (True, Level.USER)
    assert by["External_Sync__c"].profile_value is False and by["External_Sync__c"].org_value is True
    assert (by["New_Pricing__c"].value, by["New_Pricing__c"].source, by["New_Pricing__c"].org_value) == (
        True,
        Level.USER,
        False,
    )
    assert any("pins all 5 switches" in w for w in shown.warnings)
    profile_view = show_switches(org, store, "External_Sync", scope="profile:Standard User")
    assert profile_view.resolutions[0].value is False and profile_view.resolutions[0].source is Level.PROFILE
    admin = show_switches(org, store, "New_Pricing__c", scope="user:" + emu.settings.admin_username)
    assert (admin.resolutions[0].value, admin.resolutions[0].source) == (False, Level.ORG)
    assert admin.warnings == []
    listed = {r.name: r for r in list_switches(org, store)}
    assert [(o.owner_name, o.value) for o in listed["External_Sync__c"].profile_overrides] == [("Standard User", False)]
    assert [(o.owner_name, o.value) for o in listed["External_Sync__c"].user_overrides] == [(ONCALL, True)]


def test_two_concurrent_flips_of_different_switches_on_one_record_both_survive(emu, org, store) -> None:
    from sfops.salesforce import connect

    other_org = connect(emu.org_config(alias="emu"), env={})

    def interleave(_plan: FlipResult) -> None:
        # B reads, decides and writes while A is between its read and its write.
        flip(other_org, store, {"Outbound_Email__c": False}, actor="bob", reason="B")

    flip(org, store, {"New_Pricing__c": False}, actor="alice", reason="A", confirm=interleave)
    values = org_values(org)
    assert values["New_Pricing__c"] is False and values["Outbound_Email__c"] is False

    errors: list[BaseException] = []

    def run(name: str) -> None:
        try:
            flip(connect(emu.org_config(alias="emu"), env={}), store, {name: False}, actor=name, reason="race")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in ("External_Sync__c", "Auto_Escalation__c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    values = org_values(org)
    assert values["External_Sync__c"] is False and values["Auto_Escalation__c"] is False


def test_unable_to_lock_row_is_retried_with_backoff(emu, org, store) -> None:
    flip(org, store, {"New_Pricing__c": True}, actor="a", reason="warm", dry_run=True)
    emu.faults(
        fail={
            "count": 2,
            "status": 400,
            "errorCode": "UNABLE_TO_LOCK_ROW",
            "method": "PATCH",
            "path": "/services/data/*/sobjects/Kill_Switch__c/*",
        }
    )
    waits: list[float] = []
    result = flip(org, store, {"New_Pricing__c": False}, actor="a", reason="r", retry=LockRetry(sleep=waits.append))
    assert result.attempts == 3 and len(waits) == 2 and waits[1] > waits[0] / 2
    assert org_values(org)["New_Pricing__c"] is False
    (entry,) = store.audit_history(alias="emu")
    assert entry.details["attempts"] == 3


def test_a_lock_that_never_clears_gives_up_after_the_bounded_attempts(emu, org, store) -> None:
    record_id = flip(org, store, {"New_Pricing__c": True}, actor="a", reason="r", dry_run=True).record_id
    emu.faults(lock_record=record_id)
    with pytest.raises(RecordLockedError):
        flip(org, store, {"New_Pricing__c": False}, actor="a", reason="r", retry=NO_WAIT)
    locked_patches = [e for e in emu.requests_journal() if e["method"] == "PATCH" and e["status"] == 400]
    assert len(locked_patches) == NO_WAIT.attempts
    # the intent was audited before the write; the write failed and the org says so: settled "failed"
    assert [(e.switch, e.outcome) for e in history(store, "emu")] == [("New_Pricing__c", "failed")]
    emu.faults(unlock_record=record_id)


def test_scheduled_restore_applies_when_due_and_skips_switches_changed_since(emu, org, store) -> None:
    t0 = dt.datetime.now(dt.UTC)
    result = flip(
        org,
        store,
        {"New_Pricing__c": False, "External_Sync__c": False},
        actor="alice",
        reason="P1",
        incident_id="INC-9",
        restore_after=dt.timedelta(hours=2),
        now=t0,
    )
    assert result.restore_at == t0 + dt.timedelta(hours=2)
    (pending,) = pending_restores(store, "emu")
    assert pending.values == {"New_Pricing__c": True, "External_Sync__c": True}
    # Someone turned External_Sync__c on and off again meanwhile: same value as sfops set, but it is
    # now their decision, so the restore must leave it alone.
    flip(org, store, {"External_Sync__c": True}, actor="bob", reason="fixed early")
    flip(org, store, {"External_Sync__c": False}, actor="carol", reason="broke again")
    assert [o.status for o in restore_due(org, store, actor="cron", now=t0 + dt.timedelta(hours=1))] == ["not-due"]
    assert org_values(org)["New_Pricing__c"] is False
    (outcome,) = restore_due(org, store, actor="cron", now=t0 + dt.timedelta(hours=2, seconds=1))
    assert outcome.status == "restored" and outcome.restored == {"New_Pricing__c": True}
    assert outcome.skipped == {"External_Sync__c": "changed since by carol (broke again)"}
    assert org_values(org)["New_Pricing__c"] is True and org_values(org)["External_Sync__c"] is False
    assert pending_restores(store, "emu") == []
    assert restore_due(org, store, actor="cron", now=t0 + dt.timedelta(hours=3)) == []
    restores = [e for e in history(store, "emu") if e.action == "switch.restore"]
    assert {(e.switch, e.outcome) for e in restores} == {("New_Pricing__c", "done"), ("External_Sync__c", "skipped")}
    assert all(e.actor == "cron" and e.incident_id == "INC-9" for e in restores)


def test_a_restore_leaves_a_switch_someone_changed_since_alone(emu, org, store) -> None:
    t0 = dt.datetime.now(dt.UTC)
    flip(
        org,
        store,
        {"Outbound_Email__c": False},
        actor="alice",
        reason="storm",
        restore_after=dt.timedelta(minutes=30),
        now=t0,
    )
    flip(org, store, {"Outbound_Email__c": True}, actor="bob", reason="storm over")
    (outcome,) = restore_due(org, store, actor="cron", now=t0 + dt.timedelta(hours=1))
    assert outcome.status == "skipped" and "changed since" in outcome.skipped["Outbound_Email__c"]
    assert org_values(org)["Outbound_Email__c"] is True


def test_restoring_a_flip_that_created_a_user_record_deletes_it_and_unpins_the_user(emu, org, store) -> None:
    t0 = dt.datetime.now(dt.UTC)
    created = flip(
        org,
        store,
        {"New_Pricing__c": False},
        scope=f"user:{ONCALL}",
        actor="alice",
        reason="test",
        restore_after=dt.timedelta(minutes=10),
        now=t0,
    )
    assert created.created_record
    (outcome,) = restore_due(org, store, actor="cron", now=t0 + dt.timedelta(minutes=11))
    assert outcome.deleted_record and outcome.restored == {"New_Pricing__c": True}
    shown = show_switches(org, store, scope=f"user:{ONCALL}")
    assert shown.warnings == [] and all(r.source is Level.ORG for r in shown.resolutions)


@pytest.mark.parametrize("names", [["Nope__c"], ["New_Pricing__c", "New_Pricing__c FROM User --"]])
def test_unknown_switch_names_are_refused_before_any_write_listing_the_valid_ones(emu, org, store, names) -> None:
    mark = journal_len(emu)
    with pytest.raises(UsageError) as info:
        flip(org, store, dict.fromkeys(names, False), actor="a", reason="r")
    assert "Valid switches: " + ", ".join(SWITCHES) in info.value.message
    assert writes(emu, mark) == []


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        ("team:ops", "Bad scope"),
        ("user:nobody@sfops.demo", "No user with username"),
        ("user:x' OR Username != 'y", "No user with username"),  # quoted, so it matches nobody
        ("profile:Nope", "No profile named"),
    ],
)
def test_bad_scopes(emu, org, store, scope: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        flip(org, store, {"New_Pricing__c": False}, scope=scope, actor="a", reason="r")


def test_api_call_budgets_of_switch_off_and_switch_list(emu, org, store) -> None:
    mark = journal_len(emu)
    flip(org, store, {"New_Pricing__c": False}, actor="a", reason="cold cache")
    assert len(rest_calls(emu, mark)) <= 3
    mark = journal_len(emu)
    flip(org, store, {"New_Pricing__c": True}, scope=f"user:{ONCALL}", actor="a", reason="user scope")
    assert len(rest_calls(emu, mark)) <= 3
    mark = journal_len(emu)
    list_switches(org, store)
    assert len(rest_calls(emu, mark)) <= 3
