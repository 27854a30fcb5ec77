"""The gateway to Salesforce orgs: the only code in sfops that talks to an org.

    from sfops.salesforce import connect
    org = connect(settings.org("prod"))
    org.query("SELECT Id FROM Account LIMIT 5")

`Org`, `connect` and the Metadata API names are imported on first use (PEP 562), so importing
`sfops.salesforce.soql` does not pull in requests, simple-salesforce and zeep and
`sfops <group> --help` stays fast. The light helpers (stdlib only) are imported eagerly; they must
be, because `redact` is also a submodule name and would otherwise resolve to the module.

`Org` is THE type every domain function takes for an org (`org: Org`); the helpers several domains
share (`batch_get`, `page_records`, `with_lock_retry`, the datetime values) live here too.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sfops.salesforce.batch import batch_get, page_records, query_path
from sfops.salesforce.locks import LockRetry, with_lock_retry
from sfops.salesforce.redact import mask_token, redact
from sfops.salesforce.soql import soql_escape, soql_like, soql_literal, soql_quote
from sfops.salesforce.usage import ApiUsage
from sfops.salesforce.values import format_datetime, parse_datetime, require_datetime

if TYPE_CHECKING:
    from sfops.salesforce.metadata import DeployOptions, DeployResult, MetadataClient, RetrieveResult
    from sfops.salesforce.org import Org, OrgIdentity, connect

# lazily imported public name -> the submodule defining it
_LAZY: dict[str, str] = {
    "DeployOptions": "metadata",
    "DeployResult": "metadata",
    "MetadataClient": "metadata",
    "RetrieveResult": "metadata",
    "Org": "org",
    "OrgIdentity": "org",
    "connect": "org",
}

__all__ = [
    "ApiUsage",
    "DeployOptions",
    "DeployResult",
    "LockRetry",
    "MetadataClient",
    "Org",
    "OrgIdentity",
    "RetrieveResult",
    "batch_get",
    "connect",
    "format_datetime",
    "mask_token",
    "page_records",
    "parse_datetime",
    "query_path",
    "redact",
    "require_datetime",
    "soql_escape",
    "soql_like",
    "soql_literal",
    "soql_quote",
    "with_lock_retry",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
