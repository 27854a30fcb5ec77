"""describeGlobal and sObject describe bodies generated from the Schema, in Salesforce's shapes
(see wire/describe-global.json, wire/sobject-describe-account.json)."""

from __future__ import annotations

from typing import Any

from sfops.emulator.schema import SOAP_TYPES, FieldDef, ObjectDef, Schema, child_relationship_name

_TEXTUAL_BYTES = 3  # byteLength = 3 x length for text fields (UTF-8 worst case), as Salesforce reports


def field_describe(f: FieldDef) -> dict[str, Any]:
    """One entry of describe `fields[]`."""
    textual = f.type not in (
        "boolean",
        "double",
        "currency",
        "percent",
        "int",
        "long",
        "date",
        "datetime",
        "time",
        "id",
        "reference",
        "address",
        "location",
        "base64",
    )
    byte_length = f.length * _TEXTUAL_BYTES if textual else (18 if f.type in ("id", "reference") else 0)
    is_bool = f.type == "boolean"
    sortable = f.type not in ("textarea", "multipicklist", "address", "location") or (
        f.type == "textarea" and f.length <= 255
    )
    default = f.default if is_bool else (f.default if f.default not in ("", None) else None)
    return {
        "aggregatable": sortable and not is_bool,
        "aiPredictionField": False,
        "autoNumber": f.auto_number,
        "byteLength": byte_length,
        "calculated": f.calculated,
        "calculatedFormula": f.formula,
        "cascadeDelete": f.cascade_delete,
        "caseSensitive": f.case_sensitive,
        "compoundFieldName": None,
        "controllerName": None,
        "createable": f.createable,
        "custom": f.custom,
        "defaultValue": default,
        "defaultValueFormula": None,
        "defaultedOnCreate": is_bool
        or f.type == "id"
        or f.name
        in ("OwnerId", "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp"),
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": f.digits if f.type in ("int", "long") else 0,
        "displayLocationInDecimal": False,
        "encrypted": f.type == "encryptedstring",
        "externalId": f.external_id,
        "extraTypeInfo": f.extra_type_info
        or ("richtextarea" if f.html else ("plaintextarea" if f.type == "textarea" else None)),
        "filterable": f.type not in ("textarea",) or f.length <= 255,
        "filteredLookupInfo": None,
        "formulaTreatNullNumberAsZero": False,
        "groupable": sortable and f.type not in ("double", "currency", "percent", "datetime"),
        "highScaleNumber": False,
        "htmlFormatted": f.html,
        "idLookup": f.id_lookup or f.external_id or f.type == "id",
        "inlineHelpText": f.help_text,
        "label": f.label,
        "length": f.length if textual or f.type == "id" or f.type == "reference" else 0,
        "mask": None,
        "maskType": None,
        "name": f.name,
        "nameField": f.name_field,
        "namePointing": f.polymorphic,
        "nillable": f.nillable,
        "permissionable": f.custom and f.nillable,
        "picklistValues": [
            {"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v} for v in f.picklist_values
        ],
        "polymorphicForeignKey": f.polymorphic,
        "precision": f.precision,
        "queryByDistance": False,
        "referenceTargetField": None,
        "referenceTo": list(f.reference_to),
        "relationshipName": f.relationship_name,
        "relationshipOrder": 0 if f.cascade_delete and not f.nillable else None,  # master-detail
        "restrictedDelete": f.delete_constraint == "Restrict",
        "restrictedPicklist": f.restricted_picklist,
        "scale": f.scale,
        "searchPrefilterable": False,
        "soapType": SOAP_TYPES.get(f.type, "xsd:string"),
        "sortable": sortable,
        "type": f.type,
        "unique": f.unique,
        "updateable": f.updateable,
        "writeRequiresMasterRead": False,
    } | f.describe_extra


def _urls(obj: ObjectDef, version: str, tooling: bool) -> dict[str, str]:
    base = f"/services/data/v{version}/{'tooling/' if tooling else ''}sobjects/{obj.name}"
    if obj.custom_setting:
        return {
            "rowTemplate": base + "/{ID}",
            "defaultValues": base + "/defaultValues?recordTypeId&fields",
            "describe": base + "/describe",
            "sobject": base,
        }
    return {
        "compactLayouts": base + "/describe/compactLayouts",
        "rowTemplate": base + "/{ID}",
        "approvalLayouts": base + "/describe/approvalLayouts",
        "defaultValues": base + "/defaultValues?recordTypeId&fields",
        "listviews": base + "/listviews",
        "describe": base + "/describe",
        "quickActions": base + "/quickActions",
        "layouts": base + "/describe/layouts",
        "sobject": base,
    }


def global_entry(obj: ObjectDef, version: str, tooling: bool = False) -> dict[str, Any]:
    """One entry of describeGlobal `sobjects[]`."""
    return {
        "activateable": False,
        "associateEntityType": None,
        "associateParentEntity": None,
        "createable": obj.createable,
        "custom": obj.custom,
        "customSetting": obj.custom_setting,
        "deepCloneable": False,
        "deletable": obj.deletable,
        "deprecatedAndHidden": False,
        "feedEnabled": False,
        "hasSubtypes": False,
        "isInterface": False,
        "isSubtype": False,
        "keyPrefix": obj.key_prefix,
        "label": obj.label,
        "labelPlural": obj.label_plural,
        "layoutable": not obj.is_event,
        "mergeable": False,
        "mruEnabled": not obj.custom_setting and not obj.is_event,
        "name": obj.name,
        "queryable": obj.queryable,
        "replicateable": not obj.is_event,
        "retrieveable": not obj.is_event,
        "searchable": not obj.custom_setting and not obj.is_event,
        "triggerable": not obj.custom_setting,
        "undeletable": obj.deletable and not obj.custom_setting,
        "updateable": obj.updateable,
        "urls": _urls(obj, version, tooling),
    }


def describe_global(schema: Schema, version: str, tooling: bool = False) -> dict[str, Any]:
    """The `GET sobjects` body."""
    api = "tooling" if tooling else "data"
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [global_entry(o, version, tooling) for o in schema if api in o.apis],
    }


def sobject_describe(
    schema: Schema, obj: ObjectDef, version: str, tooling: bool = False, base_url: str = ""
) -> dict[str, Any]:
    """The `GET sobjects/{T}/describe` body (`base_url` fills the absolute ui* URLs)."""
    entry = global_entry(obj, version, tooling)
    if not obj.custom_setting and not obj.is_event and base_url:
        entry["urls"] = {
            **entry["urls"],
            "uiDetailTemplate": f"{base_url}/{{ID}}",
            "uiEditTemplate": f"{base_url}/{{ID}}/e",
            "uiNewRecord": f"{base_url}/{obj.key_prefix}/e",
        }
    children = [
        {
            "cascadeDelete": f.cascade_delete,
            "childSObject": child.name,
            "deprecatedAndHidden": False,
            "field": f.name,
            "junctionIdListNames": [],
            "junctionReferenceTo": [],
            "relationshipName": child_relationship_name(child, f, obj.name) if not child.custom_setting else None,
            "restrictedDelete": f.delete_constraint == "Restrict",
        }
        for child, f in schema.child_relationships(obj.name)
    ]
    body: dict[str, Any] = {
        "actionOverrides": [],
        **{k: entry[k] for k in ("activateable", "associateEntityType", "associateParentEntity")},
        "childRelationships": children,
        "compactLayoutable": not obj.custom_setting and not obj.is_event,
    }
    for key in ("createable", "custom", "customSetting", "deepCloneable"):
        body[key] = entry[key]
    body.update(
        {
            "defaultImplementation": None,
            "deletable": obj.deletable,
            "deprecatedAndHidden": False,
            "extendedBy": None,
            "extendsInterfaces": None,
            "feedEnabled": False,
            "fields": [field_describe(f) for f in obj.fields.values()],
            "hasSubtypes": False,
            "implementedBy": None,
            "implementsInterfaces": None,
            "isInterface": False,
            "isSubtype": False,
            "keyPrefix": obj.key_prefix,
            "label": obj.label,
            "labelPlural": obj.label_plural,
            "layoutable": entry["layoutable"],
            "listviewable": None,
            "lookupLayoutable": None,
            "mergeable": False,
            "mruEnabled": entry["mruEnabled"],
            # REST API guide, "Describe Named Layouts": User's UserAlt (see layouts.py)
            "name": obj.name,
            "namedLayoutInfos": [{"name": "UserAlt"}] if obj.key == "user" else [],
            "networkScopeFieldName": None,
            "queryable": obj.queryable,
            "recordTypeInfos": _record_type_infos(obj, version),
            "replicateable": entry["replicateable"],
            "retrieveable": entry["retrieveable"],
            "searchLayoutable": entry["searchable"],
            "searchable": entry["searchable"],
            "sobjectDescribeOption": "FULL",
            "supportedScopes": _scopes(obj),
            "triggerable": entry["triggerable"],
            "undeletable": entry["undeletable"],
            "updateable": obj.updateable,
            "urls": entry["urls"],
        }
    )
    return body


def _record_type_infos(obj: ObjectDef, version: str) -> list[dict[str, Any]]:
    if obj.custom_setting or obj.is_event:
        return []
    master = "012000000000000AAA"
    return [
        {
            "active": True,
            "available": True,
            "defaultRecordTypeMapping": True,
            "developerName": "Master",
            "master": True,
            "name": "Master",
            "recordTypeId": master,
            "urls": {"layout": f"/services/data/v{version}/sobjects/{obj.name}/describe/layouts/{master}"},
        }
    ]


def _scopes(obj: ObjectDef) -> list[dict[str, str]]:
    if obj.field("OwnerId") is None:
        return []
    return [
        {"label": "All " + obj.label_plural.lower(), "name": "everything"},
        {"label": "My " + obj.label_plural.lower(), "name": "mine"},
    ]


def basic_info(schema: Schema, obj: ObjectDef, version: str, tooling: bool = False) -> dict[str, Any]:
    """The `GET sobjects/{T}` body: objectDescribe + recentItems."""
    return {"objectDescribe": global_entry(obj, version, tooling), "recentItems": []}
