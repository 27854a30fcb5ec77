"""`sfops logs pull`: copy new ApexLog bodies from an org into the local store before they expire.

* Incremental: lists ApexLog with StartTime >= the watermark (one query page per 2,000 records) and downloads
  only the bodies not stored yet (one request each: bodies cannot be batched). An empty pull costs one request.
* Crash-safe and idempotent: each log is committed in one transaction (metadata + compressed body + parsed
  summary) keyed by (org, Id); the watermark moves only to a StartTime whose logs are all committed and the
  listing is inclusive, so a kill at any moment loses nothing and a re-run duplicates nothing.
* Bounded concurrency: bodies download in parallel over the org session's keep-alive connections, at most
  `concurrency` at a time and a bounded window in memory.
* REQUEST_LIMIT_EXCEEDED stops the pull cleanly: what is committed stays, the watermark stays consistent.
* Late logs: Salesforce writes the ApexLog row when the transaction ENDS, with the StartTime of its start, so
  a long transaction can appear behind the watermark after a pull. The listing therefore looks back
  `lookback` (an hour by default) before the watermark; ids already stored are skipped.
* Truncated bodies: a body shorter than the listing's LogLength is fetched again, and never stored short.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sfops.errors import NotFoundError, RequestLimitExceededError, SfopsError
from sfops.logs.analyze import transaction_row
from sfops.logs.errors import (
    ImportResult,
    import_error_logs,
    import_event_logs,
    import_exception_objects,
    import_long_running,
)
from sfops.logs.model import Transaction
from sfops.logs.parser import LogParser
from sfops.logs.store import get_watermark, save_log, set_watermark
from sfops.salesforce.soql import soql_literal
from sfops.salesforce.values import require_datetime
from sfops.store import Store
from sfops.store.apex_logs import stored_ids

if TYPE_CHECKING:
    from sfops.salesforce import Org

LIST_FIELDS = (
    "Id",
    "LogUserId",
    "Operation",
    "Request",
    "Application",
    "Status",
    "DurationMilliseconds",
    "StartTime",
    "LogLength",
    "Location",
)
PAGE_SIZE = 2000
MAX_CONCURRENCY = 16
DEFAULT_LOOKBACK = dt.timedelta(hours=1)
BODY_ATTEMPTS = 3  # a body shorter than LogLength is fetched this many times in all
# Summary rows kept per body, failing and passing counted apart: a real log holds one transaction or a few,
# a hostile one millions; the failing rows are the ones detection reads, so a flood of passing ones cannot
# push them out.
MAX_SUMMARY_ROWS = 1000

log = logging.getLogger(__name__)


@dataclass
class PullResult:
    """What a pull did."""

    org: str
    listed: int = 0
    already_stored: int = 0
    pulled: int = 0
    body_bytes: int = 0
    deleted: int = 0
    gone: list[str] = field(default_factory=list)  # listed, but deleted in the org before the download
    errors: list[str] = field(default_factory=list)
    stopped: str | None = None  # e.g. "REQUEST_LIMIT_EXCEEDED"
    watermark: str | None = None
    failures: list[dict[str, Any]] = field(default_factory=list)  # failed transactions among the new logs
    imports: list[ImportResult] = field(default_factory=list)  # Error_Log__c / EventLogFile, when asked for

    @property
    def complete(self) -> bool:
        return self.stopped is None and not self.errors


def failure_groups(failures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Failed transactions grouped by fingerprint, most frequent first: count, category, entry point,
    limit, one example and the logs it is in (a pull of 400 identical failures is one row)."""
    groups: dict[Any, dict[str, Any]] = {}
    for row in failures:
        key = row.get("fingerprint") or (row.get("category"), row.get("entry_point"), row.get("exceptions"))
        group = groups.get(key)
        if group is None:
            groups[key] = {
                "count": 1,
                "fingerprint": row.get("fingerprint"),
                "category": row.get("category"),
                "entry_point": row.get("entry_point"),
                "limit": row.get("limit"),
                "example": row.get("exceptions"),
                "logs": [row.get("log_id")],
            }
        else:
            group["count"] += 1
            if row.get("log_id") not in group["logs"]:
                group["logs"].append(row.get("log_id"))
    return sorted(groups.values(), key=lambda g: -g["count"])


def summarize(tx: Transaction) -> dict[str, Any]:
    """What is kept per transaction for reports: the analyze row plus every limit per namespace."""
    row = transaction_row("", tx)
    row.pop("file")
    # Only limits the transaction used: zero rows carry no information for "closest to the limit" reports.
    row["limits"] = {ns: {k: [u.peak, u.max] for k, u in usages.items() if u.peak} for ns, usages in tx.limits.items()}
    return row


def summarize_body(body: bytes, log_id: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The summary rows of one log body, parsed as a stream: each transaction is summarized and dropped as soon
    as it ends, and at most MAX_SUMMARY_ROWS failing plus MAX_SUMMARY_ROWS passing rows are kept, so the memory
    a body costs does not grow with the number of transactions it holds."""
    parser = LogParser(io.BytesIO(body), log_id, metadata=metadata)
    rows: list[dict[str, Any]] = []
    kept = {True: 0, False: 0}
    dropped = 0
    for tx in parser.transactions():
        row = summarize(tx)
        failed = bool(row["failed"])
        if kept[failed] >= MAX_SUMMARY_ROWS:
            dropped += 1
            continue
        kept[failed] += 1
        rows.append(row)
    if dropped:
        log.warning(
            "log %s: %d transactions beyond the %d kept per body were not summarized", log_id, dropped, MAX_SUMMARY_ROWS
        )
    return rows


def list_query(since: dt.datetime | None) -> str:
    where = f" WHERE StartTime >= {soql_literal(since)}" if since is not None else ""
    return f"SELECT {', '.join(LIST_FIELDS)} FROM ApexLog{where} ORDER BY StartTime ASC, Id ASC"  # noqa: S608


def pull_logs(
    org: Org,
    store: Store,
    alias: str,
    *,
    concurrency: int = 4,
    delete_after_pull: bool = False,
    progress: Callable[[int, int], None] | None = None,
    lookback: dt.timedelta = DEFAULT_LOOKBACK,
) -> PullResult:
    """Pull every ApexLog newer than the watermark (less `lookback`) into `store` (see the module docstring)."""
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise SfopsError(f"--concurrency must be between 1 and {MAX_CONCURRENCY} (got {concurrency}).")
    if lookback < dt.timedelta(0):
        raise SfopsError("The look-back window cannot be negative.")
    result = PullResult(org=alias)
    watermark = get_watermark(store, alias)
    since = watermark - lookback if watermark is not None else None
    known = stored_ids(store, alias, since)
    window_size = concurrency * 4
    done = 0

    def fetch(record: dict[str, Any]) -> dict[str, Any]:
        body = _complete_body(org, record)
        summary = summarize_body(
            body, record["Id"], {"operation": record.get("Operation"), "request": record.get("Request")}
        )
        stored = save_log(store, alias, record, body, summary)
        if stored and delete_after_pull:
            org.request("DELETE", f"tooling/sobjects/ApexLog/{record['Id']}")
        return {"stored": stored, "bytes": len(body), "summary": summary}

    try:
        records = org.query_iter(list_query(since), PAGE_SIZE, tooling=True)
        with cf.ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="sfops-pull") as pool:
            for window in _windows(records, window_size):
                result.listed += len(window)
                todo = [r for r in window if r["Id"] not in known]
                result.already_stored += len(window) - len(todo)
                committed = {r["Id"] for r in window if r["Id"] in known}
                futures = {pool.submit(fetch, r): r for r in todo}
                try:
                    for future in cf.as_completed(futures):
                        record = futures[future]
                        try:
                            outcome = future.result()
                        except NotFoundError:
                            result.gone.append(record["Id"])  # deleted or expired meanwhile: nothing to keep
                            committed.add(record["Id"])
                            continue
                        except RequestLimitExceededError:
                            raise
                        except SfopsError as exc:
                            result.errors.append(f"{record['Id']}: {exc.message}")
                            continue
                        committed.add(record["Id"])
                        if outcome["stored"]:
                            result.pulled += 1
                            result.body_bytes += outcome["bytes"]
                            result.deleted += int(delete_after_pull)
                            result.failures.extend(
                                {"log_id": record["Id"], **row} for row in outcome["summary"] if row["failed"]
                            )
                        done += 1
                        if progress is not None:
                            progress(done, result.listed)
                finally:
                    for future in futures:
                        future.cancel()
                    cf.wait(futures)
                    _advance(store, alias, window, committed, result)
                if len(committed) < len(window):
                    break  # keep the watermark at the first failure; the next run retries from there
    except RequestLimitExceededError as exc:
        result.stopped = "REQUEST_LIMIT_EXCEEDED"
        result.errors.append(exc.message)
    wm = get_watermark(store, alias)
    result.watermark = wm.isoformat() if wm else None
    return result


def _complete_body(org: Org, record: dict[str, Any]) -> bytes:
    """The log body, fetched again while it is shorter than the listing's LogLength (a cut-short reply)."""
    expected = record.get("LogLength")
    body = b""
    for _attempt in range(BODY_ATTEMPTS):
        body = org.request("GET", f"tooling/sobjects/ApexLog/{record['Id']}/Body", raw=True).content
        if not isinstance(expected, int) or len(body) >= expected:
            return body
    raise SfopsError(
        f"the body came back truncated {BODY_ATTEMPTS} times ({len(body)} of {expected} bytes); "
        "not stored, the next pull tries again."
    )


def pull_history(
    org: Org,
    store: Store,
    alias: str,
    *,
    concurrency: int = 4,
    delete_after_pull: bool = False,
    errors: bool = False,
    event_logs: bool = False,
    progress: Callable[[int, int], None] | None = None,
    lookback: dt.timedelta = DEFAULT_LOOKBACK,
) -> PullResult:
    """Debug logs, then (optionally) Error_Log__c records and ApexUnexpectedException event log files."""
    result = pull_logs(
        org,
        store,
        alias,
        concurrency=concurrency,
        delete_after_pull=delete_after_pull,
        progress=progress,
        lookback=lookback,
    )
    event_importers = (import_exception_objects, import_event_logs, import_long_running)
    for wanted, importer in ((errors, import_error_logs), *((event_logs, i) for i in event_importers)):
        if not wanted or result.stopped:
            continue
        try:
            result.imports.append(importer(org, store, alias))
        except RequestLimitExceededError as exc:
            result.stopped = "REQUEST_LIMIT_EXCEEDED"
            result.errors.append(exc.message)
    return result


def _windows(records: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    window: list[dict[str, Any]] = []
    for record in records:
        window.append(record)
        if len(window) == size:
            yield window
            window = []
    if window:
        yield window


def _advance(store: Store, alias: str, window: list[dict[str, Any]], committed: set[str], result: PullResult) -> None:
    """Move the watermark to the StartTime of the first uncommitted log of the window, or past the window."""
    if not window:
        return
    pending = [require_datetime(r["StartTime"]) for r in window if r["Id"] not in committed]
    target = min(pending) if pending else require_datetime(window[-1]["StartTime"])
    current = get_watermark(store, alias)
    if current is None or target > current:
        set_watermark(store, alias, target)
