"""Reads that several domains share: many GETs in ONE API call, and the pages of such a query.

`batch_get` sends one plain GET for one resource and the composite resource for several, so a
command that needs a describe, an org id and a scope lookup spends one call of the daily limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sfops.errors import SalesforceError

if TYPE_CHECKING:
    from sfops.salesforce.org import Org


def query_path(soql: str) -> str:
    """The REST path of a query, for `batch_get`."""
    return "query/?q=" + quote(soql, safe="")


def batch_get(org: Org, paths: Mapping[str, str]) -> dict[str, Any]:
    """GET several resources (relative to /services/data/vNN.0/) in ONE API call.

    One path is a plain GET; several go through the composite resource (one call against
    the daily API limit). A failed sub-request raises its typed SalesforceError.
    """
    if not paths:
        return {}
    if len(paths) == 1:
        ((ref, path),) = paths.items()
        return {ref: org.request("GET", path)}
    sub = [{"method": "GET", "url": org.base_path + path, "referenceId": ref} for ref, path in paths.items()]
    out: dict[str, Any] = {}
    for item in org.composite(sub):
        status = int(item.get("httpStatusCode", 200))
        body = item.get("body")
        if status >= 400:
            from sfops.salesforce.faults import error_from_body

            raise error_from_body(body, status, org.base_path + paths[str(item.get("referenceId"))]) or SalesforceError(
                f"Composite sub-request {item.get('referenceId')} failed with HTTP {status}.", status=status
            )
        out[str(item.get("referenceId"))] = body
    return out


def page_records(org: Org, page: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Records of a query page fetched with `batch_get`, following nextRecordsUrl if any."""
    records = [dict(r) for r in page.get("records", [])]
    while not page.get("done", True) and page.get("nextRecordsUrl"):
        page = org.query_more(page["nextRecordsUrl"])
        records.extend(dict(r) for r in page.get("records", []))
    return records
