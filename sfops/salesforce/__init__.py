"""The gateway to Salesforce orgs: the only code in sfops that talks to an org.

    from sfops.salesforce import connect
    org = connect(settings.org("prod"))
    org.query("SELECT Id FROM Account LIMIT 5")
"""

from sfops.salesforce.metadata import DeployOptions, DeployResult, MetadataClient, RetrieveResult
from sfops.salesforce.org import Org, OrgIdentity, connect
from sfops.salesforce.redact import mask_token, redact
from sfops.salesforce.soql import soql_escape, soql_like, soql_literal, soql_quote
from sfops.salesforce.usage import ApiUsage

__all__ = [
    "ApiUsage",
    "DeployOptions",
    "DeployResult",
    "MetadataClient",
    "Org",
    "OrgIdentity",
    "RetrieveResult",
    "connect",
    "mask_token",
    "redact",
    "soql_escape",
    "soql_like",
    "soql_literal",
    "soql_quote",
]
