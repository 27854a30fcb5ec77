"""Failure classification of a parsed transaction: category, evidence, runbook hint and fingerprint.

The signatures are the documented Salesforce texts collected in the reference notes (LimitException messages,
UNABLE_TO_LOCK_ROW, CalloutException, non-selective query, flow and validation errors). Every category that
matches is kept; the first in CATEGORY_ORDER is the primary one.
"""

from __future__ import annotations

import hashlib
import re

from sfops.logs.model import Classification, ExceptionInfo, Transaction

CATEGORY_ORDER = (
    "governor_limit",
    "row_lock",
    "callout",
    "non_selective_query",
    "sharing_recalc",
    "validation_flow",
    "other",
)

# One-line runbook hints; the full runbook per category is in docs/logs-and-limits.md.
HINTS: dict[str, str] = {
    "governor_limit": "Bulkify: no SOQL/DML in loops, cache lookups, move heavy work to async Apex.",
    "row_lock": "Find the concurrent writer; smaller batches, update in Id order, retry with backoff.",
    "callout": "Check endpoint health and timeout; no callout after DML; use a Queueable for slow calls.",
    "non_selective_query": "Filter on an indexed, selective field; avoid null and negative filters.",
    "sharing_recalc": "Defer bulk owner/role/group changes; run sharing recalculation off-hours.",
    "validation_flow": "Read the failing rule or flow element; fix the data or the automation.",
    "other": "Read the fatal error and stack; check recent deployments touching the top frame.",
    "none": "No failure found.",
}

# LimitException message prefix -> limit key (keys as in sfops.logs.parser.LIMIT_KEYS).
LIMIT_MESSAGES: dict[str, str] = {
    "Too many SOQL queries": "soql_queries",
    "Too many query rows": "query_rows",
    "Too many SOSL queries": "sosl_queries",
    "Too many DML statements": "dml_statements",
    "Too many DML rows": "dml_rows",
    "Apex CPU time limit exceeded": "cpu_time",
    "Maximum CPU time": "cpu_time",
    "Apex heap size too large": "heap_size",
    "Too many callouts": "callouts",
    "Too many Email Invocations": "email_invocations",
    "Too many future calls": "future_calls",
    "Too many queueable jobs added to the queue": "queueable_jobs",
    "Too many Publish Immediate DML": "publish_immediate_dml",
}

_ROW_LOCK = ("UNABLE_TO_LOCK_ROW", "Record Currently Unavailable", "unable to obtain exclusive access")
_CALLOUT = (
    "Read timed out",
    "uncommitted work pending",
    "Unauthorized endpoint",
    "connect timed out",
    "Exceeded maximum time allotted for callout",
)
_NON_SELECTIVE = ("Non-selective query against large object type",)
_SHARING = ("sharing recalculation", "SharingRecalculation")
_VALIDATION = (
    "FIELD_CUSTOM_VALIDATION_EXCEPTION",
    "REQUIRED_FIELD_MISSING",
    "FIELD_FILTER_VALIDATION_EXCEPTION",
    "CANNOT_EXECUTE_FLOW_TRIGGER",
    "FLOW_EXCEPTION",
    "An unhandled fault has occurred in this flow",
    "DUPLICATE_VALUE",
)
_FRAME_POSITION = re.compile(r": line \d+, column \d+$")
NEAR_LIMIT = 0.8


def _describe(exc: ExceptionInfo) -> str:
    first = exc.message.split("\n", 1)[0]
    return f"{'FATAL_ERROR' if exc.fatal else 'EXCEPTION_THROWN (handled)'} {exc.type}: {first}"


def _limit_key(exc_type: str, message: str) -> str | None:
    if not exc_type.endswith("LimitException"):
        return None
    for prefix, key in LIMIT_MESSAGES.items():
        if message.startswith(prefix):
            return key
    return "unknown_limit"


def exception_category(exc_type: str, message: str) -> tuple[str | None, str | None]:
    """(category, limit key) of one exception by its documented signature; (None, None) when unknown.

    Used for exceptions inside parsed logs and for error records without a log (Error_Log__c, EventLogFile).
    """
    key = _limit_key(exc_type, message)
    if key is not None:
        return "governor_limit", key
    text = f"{exc_type}: {message}"
    if _has(text, _ROW_LOCK):
        return "row_lock", None
    if exc_type.endswith("CalloutException") or _has(text, _CALLOUT):
        return "callout", None
    if _has(text, _NON_SELECTIVE):
        return "non_selective_query", None
    if _has(text, _VALIDATION):
        return "validation_flow", None
    if _has(text, _SHARING):
        return "sharing_recalc", None
    return None, None


def _usage_text(tx: Transaction, key: str) -> list[str]:
    out = []
    for namespace, usages in tx.limits.items():
        usage = usages.get(key)
        if usage is not None and usage.max and usage.peak:
            out.append(f"{key} {usage.peak} of {usage.max} ({100 * usage.peak / usage.max:.0f}%) in {namespace}")
    return out


def _has(text: str, needles: tuple[str, ...]) -> bool:
    lowered = text.lower()
    return any(n.lower() in lowered for n in needles)


def classify(tx: Transaction) -> Classification:
    """Classify one transaction. Category `none` means no failure signal was found."""
    evidence: dict[str, list[str]] = {c: [] for c in CATEGORY_ORDER}
    culprit: dict[str, ExceptionInfo] = {}
    limit: str | None = None
    # Fatal exceptions first so they become the culprit of their category.
    ordered = sorted(tx.exceptions, key=lambda e: not e.fatal)
    for exc in ordered:
        matched, key = exception_category(exc.type, exc.message)
        if key is not None:
            evidence["governor_limit"].append(_describe(exc))
            evidence["governor_limit"].extend(_usage_text(tx, key))
            limit = limit or key
            culprit.setdefault("governor_limit", exc)
            continue
        if matched is None and exc.fatal:
            matched = "other"
        if matched:
            evidence[matched].append(_describe(exc))
            culprit.setdefault(matched, exc)
    for namespace, usages in tx.limits.items():
        for usage in usages.values():
            if usage.max and usage.peak > usage.max and not evidence["governor_limit"]:
                evidence["governor_limit"].append(
                    f"{usage.key} {usage.peak} of {usage.max} in {namespace} (over the limit)"
                )
                limit = limit or usage.key
    for callout in tx.callouts:
        if callout.status_code is None:
            evidence["callout"].append(f"callout {callout.method} {callout.endpoint}: no response logged")
        elif not 200 <= callout.status_code < 300:
            evidence["callout"].append(
                f"callout {callout.method} {callout.endpoint}: "
                f"HTTP {callout.status_code} {callout.status or ''}".rstrip()
            )
    if evidence["non_selective_query"]:
        for stat in tx.soql:
            if stat.relative_cost is not None and stat.relative_cost > 1:
                evidence["non_selective_query"].append(
                    f"SOQL line {stat.line} plan relativeCost {stat.relative_cost}: {(stat.explain or '')[:80]}"
                )
    for error in tx.flow_errors:
        evidence["validation_flow"].append(f"{error.event}: {error.message.split(chr(10), 1)[0][:200]}")
    context = " ".join(filter(None, (tx.operation, tx.entry_point)))
    if _has(context, _SHARING) and any(evidence.values()):
        evidence["sharing_recalc"].append(f"operation: {context}")
    categories = [c for c in CATEGORY_ORDER if evidence[c]]
    if not categories:
        near = [
            f"{u.key} {u.peak} of {u.max} ({100 * u.peak / u.max:.0f}%) in {u.namespace}"
            for u in tx.closest_limits(5)
            if u.peak / u.max >= NEAR_LIMIT
        ]
        hint = "No failure; limits over 80%: " + HINTS["governor_limit"] if near else HINTS["none"]
        if tx.truncated:
            near.append("log truncated: lines are missing, a failure may be hidden")
            hint += " The log is truncated: lower the debug levels and capture again."
        return Classification("none", hint, near, None, None, [], failed=False)
    primary = categories[0]
    hint = HINTS[primary]
    if primary == "governor_limit" and limit:
        hint = f"{limit} exceeded. {hint}"
    failed = tx.fatal is not None or bool(tx.flow_errors) or primary == "governor_limit"
    return Classification(
        primary,
        hint,
        evidence[primary] + [e for c in categories[1:] for e in evidence[c]],
        limit if primary == "governor_limit" else None,
        fingerprint(tx, primary, culprit.get(primary)),
        categories,
        failed=failed,
    )


def normalise_frame(frame: str) -> str:
    """`Class.A.b: line 14, column 1` -> `Class.A.b` so that repeats group across small line shifts."""
    return _FRAME_POSITION.sub("", frame.strip())


def fingerprint(tx: Transaction, category: str, exc: ExceptionInfo | None, frames: int = 3) -> str:
    """A short stable id for "the same failure": exception type + top frames + entry point."""
    if exc is not None:
        parts = [exc.type, *(normalise_frame(f) for f in exc.stack[:frames])]
    elif tx.flow_errors:
        error = tx.flow_errors[0]
        parts = [error.event, re.sub(r"\b[0-9a-zA-Z]{15,18}\b|\d+", "#", error.message.split("\n", 1)[0][:120])]
    else:
        parts = [category]
    parts.append(tx.entry_point or "")
    return hashlib.sha1("|".join(parts).encode(), usedforsecurity=False).hexdigest()[:12]
