"""A small realistic org for SOQL tests: Organization, Profile, User, Account/Contact, ApexLog,
a hierarchy custom setting with polymorphic SetupOwnerId, DebugLevel and TraceFlag."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sfops.emulator.ids import IdFactory
from sfops.emulator.soql.catalog import ChildRelationship, FieldInfo, MemoryCatalog, ObjectInfo

NOW = datetime(2026, 11, 26, 18, 30, 0, tzinfo=UTC)  # a Thursday


def F(name: str, type_: str = "string", ref: tuple[str, ...] = (), rel: str | None = None) -> FieldInfo:
    return FieldInfo(name, type_, ref, rel)


def build_schema(cat: MemoryCatalog) -> None:
    """Register the objects (no rows)."""
    cat.add_object(
        ObjectInfo.build(
            "Organization",
            [
                F("Id", "id"),
                F("Name"),
                F("IsSandbox", "boolean"),
                F("InstanceName"),
                F("OrganizationType"),
            ],
        )
    )
    cat.add_object(ObjectInfo.build("Profile", [F("Id", "id"), F("Name")]))
    cat.add_object(
        ObjectInfo.build(
            "User",
            [
                F("Id", "id"),
                F("Name"),
                F("Username"),
                F("Email", "email"),
                F("IsActive", "boolean"),
                F("ProfileId", "reference", ("Profile",), "Profile"),
                F("CreatedDate", "datetime"),
            ],
        )
    )
    cat.add_object(
        ObjectInfo.build(
            "Account",
            [
                F("Id", "id"),
                F("Name"),
                F("Industry", "picklist"),
                F("AnnualRevenue", "currency"),
                F("NumberOfEmployees", "int"),
                F("Rating", "picklist"),
                F("CreatedDate", "datetime"),
                F("LastActivityDate", "date"),
                F("OwnerId", "reference", ("User",), "Owner"),
                F("ParentId", "reference", ("Account",), "Parent"),
                F("Tags__c", "multipicklist"),
                F("Description", "textarea"),
                F("IsDeleted", "boolean"),
                F("Active__c", "boolean"),
            ],
            [
                ChildRelationship("Contacts", "Contact", "AccountId"),
                ChildRelationship("ChildAccounts", "Account", "ParentId"),
            ],
        )
    )
    cat.add_object(
        ObjectInfo.build(
            "Contact",
            [
                F("Id", "id"),
                F("LastName"),
                F("Email", "email"),
                F("AccountId", "reference", ("Account",), "Account"),
                F("IsDeleted", "boolean"),
            ],
        )
    )
    cat.add_object(
        ObjectInfo.build(
            "ApexLog",
            [
                F("Id", "id"),
                F("LogUserId", "reference", ("User",), "LogUser"),
                F("Operation"),
                F("Status"),
                F("StartTime", "datetime"),
                F("LogLength", "int"),
                F("DurationMilliseconds", "int"),
                F("Request"),
                F("Location", "picklist"),
                F("Application"),
            ],
        )
    )
    cat.add_object(
        ObjectInfo.build(
            "Kill_Switch__c",
            [
                F("Id", "id"),
                F("Name"),
                F("SetupOwnerId", "reference", ("Organization", "Profile", "User"), "SetupOwner"),
                F("Disable_Triggers__c", "boolean"),
                F("Disable_Integrations__c", "boolean"),
            ],
        )
    )
    cat.add_object(
        ObjectInfo.build(
            "DebugLevel",
            [
                F("Id", "id"),
                F("DeveloperName"),
                F("MasterLabel"),
                F("ApexCode", "picklist"),
                F("Database", "picklist"),
            ],
        )
    )
    cat.add_object(
        ObjectInfo.build(
            "TraceFlag",
            [
                F("Id", "id"),
                F("DebugLevelId", "reference", ("DebugLevel",), "DebugLevel"),
                F("TracedEntityId", "reference", ("User",), "TracedEntity"),
                F("LogType", "picklist"),
                F("StartDate", "datetime"),
                F("ExpirationDate", "datetime"),
            ],
        )
    )


class Org:
    """Handles to the seeded rows by role."""

    def __init__(self) -> None:
        self.cat = MemoryCatalog()
        build_schema(self.cat)
        ids = IdFactory()
        ins = self.cat.insert
        self.org = ins(
            "Organization",
            {
                "Id": ids.new("00D"),
                "Name": "Acme Prod",
                "IsSandbox": False,
                "InstanceName": "EU42",
                "OrganizationType": "Enterprise Edition",
            },
        )
        self.admin_profile = ins("Profile", {"Id": ids.new("00e"), "Name": "System Administrator"})
        self.std_profile = ins("Profile", {"Id": ids.new("00e"), "Name": "Standard User"})
        self.alice = ins(
            "User",
            {
                "Id": ids.new("005"),
                "Name": "Alice Admin",
                "Username": "alice@acme.test",
                "Email": "alice@acme.test",
                "IsActive": True,
                "ProfileId": self.admin_profile["Id"],
                "CreatedDate": "2025-01-10T08:00:00.000+0000",
            },
        )
        self.bob = ins(
            "User",
            {
                "Id": ids.new("005"),
                "Name": "Bob Builder",
                "Username": "bob@acme.test",
                "Email": "bob@acme.test",
                "IsActive": False,
                "ProfileId": self.std_profile["Id"],
                "CreatedDate": "2026-11-25T23:59:59.000+0000",
            },
        )
        accounts = [
            (
                "Acme",
                "Technology",
                1_000_000.0,
                120,
                "Hot",
                "2026-11-26T09:15:00.000+0000",
                "2026-11-26",
                "red;green",
                "Big one",
                False,
                True,
            ),
            (
                "acme subsidiary",
                "Technology",
                250_000.0,
                15,
                None,
                "2026-11-25T10:00:00.000+0000",
                "2026-11-20",
                "green",
                None,
                False,
                False,
            ),
            (
                "Globex",
                "Energy",
                None,
                3000,
                "Warm",
                "2026-10-01T00:00:00.000+0000",
                None,
                None,
                "Energy giant",
                False,
                True,
            ),
            (
                "Initech",
                None,
                90_000.5,
                40,
                "Cold",
                "2025-06-30T12:00:00.000+0000",
                "2025-07-01",
                "blue",
                None,
                False,
                False,
            ),
            (
                "Umbrella_Corp%",
                "Pharma",
                5_000_000.0,
                None,
                "Hot",
                "2026-11-26T00:00:00.000+0000",
                "2026-11-27",
                "red;blue",
                None,
                False,
                True,
            ),
            ("Deleted Co", "Energy", 1.0, 1, None, "2026-01-01T00:00:00.000+0000", None, None, None, True, False),
        ]
        self.accounts = []
        for name, industry, revenue, employees, rating, created, activity, tags, desc, deleted, active in accounts:
            self.accounts.append(
                ins(
                    "Account",
                    {
                        "Id": ids.new("001"),
                        "Name": name,
                        "Industry": industry,
                        "AnnualRevenue": revenue,
                        "NumberOfEmployees": employees,
                        "Rating": rating,
                        "CreatedDate": created,
                        "LastActivityDate": activity,
                        "OwnerId": (self.alice if len(self.accounts) % 2 == 0 else self.bob)["Id"],
                        "ParentId": None,
                        "Tags__c": tags,
                        "Description": desc,
                        "IsDeleted": deleted,
                        "Active__c": active,
                    },
                )
            )
        self.accounts[1]["ParentId"] = self.accounts[0]["Id"]
        self.contacts = [
            ins(
                "Contact",
                {
                    "Id": ids.new("003"),
                    "LastName": "Smith",
                    "Email": "s@acme.test",
                    "AccountId": self.accounts[0]["Id"],
                    "IsDeleted": False,
                },
            ),
            ins(
                "Contact",
                {
                    "Id": ids.new("003"),
                    "LastName": "Jones",
                    "Email": None,
                    "AccountId": self.accounts[0]["Id"],
                    "IsDeleted": False,
                },
            ),
            ins(
                "Contact",
                {
                    "Id": ids.new("003"),
                    "LastName": "Brown",
                    "Email": "b@globex.test",
                    "AccountId": self.accounts[2]["Id"],
                    "IsDeleted": False,
                },
            ),
            ins(
                "Contact",
                {"Id": ids.new("003"), "LastName": "Orphan", "Email": None, "AccountId": None, "IsDeleted": False},
            ),
        ]
        self.logs = [
            ins(
                "ApexLog",
                {
                    "Id": ids.new("07L"),
                    "LogUserId": self.alice["Id"],
                    "Operation": "/apex/Home",
                    "Status": "Success",
                    "StartTime": "2026-11-26T18:00:00.000+0000",
                    "LogLength": 14106,
                    "DurationMilliseconds": 361,
                    "Request": "Api",
                    "Location": "Monitoring",
                    "Application": "Unknown",
                },
            ),
            ins(
                "ApexLog",
                {
                    "Id": ids.new("07L"),
                    "LogUserId": self.bob["Id"],
                    "Operation": "Batch Apex",
                    "Status": "System.LimitException: Too many SOQL queries: 101",
                    "StartTime": "2026-11-25T03:00:00.000+0000",
                    "LogLength": 2_000_000,
                    "DurationMilliseconds": 9000,
                    "Request": "Application",
                    "Location": "SystemLog",
                    "Application": "Unknown",
                },
            ),
            ins(
                "ApexLog",
                {
                    "Id": ids.new("07L"),
                    "LogUserId": self.alice["Id"],
                    "Operation": "Trigger",
                    "Status": "Success",
                    "StartTime": "2026-11-19T18:30:00.000+0000",
                    "LogLength": 500,
                    "DurationMilliseconds": 20,
                    "Request": "Api",
                    "Location": "Monitoring",
                    "Application": "Unknown",
                },
            ),
        ]
        self.switch_org = ins(
            "Kill_Switch__c",
            {
                "Id": ids.new("a01"),
                "Name": "org",
                "SetupOwnerId": self.org["Id"],
                "Disable_Triggers__c": False,
                "Disable_Integrations__c": True,
            },
        )
        self.switch_profile = ins(
            "Kill_Switch__c",
            {
                "Id": ids.new("a01"),
                "Name": "profile",
                "SetupOwnerId": self.std_profile["Id"],
                "Disable_Triggers__c": True,
                "Disable_Integrations__c": False,
            },
        )
        self.switch_user = ins(
            "Kill_Switch__c",
            {
                "Id": ids.new("a01"),
                "Name": "user",
                "SetupOwnerId": self.alice["Id"],
                "Disable_Triggers__c": True,
                "Disable_Integrations__c": True,
            },
        )
        self.debug_level = ins(
            "DebugLevel",
            {
                "Id": ids.new("7dl"),
                "DeveloperName": "SFOPS_Finest",
                "MasterLabel": "SFOPS Finest",
                "ApexCode": "FINEST",
                "Database": "INFO",
            },
        )
        self.trace_flag = ins(
            "TraceFlag",
            {
                "Id": ids.new("7tf"),
                "DebugLevelId": self.debug_level["Id"],
                "TracedEntityId": self.alice["Id"],
                "LogType": "USER_DEBUG",
                "StartDate": "2026-11-26T18:00:00.000+0000",
                "ExpirationDate": "2026-11-26T19:00:00.000+0000",
            },
        )


@pytest.fixture
def org() -> Org:
    return Org()


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def run(org: Org):
    """run(text, **kwargs) -> QueryResult against the seeded org at NOW."""
    from sfops.emulator.soql import execute

    return lambda text, **kw: execute(text, org.cat, now=NOW, **kw)
