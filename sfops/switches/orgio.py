"""Small adapters over the `sfops.salesforce.Org` session used by switches and breakers.

They keep the domain code independent of the exact shapes the gateway returns (a query
result as a list of records or as the raw `{records: [...]}` page, a create result as an
id or a SaveResult) and centralise the retry on UNABLE_TO_LOCK_ROW.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sfops.errors import RecordLockedError, SalesforceError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter for UNABLE_TO_LOCK_ROW."""

    attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 2.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def with_lock_retry(action: Callable[[], T], policy: RetryPolicy) -> tuple[T, int]:
    """Run `action`, retrying on RecordLockedError; returns (result, attempts used)."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return action(), attempt
        except RecordLockedError:
            if attempt >= policy.attempts:
                raise
            policy.sleep(policy.delay(attempt))


def query_records(org: Any, soql: str) -> list[dict[str, Any]]:
    """All records of a query (following pages if the gateway hands back a raw page)."""
    result = org.query_all(soql) if hasattr(org, "query_all") else org.query(soql)
    if isinstance(result, Mapping):
        return [dict(r) for r in result.get("records", [])]
    return [dict(r) for r in result]


def created_id(result: Any) -> str:
    """The id from a create result (an id string, a SaveResult dict, or an object with .id)."""
    if isinstance(result, str):
        return result
    if isinstance(result, Mapping):
        return str(result.get("id") or result.get("Id"))
    return str(result.id)


def org_key(org: Any) -> str:
    """The name audit records use for an org: its alias when known, else its org id."""
    for attr in ("alias",):
        value = getattr(org, attr, None)
        if isinstance(value, str) and value:
            return value
    config = getattr(org, "config", None)
    if config is not None and getattr(config, "alias", None):
        return str(config.alias)
    return str(org.identity.org_id)


def soql_in(ids: Iterable[str], quote: Callable[[str], str]) -> str:
    """`('a','b')` for an IN clause, every value escaped."""
    return "(" + ",".join(quote(i) for i in ids) + ")"


def is_duplicate(error: SalesforceError) -> bool:
    """A create refused because a record already exists for the owner."""
    return error.error_code in ("DUPLICATE_VALUE", "DUPLICATE_SETUP_OWNER")


def parse_datetime(value: Any) -> dt.datetime | None:
    """A Salesforce datetime (`2026-11-26T18:00:00.000+0000`) as an aware datetime."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    text = str(value)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def format_datetime(value: dt.datetime) -> str:
    """An aware datetime in the form Salesforce accepts for datetime fields."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def batch_get(org: Any, paths: Mapping[str, str]) -> dict[str, Any]:
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

            raise error_from_body(body, status) or SalesforceError(
                f"Composite sub-request {item.get('referenceId')} failed with HTTP {status}.", status=status)
        out[str(item.get("referenceId"))] = body
    return out


def query_path(soql: str) -> str:
    """The REST path of a query, for `batch_get`."""
    from urllib.parse import quote

    return "query/?q=" + quote(soql, safe="")


def page_records(org: Any, page: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Records of a query page fetched with `batch_get`, following nextRecordsUrl if any."""
    records = [dict(r) for r in page.get("records", [])]
    while not page.get("done", True) and page.get("nextRecordsUrl"):
        page = org.query_more(page["nextRecordsUrl"])
        records.extend(dict(r) for r in page.get("records", []))
    return records
