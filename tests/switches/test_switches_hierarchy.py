"""Effective values resolved like Apex getInstance(): user over profile over org, per field."""

from __future__ import annotations

from sfops.switches import Level, SettingRecord, resolve
from sfops.switches.hierarchy import level_of, same_id

ORG = "00D000000000001AAA"
PROFILE = "00e000000000001AAA"
OTHER_PROFILE = "00e000000000002AAA"
USER = "005000000000001AAA"


def rec(owner: str, level: Level, **values: bool) -> SettingRecord:
    return SettingRecord(id="a00" + owner[3:], owner_id=owner, level=level, values=values)


def test_org_default_applies_when_nothing_lower_exists() -> None:
    r = resolve("A__c", [rec(ORG, Level.ORG, A__c=False)], profile_id=PROFILE, user_id=USER)
    assert (r.value, r.source, r.pinned_by) == (False, Level.ORG, None)


def test_user_overrides_profile_overrides_org() -> None:
    records = [
        rec(ORG, Level.ORG, A__c=True),
        rec(PROFILE, Level.PROFILE, A__c=False),
        rec(USER, Level.USER, A__c=True),
    ]
    user = resolve("A__c", records, profile_id=PROFILE, user_id=USER)
    assert (user.value, user.source) == (True, Level.USER)
    assert (user.org_value, user.profile_value, user.user_value) == (True, False, True)
    profile_only = resolve("A__c", records, profile_id=PROFILE)
    assert (profile_only.value, profile_only.source) == (False, Level.PROFILE)


def test_other_profiles_and_users_do_not_count() -> None:
    records = [rec(ORG, Level.ORG, A__c=True), rec(OTHER_PROFILE, Level.PROFILE, A__c=False)]
    r = resolve("A__c", records, profile_id=PROFILE, user_id=USER)
    assert (r.value, r.source) == (True, Level.ORG)


def test_a_user_record_pins_every_switch_even_ones_nobody_meant_to_change() -> None:
    # An admin created a user-level row to turn A off; B was left at its default (false)
    # on that row, and now the org-level B=true no longer reaches this user.
    records = [rec(ORG, Level.ORG, A__c=True, B__c=True), rec(USER, Level.USER, A__c=False, B__c=False)]
    b = resolve("B__c", records, profile_id=PROFILE, user_id=USER)
    assert (b.value, b.source, b.pinned_by) == (False, Level.USER, Level.USER)
    assert b.org_value is True


def test_a_field_missing_at_a_lower_level_falls_through() -> None:
    records = [rec(ORG, Level.ORG, A__c=True), rec(USER, Level.USER)]
    r = resolve("A__c", records, profile_id=PROFILE, user_id=USER)
    assert (r.value, r.source) == (True, Level.ORG)


def test_nothing_defined_anywhere_is_none() -> None:
    r = resolve("A__c", [], profile_id=PROFILE, user_id=USER)
    assert r.value is None and r.source is None


def test_ids_compare_on_their_15_character_form() -> None:
    records = [rec(ORG, Level.ORG, A__c=True), rec(USER, Level.USER, A__c=False)]
    r = resolve("A__c", records, user_id=USER[:15])
    assert r.value is False and r.source is Level.USER
    assert same_id(USER, USER[:15]) and not same_id(USER, None) and not same_id(USER, PROFILE)


def test_levels_from_key_prefixes() -> None:
    assert level_of(ORG) is Level.ORG and level_of(PROFILE) is Level.PROFILE and level_of(USER) is Level.USER
    assert level_of("00G000000000001") is None  # a group cannot own a hierarchy setting row
