"""sfops: a production-incident companion for Salesforce orgs."""

__version__ = "0.1.0"
