"""Every supported kind of file survives deploy -> retrieve unchanged (bundles, folders, -meta.xml
pairs, settings), and custom metadata records need their type."""

from __future__ import annotations

import base64

from md_support import (
    Client,
    MemoryHost,
    custom_object,
    failures,
    field,
    package_xml,
    read_zip,
    result_of,
    soap_check_retrieve,
    soap_retrieve,
)

from sfops.emulator.metadata import MetadataService

MD = 'xmlns="http://soap.sforce.com/2006/04/metadata"'


def _meta(root: str, inner: str = "<apiVersion>62.0</apiVersion>") -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} {MD}>{inner}</{root}>\n'


FILES = {
    "pages/Status.page": "<apex:page>ok</apex:page>",
    "pages/Status.page-meta.xml": _meta("ApexPage", "<apiVersion>62.0</apiVersion><label>Status</label>"),
    "staticresources/logo.resource": "\x89PNG-not-really",
    "staticresources/logo.resource-meta.xml": _meta(
        "StaticResource", "<cacheControl>Public</cacheControl><contentType>image/png</contentType>"
    ),
    "lwc/statusBanner/statusBanner.js": "import { LightningElement } from 'lwc';\nexport default class X "
    "extends LightningElement {}\n",
    "lwc/statusBanner/statusBanner.html": "<template><p>ok</p></template>\n",
    "lwc/statusBanner/statusBanner.js-meta.xml": _meta(
        "LightningComponentBundle", "<apiVersion>62.0</apiVersion><isExposed>false</isExposed>"
    ),
    "flows/Escalate.flow": _meta(
        "Flow",
        "<apiVersion>62.0</apiVersion><label>Escalate</label>"
        "<processType>AutoLaunchedFlow</processType><status>Active</status>",
    ),
    "email/Ops-meta.xml": _meta(
        "EmailFolder",
        "<accessType>Public</accessType><name>Ops</name><publicFolderAccess>ReadWrite</publicFolderAccess>",
    ),
    "email/Ops/Incident.email": "Incident {!Case.Subject}",
    "email/Ops/Incident.email-meta.xml": _meta(
        "EmailTemplate", "<available>true</available><name>Incident</name><style>none</style><type>text</type>"
    ),
    "tabs/Thing__c.tab": _meta("CustomTab", "<customObject>true</customObject><motif>Custom1: Heart</motif>"),
    "platformEventChannels/Ops.platformEventChannel": _meta(
        "PlatformEventChannel", "<channelType>event</channelType><label>Ops</label>"
    ),
    "profiles/Admin.profile": _meta("Profile", "<custom>false</custom>"),
    "objects/Thing__c.object": custom_object("Thing__c"),
    "objects/Config__mdt.object": custom_object("Config__mdt", label="Config"),
    "customMetadata/Config.Default.md": _meta("CustomMetadata", "<label>Default</label><protected>false</protected>"),
}
TYPES = {
    "ApexPage": ["Status"],
    "StaticResource": ["logo"],
    "LightningComponentBundle": ["statusBanner"],
    "Flow": ["Escalate"],
    "EmailTemplate": ["Ops", "Ops/Incident"],
    "CustomTab": ["Thing__c"],
    "PlatformEventChannel": ["Ops"],
    "Profile": ["Admin"],
    "CustomObject": ["Thing__c", "Config__mdt"],
    "CustomMetadata": ["Config.Default"],
}


def test_deploy_then_retrieve_gives_back_the_same_files() -> None:
    client = Client(MetadataService(MemoryHost()))
    done = client.deploy_and_wait({"package.xml": package_xml(TYPES), **FILES})
    assert field(done, "mt:status") == "Succeeded", failures(done)
    assert field(done, "mt:numberComponentsDeployed") == "12"
    status, body = client.post(
        soap_retrieve({t: ["*"] for t in TYPES if t != "CustomObject"} | {"EmailTemplate": ["Ops/Incident"]})
    )
    assert status == 200
    retrieve_id = field(result_of(body, "retrieve"), "mt:id")
    _, body = client.post(soap_check_retrieve(retrieve_id))
    files = read_zip(base64.b64decode(field(result_of(body, "checkRetrieveStatus"), "mt:zipFile")))
    expected = {p: c for p, c in FILES.items() if not p.startswith(("objects/", "email/Ops-meta"))}
    assert {p: files.get(p) for p in expected} == expected


def test_custom_metadata_record_needs_its_type() -> None:
    client = Client(MetadataService(MemoryHost()))
    done = client.deploy_and_wait(
        {
            "package.xml": package_xml({"CustomMetadata": ["Missing.Default"]}),
            "customMetadata/Missing.Default.md": FILES["customMetadata/Config.Default.md"],
        }
    )
    assert failures(done)[0]["problem"] == "In field: type - no CustomObject named Missing__mdt found"
