"""Seeding: the org, profiles, users, the demo connected app, the companion schema from force-app/,
and (with `--seed demo`) extra users, debug logs and sample data.

Credentials are demo-only and configurable: `EmulatorSettings.admin_username/admin_password`
(env SFOPS_EMULATOR_ADMIN_PASSWORD), `client_id/client_secret` (env SFOPS_EMULATOR_CLIENT_SECRET).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sfops.emulator import ids
from sfops.emulator.metadata.host import MdUser
from sfops.emulator.schema import SchemaError, field_from_metadata_xml, object_from_metadata_xml
from sfops.emulator.values import fmt_datetime, now_utc

if TYPE_CHECKING:
    from sfops.emulator.app import Emulator

SEED_DATA = Path(__file__).resolve().parent / "seed_data"
# The companion metadata: in a checkout a link to the repository's force-app/ (the SFDX project's
# one copy), in an installed package the same files copied in by the build.
PACKAGED_FORCE_APP = SEED_DATA / "force-app"
APEX_API_VERSION = 64.0


def force_app_dir(explicit: Path | None = None) -> Path | None:
    """The force-app/ to load: `explicit` (EmulatorSettings.force_app), else the companion metadata
    shipped with sfops. None when the chosen directory holds no main/default."""
    candidate = explicit or PACKAGED_FORCE_APP
    return candidate if (candidate / "main" / "default").is_dir() else None


def seed(emu: Emulator) -> None:
    """Seed a fresh store (called when no org exists yet)."""
    s = emu.settings
    with emu.store.transaction():
        emu.org_id = emu.ids.new("00D")
        now = fmt_datetime(now_utc())
        profiles = {}
        for name in ("System Administrator", "Standard User", "Minimum Access - Salesforce"):
            profiles[name] = emu.ids.new("00e")
        role = emu.ids.new("00E")
        admin_id = emu.ids.new("005")
        audit = {
            "CreatedDate": now,
            "CreatedById": admin_id,
            "LastModifiedDate": now,
            "LastModifiedById": admin_id,
            "SystemModstamp": now,
        }
        emu.store.put(
            "Organization",
            {
                "Id": emu.org_id,
                "Name": s.org_name,
                "Division": None,
                "Country": "US",
                "PrimaryContact": "Ada Admin",
                "DefaultLocaleSidKey": "en_US",
                "TimeZoneSidKey": "Europe/London",
                "LanguageLocaleKey": "en_US",
                "FiscalYearStartMonth": 1,
                "OrganizationType": "Developer Edition",
                "NamespacePrefix": None,
                "InstanceName": "EMU1",
                "IsSandbox": False,
                "IsReadOnly": False,
                "TrialExpirationDate": None,
                "UiSkin": "Theme3",
                "ReceivesInfoEmails": False,
                "ReceivesAdminInfoEmails": False,
                "Latitude": None,
                "Longitude": None,
                "Address": {
                    "city": None,
                    "country": "US",
                    "geocodeAccuracy": None,
                    "latitude": None,
                    "longitude": None,
                    "postalCode": None,
                    "state": None,
                    "street": None,
                },
                "PreferencesConsentManagementEnabled": True,
                "PreferencesLightningLoginEnabled": True,
                "UsesStartDateAsFiscalYearName": False,
                "NumKnowledgeService": 0,
                "MonthlyPageViewsUsed": 0,
                "MonthlyPageViewsEntitlement": 0,
                "DefaultAccountAccess": "Edit",
                "DefaultContactAccess": "ControlledByParent",
                "DefaultOpportunityAccess": "Edit",
                "DefaultLeadAccess": "ReadEditTransfer",
                "DefaultCaseAccess": "ReadEditTransfer",
                "DefaultCalendarAccess": "HideDetailsInsert",
                "DefaultPricebookAccess": "ReadSelect",
                "DefaultCampaignAccess": "All",
                "SignupCountryIsoCode": "US",
                "WebToCaseDefaultOrigin": "Web",
                **audit,
            },
        )
        for name, pid in profiles.items():
            emu.store.put("Profile", {"Id": pid, "Name": name, "Description": None, "UserType": "Standard", **audit})
        emu.store.put(
            "UserRole", {"Id": role, "Name": "Operations", "DeveloperName": "Operations", "ParentRoleId": None, **audit}
        )
        _user(emu, admin_id, s.admin_username, "Ada", "Admin", profiles["System Administrator"], role, audit)
        if s.seed == "demo":
            _user(
                emu, emu.ids.new("005"), "oncall@sfops.demo", "Omar", "Oncall", profiles["Standard User"], role, audit
            )
            _user(
                emu,
                emu.ids.new("005"),
                "integration@sfops.demo",
                "Ivy",
                "Integration",
                profiles["Minimum Access - Salesforce"],
                None,
                audit,
            )
        emu.save_meta()
        root = force_app_dir(s.force_app)
        if not deploy_force_app(emu, root):
            load_force_app(emu, root)
        configure_credentials(emu)
        if s.seed == "demo":
            seed_demo(emu)
        emu.save_meta()


def _user(
    emu: Emulator,
    uid: str,
    username: str,
    first: str,
    last: str,
    profile: str,
    role: str | None,
    audit: Mapping[str, Any],
) -> None:
    emu.store.put(
        "User",
        {
            "Id": uid,
            "Username": username,
            "FirstName": first,
            "LastName": last,
            "Name": f"{first} {last}",
            "Email": username.replace("@sfops.demo", "@example.com"),
            "Alias": (first[0] + last[:4]).lower(),
            "IsActive": True,
            "ProfileId": profile,
            "UserRoleId": role,
            "TimeZoneSidKey": "Europe/London",
            "LocaleSidKey": "en_GB",
            "LanguageLocaleKey": "en_US",
            "EmailEncodingKey": "UTF-8",
            "UserType": "Standard",
            "Title": None,
            "Department": None,
            "ManagerId": None,
            "LastLoginDate": None,
            **audit,
        },
    )


def configure_credentials(emu: Emulator) -> None:
    """(Re)write the admin's password and the demo connected app from the settings."""
    s = emu.settings
    emu.store.put_json(
        "credential", s.admin_username.lower(), {"password": s.admin_password, "security_token": s.security_token}
    )
    for extra in ("oncall@sfops.demo", "integration@sfops.demo"):
        if emu.user_by_username(extra) is not None:
            emu.store.put_json("credential", extra, {"password": s.admin_password, "security_token": ""})
    app = {"client_secret": s.client_secret, "certificate": s.jwt_certificate, "run_as": None}
    existing = emu.store.get_json("connected_app", s.client_id) or {}
    if existing.get("certificate") and not s.jwt_certificate:
        app["certificate"] = existing["certificate"]
    emu.store.put_json("connected_app", s.client_id, app)


def load_force_app(emu: Emulator, root: Path | None) -> list[str]:
    """Load objects, fields, Apex classes and triggers from an SFDX source tree. Returns object names."""
    if root is None:
        return []
    base = root / "main" / "default"
    loaded = []
    for obj_dir in sorted((base / "objects").glob("*")) if (base / "objects").is_dir() else []:
        meta = obj_dir / f"{obj_dir.name}.object-meta.xml"
        if not meta.is_file():
            continue
        field_defs = []
        for fpath in sorted((obj_dir / "fields").glob("*.field-meta.xml")):
            try:
                field_defs.append(field_from_metadata_xml(fpath.read_bytes(), obj_dir.name, fpath.name.split(".")[0]))
            except SchemaError:
                continue  # a broken companion field must not stop the emulator; deploys report it
        emu.schema.upsert_object(object_from_metadata_xml(meta.read_bytes(), obj_dir.name, field_defs))
        loaded.append(obj_dir.name)
    for kind, folder, suffix in (("ApexClass", "classes", ".cls"), ("ApexTrigger", "triggers", ".trigger")):
        for src in sorted((base / folder).glob(f"*{suffix}")) if (base / folder).is_dir() else []:
            body = src.read_text(encoding="utf-8")
            meta_path = src.with_name(src.name + "-meta.xml")
            version = APEX_API_VERSION
            if meta_path.is_file():
                m = re.search(r"<apiVersion>([\d.]+)</apiVersion>", meta_path.read_text(encoding="utf-8"))
                version = float(m.group(1)) if m else version
            fields: dict[str, Any] = {
                "Name": src.stem,
                "Body": body,
                "ApiVersion": version,
                "Status": "Active",
                "IsValid": True,
                "LengthWithoutComments": len(_strip_comments(body)),
                "NamespacePrefix": None,
            }
            if kind == "ApexTrigger":
                m = re.search(r"trigger\s+\w+\s+on\s+(\w+)", body, re.IGNORECASE)
                fields["TableEnumOrId"] = m.group(1) if m else None
            emu.insert_system(kind, fields)
    return loaded


def source_to_mdapi_zip(root: Path) -> bytes:
    """Convert an SFDX source tree (objects, fields, list views, classes, triggers, permission sets)
    into a metadata-format zip with package.xml, the way `sf project convert source` lays it out."""
    import io
    import zipfile
    from xml.etree import ElementTree as StdET  # serialising only; parsing goes through defusedxml

    from defusedxml import ElementTree as SafeET

    from sfops.emulator.schema import MD_NS

    StdET.register_namespace("", MD_NS)
    base = root / "main" / "default"
    members: dict[str, list[str]] = {}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for obj_dir in sorted((base / "objects").glob("*")) if (base / "objects").is_dir() else []:
            meta = obj_dir / f"{obj_dir.name}.object-meta.xml"
            if not meta.is_file():
                continue
            obj = SafeET.fromstring(meta.read_bytes())
            for sub, tag in (
                ("fields", "fields"),
                ("listViews", "listViews"),
                ("validationRules", "validationRules"),
                ("recordTypes", "recordTypes"),
            ):
                for part in sorted((obj_dir / sub).glob("*-meta.xml")) if (obj_dir / sub).is_dir() else []:
                    elem = SafeET.fromstring(part.read_bytes())
                    elem.tag = f"{{{MD_NS}}}{tag}"
                    if elem.find(f"{{{MD_NS}}}fullName") is None:
                        full = StdET.Element(f"{{{MD_NS}}}fullName")
                        full.text = part.name.split(".")[0]
                        elem.insert(0, full)
                    obj.append(elem)
            zf.writestr(
                f"objects/{obj_dir.name}.object", b'<?xml version="1.0" encoding="UTF-8"?>\n' + StdET.tostring(obj)
            )
            members.setdefault("CustomObject", []).append(obj_dir.name)
        for folder, suffix, type_name in (("classes", ".cls", "ApexClass"), ("triggers", ".trigger", "ApexTrigger")):
            for src in sorted((base / folder).glob(f"*{suffix}")) if (base / folder).is_dir() else []:
                zf.writestr(f"{folder}/{src.name}", src.read_bytes())
                meta_path = src.with_name(src.name + "-meta.xml")
                if meta_path.is_file():
                    zf.writestr(f"{folder}/{meta_path.name}", meta_path.read_bytes())
                members.setdefault(type_name, []).append(src.stem)
        perm_dir = base / "permissionsets"
        for perm in sorted(perm_dir.glob("*.permissionset-meta.xml")) if perm_dir.is_dir() else []:
            name = perm.name.split(".")[0]
            zf.writestr(f"permissionsets/{name}.permissionset", perm.read_bytes())
            members.setdefault("PermissionSet", []).append(name)
        types = "".join(
            "<types>" + "".join(f"<members>{m}</members>" for m in sorted(names)) + f"<name>{t}</name></types>"
            for t, names in sorted(members.items())
        )
        zf.writestr(
            "package.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><Package xmlns="{MD_NS}">{types}'
            f"<version>{APEX_API_VERSION}</version></Package>",
        )
    return buf.getvalue()


def deploy_force_app(emu: Emulator, root: Path | None) -> bool:
    """Deploy force-app through the Metadata API service (so retrieve/listMetadata know the
    components). Returns False when the deploy failed; the caller then loads the tree directly."""
    if root is None:
        return False
    service = emu.metadata_service()
    admin = emu.record("User", emu.admin_user_id()) or {}
    # the admin deploys the companion, so listMetadata/retrieve name a user (not the org) as its creator
    deployer = MdUser(admin.get("Id") or emu.org_id, admin.get("Name") or "Emulator Seed")
    try:
        result = service.deploy_zip_now(
            source_to_mdapi_zip(root), {"rollbackOnError": True, "singlePackage": True}, deployer
        )
    except Exception as exc:  # a seeding failure must not stop the emulator; fall back and record why
        emu.store.put_json("meta", "seed_warning", f"force-app deploy raised {type(exc).__name__}: {exc}")
        return False
    ok = bool(result.get("success")) and result.get("status") == "Succeeded"
    if not ok:
        emu.store.put_json(
            "meta", "seed_warning", {"force-app deploy": result.get("status"), "details": result.get("details")}
        )
    return ok


def _strip_comments(body: str) -> str:
    return re.sub(r"/\*.*?\*/|//[^\n]*", "", body, flags=re.DOTALL)


def seed_demo(emu: Emulator) -> None:
    """Demo extras: debug logs with real bodies, a debug level, org-level settings records."""
    admin = emu.admin_user_id()
    start = now_utc() - timedelta(hours=2)
    for i, path in enumerate(sorted((SEED_DATA / "apexlogs").glob("*.log"))):
        body = path.read_text(encoding="utf-8")
        failed = "EXCEPTION_THROWN" in body or "FATAL_ERROR" in body
        emu.add_apexlog(
            body,
            {
                "LogUserId": admin,
                "StartTime": fmt_datetime(start + timedelta(minutes=17 * i)),
                "Operation": "/services/data/v64.0/tooling/executeAnonymous/" if "Execute Anonymous" in body else "Api",
                "Status": "Assertion Failed" if failed else "Success",
                "DurationMilliseconds": 120 + 40 * i,
            },
        )
    emu.insert_system(
        "DebugLevel",
        {
            "DeveloperName": "SFOPS_DEBUG",
            "MasterLabel": "SFOPS_DEBUG",
            "Language": "en_US",
            "ApexCode": "FINEST",
            "ApexProfiling": "INFO",
            "Callout": "INFO",
            "Database": "INFO",
            "System": "DEBUG",
            "Validation": "INFO",
            "Visualforce": "INFO",
            "Workflow": "INFO",
        },
    )
    ks = emu.schema.get("Kill_Switch__c")
    if ks is not None:
        values = {f.name: True for f in ks.fields.values() if f.custom and f.type == "boolean"}
        emu.records.create(ks, {"SetupOwnerId": emu.org_id, **values}, admin)


def anonymous_log_body(emu: Emulator, user_id: str, apex: str, result: Mapping[str, Any], now: datetime) -> str:
    """A small, well-formed debug log for an Execute Anonymous run (Apex does not really run)."""
    t = now.strftime("%H:%M:%S.0")
    user = emu.record("User", user_id) or {}
    lines = [
        "64.0 APEX_CODE,FINEST;APEX_PROFILING,INFO;CALLOUT,INFO;DB,INFO;SYSTEM,DEBUG;VALIDATION,INFO;"
        "VISUALFORCE,INFO;WORKFLOW,INFO"
    ]
    lines += [f"Execute Anonymous: {line}" for line in apex.splitlines() or [""]]
    lines += [
        f"{t} (1000000)|USER_INFO|[EXTERNAL]|{ids.to15(user_id)}|{user.get('Username', '')}|"
        "(GMT+00:00) Greenwich Mean Time (Europe/London)|GMT+00:00",
        f"{t} (1100000)|EXECUTION_STARTED",
        f"{t} (1200000)|CODE_UNIT_STARTED|[EXTERNAL]|execute_anonymous_apex",
    ]
    if result.get("exceptionMessage"):
        lines.append(f"{t} (1300000)|FATAL_ERROR|{result['exceptionMessage']}")
    lines += [
        f"{t} (1400000)|CUMULATIVE_LIMIT_USAGE",
        f"{t} (1400000)|LIMIT_USAGE_FOR_NS|(default)|",
        "  Number of SOQL queries: 0 out of 100",
        "  Number of query rows: 0 out of 50000",
        "  Number of DML statements: 0 out of 150",
        "  Maximum CPU time: 0 out of 10000",
        "  Maximum heap size: 0 out of 6000000",
        "",
        f"{t} (1400000)|CUMULATIVE_LIMIT_USAGE_END",
        "",
        f"{t} (1500000)|CODE_UNIT_FINISHED|execute_anonymous_apex",
        f"{t} (1600000)|EXECUTION_FINISHED",
        "",
    ]
    return "\n".join(lines)
