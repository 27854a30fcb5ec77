"""The metadata types the emulator knows: folder, suffix, -meta.xml companion, children.

The types the emulator models are hand-kept below (order = the order describeMetadata reports;
``children`` maps the element name inside the parent file to the child type name). Every other type of
Salesforce's registry (seed_data/metadata_types.json, built by scripts/gen_metadata_types.py from
source-deploy-retrieve's registry) is accepted too: deploy stores its files as they are and retrieve
returns them unchanged (no child splitting, so those files come back byte for byte).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources


@dataclass(frozen=True)
class MdType:
    """One metadata type as describeMetadata describes it."""

    name: str
    directory: str
    suffix: str | None
    meta_file: bool = False
    in_folder: bool = False
    bundle: bool = False  # a folder per component (lwc, aura)
    children: dict[str, str] = field(default_factory=dict)  # element -> child type


_OBJECT_CHILDREN = {
    "fields": "CustomField",
    "businessProcesses": "BusinessProcess",
    "recordTypes": "RecordType",
    "webLinks": "WebLink",
    "validationRules": "ValidationRule",
    "sharingReasons": "SharingReason",
    "listViews": "ListView",
    "fieldSets": "FieldSet",
    "compactLayouts": "CompactLayout",
    "indexes": "Index",
}
_WORKFLOW_CHILDREN = {
    "alerts": "WorkflowAlert",
    "tasks": "WorkflowTask",
    "outboundMessages": "WorkflowOutboundMessage",
    "fieldUpdates": "WorkflowFieldUpdate",
    "rules": "WorkflowRule",
}

TYPES: tuple[MdType, ...] = (
    MdType("CustomLabels", "labels", "labels", children={"labels": "CustomLabel"}),
    MdType("StaticResource", "staticresources", "resource", meta_file=True),
    MdType("ApexComponent", "components", "component", meta_file=True),
    MdType("ApexPage", "pages", "page", meta_file=True),
    MdType("CustomObject", "objects", "object", children=_OBJECT_CHILDREN),
    MdType("ReportType", "reportTypes", "reportType"),
    MdType("Report", "reports", "report", in_folder=True),
    MdType("Dashboard", "dashboards", "dashboard", in_folder=True),
    MdType("Layout", "layouts", "layout"),
    MdType("Document", "documents", None, meta_file=True, in_folder=True),
    MdType("CustomPageWebLink", "weblinks", "weblink"),
    MdType("CustomTab", "tabs", "tab"),
    MdType("CustomApplication", "applications", "app"),
    MdType("EmailTemplate", "email", "email", meta_file=True, in_folder=True),
    MdType("Workflow", "workflows", "workflow", children=_WORKFLOW_CHILDREN),
    MdType("ApexClass", "classes", "cls", meta_file=True),
    MdType("ApexTrigger", "triggers", "trigger", meta_file=True),
    MdType("Profile", "profiles", "profile"),
    MdType("PermissionSet", "permissionsets", "permissionset"),
    MdType("PermissionSetGroup", "permissionsetgroups", "permissionsetgroup"),
    MdType("CustomPermission", "customPermissions", "customPermission"),
    MdType("CustomMetadata", "customMetadata", "md"),
    MdType("FlexiPage", "flexipages", "flexipage"),
    MdType("Flow", "flows", "flow"),
    MdType("FlowDefinition", "flowDefinitions", "flowDefinition"),
    MdType("LightningComponentBundle", "lwc", None, bundle=True),
    MdType("AuraDefinitionBundle", "aura", None, bundle=True),
    MdType("PlatformEventChannel", "platformEventChannels", "platformEventChannel"),
    MdType("PlatformEventChannelMember", "platformEventChannelMembers", "platformEventChannelMember"),
    MdType("RemoteSiteSetting", "remoteSiteSettings", "remoteSite"),
    MdType("NamedCredential", "namedCredentials", "namedCredential"),
    MdType("ExternalCredential", "externalCredentials", "externalCredential"),
    MdType("ConnectedApp", "connectedApps", "connectedApp"),
    MdType("GlobalValueSet", "globalValueSets", "globalValueSet"),
    MdType("StandardValueSet", "standardValueSets", "standardValueSet"),
    MdType("Group", "groups", "group"),
    MdType("Queue", "queues", "queue"),
    MdType("Role", "roles", "role"),
    MdType("CustomSite", "sites", "site"),
    MdType("Settings", "settings", "settings"),
)

MODELLED: frozenset[str] = frozenset(t.name for t in TYPES)
# folder types: "EmailTemplate" members are "Folder/Name"; the folder itself is type EmailFolder etc.
FOLDER_TYPES = {
    "EmailFolder": "EmailTemplate",
    "ReportFolder": "Report",
    "DashboardFolder": "Dashboard",
    "DocumentFolder": "Document",
}


def _opaque_types() -> tuple[MdType, ...]:
    table = json.loads(resources.files("sfops.emulator").joinpath("seed_data/metadata_types.json").read_text("utf-8"))
    known = {name.lower() for name in MODELLED} | {name.lower() for name in FOLDER_TYPES}
    return tuple(
        MdType(
            t["name"],
            t["directory"],
            t.get("suffix"),
            meta_file=bool(t.get("meta_file")),
            in_folder=bool(t.get("in_folder")),
            bundle=bool(t.get("bundle")),
        )
        for t in table["types"]
        if t["name"].lower() not in known and t["directory"] != "settings"
    )


TYPES = TYPES + _opaque_types()
BY_NAME: dict[str, MdType] = {t.name.lower(): t for t in TYPES}
BY_DIRECTORY: dict[str, MdType] = {}
for _t in TYPES:  # modelled types first: some folders (wave, territories) hold several types
    BY_DIRECTORY.setdefault(_t.directory.lower(), _t)
CHILD_TYPES: dict[str, tuple[MdType, str]] = {
    child.lower(): (t, element) for t in TYPES for element, child in t.children.items()
}


def type_by_name(name: str) -> MdType | None:
    """A top-level type by (case-insensitive) name."""
    return BY_NAME.get(name.lower())


def canonical_type_name(name: str) -> str | None:
    """The exact spelling of a known type or child type, None when unknown."""
    t = BY_NAME.get(name.lower())
    if t is not None:
        return t.name
    child = CHILD_TYPES.get(name.lower())
    if child is not None:
        parent, element = child
        return parent.children[element]
    for folder in FOLDER_TYPES:
        if folder.lower() == name.lower():
            return folder
    if name.lower().endswith("settings") and len(name) > len("settings"):
        return name  # ApexSettings, ChatterSettings ... (files under settings/)
    return None
