"""Build the emulator's standard-object table (sfops/emulator/seed_data/standard_objects.json) from
real `GET sobjects/{T}/describe` bodies.

    python scripts/gen_standard_schema.py DESCRIBE_DIR [OUT]

DESCRIBE_DIR holds `<Object>.json` describe bodies recorded from real orgs (see
sfops/emulator/seed_data/PROVENANCE.md for where each came from). Objects without a recorded
describe (Task, User) are written from the Object Reference field lists below.

The recordings used (SFDO-Tooling/CumulusCI, cumulusci/tests/shared_cassettes/GET_sobjects_<T>_describe.yaml,
response body only): Account (as in tests/data/wire/sobject-describe-account.json),
Case/Opportunity/OpportunityContactRole @ 330a1f656c32516c15d4c5a329afe432bb88da98,
Contact @ fa83bc2d3a1f5d350f034edb0ca0a214ad845e7f, Event @ 94974d39e0f68c67846581ebce78e79a1cae27d8,
Lead @ a71c22c95781265ff03e8e0ed7f239141219e390.

Each field keeps what the schema models (type, length, references, nillable...) and, under
`describe_extra`, every describe key whose recorded value differs from what the emulator would
generate, so describe answers the recorded values. References to objects the emulator does not
model are dropped (a field whose every target is missing is left out), custom fields in the
recordings are skipped, and the parents' recorded childRelationships name the child relationships.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sfops.emulator.describe import field_describe  # noqa: E402
from sfops.emulator.schema import FieldDef  # noqa: E402

RECORDED = ["Account", "Contact", "Opportunity", "OpportunityContactRole", "Case", "Lead", "Event"]
# objects the emulator models elsewhere (schema.standard_objects) that references may point at
OTHER_MODELLED = {
    "User",
    "Task",
    "Profile",
    "UserRole",
    "Group",
    "RecordType",
    "Organization",
    "ApexClass",
    "ApexTrigger",
}
_NOT_OVERRIDDEN = {"referenceTo", "relationshipName", "name", "custom"}


def _field(raw: dict[str, Any], modelled: set[str]) -> FieldDef | None:
    targets = [t for t in raw["referenceTo"] if t in modelled]
    if raw["type"] == "reference" and not targets:
        return None
    pick = [p["value"] for p in raw["picklistValues"] if p.get("active", True)]
    default: Any = raw["defaultValue"]
    if raw["type"] == "boolean":
        default = bool(default)
    else:
        chosen = [p["value"] for p in raw["picklistValues"] if p.get("defaultValue")]
        default = chosen[0] if chosen else (default if isinstance(default, str) else None)
    return FieldDef(
        name=raw["name"],
        type=raw["type"],
        label=raw["label"],
        length=raw["length"],
        precision=raw["precision"],
        scale=raw["scale"],
        digits=raw["digits"],
        reference_to=targets,
        relationship_name=raw["relationshipName"],
        nillable=raw["nillable"],
        unique=raw["unique"],
        external_id=raw["externalId"],
        case_sensitive=raw["caseSensitive"],
        picklist_values=pick,
        default=default,
        calculated=raw["calculated"],
        formula=raw["calculatedFormula"],
        auto_number=raw["autoNumber"],
        createable=raw["createable"],
        updateable=raw["updateable"],
        name_field=raw["nameField"],
        id_lookup=raw["idLookup"],
        cascade_delete=raw["cascadeDelete"],
        required=(
            not raw["nillable"] and raw["createable"] and not raw["defaultedOnCreate"] and raw["type"] != "boolean"
        ),
        html=raw["htmlFormatted"],
        extra_type_info=raw["extraTypeInfo"],
        restricted_picklist=raw["restrictedPicklist"],
    )


def _compact(fdef: FieldDef, recorded: dict[str, Any] | None) -> dict[str, Any]:
    """The FieldDef's non-default attributes plus the describe keys the recording has differently."""
    base = FieldDef(name=fdef.name, type=fdef.type)
    out = {k: v for k, v in fdef.to_json().items() if k in ("name", "type") or v != getattr(base, k)}
    if recorded is not None:
        generated = field_describe(fdef)
        extra = {k: v for k, v in recorded.items() if k not in _NOT_OVERRIDDEN and generated.get(k, object()) != v}
        if extra:
            out["describe_extra"] = extra
    return out


def _recorded_object(describe: dict[str, Any], modelled: set[str]) -> dict[str, Any]:
    fields = []
    for raw in describe["fields"]:
        if raw["name"].endswith("__c"):
            continue  # custom fields of the org the describe was recorded in
        fdef = _field(raw, modelled)
        if fdef is not None:
            fields.append(_compact(fdef, raw))
    return {
        "name": describe["name"],
        "label": describe["label"],
        "label_plural": describe["labelPlural"],
        "key_prefix": describe["keyPrefix"],
        "createable": describe["createable"],
        "updateable": describe["updateable"],
        "deletable": describe["deletable"],
        "fields": fields,
    }


def _ro(**kw: Any) -> dict[str, Any]:
    return {"createable": False, "updateable": False, **kw}


def _def(name: str, dtype: str, label: str, length: int = 0, **kw: Any) -> dict[str, Any]:
    return _compact(FieldDef(name=name, type=dtype, label=label, length=length, **kw), None)


_AUDIT = [
    _def("CreatedDate", "datetime", "Created Date", nillable=False, **_ro()),
    _def(
        "CreatedById",
        "reference",
        "Created By ID",
        reference_to=["User"],
        relationship_name="CreatedBy",
        nillable=False,
        **_ro(),
    ),
    _def("LastModifiedDate", "datetime", "Last Modified Date", nillable=False, **_ro()),
    _def(
        "LastModifiedById",
        "reference",
        "Last Modified By ID",
        reference_to=["User"],
        relationship_name="LastModifiedBy",
        nillable=False,
        **_ro(),
    ),
    _def("SystemModstamp", "datetime", "System Modstamp", nillable=False, **_ro()),
]


def _task(event: dict[str, Any]) -> dict[str, Any]:
    """Task (Object Reference, "Task"): the activity fields it shares with the recorded Event, plus
    its own status, priority, call and completion fields with their documented picklists."""
    shared = (
        "Id",
        "WhoId",
        "WhatId",
        "Subject",
        "ActivityDate",
        "Description",
        "AccountId",
        "OwnerId",
        "IsDeleted",
        "CreatedDate",
        "CreatedById",
        "LastModifiedDate",
        "LastModifiedById",
        "SystemModstamp",
        "IsArchived",
        "ReminderDateTime",
        "IsReminderSet",
        "IsRecurrence",
        "RecurrenceInterval",
        "RecurrenceDayOfWeekMask",
        "RecurrenceDayOfMonth",
        "RecurrenceType",
        "RecurrenceInstance",
        "RecurrenceMonthOfYear",
        "RecurrenceEndDateOnly",
        "RecurrenceTimeZoneSidKey",
    )
    by_name = {f["name"]: f for f in event["fields"]}
    fields = []
    for name in shared:
        f = json.loads(json.dumps(by_name[name]))
        if name == "Id":
            f["describe_extra"] = {**f.get("describe_extra", {}), "label": "Activity ID"}
        if name == "OwnerId":
            f["reference_to"] = ["User"]
            f["label"] = "Assigned To ID"
        if name == "Subject":
            f["describe_extra"] = {k: v for k, v in f.get("describe_extra", {}).items() if k != "picklistValues"}
            f["picklist_values"] = ["Call", "Send Letter", "Send Quote", "Other"]
        if name == "ActivityDate":
            f["label"] = "Due Date Only"
        fields.append(f)
    fields += [
        _def(
            "Status",
            "picklist",
            "Status",
            40,
            nillable=False,
            default="Not Started",
            picklist_values=["Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"],
        ),
        _def(
            "Priority",
            "picklist",
            "Priority",
            40,
            nillable=False,
            default="Normal",
            picklist_values=["High", "Normal", "Low"],
        ),
        _def("IsHighPriority", "boolean", "High Priority", **_ro()),
        _def("IsClosed", "boolean", "Closed", **_ro()),
        _def("CallDurationInSeconds", "int", "Call Duration", digits=8),
        _def("CallType", "picklist", "Call Type", 40, picklist_values=["Internal", "Inbound", "Outbound"]),
        _def("CallDisposition", "string", "Call Result", 255),
        _def("CallObject", "string", "Call Object Identifier", 255),
        _def(
            "TaskSubtype",
            "picklist",
            "Task Subtype",
            40,
            updateable=False,
            picklist_values=["Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn"],
        ),
        _def("CompletedDateTime", "datetime", "Completed Date/Time", **_ro()),
        _def("WhoCount", "int", "Relation Count", digits=9, **_ro()),
        _def("WhatCount", "int", "Related To Count", digits=9, **_ro()),
    ]
    return {
        "name": "Task",
        "label": "Task",
        "label_plural": "Tasks",
        "key_prefix": "00T",
        "createable": True,
        "updateable": True,
        "deletable": True,
        "fields": fields,
    }


def _user(event: dict[str, Any]) -> dict[str, Any]:
    """User (Object Reference, "User"): identity, locale, contact and hierarchy fields. Time zones are
    the recorded Event's RecurrenceTimeZoneSidKey values (the same TimeZoneSidKey set)."""
    zones = next(f for f in event["fields"] if f["name"] == "RecurrenceTimeZoneSidKey")["picklist_values"]
    locales = [
        "en_US",
        "en_GB",
        "en_AU",
        "en_CA",
        "en_IE",
        "en_IN",
        "en_NZ",
        "de_DE",
        "fr_FR",
        "es_ES",
        "it_IT",
        "ja_JP",
        "nl_NL",
        "pt_BR",
        "sv_SE",
    ]
    languages = [
        "en_US",
        "en_GB",
        "de",
        "es",
        "fr",
        "it",
        "ja",
        "sv",
        "ko",
        "zh_TW",
        "zh_CN",
        "pt_BR",
        "nl_NL",
        "da",
        "th",
        "fi",
        "ru",
        "es_MX",
        "no",
    ]
    encodings = [
        "UTF-8",
        "ISO-8859-1",
        "Shift_JIS",
        "ISO-2022-JP",
        "EUC-JP",
        "ks_c_5601-1987",
        "Big5",
        "GB2312",
        "Big5-HKSCS",
        "x-SJIS_0213",
    ]
    addr = [
        _def("Street", "textarea", "Street", 255, extra_type_info="plaintextarea"),
        _def("City", "string", "City", 40),
        _def("State", "string", "State/Province", 80),
        _def("PostalCode", "string", "Zip/Postal Code", 20),
        _def("Country", "string", "Country", 80),
        _def("Latitude", "double", "Latitude", precision=18, scale=15),
        _def("Longitude", "double", "Longitude", precision=18, scale=15),
        _def(
            "GeocodeAccuracy",
            "picklist",
            "Geocode Accuracy",
            40,
            picklist_values=[
                "Address",
                "NearAddress",
                "Block",
                "Street",
                "ExtendedZip",
                "Zip",
                "Neighborhood",
                "City",
                "County",
                "State",
                "Unknown",
            ],
        ),
        _def("Address", "address", "Address", **_ro()),
    ]
    fields = [
        _def("Id", "id", "User ID", 18, nillable=False, id_lookup=True, **_ro()),
        _def("Username", "string", "Username", 80, nillable=False, unique=True, id_lookup=True, required=True),
        _def("LastName", "string", "Last Name", 80, nillable=False, required=True, extra_type_info="personname"),
        _def("FirstName", "string", "First Name", 40, extra_type_info="personname"),
        _def("MiddleName", "string", "Middle Name", 40, extra_type_info="personname"),
        _def("Suffix", "string", "Suffix", 40, extra_type_info="personname"),
        _def(
            "Name", "string", "Full Name", 121, nillable=False, name_field=True, extra_type_info="personname", **_ro()
        ),
        _def("CompanyName", "string", "Company Name", 80),
        _def("Division", "string", "Division", 80),
        _def("Department", "string", "Department", 80),
        _def("Title", "string", "Title", 80),
        *addr,
        _def("Email", "email", "Email", 128, nillable=False, required=True),
        _def("SenderEmail", "email", "Email Sender Address", 80),
        _def("SenderName", "string", "Email Sender Name", 80),
        _def("Signature", "textarea", "Email Signature", 1333, extra_type_info="plaintextarea"),
        _def("Phone", "phone", "Phone", 40),
        _def("Fax", "phone", "Fax", 40),
        _def("MobilePhone", "phone", "Mobile", 40),
        _def("Extension", "phone", "Extension", 40),
        _def("Alias", "string", "Alias", 8, nillable=False, required=True),
        _def("CommunityNickname", "string", "Nickname", 40, unique=True),
        _def("IsActive", "boolean", "Active", default=True),
        _def("TimeZoneSidKey", "picklist", "Time Zone", 40, nillable=False, required=True, picklist_values=zones),
        _def("UserRoleId", "reference", "Role ID", reference_to=["UserRole"], relationship_name="UserRole"),
        _def("LocaleSidKey", "picklist", "Locale", 40, nillable=False, required=True, picklist_values=locales),
        _def("ReceivesInfoEmails", "boolean", "Info Emails"),
        _def("ReceivesAdminInfoEmails", "boolean", "Admin Info Emails"),
        _def(
            "EmailEncodingKey",
            "picklist",
            "Email Encoding",
            40,
            nillable=False,
            required=True,
            picklist_values=encodings,
        ),
        _def(
            "ProfileId",
            "reference",
            "Profile ID",
            reference_to=["Profile"],
            relationship_name="Profile",
            nillable=False,
            required=True,
        ),
        _def(
            "UserType",
            "picklist",
            "User Type",
            40,
            picklist_values=[
                "Standard",
                "PowerPartner",
                "PowerCustomerSuccess",
                "CustomerSuccess",
                "Guest",
                "CspLitePortal",
                "CsnOnly",
                "SelfService",
                "AutomatedProcess",
            ],
            **_ro(),
        ),
        _def("LanguageLocaleKey", "picklist", "Language", 40, nillable=False, required=True, picklist_values=languages),
        _def("EmployeeNumber", "string", "Employee Number", 20),
        _def("DelegatedApproverId", "reference", "Delegated Approver ID", reference_to=["Group", "User"]),
        _def("ManagerId", "reference", "Manager ID", reference_to=["User"], relationship_name="Manager"),
        _def("LastLoginDate", "datetime", "Last Login", **_ro()),
        _def("LastPasswordChangeDate", "datetime", "Last Password Change or Reset", **_ro()),
        *_AUDIT,
        _def("ContactId", "reference", "Contact ID", reference_to=["Contact"], relationship_name="Contact"),
        _def("AccountId", "reference", "Account ID", reference_to=["Account"], relationship_name="Account", **_ro()),
        _def("FederationIdentifier", "string", "SAML Federation ID", 512),
        _def("AboutMe", "textarea", "About Me", 1000, extra_type_info="plaintextarea"),
        _def("FullPhotoUrl", "url", "Url for full-sized Photo", 1024, **_ro()),
        _def("SmallPhotoUrl", "url", "Photo", 1024, **_ro()),
        _def("IsProfilePhotoActive", "boolean", "Has Profile Photo", **_ro()),
        _def(
            "DigestFrequency",
            "picklist",
            "Chatter Email Highlights Frequency",
            40,
            nillable=False,
            default="D",
            picklist_values=["D", "W", "N"],
        ),
        _def(
            "DefaultGroupNotificationFrequency",
            "picklist",
            "Default Notification Frequency when Joining Groups",
            40,
            nillable=False,
            default="N",
            picklist_values=["P", "D", "W", "N"],
        ),
        _def("LastViewedDate", "datetime", "Last Viewed Date", **_ro()),
        _def("LastReferencedDate", "datetime", "Last Referenced Date", **_ro()),
        _def("ForecastEnabled", "boolean", "Allow Forecasting"),
        _def("UserPermissionsMarketingUser", "boolean", "Marketing User"),
        _def("UserPermissionsSupportUser", "boolean", "Service Cloud User"),
        _def("UserPermissionsKnowledgeUser", "boolean", "Knowledge User"),
    ]
    return {
        "name": "User",
        "label": "User",
        "label_plural": "Users",
        "key_prefix": "005",
        "createable": True,
        "updateable": True,
        "deletable": False,
        "fields": fields,
    }


def _child_names(describes: dict[str, dict[str, Any]], objects: list[dict[str, Any]]) -> None:
    """Record, on each child field, the relationship name its recorded parents use (None: unnamed)."""
    for parent, describe in describes.items():
        for rel in describe["childRelationships"]:
            child = next((o for o in objects if o["name"] == rel["childSObject"]), None)
            if child is None:
                continue
            for f in child["fields"]:
                if f["name"] == rel["field"] and parent in f.get("reference_to", []):
                    f.setdefault("child_relationships", {})[parent.lower()] = rel["relationshipName"]
                    if rel.get("restrictedDelete"):
                        f["delete_constraint"] = "Restrict"  # the parent cannot be deleted while these point at it
                        f.setdefault("describe_extra", {}).setdefault("restrictedDelete", False)
                    if rel["cascadeDelete"] and not f.get("cascade_delete"):
                        # deleting the parent deletes these children (the parent's childRelationships say
                        # so); the field's own describe keeps its recorded cascadeDelete/relationshipOrder
                        f["cascade_delete"] = True
                        extra = f.setdefault("describe_extra", {})
                        extra.setdefault("cascadeDelete", False)
                        extra.setdefault("relationshipOrder", None)


def build(describe_dir: Path) -> dict[str, Any]:
    """The standard-object table written to seed_data/standard_objects.json."""
    describes = {n: json.loads((describe_dir / f"{n}.json").read_text()) for n in RECORDED}
    modelled = set(RECORDED) | OTHER_MODELLED
    objects = [_recorded_object(describes[n], modelled) for n in RECORDED]
    event = next(o for o in objects if o["name"] == "Event")
    objects += [_task(event), _user(event)]
    _child_names(describes, objects)
    for o in objects:  # a recorded parent that lists no relationship for a child field: unnamed there
        for f in o["fields"]:
            if f.get("reference_to") and not f["name"].endswith("__c"):
                names = f.setdefault("child_relationships", {})
                for parent in f["reference_to"]:
                    if parent in describes:
                        names.setdefault(parent.lower(), None)
    return {
        "source": "recorded describes (see PROVENANCE.md) and the Object Reference for Task and User",
        "objects": objects,
    }


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    out = Path(argv[2]) if len(argv) > 2 else REPO / "sfops" / "emulator" / "seed_data" / "standard_objects.json"
    out.write_text(json.dumps(build(Path(argv[1])), separators=(",", ":")) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
