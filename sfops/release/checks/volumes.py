"""Production data volumes: explain every SOQL statement B adds or changes against production.

Each statement (binds replaced by representative literals, see binds.py) goes to the REST
`query?explain=` resource, in parallel with a bounded pool, identical statements once. A statement
whose best plan is a TableScan, or costs more than 1 (above the optimizer's selectivity threshold),
on an object with at least `large_object` records fails, with the plan's numbers and notes and the
Large Data Volumes thresholds for that object. Record counts (`limits/recordCount`) of the objects
the statements touch are compared with the sandbox the release was tested on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sfops.errors import SalesforceError
from sfops.release.binds import describe_lookup, main_object, prepare
from sfops.release.context import GateContext
from sfops.release.model import CheckResult, Finding, Status

if TYPE_CHECKING:
    from sfops.salesforce import Org

NAME = "data_volumes"
MILLION = 1_000_000
RECORD_COUNT_BATCH = 100  # object names per limits/recordCount call (keeps the URL short)


def standard_threshold(records: int) -> int:
    """Selectivity threshold of a standard index (LDV guide): 30 % of the first million, 15 % beyond, max 1M."""
    value = 0.30 * min(records, MILLION) + 0.15 * max(records - MILLION, 0)
    return int(min(value, MILLION))


def custom_threshold(records: int) -> int:
    """Selectivity threshold of a custom index: 10 % of the first million, 5 % beyond, max 333,333."""
    value = 0.10 * min(records, MILLION) + 0.05 * max(records - MILLION, 0)
    return int(min(value, 333_333))


@dataclass(frozen=True)
class Statement:
    """A SOQL statement of B: where it is, its text and what is sent to explain."""

    file: str
    line: int
    soql: str
    prepared: str
    sobject: str | None


def statements(ctx: GateContext) -> list[tuple[str, int, str]]:
    """(file, line, soql) of every inline SOQL statement B adds or changes."""
    return [(c.path, s.line, s.text) for c in ctx.release.changes for s in c.new_soql]


T = TypeVar("T")
R = TypeVar("R")


def _pool_map(items_in: Iterable[T], workers: int, fn: Callable[[T], R]) -> list[R]:
    """fn over the items, at most `workers` at a time (org calls wait on the network, not the CPU)."""
    items = list(items_in)
    if len(items) <= 1 or workers <= 1:
        return [fn(i) for i in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix="sfops-explain") as pool:
        return list(pool.map(fn, items))


def _describes(org: Org, names: set[str], workers: int) -> tuple[dict[str, Any], dict[str, str]]:
    """Describes of the queried objects and every object's key prefix (for id literals)."""
    glob = org.describe_global()
    known = {str(s["name"]).lower(): s for s in glob.get("sobjects", [])}
    prefixes = {k: str(v.get("keyPrefix")) for k, v in known.items() if v.get("keyPrefix")}
    wanted = sorted(n for n in names if n.lower() in known)

    def one(name: str) -> tuple[str, Any]:
        try:
            return name.lower(), org.describe(str(known[name.lower()]["name"]))
        except SalesforceError:
            return name.lower(), None

    describes = {k: v for k, v in _pool_map(wanted, workers, one) if v is not None}
    return describes, prefixes


def _explain(org: Org, soql: str) -> dict[str, Any]:
    try:
        return {"plans": (org.request("GET", "query/", params={"explain": soql}) or {}).get("plans", [])}
    except SalesforceError as exc:
        return {"error": f"{exc.error_code}: {exc.message}"}


def record_counts(org: Org, names: Iterable[str]) -> dict[str, int]:
    """Object name (lower-cased) -> record count from `limits/recordCount` (batched)."""
    wanted = sorted(set(names))
    counts: dict[str, int] = {}
    for i in range(0, len(wanted), RECORD_COUNT_BATCH):
        body = org.request(
            "GET", "limits/recordCount", params={"sObjects": ",".join(wanted[i : i + RECORD_COUNT_BATCH])}
        )
        for entry in (body or {}).get("sObjects", []):
            counts[str(entry.get("name", "")).lower()] = int(entry.get("count") or 0)
    return counts


def _plan_finding(st: Statement, plan: dict[str, Any], large: int) -> Finding | None:
    records = int(plan.get("sobjectCardinality") or 0)
    op = str(plan.get("leadingOperationType"))
    cost = float(plan.get("relativeCost") or 0)
    if records < large or (op != "TableScan" and cost <= 1):
        return None
    notes = "; ".join(f"{n.get('description')} ({', '.join(n.get('fields') or [])})" for n in plan.get("notes") or [])
    what = "a full table scan" if op == "TableScan" else f"an {op} plan above the selectivity threshold"
    message = (
        f"non-selective query on {plan.get('sobjectType')} ({records:,} records): best plan is {what}, "
        f"relativeCost {cost:g}, cardinality {int(plan.get('cardinality') or 0):,}; selective below "
        f"{standard_threshold(records):,} rows on a standard index, {custom_threshold(records):,} on a custom "
        "index" + (f"; notes: {notes}" if notes else "")
    )
    return Finding(
        message,
        file=st.file,
        line=st.line,
        data={
            "soql": st.soql,
            "explained": st.prepared,
            "sobjectType": plan.get("sobjectType"),
            "sobjectCardinality": records,
            "leadingOperationType": op,
            "relativeCost": cost,
            "cardinality": plan.get("cardinality"),
            "fields": plan.get("fields"),
            "notes": plan.get("notes") or [],
            "standard_threshold": standard_threshold(records),
            "custom_threshold": custom_threshold(records),
        },
    )


def check(ctx: GateContext) -> CheckResult:
    """Fail for each statement with a non-selective best plan on a large object; warn on 100x data growth."""
    cfg = ctx.config
    raw = statements(ctx)
    if not raw:
        return CheckResult(NAME, Status.PASS, f"No new or changed SOQL in {ctx.to_ref}.")
    objects = {o for _, _, s in raw if (o := main_object(s))}
    describes, prefixes = _describes(ctx.org, objects, cfg.explain_concurrency)
    lookup = describe_lookup(describes, prefixes)
    stmts = []
    for file, line, soql in raw:
        prepared, _ = prepare(soql, lookup)
        stmts.append(Statement(file, line, soql, prepared, main_object(prepared)))
    unique = sorted({s.prepared for s in stmts})
    plans = dict(zip(unique, _pool_map(unique, cfg.explain_concurrency, lambda q: _explain(ctx.org, q)), strict=True))
    findings: list[Finding] = []
    for st in stmts:
        answer = plans[st.prepared]
        if "error" in answer:
            findings.append(
                Finding(
                    f"could not explain: {answer['error']}",
                    Status.WARN,
                    st.file,
                    st.line,
                    data={"soql": st.soql, "explained": st.prepared},
                )
            )
            continue
        best = answer["plans"][0] if answer["plans"] else None
        finding = _plan_finding(st, best, cfg.large_object) if best else None
        if finding:
            findings.append(finding)
    touched = {s.sobject.lower() for s in stmts if s.sobject}
    prod = record_counts(ctx.org, touched)
    growth = _growth(ctx, touched, prod)
    findings += growth
    failed = [f for f in findings if f.status is Status.FAIL]
    facts = {
        "statements": len(stmts),
        "explained": len(unique),
        "record_counts": prod,
        "large_object": cfg.large_object,
    }
    summary = f"{len(stmts)} SOQL statement(s) ({len(unique)} distinct) explained against {ctx.alias}"
    if failed:
        return CheckResult(
            NAME, Status.FAIL, f"{summary}: {len(failed)} non-selective on a large object.", findings, facts=facts
        )
    if findings:
        return CheckResult(
            NAME, Status.WARN, f"{summary}: selective, with {len(findings)} warning(s).", findings, facts=facts
        )
    return CheckResult(NAME, Status.PASS, f"{summary}: all selective or on small objects.", facts=facts)


def _growth(ctx: GateContext, touched: set[str], prod: dict[str, int]) -> list[Finding]:
    if ctx.sandbox is None:
        return []
    try:
        tested = record_counts(ctx.sandbox, touched)
    except SalesforceError as exc:
        return [Finding(f"sandbox record counts unavailable: {exc.message}", Status.WARN)]
    out = []
    for name in sorted(touched):
        p, s = prod.get(name, 0), tested.get(name, 0)
        if p >= ctx.config.volume_ratio * max(s, 1) and p > 0:
            out.append(
                Finding(
                    f"{name}: {p:,} records in production vs {s:,} in the sandbox the release was "
                    f"tested on ({p / max(s, 1):,.0f}x): test with production-like volumes",
                    Status.WARN,
                    data={"object": name, "production": p, "sandbox": s},
                )
            )
    return out
