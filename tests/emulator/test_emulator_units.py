"""Unit tests: ids, schema from metadata XML, lenient values, state transactions, packaged seed data."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from paths import REPO

from sfops.emulator import ids
from sfops.emulator.app import version_label
from sfops.emulator.faults import Faults
from sfops.emulator.schema import SchemaError, default_schema, field_from_metadata_xml, object_from_metadata_xml
from sfops.emulator.seed import PACKAGED_FORCE_APP, force_app_dir, source_to_mdapi_zip
from sfops.emulator.state import RecordState
from sfops.emulator.values import fmt_datetime, parse_datetime

MD = 'xmlns="http://soap.sforce.com/2006/04/metadata"'


def test_checksum_matches_real_fixture_ids() -> None:
    for real in (
        "0Af3B00001CMyfASAT",
        "07L7i00000MYv6qEAD",
        "001Da00000xnAkBIAU",
        "0015500001QdQWaAAN",
        "00DU0000000AlbhMAC",
        "a00E0000004D5lsIAC",
    ):
        assert ids.checksum(real[:15]) == real[15:], real
        assert ids.looks_like_id(real) and ids.looks_like_id(real[:15])
    assert not ids.looks_like_id("23foo") and not ids.looks_like_id("0Af3B00001CMyfAXXX")


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", min_size=15, max_size=15))
def test_18_char_ids_survive_lower_casing(id15: str) -> None:
    full = ids.to18(id15)
    assert ids.normalize(full.lower()) == full
    assert ids.normalize(id15) == full


def test_id_factory_is_unique_and_prefixed() -> None:
    factory = ids.IdFactory()
    made = {factory.new("7tf") for _ in range(500)}
    assert len(made) == 500 and all(i.startswith("7tf") and ids.looks_like_id(i) for i in made)


def test_version_labels() -> None:
    assert [version_label(v) for v in (20, 58, 60, 62, 64, 65)] == [
        "Winter '11",
        "Summer '23",
        "Spring '24",
        "Winter '25",
        "Summer '25",
        "Winter '26",
    ]


def test_field_from_metadata_xml_types() -> None:
    checkbox = field_from_metadata_xml(
        f"<CustomField {MD}><fullName>On__c</fullName><label>On</label>"
        "<type>Checkbox</type><defaultValue>true</defaultValue></CustomField>"
    )
    assert (checkbox.type, checkbox.nillable, checkbox.default) == ("boolean", False, True)
    lookup = field_from_metadata_xml(
        f"<CustomField {MD}><label>Incident</label><type>Lookup</type>"
        "<referenceTo>Incident_Log__c</referenceTo><relationshipName>Errors"
        "</relationshipName></CustomField>",
        "Error_Log__c",
        "Incident__c",
    )
    assert lookup.name == "Incident__c" and lookup.reference_to == ["Incident_Log__c"]
    # SOQL guide, "Understanding Relationship Names, Custom Objects, and Custom Fields": the lookup is
    # Incident__r; <relationshipName> names the parent's child relationship (Errors__r)
    assert lookup.relationship_name == "Incident__r" and lookup.child_relationship == "Errors__r"
    assert lookup.delete_constraint == "SetNull" and lookup.cascade_delete is False
    pick = field_from_metadata_xml(
        f"<CustomField {MD}><fullName>Sev__c</fullName><label>Sev</label>"
        "<type>Picklist</type><valueSet><valueSetDefinition><value><fullName>P1"
        "</fullName></value><value><fullName>P2</fullName></value>"
        "</valueSetDefinition></valueSet></CustomField>"
    )
    assert pick.type == "picklist" and pick.picklist_values == ["P1", "P2"]
    with pytest.raises(SchemaError):
        field_from_metadata_xml(f"<CustomField {MD}><fullName>X__c</fullName><type>Bogus</type></CustomField>")
    with pytest.raises(SchemaError):
        field_from_metadata_xml("<CustomField><unclosed>")


def test_object_kinds_from_metadata() -> None:
    setting = object_from_metadata_xml(
        f"<CustomObject {MD}><label>KS</label><customSettingsType>Hierarchy</customSettingsType></CustomObject>",
        "KS__c",
    )
    assert setting.custom_setting_type == "Hierarchy" and setting.field("SetupOwnerId").polymorphic
    assert setting.field("OwnerId") is None
    listed = object_from_metadata_xml(
        f"<CustomObject {MD}><label>CB</label><customSettingsType>List</customSettingsType></CustomObject>", "CB__c"
    )
    assert listed.field("Name").required and listed.field("SetupOwnerId") is None
    event = object_from_metadata_xml(
        f"<CustomObject {MD}><label>Ev</label><eventType>HighVolume</eventType></CustomObject>", "Ev__e"
    )
    assert event.is_event and not event.queryable and event.field("ReplayId") is not None
    schema = default_schema()
    schema.upsert_object(setting)
    schema.upsert_object(listed)
    assert setting.key_prefix != listed.key_prefix and setting.key_prefix.startswith("a")
    before = schema.version
    schema.remove_field("KS__c", "Name")
    assert schema.version > before and schema.get("ks__C").field("name") is None


@pytest.mark.parametrize(
    "raw",
    [
        "2018-02-22T06:45:00.000+0000",
        "2018-02-22T06:45:00Z",
        "2018-02-22T08:45:00+02:00",
        1519281900000,
        "1519281900000",
        "Thu, 22 Feb 2018 06:45:00 GMT",
    ],
)
def test_lenient_datetimes(raw: object) -> None:
    assert fmt_datetime(parse_datetime(raw)) == "2018-02-22T06:45:00.000+0000"


def test_store_transaction_is_all_or_nothing(tmp_path) -> None:
    store = RecordState(tmp_path / "s.sqlite3")
    store.put("Account", {"Id": "001000000000001AAA", "Name": "kept"})
    with pytest.raises(RuntimeError), store.transaction():
        store.put("Account", {"Id": "001000000000002AAA", "Name": "lost"})
        store.put_json("k", "v", 1)
        raise RuntimeError("boom")
    assert [r["Name"] for r in store.rows("account")] == ["kept"] and store.get_json("k", "v") is None
    store.close()
    again = RecordState(tmp_path / "s.sqlite3")
    assert [r["Name"] for r in again.rows("Account")] == ["kept"]


def test_the_emulator_seeds_from_the_one_copy_of_the_companion_metadata() -> None:
    # In a checkout the package's force-app is a link to the SFDX project's force-app/: one copy to edit.
    assert PACKAGED_FORCE_APP.resolve() == (REPO / "force-app").resolve()
    assert force_app_dir() == PACKAGED_FORCE_APP


def test_source_to_mdapi_zip_nests_fields_into_objects() -> None:
    import io
    import zipfile

    data = source_to_mdapi_zip(PACKAGED_FORCE_APP)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
        ks = zf.read("objects/Kill_Switch__c.object").decode()
    assert "package.xml" in names and "classes/FeatureKillSwitch.cls" in names
    assert ks.count("<fields>") == len(
        list((PACKAGED_FORCE_APP / "main/default/objects/Kill_Switch__c/fields").glob("*.field-meta.xml"))
    )


def test_auto_number_formats() -> None:
    from datetime import UTC, datetime

    from sfops.emulator.records import format_auto_number

    when = datetime(2026, 3, 9, tzinfo=UTC)
    assert format_auto_number("INC-{00000}", 42, when) == "INC-00042"
    assert format_auto_number("ERR-{YYYY}{MM}{DD}-{0000}", 7, when) == "ERR-20260309-0007"
    assert format_auto_number("{0}", 123456, when) == "123456"


@pytest.mark.parametrize(
    "spec",
    [
        {"fail": "x"},
        {"fail": [1]},
        {"drop_connections": "x"},
        {"latency": 5},
        {"limits": [1]},
        {"api_usage": 5},
        {"latency_ms": 5},
    ],
)
def test_malformed_fault_specs_are_refused_not_crashing(spec: dict) -> None:
    # the control endpoint turns ValueError/TypeError into a 400; anything else would be a 500
    with pytest.raises((ValueError, TypeError)):
        Faults().apply(spec)
