"""A deploy of one Apex class through the Metadata API (the change the tests look for in the history)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from sfops.salesforce.metadata import DeployOptions, MetadataClient

PACKAGE = """<?xml version="1.0" encoding="UTF-8"?>
<Package xmlns="http://soap.sforce.com/2006/04/metadata">
    <types><members>QuoteGuard</members><name>ApexClass</name></types>
    <version>64.0</version>
</Package>
"""
META = """<?xml version="1.0" encoding="UTF-8"?>
<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata"><apiVersion>64.0</apiVersion><status>Active</status></ApexClass>
"""


def deploy_quote_guard(org: Any) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("package.xml", PACKAGE)
        z.writestr(
            "classes/QuoteGuard.cls", "public with sharing class QuoteGuard {\n    public static void check() {}\n}\n"
        )
        z.writestr("classes/QuoteGuard.cls-meta.xml", META)
    client = MetadataClient(org, sleep=lambda _s: None)
    result = client.poll(client.deploy(buffer.getvalue(), DeployOptions(test_level="NoTestRun")), timeout=60)
    assert result.status == "Succeeded", result.component_failures
    return result.id
