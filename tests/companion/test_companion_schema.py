"""The objects and fields the issue asks for exist with the right types and settings."""

import re

import pytest
from companion_sfdx import CLASSES, DEFAULT, OBJECTS, fields_of, object_root, parse, text

CATEGORIES = [
    "Governor Limit",
    "Row Lock",
    "Callout",
    "Non-Selective Query",
    "Sharing Recalculation",
    "Validation/Flow",
    "Deployment",
    "Integration",
    "Other",
]

REQUIRED = {
    "Kill_Switch__c": {
        f: "Checkbox"
        for f in [
            "New_Pricing__c",
            "Auto_Escalation__c",
            "External_Sync__c",
            "Async_Recalculation__c",
            "Outbound_Email__c",
        ]
    },
    "Circuit_Breaker__c": {
        "Failure_Count__c": "Number",
        "Max_Failures__c": "Number",
        "Cooldown_Minutes__c": "Number",
        "Last_Failure__c": "DateTime",
        "State__c": "Text",
        "Opened_At__c": "DateTime",
        "Success_Count__c": "Number",
        "Linked_Kill_Switch__c": "Text",
        "Failure_Rate_Threshold__c": "Percent",
        "Last_Error__c": "Text",
    },
    "Incident_Log__c": {
        "Severity__c": "Picklist",
        "Status__c": "Picklist",
        "Message__c": "LongTextArea",
        "Context__c": "LongTextArea",
        "Category__c": "Picklist",
        "Dedup_Key__c": "Text",
        "Occurrence_Count__c": "Number",
        "Detected_At__c": "DateTime",
        "Acknowledged_At__c": "DateTime",
        "Mitigated_At__c": "DateTime",
        "Resolved_At__c": "DateTime",
        "Closed_At__c": "DateTime",
        "Last_Seen_At__c": "DateTime",
        "Resolution__c": "LongTextArea",
        "Root_Cause__c": "LongTextArea",
        "Assigned_To__c": "Lookup",
        "Source__c": "Text",
        "Release__c": "Text",
    },
    "Error_Log__c": {
        "Exception_Type__c": "Text",
        "Message__c": "LongTextArea",
        "Stack_Trace__c": "LongTextArea",
        "Category__c": "Picklist",
        "Fingerprint__c": "Text",
        "Request_Id__c": "Text",
        "User__c": "Lookup",
        "Occurred_At__c": "DateTime",
        "Class_Name__c": "Text",
        "Method_Name__c": "Text",
        "Line_Number__c": "Number",
        "Incident__c": "Lookup",
        "Quiddity__c": "Text",
    },
    "Incident_Event__e": {
        "Event_Action__c": "Text",
        "Dedup_Key__c": "Text",
        "Summary__c": "Text",
        "Severity__c": "Text",
        "Source__c": "Text",
        "Component__c": "Text",
        "Custom_Details__c": "LongTextArea",
        "Incident_Id__c": "Text",
    },
}
SETTINGS = {"Kill_Switch__c": "Hierarchy", "Circuit_Breaker__c": "List", "Incident_Alert_Setting__c": "Hierarchy"}
# Custom settings and platform events accept only these field types.
SETTING_TYPES = {
    "Checkbox",
    "Currency",
    "Date",
    "DateTime",
    "Email",
    "Number",
    "Percent",
    "Phone",
    "Text",
    "TextArea",
    "Url",
}
EVENT_TYPES = {"Checkbox", "Date", "DateTime", "Number", "Text", "LongTextArea"}


@pytest.mark.parametrize("obj", sorted(REQUIRED))
def test_required_fields_exist_with_their_types(obj):
    fields = fields_of(obj)
    for name, expected in REQUIRED[obj].items():
        assert name in fields, f"{obj}.{name} is missing"
        assert fields[name].type == expected, f"{obj}.{name} is {fields[name].type}, expected {expected}"


@pytest.mark.parametrize("obj", sorted(p.name for p in OBJECTS.iterdir()))
def test_every_field_has_label_and_description(obj):
    for name, f in fields_of(obj).items():
        assert f.get("label"), f"{obj}.{name} has no label"
        assert f.get("description"), f"{obj}.{name} has no description"


@pytest.mark.parametrize(("obj", "kind"), sorted(SETTINGS.items()))
def test_custom_settings(obj, kind):
    root = object_root(obj)
    assert text(root, "customSettingsType") == kind
    assert text(root, "visibility") == "Public"
    for name, f in fields_of(obj).items():
        assert f.type in SETTING_TYPES, f"{obj}.{name}: custom settings cannot have {f.type} fields"


def test_kill_switches_are_documented_and_on_by_default():
    switches = fields_of("Kill_Switch__c")
    assert len(switches) == 5
    for name, f in switches.items():
        assert f.get("defaultValue") == "true", f"{name}: features are enabled until a kill switch turns them off"
        assert f.get("inlineHelpText"), f"{name}: sfops shows the help text"


def test_circuit_breaker_state_defaults_to_closed():
    fields = fields_of("Circuit_Breaker__c")
    assert fields["State__c"].get("defaultValue") == '"Closed"'
    assert int(fields["Linked_Kill_Switch__c"].get("length")) >= 40, "holds a field API name (40 chars)"
    assert fields["Max_Failures__c"].get("defaultValue") == "5"


def test_incident_log_object():
    root = object_root("Incident_Log__c")
    name_field = root.find("{http://soap.sforce.com/2006/04/metadata}nameField")
    assert text(name_field, "type") == "AutoNumber"
    assert text(name_field, "displayFormat") == "INC-{00000}"
    assert text(root, "sharingModel") in {"Private", "Read", "ReadWrite"}
    assert text(root, "deploymentStatus") == "Deployed"
    assert (OBJECTS / "Incident_Log__c" / "listViews" / "All.listView-meta.xml").is_file()


def test_incident_log_picklists():
    fields = fields_of("Incident_Log__c")
    assert fields["Severity__c"].values == ["P1", "P2", "P3", "P4"]
    assert fields["Status__c"].values == ["New", "Triaged", "Investigating", "Mitigated", "Resolved", "Closed"]
    assert fields["Category__c"].values == CATEGORIES
    assert fields_of("Error_Log__c")["Category__c"].values == CATEGORIES
    for name in ("Severity__c", "Status__c", "Category__c"):
        restricted = fields[name].root.find(".//{http://soap.sforce.com/2006/04/metadata}restricted")
        assert restricted is not None and restricted.text == "true", f"{name} must be restricted"


def test_keys_and_lookups():
    incident = fields_of("Incident_Log__c")
    assert incident["Dedup_Key__c"].get("unique") == "true"
    assert incident["Dedup_Key__c"].get("externalId") == "true"
    assert incident["Assigned_To__c"].get("referenceTo") == "User"
    errors = fields_of("Error_Log__c")
    assert errors["Fingerprint__c"].get("externalId") == "true", "indexed for grouping"
    assert errors["Fingerprint__c"].get("unique") == "false", "many errors share a fingerprint"
    assert errors["User__c"].get("referenceTo") == "User"
    assert errors["Incident__c"].get("referenceTo") == "Incident_Log__c"
    for f in [*incident.values(), *errors.values()]:
        if f.type == "Lookup":
            assert f.get("relationshipName"), f"{f.name} needs a relationshipName"


def test_platform_event():
    root = object_root("Incident_Event__e")
    assert text(root, "eventType") == "HighVolume"
    assert text(root, "publishBehavior") == "PublishImmediately"
    for name, f in fields_of("Incident_Event__e").items():
        assert f.type in EVENT_TYPES, f"{name}: platform events cannot have {f.type} fields"


def test_apex_references_only_existing_objects_and_fields():
    objects = {p.name for p in OBJECTS.iterdir()}
    known = set(objects)
    for obj in objects:
        known |= set(fields_of(obj))
    # Names in string literals count too: FeatureKillSwitch.isEnabled('Outbound_Email__c') must be real.
    for path in sorted(CLASSES.glob("*.cls")):
        names = set(re.findall(r"\b([A-Za-z][A-Za-z0-9_]*__[ce])\b", path.read_text()))
        # Tests use deliberately invalid names (No_Such_...) to prove validation.
        unknown = {n for n in names - known if not n.startswith("No_Such")}
        assert not unknown, f"{path.name} uses names not defined in force-app: {sorted(unknown)}"


def test_permission_set_grants_existing_components_consistently():
    ns = "{http://soap.sforce.com/2006/04/metadata}"
    root = parse(DEFAULT / "permissionsets" / "sfops_Companion.permissionset-meta.xml")
    classes = {p.stem for p in CLASSES.glob("*.cls")}
    granted_classes = {e.findtext(f"{ns}apexClass") for e in root.findall(f"{ns}classAccesses")}
    assert granted_classes == {c for c in classes if not c.endswith("Test")}
    objects = {p.name for p in OBJECTS.iterdir()}
    for perm in root.findall(f"{ns}objectPermissions"):
        obj = perm.findtext(f"{ns}object")
        assert obj in objects
        flags = {child.tag.removeprefix(ns): child.text == "true" for child in perm if child.tag != f"{ns}object"}
        # Salesforce rejects permissions whose prerequisites are missing.
        if flags["modifyAllRecords"]:
            assert flags["allowDelete"] and flags["viewAllRecords"], obj
        if flags["allowEdit"] or flags["allowDelete"]:
            assert flags["allowRead"], obj
        if obj.endswith("__e"):
            assert not (flags["allowEdit"] or flags["allowDelete"]), "events are only read and created"
    granted_fields = {e.findtext(f"{ns}field") for e in root.findall(f"{ns}fieldPermissions")}
    for obj in ("Incident_Log__c", "Error_Log__c"):
        expected = {f"{obj}.{name}" for name, f in fields_of(obj).items() if f.get("required") != "true"}
        assert {g for g in granted_fields if g.startswith(obj + ".")} == expected, obj
