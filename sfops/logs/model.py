"""Plain-data results of parsing and classifying Apex debug logs.

Times are nanoseconds from the log's `(nanos)` counter (the wall-clock part of a line goes backwards in real
logs, so it is kept only as text for display). Nothing here prints or talks to an org.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class ParseProblem:
    """Something the parser could not read as expected; parsing went on."""

    line: int
    kind: str  # truncated-skipped | truncated-max-size | unexpected-end | invalid-line | unknown-event | ...
    message: str


@dataclass(slots=True)
class LimitUsage:
    """One governor limit of one namespace, as the last LIMIT_USAGE_FOR_NS block reported it."""

    namespace: str
    key: str  # stable key, e.g. soql_queries, cpu_time, heap_size
    label: str  # the label exactly as the log wrote it
    used: int
    max: int
    close_to_limit: bool = False
    peak: int = 0  # highest `used` over all blocks of the transaction (heap falls when memory is freed)

    @property
    def ratio(self) -> float | None:
        """used / max over the whole transaction (peak), or None when the max is 0."""
        return self.peak / self.max if self.max else None


@dataclass(slots=True)
class LimitSnapshot:
    """One LIMIT_USAGE_FOR_NS block: the cumulative usage of one namespace at one instant."""

    nanos: int
    namespace: str
    values: dict[str, tuple[int, int]]  # key -> (used, max)


@dataclass(slots=True)
class ExceptionInfo:
    """A thrown exception. `fatal` means a FATAL_ERROR ended the transaction with it."""

    type: str
    message: str
    nanos: int
    line: int | None = None  # source line from `[n]`
    fatal: bool = False
    stack: list[str] = field(default_factory=list)  # FATAL_ERROR stack, else the open method frames

    @property
    def handled(self) -> bool:
        return not self.fatal


@dataclass(slots=True)
class SoqlStat:
    """Executions of one SOQL statement (same source line and text) in a transaction."""

    query: str
    line: int | None
    executions: int = 0
    rows: int = 0
    total_ns: int = 0
    max_ns: int = 0
    unfinished: int = 0  # BEGIN without END (the query was interrupted, e.g. by a LimitException)
    explain: str | None = None  # last SOQL_EXECUTE_EXPLAIN plan text
    relative_cost: float | None = None


@dataclass(slots=True)
class MethodStat:
    """Self and total time of one method (or code unit) in a transaction."""

    name: str
    calls: int = 0
    self_ns: int = 0
    total_ns: int = 0


@dataclass(slots=True)
class Callout:
    """An HTTP callout: CALLOUT_REQUEST and, if it came, its CALLOUT_RESPONSE."""

    endpoint: str
    method: str
    nanos: int
    status_code: int | None = None
    status: str | None = None
    duration_ns: int | None = None  # None when no response was logged (timeout, exception)

    @property
    def failed(self) -> bool:
        return self.status_code is None or not 200 <= self.status_code < 300


@dataclass(slots=True)
class FlowError:
    """A flow, validation or workflow error event."""

    event: str
    message: str
    nanos: int


@dataclass(slots=True)
class Classification:
    """Why a transaction failed (or struggled), with evidence and a one-line runbook hint."""

    category: str  # governor_limit | row_lock | callout | non_selective_query | sharing_recalc | validation_flow
    #                | other | none
    hint: str
    evidence: list[str] = field(default_factory=list)
    limit: str | None = None  # the governor limit key for governor_limit
    fingerprint: str | None = None
    categories: list[str] = field(default_factory=list)  # every category that matched, primary first
    failed: bool = False  # a fatal error, a flow/validation error or a limit overrun ended the transaction


@dataclass(slots=True)
class Transaction:
    """One EXECUTION_STARTED … EXECUTION_FINISHED unit of a log, with everything measured in it."""

    index: int
    start_ns: int
    end_ns: int | None = None
    start_clock: str = ""  # wall-clock text of the start line (display only)
    entry_point: str | None = None  # the first code unit (trigger, class.method, execute_anonymous_apex, Flow:…)
    code_units: int = 0
    user_id: str | None = None
    username: str | None = None
    request: str | None = None  # from ApexLog metadata when known (API, Application)
    operation: str | None = None  # from ApexLog metadata when known
    soql_count: int = 0  # SOQL_EXECUTE_BEGIN events; see count() for the figure reports show
    soql_rows: int = 0
    sosl_count: int = 0
    sosl_rows: int = 0
    dml_count: int = 0  # DML_BEGIN events; see count()
    dml_rows: int = 0
    callouts: list[Callout] = field(default_factory=list)
    heap_allocated: int = 0  # sum of HEAP_ALLOCATE bytes (gross)
    limits: dict[str, dict[str, LimitUsage]] = field(default_factory=dict)  # namespace -> key -> usage
    limit_snapshots: list[LimitSnapshot] = field(default_factory=list)
    exceptions: list[ExceptionInfo] = field(default_factory=list)
    exceptions_dropped: int = 0
    flow_errors: list[FlowError] = field(default_factory=list)
    soql: list[SoqlStat] = field(default_factory=list)
    top_methods: list[MethodStat] = field(default_factory=list)
    truncated: bool = False
    classification: Classification | None = None

    @property
    def duration_ns(self) -> int | None:
        return None if self.end_ns is None else self.end_ns - self.start_ns

    @property
    def cpu_ms(self) -> int | None:
        """CPU time from the limit blocks (a global limit, reported under every namespace)."""
        values = [ns["cpu_time"].peak for ns in self.limits.values() if "cpu_time" in ns]
        return max(values) if values else None

    @property
    def heap_peak(self) -> int | None:
        """Highest heap size any limit block reported, else the gross HEAP_ALLOCATE sum (if any)."""
        values = [ns["heap_size"].peak for ns in self.limits.values() if "heap_size" in ns]
        if values:
            return max(values)
        return self.heap_allocated or None

    def count(self, kind: str) -> tuple[int, str]:
        """(`soql` or `dml` count, its source): the larger of the events seen (`events`) and the cumulative
        limit blocks summed over namespaces (`limits`). Events are missing when the DB category is not logged;
        limit blocks are missing below APEX_PROFILING FINE; on a tie the events win."""
        events, key = (self.soql_count, "soql_queries") if kind == "soql" else (self.dml_count, "dml_statements")
        from_limits = sum(ns[key].peak for ns in self.limits.values() if key in ns)
        return (from_limits, "limits") if from_limits > events else (events, "events")

    @property
    def fatal(self) -> ExceptionInfo | None:
        """The exception that ended the transaction, if any."""
        for exc in self.exceptions:
            if exc.fatal:
                return exc
        return None

    def closest_limits(self, n: int = 3) -> list[LimitUsage]:
        """The limits closest to (or over) their maximum, highest used/max first; zero usage left out."""
        usages = [u for ns in self.limits.values() for u in ns.values() if u.max and u.peak]
        usages.sort(key=lambda u: u.peak / u.max, reverse=True)
        return usages[:n]


@dataclass
class ParsedLog:
    """Everything read from one log file (or stream)."""

    source: str
    size_bytes: int = 0
    lines: int = 0
    encoding: str = "utf-8"
    api_version: str | None = None
    log_levels: dict[str, str] = field(default_factory=dict)
    transactions: list[Transaction] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)
    problems_dropped: int = 0
    unknown_events: dict[str, int] = field(default_factory=dict)
    truncated: bool = False
    events: int = 0
    continuation_lines: int = 0
