"""A streaming Apex debug-log parser: bytes in, one `Transaction` per EXECUTION_STARTED out.

Memory is bounded by the size of one transaction's aggregates (distinct methods and SOQL statements, capped
lists of exceptions, callouts and limit snapshots), never by the size of the file. The hot loop splits lines
with `str.find` instead of regular expressions and looks the event type up once in a dict.

Grammar notes (see docs/logs-and-limits.md): an event line is `HH:MM:SS.f (nanos)|EVENT[|field]*`; any other
line continues the previous event (multi-line SOQL, debug messages, limit blocks, fatal-error stacks), except the
header line and the two truncation markers. The `(nanos)` counter is the clock.
"""

from __future__ import annotations

import itertools
import re
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from sfops.logs.events import CODE_FRAMES, ENTRY_FOR_EXIT, EXIT_FOR_ENTRY, FLOW_ERROR_EVENTS, KNOWN_EVENTS
from sfops.logs.model import (
    Callout,
    ExceptionInfo,
    FlowError,
    LimitSnapshot,
    LimitUsage,
    MethodStat,
    ParsedLog,
    ParseProblem,
    SoqlStat,
    Transaction,
)
from sfops.logs.reader import TextSource

MAX_PROBLEMS = 1000
MAX_EXCEPTIONS = 100
MAX_CALLOUTS = 1000
MAX_SNAPSHOTS = 500
MAX_SOQL_STATEMENTS = 500
TOP_METHODS = 10
MAX_TEXT_LINES = 500  # continuation lines kept per SOQL statement / fatal stack
MAX_TEXT_CHARS = 20000  # characters kept per exception or flow-error message
# Bounds that keep memory flat whatever the input (docs/logs-and-limits.md, "Odd input"):
MAX_LINE_CHARS = 1 << 20  # longer lines are cut (problem line-too-long)
MAX_STACK_DEPTH = 4096  # open frames per transaction (Apex itself stops at a depth of 1,000 calls)
MAX_NAME_CHARS = 1000  # characters kept of a method / code-unit name or callout endpoint
MAX_METHODS = 10000  # distinct method names timed per transaction; the rest go to OTHER_METHODS
OTHER_METHODS = "(other methods)"
MAX_UNKNOWN_EVENTS = 1000  # distinct unknown event types counted per log; the rest count as "(other)"
MAX_NAMESPACES = 100  # limit namespaces per transaction
MAX_LIMIT_KEYS = 100  # limit labels per namespace
SHALLOW_SCAN = 16  # frames an exit searches once a transaction has had MAX_DEEP_MISSES failed deep searches
MAX_DEEP_MISSES = 100
MAX_DIGITS = 18  # a count or size in a log line; more digits is not a number sfops believes

# Event codes for the dispatch in the hot loop; known events without a code are counted and skipped.
(
    _CODE_ENTRY,
    _EXIT,
    _ENTRY,
    _HEAP,
    _SOQL_BEGIN,
    _SOQL_END,
    _SOQL_EXPLAIN,
    _LIMITS,
    _THROWN,
    _FATAL,
    _CODE_UNIT,
    _EXEC_START,
    _EXEC_END,
    _USER_INFO,
    _CALLOUT_REQ,
    _CALLOUT_RESP,
    _SOSL_BEGIN,
    _SOSL_END,
    _FLOW_ERROR,
) = range(1, 20)

_CODES: dict[str, int] = dict.fromkeys(KNOWN_EVENTS, 0)
_CODES.update(dict.fromkeys(ENTRY_FOR_EXIT, _EXIT))
_CODES.update(dict.fromkeys(EXIT_FOR_ENTRY, _ENTRY))
_CODES.update(dict.fromkeys(CODE_FRAMES, _CODE_ENTRY))
_CODES.update(dict.fromkeys(FLOW_ERROR_EVENTS, _FLOW_ERROR))
_CODES.update(
    {
        "HEAP_ALLOCATE": _HEAP,
        "SOQL_EXECUTE_BEGIN": _SOQL_BEGIN,
        "SOQL_EXECUTE_END": _SOQL_END,
        "SOQL_EXECUTE_EXPLAIN": _SOQL_EXPLAIN,
        "LIMIT_USAGE_FOR_NS": _LIMITS,
        "EXCEPTION_THROWN": _THROWN,
        "FATAL_ERROR": _FATAL,
        "CODE_UNIT_STARTED": _CODE_UNIT,
        "EXECUTION_STARTED": _EXEC_START,
        "EXECUTION_FINISHED": _EXEC_END,
        "USER_INFO": _USER_INFO,
        "CALLOUT_REQUEST": _CALLOUT_REQ,
        "CALLOUT_RESPONSE": _CALLOUT_RESP,
        "SOSL_EXECUTE_BEGIN": _SOSL_BEGIN,
        "SOSL_EXECUTE_END": _SOSL_END,
    }
)

# Frame kinds (index 5 of a frame list).
_K_OTHER, _K_CODE, _K_SOQL, _K_CALLOUT = 0, 1, 2, 3
# Continuation modes: what a line without a timestamp belongs to.
_C_NONE, _C_SOQL, _C_EXC, _C_FATAL, _C_LIMITS, _C_FLOW = range(6)

_END = object()  # end-of-stream sentinel in the chunk sequence
_OLD_EVENT = re.compile(r"(\d\d):(\d\d):(\d\d)\.(\d{1,9})\|([A-Z][A-Z0-9_]*)(?:\||$)", re.ASCII)
_DAY_NS = 86400 * 10**9
_HEADER = re.compile(r"^(\d+\.\d+) ([A-Z_]+,[A-Z]+(?:;[A-Z_]+,[A-Z]+)*)\s*$")
_EVENT_TYPE = re.compile(r"^[A-Z][A-Z0-9_]*$")
_PRELUDE = ("Execute Anonymous:", "Compiled successfully.", "Executed successfully.")
_STACK_PREFIXES = ("Class.", "Trigger.", "AnonymousBlock", "External entry point", "Flow.", "(")

# Governor limit labels as the log writes them -> stable keys. Unknown labels get a slug, never an error.
LIMIT_KEYS: dict[str, str] = {
    "Number of SOQL queries": "soql_queries",
    "Number of query rows": "query_rows",
    "Number of SOSL queries": "sosl_queries",
    "Number of DML statements": "dml_statements",
    "Number of Publish Immediate DML": "publish_immediate_dml",
    "Number of DML rows": "dml_rows",
    "Maximum CPU time": "cpu_time",
    "Maximum heap size": "heap_size",
    "Number of callouts": "callouts",
    "Number of Email Invocations": "email_invocations",
    "Number of future calls": "future_calls",
    "Number of queueable jobs added to the queue": "queueable_jobs",
    "Number of Mobile Apex push calls": "mobile_push_calls",
}


def _limit_key(label: str) -> str:
    key = LIMIT_KEYS.get(label)
    if key is None:
        key = re.sub(r"[^a-z0-9]+", "_", label[:200].lower()).strip("_") or "unknown"
        if len(LIMIT_KEYS) < 1000:  # a cache of real labels, not of whatever a hostile file holds
            LIMIT_KEYS[label] = key
    return key


def _safe_int(text: str) -> int | None:
    """A non-negative ASCII decimal of at most MAX_DIGITS digits, else None.

    `int()` alone is not safe on log text: it accepts `²`-free Unicode digits (`٣`), signs, underscores and
    spaces, and raises ValueError on `²` (which `str.isdigit()` accepts) or on more than 4,300 digits.
    """
    text = text.strip()
    if 0 < len(text) <= MAX_DIGITS and text.isascii() and text.isdigit():
        return int(text)
    return None


def _line_number(field: str) -> int | None:
    """`[42]` -> 42; `[EXTERNAL]` or anything else -> None."""
    if field[:1] == "[" and field[-1:] == "]":
        return _safe_int(field[1:-1])
    return None


def _clock_ns(line: str) -> int | None:
    """Nanoseconds since midnight of a line's wall-clock part `HH:MM:SS.fff` (None when it has none)."""
    match = _OLD_EVENT.match(line) if "|" in line[:24] else None
    if match is None:
        head = line[: line.find(" (")] if " (" in line[:24] else ""
        match = _OLD_EVENT.match(head + "|X")
        if match is None:
            return None
    hours, minutes, seconds, frac = match.group(1, 2, 3, 4)
    return ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 10**9 + int(frac) * 10 ** (9 - len(frac))


def _split_exception(text: str) -> tuple[str, str]:
    """`System.LimitException: Too many SOQL queries: 101` -> (type, message)."""
    head, sep, tail = text.partition(": ")
    if sep and head and " " not in head and head.replace(".", "").replace("_", "").isalnum():
        return head, tail
    return "(unknown)", text


def _is_sf_id(value: str) -> bool:
    return len(value) in (15, 18) and value.isalnum() and not value.isalpha()


def _code_unit_name(args: str) -> str:
    parts = args.split("|")
    if parts and parts[0][:1] == "[":
        parts = parts[1:]
    if len(parts) > 1 and _is_sf_id(parts[0]):
        parts = parts[1:]
    return parts[0][:MAX_NAME_CHARS] if parts and parts[0] else "(unknown)"


class _TxState:
    """Per-transaction working state that is folded into the `Transaction` when it ends."""

    __slots__ = (
        "cur_callout",
        "cur_exc",
        "cur_flow",
        "cur_limits",
        "cur_soql",
        "deep_misses",
        "methods",
        "overflowed",
        "soql",
        "stack",
        "tx",
    )

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.stack: list[list[Any]] = []
        self.methods: dict[str, list[int]] = {}  # name -> [calls, self_ns, total_ns]
        self.soql: dict[tuple[int | None, str], SoqlStat] = {}
        self.cur_soql: list[Any] | None = None
        self.cur_exc: ExceptionInfo | None = None
        self.cur_limits: tuple[str, LimitSnapshot | None] | None = None
        self.cur_flow: FlowError | None = None
        self.cur_callout: Callout | None = None
        self.overflowed = False  # MAX_STACK_DEPTH was hit: exits without entries are expected
        self.deep_misses = 0  # exits that searched deep into the stack and found no entry


class LogParser:
    """Parses one log stream. `transactions()` yields each transaction as soon as it is complete;
    `log` holds the file-level facts (encoding, header, problems), complete once iteration ends."""

    def __init__(
        self,
        stream: BinaryIO,
        source: str = "<stream>",
        *,
        classify: bool = True,
        metadata: dict[str, Any] | None = None,
        chunk_chars: int | None = None,
    ) -> None:
        self._source = TextSource(stream, chunk_chars)
        self.log = ParsedLog(source=source, encoding=self._source.encoding)
        self._classify = classify
        self._metadata = metadata or {}
        self._state: _TxState | None = None
        self._pending_user: tuple[str | None, str | None] = (None, None)
        self._tx_count = 0
        self._old_ref: tuple[str, int, int] | None = None  # (line, clock ns, ns) of the last nanos-less line

    # ---- problems -------------------------------------------------------------------------------------
    def _problem(self, line: int, kind: str, message: str) -> None:
        if len(self.log.problems) < MAX_PROBLEMS:
            self.log.problems.append(ParseProblem(line, kind, message[:300]))
        else:
            self.log.problems_dropped += 1

    # ---- transactions ---------------------------------------------------------------------------------
    def _open_tx(self, ns: int, clock: str) -> _TxState:
        tx = Transaction(index=self._tx_count, start_ns=ns, start_clock=clock)
        self._tx_count += 1
        tx.user_id, tx.username = self._pending_user
        tx.request = self._metadata.get("request")
        tx.operation = self._metadata.get("operation")
        self._state = _TxState(tx)
        return self._state

    def _close_frame(self, st: _TxState, frame: list[Any], ns: int, unwound: bool) -> None:
        total = ns - frame[3]
        if st.stack:
            st.stack[-1][4] += total
        kind = frame[5]
        if kind == _K_CODE:
            stat = st.methods.get(frame[2])
            if stat is None and len(st.methods) >= MAX_METHODS:
                stat = st.methods.setdefault(OTHER_METHODS, [0, 0, 0])
            if stat is None:
                st.methods[frame[2]] = [1, total - frame[4], total]
            else:
                stat[0] += 1
                stat[1] += total - frame[4]
                stat[2] += total
        elif kind == _K_SOQL:
            rec = frame[2]  # [line, parts, explain, cost, stat]
            query = "\n".join(rec[1]).strip()
            key = (rec[0], query)
            soql_stat = st.soql.get(key)
            if soql_stat is None:
                soql_stat = SoqlStat(query=query, line=rec[0])
                if len(st.soql) < MAX_SOQL_STATEMENTS:
                    st.soql[key] = soql_stat
            soql_stat.executions += 1
            soql_stat.total_ns += total
            soql_stat.max_ns = max(soql_stat.max_ns, total)
            if unwound:
                soql_stat.unfinished += 1
            if rec[2] is not None:
                soql_stat.explain, soql_stat.relative_cost = rec[2], rec[3]
            rec[4] = soql_stat
        elif kind == _K_CALLOUT and not unwound:
            frame[2].duration_ns = total

    def _pop(self, st: _TxState, want: str, line: str, ns: int) -> list[Any] | None:
        """Close the frame `want` (matching line number when both have one), unwinding frames above it."""
        stack = st.stack
        depth = len(stack)
        # Unwinding after an exception can reach far down, but a log full of orphan exits must not make every
        # exit scan the whole stack: after MAX_DEEP_MISSES failed deep searches only the top frames are searched.
        low = 0 if st.deep_misses < MAX_DEEP_MISSES else max(0, depth - SHALLOW_SCAN)
        for idx in range(depth - 1, low - 1, -1):
            frame = stack[idx]
            if frame[0] == want and (not line or not frame[1] or frame[1] == line):
                while len(stack) > idx + 1:
                    self._close_frame(st, stack.pop(), ns, True)
                stack.pop()
                self._close_frame(st, frame, ns, False)
                return frame
        if depth - low > SHALLOW_SCAN:
            st.deep_misses += 1
            if st.deep_misses == MAX_DEEP_MISSES:
                self._problem(
                    0,
                    "exit-search-limited",
                    f"{MAX_DEEP_MISSES} exits without entries under {depth} open frames in transaction "
                    f"{st.tx.index}; from here exits search only the top {SHALLOW_SCAN} frames",
                )
        return None

    def _push(self, st: _TxState, frame: list[Any], lineno: int) -> bool:
        if len(st.stack) < MAX_STACK_DEPTH:
            st.stack.append(frame)
            return True
        self._too_deep(st, lineno)
        return False

    def _too_deep(self, st: _TxState, lineno: int) -> None:
        if not st.overflowed:
            st.overflowed = True
            self._problem(
                lineno,
                "stack-too-deep",
                f"more than {MAX_STACK_DEPTH} open frames in transaction {st.tx.index}; deeper entries are not timed",
            )

    def _old_format(self, line: str, last_line: str) -> tuple[int, int, int, str] | None:
        """(ns, end of the clock text, index of the `|` after the event or -1, event) of an event line without
        `(nanos)`, e.g. `16:35:35.836|LIMIT_USAGE_FOR_NS|(default)|`; None when the line is not one.

        Its ns is the previous event's ns plus the wall-clock step since it (never negative; a step back of more
        than 12 hours is a midnight wrap), so times stay ordered in logs that mix both forms.
        """
        match = _OLD_EVENT.match(line)
        if match is None:
            return None
        clock = _clock_ns(line)
        assert clock is not None
        ref = self._old_ref
        if ref is not None and ref[0] is last_line:
            ref_clock, ref_ns = ref[1], ref[2]
        else:
            prev_clock = _clock_ns(last_line) if last_line else None
            ref_clock, ref_ns = (clock, 0) if prev_clock is None else (prev_clock, _ns_of(last_line))
        delta = clock - ref_clock
        if delta < -_DAY_NS // 2:
            delta += _DAY_NS
        if delta < 0:  # the wall clock stepped back: keep measuring from the latest clock seen
            ns, clock = ref_ns, ref_clock
        else:
            ns = ref_ns + delta
        self._old_ref = (line, clock, ns)
        end = match.end()
        return ns, match.start(5) - 1, end - 1 if line[end - 1 : end] == "|" else -1, match.group(5)

    def _line_ns(self, line: str) -> int:
        """The ns of an event line read earlier (0 when there is none)."""
        ref = self._old_ref
        if ref is not None and ref[0] is line:
            return ref[2]
        return _ns_of(line)

    def _rows(self, args: str, lineno: int) -> int:
        """The n of a trailing `Rows:n` field (0 when missing); a malformed one is a problem, counted 0."""
        pos = args.rfind("Rows:")
        if pos < 0:
            return 0
        text = args[pos + 5 :].split("|", 1)[0]
        rows = _safe_int(text)
        if rows is None:
            self._problem(lineno, "invalid-field", f"Rows is not a count: {text[:40]!r}")
            return 0
        return rows

    def _finish_tx(self, st: _TxState, ns: int | None, lineno: int, last_ns: int = 0) -> Transaction:
        """Fold the working state into the transaction; `ns` None means it never finished (truncated)."""
        tx = st.tx
        end = ns if ns is not None else max(tx.start_ns, last_ns)
        if ns is None:
            tx.truncated = True
            self._problem(
                lineno,
                "unexpected-end",
                f"transaction {tx.index} has no EXECUTION_FINISHED; {len(st.stack)} frames left open",
            )
        while st.stack:
            self._close_frame(st, st.stack.pop(), end, True)
        tx.end_ns = end
        tx.top_methods = [
            MethodStat(name, c, s, t)
            for name, (c, s, t) in sorted(st.methods.items(), key=lambda kv: kv[1][1], reverse=True)[:TOP_METHODS]
        ]
        tx.soql = sorted(st.soql.values(), key=lambda s: s.total_ns, reverse=True)
        if self._classify:
            from sfops.logs.classify import classify

            tx.classification = classify(tx)
        self._state = None
        return tx

    # ---- the main loop --------------------------------------------------------------------------------
    def transactions(self) -> Iterator[Transaction]:
        """Yield every transaction of the stream in order; problems accumulate in `self.log`."""
        log = self.log
        codes = _CODES
        entry_for_exit = ENTRY_FOR_EXIT
        problem = self._problem
        st: _TxState | None = None
        stack: list[list[Any]] = []
        cont = _C_NONE
        lineno = 0
        events = 0
        conts = 0
        last_line = prev_line = ""
        carry = ""
        overlong = False  # the line in `carry` hit MAX_LINE_CHARS: drop the rest of it up to its newline
        # A final "\n" makes the last line complete even when the file does not end with a newline.
        chunks: Iterable[Any] = itertools.chain(self._source.chunks(), (_END,))
        for chunk in chunks:
            if chunk is _END:
                if not carry:
                    break
                chunk = "\n"
            elif overlong:
                pos = chunk.find("\n")
                if pos < 0:
                    continue
                chunk = chunk[pos:]
                overlong = False
            lines = (carry + chunk).split("\n") if carry else chunk.split("\n")
            carry = lines.pop()
            if len(carry) > MAX_LINE_CHARS:
                # Without this cap a file with no newline is copied again with every chunk (quadratic).
                carry = carry[:MAX_LINE_CHARS]
                overlong = True
                problem(
                    lineno + len(lines) + 1,
                    "line-too-long",
                    f"line longer than {MAX_LINE_CHARS} characters; the rest of it was skipped",
                )
            for line in lines:
                lineno += 1
                j = line.find(")|", 12, 64)
                if j > 0 and line[2] == ":":
                    k = line.find("|", j + 2)
                    ev = line[j + 2 :] if k < 0 else line[j + 2 : k]
                    code = codes.get(ev)
                    if code == 0:
                        # Most lines: a known event sfops does not need. Its timestamp is parsed only if it
                        # turns out to be the last one before a truncation (see _line_ns).
                        events += 1
                        cont = _C_NONE
                        last_line = line
                        continue
                    i = line.rfind(" (", 0, j)
                    digits = line[i + 2 : j]
                    ns = int(digits) if i > 0 and digits.isdigit() and digits.isascii() else -1
                else:
                    ns = -1
                if ns < 0 and line[2:3] == ":":
                    # An event line without the `(nanos)` part (API 29-era limit blocks, older logs).
                    old = self._old_format(line, last_line)
                    if old is not None:
                        ns, i, k, ev = old
                        code = codes.get(ev)
                        if code == 0:
                            events += 1
                            cont = _C_NONE
                            last_line = line
                            continue
                if ns >= 0:
                    events += 1
                    prev_line = last_line
                    last_line = line
                    args = "" if k < 0 else line[k + 1 :]
                    cont = _C_NONE
                    if code is None:
                        self._unknown_event(ev, lineno)
                        continue
                    if st is None and code not in (_EXEC_START, _USER_INFO):
                        st = self._open_tx(ns, line[:i])
                        stack = st.stack
                        problem(
                            lineno,
                            "missing-execution-started",
                            f"{ev[:60]} before any EXECUTION_STARTED; started an implicit transaction",
                        )
                    if code == _CODE_ENTRY:
                        p = args.find("|")
                        if ev == "CONSTRUCTOR_ENTRY":
                            parts = args.split("|")
                            name = f"{parts[-1]}.{parts[-2]}" if len(parts) >= 4 else parts[-1]
                        else:
                            name = args[args.rfind("|") + 1 :]
                        if len(stack) < MAX_STACK_DEPTH:
                            stack.append(
                                [
                                    ev,
                                    args[:p] if 0 < p < 40 else "",
                                    name if len(name) <= MAX_NAME_CHARS else name[:MAX_NAME_CHARS],
                                    ns,
                                    0,
                                    _K_CODE,
                                ]
                            )
                        else:
                            self._too_deep(st, lineno)  # type: ignore[arg-type]
                    elif code == _EXIT:
                        if args[:1] == "[":
                            p = args.find("|")
                            ln = args[:p] if p > 0 else args
                        else:
                            ln = ""
                        top = stack[-1] if stack else None
                        want = entry_for_exit[ev]
                        if top is not None and top[0] == want and (not ln or not top[1] or top[1] == ln):
                            stack.pop()
                            self._close_frame(st, top, ns, False)  # type: ignore[arg-type]
                        elif self._pop(st, want, ln, ns) is None:  # type: ignore[arg-type]
                            self._orphan_exit(ev, args, lineno, st)  # type: ignore[arg-type]
                    elif code == _HEAP:
                        size = _safe_int(args[args.rfind(":") + 1 :])
                        if size is None:
                            problem(lineno, "invalid-field", f"HEAP_ALLOCATE without byte count: {args}")
                        else:
                            st.tx.heap_allocated += size  # type: ignore[union-attr]
                    elif code == _ENTRY:
                        p = args.find("|")
                        ln = args[:p] if 0 < p < 40 and args[:1] == "[" else ""
                        if ev == "DML_BEGIN":
                            self._dml(st, args, lineno)  # type: ignore[arg-type]
                        self._push(st, [ev, ln, ev, ns, 0, _K_OTHER], lineno)  # type: ignore[arg-type]
                    elif code == _SOQL_BEGIN:
                        cont = self._soql_begin(st, args, ns, lineno)  # type: ignore[arg-type]
                    elif code == _SOQL_END:
                        self._soql_end(st, args, ns, lineno)  # type: ignore[arg-type]
                    elif code == _LIMITS:
                        cont = self._limits_begin(st, args, ns)  # type: ignore[arg-type]
                    elif code == _CODE_UNIT:
                        name = _code_unit_name(args)
                        tx = st.tx  # type: ignore[union-attr]
                        tx.code_units += 1
                        if tx.entry_point is None:
                            tx.entry_point = name
                        self._push(st, [ev, "", name, ns, 0, _K_CODE], lineno)  # type: ignore[arg-type]
                    elif code == _SOQL_EXPLAIN:
                        self._soql_explain(st, args)  # type: ignore[arg-type]
                    elif code == _EXEC_START:
                        if st is not None:
                            yield self._finish_tx(st, None, lineno, self._line_ns(prev_line))
                        st = self._open_tx(ns, line[:i])
                        stack = st.stack
                    elif code == _EXEC_END:
                        if st is not None:
                            yield self._finish_tx(st, ns, lineno)
                        st = None
                        stack = []
                    elif code == _THROWN:
                        cont = self._thrown(st, args, ns)  # type: ignore[arg-type]
                    elif code == _FATAL:
                        cont = self._fatal(st, args, ns)  # type: ignore[arg-type]
                    elif code == _USER_INFO:
                        self._user_info(st, args)
                    elif code == _CALLOUT_REQ:
                        self._callout_request(st, args, ns, lineno)  # type: ignore[arg-type]
                    elif code == _CALLOUT_RESP:
                        self._callout_response(st, args, ns, lineno)  # type: ignore[arg-type]
                    elif code == _SOSL_BEGIN:
                        st.tx.sosl_count += 1  # type: ignore[union-attr]
                        p = args.find("|")
                        frame = [ev, args[:p] if 0 < p < 40 else "", ev, ns, 0, _K_OTHER]
                        self._push(st, frame, lineno)  # type: ignore[arg-type]
                    elif code == _SOSL_END:
                        st.tx.sosl_rows += self._rows(args, lineno)  # type: ignore[union-attr]
                        p = args.find("|")
                        self._pop(st, "SOSL_EXECUTE_BEGIN", args[:p] if 0 < p < 40 else "", ns)  # type: ignore[arg-type]
                    elif code == _FLOW_ERROR:
                        cont = self._flow_error(st, ev, args, ns)  # type: ignore[arg-type]
                    continue
                # ---- not an event line: continuation, blank, header, marker or junk ----
                conts += 1
                if not line:
                    if cont in (_C_FATAL, _C_LIMITS):
                        cont = _C_NONE if cont == _C_LIMITS else _C_FATAL
                    continue
                if (line[0] == "*" or "MAXIMUM DEBUG LOG SIZE" in line) and self._marker(line, lineno, st):
                    cont = _C_NONE
                    continue
                if cont == _C_LIMITS:
                    self._limit_line(st, line, lineno)  # type: ignore[arg-type]
                elif cont == _C_SOQL:
                    rec = st.cur_soql  # type: ignore[union-attr]
                    if len(rec[1]) < MAX_TEXT_LINES and rec[5] < MAX_TEXT_CHARS:  # type: ignore[index]
                        rec[1].append(line[:MAX_TEXT_CHARS])  # type: ignore[index]
                        rec[5] += len(line)  # type: ignore[index]
                elif cont == _C_EXC:
                    exc = st.cur_exc  # type: ignore[union-attr]
                    if len(exc.message) < MAX_TEXT_CHARS:  # type: ignore[union-attr]
                        exc.message = (exc.message + "\n" + line)[:MAX_TEXT_CHARS]  # type: ignore[union-attr]
                elif cont == _C_FATAL:
                    self._fatal_line(st, line)  # type: ignore[arg-type]
                elif cont == _C_FLOW:
                    flow = st.cur_flow  # type: ignore[union-attr]
                    if len(flow.message) < MAX_TEXT_CHARS:  # type: ignore[union-attr]
                        flow.message = (flow.message + "\n" + line)[:MAX_TEXT_CHARS]  # type: ignore[union-attr]
                elif events == 0 or line[0] in "0123456789\ufeff":
                    self._non_event(line, lineno, st, events == 0)
        log.size_bytes = self._source.bytes_read
        log.lines, log.events, log.continuation_lines = lineno, events, conts
        if st is not None:
            yield self._finish_tx(st, None, lineno, self._line_ns(last_line))

    # ---- helpers for the less frequent events ---------------------------------------------------------
    def _unknown_event(self, ev: str, lineno: int) -> None:
        unknown = self.log.unknown_events
        if ev not in unknown:
            kind = "unknown-event" if _EVENT_TYPE.match(ev) else "invalid-line"
            self._problem(lineno, kind, f"event type {ev[:80]!r} is not in the catalogue; skipped")
            if len(unknown) >= MAX_UNKNOWN_EVENTS:
                ev = "(other)"
        unknown[ev] = unknown.get(ev, 0) + 1

    def _orphan_exit(self, ev: str, args: str, lineno: int, st: _TxState) -> None:
        # `METHOD_EXIT|[5]|AccountService` (no parentheses) closes a class's static initialiser, which
        # has no METHOD_ENTRY; after a truncation marker exits without entries are expected too.
        if ev == "METHOD_EXIT" and "(" not in args:
            return
        if st.tx.truncated or st.overflowed:
            return
        self._problem(lineno, "unmatched-exit", f"{ev} without a matching entry: {args[:120]}")

    def _dml(self, st: _TxState, args: str, lineno: int) -> None:
        st.tx.dml_count += 1
        st.tx.dml_rows += self._rows(args, lineno)

    def _soql_begin(self, st: _TxState, args: str, ns: int, lineno: int) -> int:
        fields = args.split("|", 2)
        st.tx.soql_count += 1
        query = (fields[2] if len(fields) > 2 else (fields[-1] if fields else ""))[:MAX_TEXT_CHARS]
        # [line, query lines, explain plan, relativeCost, SoqlStat, characters kept]
        rec: list[Any] = [_line_number(fields[0]) if fields else None, [query], None, None, None, len(query)]
        self._push(
            st,
            ["SOQL_EXECUTE_BEGIN", fields[0] if fields and fields[0][:1] == "[" else "", rec, ns, 0, _K_SOQL],
            lineno,
        )
        st.cur_soql = rec
        return _C_SOQL

    def _soql_end(self, st: _TxState, args: str, ns: int, lineno: int) -> None:
        rows = self._rows(args, lineno)
        st.tx.soql_rows += rows
        p = args.find("|")
        frame = self._pop(st, "SOQL_EXECUTE_BEGIN", args[:p] if 0 < p < 40 else "", ns)
        if frame is None:
            if not st.overflowed:
                self._problem(lineno, "unmatched-exit", f"SOQL_EXECUTE_END without SOQL_EXECUTE_BEGIN: {args[:120]}")
        elif frame[2][4] is not None:
            frame[2][4].rows += rows

    @staticmethod
    def _soql_explain(st: _TxState, args: str) -> None:
        rec = None
        for frame in reversed(st.stack):
            if frame[5] == _K_SOQL:
                rec = frame[2]
                break
        if rec is None:
            return
        plan = args.split("|", 1)[-1][:MAX_TEXT_CHARS]
        rec[2] = plan
        pos = plan.rfind("relativeCost ")
        if pos >= 0:
            words = plan[pos + 13 : pos + 60].split()
            text = words[0].rstrip(",") if words else ""
            # float() takes "nan", "inf", "1_0" and non-ASCII digits: accept plain ASCII decimals only.
            rec[3] = float(text) if text and text.isascii() and text.replace(".", "", 1).isdigit() else None

    @staticmethod
    def _limits_begin(st: _TxState, args: str, ns: int) -> int:
        namespace = args.split("|", 1)[0].strip()[:MAX_NAME_CHARS] or "(default)"
        if namespace not in st.tx.limits and len(st.tx.limits) >= MAX_NAMESPACES:
            namespace = "(other)"
        snapshot: LimitSnapshot | None = None
        if len(st.tx.limit_snapshots) < MAX_SNAPSHOTS:
            snapshot = LimitSnapshot(ns, namespace, {})
            st.tx.limit_snapshots.append(snapshot)
        st.cur_limits = (namespace, snapshot)
        return _C_LIMITS

    def _limit_line(self, st: _TxState, line: str, lineno: int) -> None:
        text = line.strip()
        label, sep, values = text.partition(": ")
        parts = values.split(None, 4)
        used = maximum = None
        if sep and len(parts) >= 4 and parts[1] == "out" and parts[2] == "of":
            a, b = parts[0], parts[3]  # the checks of _safe_int, inlined: ~20 % of a log's lines are these
            if a.isdigit() and b.isdigit() and a.isascii() and b.isascii() and len(a) <= MAX_DIGITS >= len(b):
                used, maximum = int(a), int(b)
        if used is None or maximum is None:
            self._problem(lineno, "invalid-limit-line", f"not a limit usage line: {text[:120]}")
            return
        namespace, snapshot = st.cur_limits  # type: ignore[misc]
        key = _limit_key(label)
        per_ns = st.tx.limits.setdefault(namespace, {})
        usage = per_ns.get(key)
        if usage is None and len(per_ns) >= MAX_LIMIT_KEYS:
            self._problem(lineno, "invalid-limit-line", f"more than {MAX_LIMIT_KEYS} limits in {namespace[:60]}")
            return
        if snapshot is not None:
            snapshot.values[key] = (used, maximum)
        close = "CLOSE TO LIMIT" in values
        if usage is None:
            per_ns[key] = LimitUsage(namespace, key, label[:200], used, maximum, close, used)
        else:
            usage.used, usage.max, usage.close_to_limit = used, maximum, close or usage.close_to_limit
            usage.peak = max(usage.peak, used)

    @staticmethod
    def _code_stack(st: _TxState, n: int = 5) -> list[str]:
        names = [f[2] for f in reversed(st.stack) if f[5] == _K_CODE]
        return names[:n]

    def _thrown(self, st: _TxState, args: str, ns: int) -> int:
        first, sep, text = args.partition("|")
        if not sep:
            first, text = "", args
        exc_type, message = _split_exception(text[:MAX_TEXT_CHARS])
        exc = ExceptionInfo(exc_type, message, ns, _line_number(first), False, self._code_stack(st))
        if len(st.tx.exceptions) < MAX_EXCEPTIONS:
            st.tx.exceptions.append(exc)
        else:
            st.tx.exceptions_dropped += 1
        st.cur_exc = exc
        return _C_EXC

    def _fatal(self, st: _TxState, args: str, ns: int) -> int:
        exc_type, message = _split_exception(args[:MAX_TEXT_CHARS])
        match = None
        for exc in reversed(st.tx.exceptions):
            if not exc.fatal and exc.type == exc_type and exc.message.split("\n", 1)[0] == message:
                match = exc
                break
        if match is None:
            match = ExceptionInfo(exc_type, message, ns, None, True, [])
            if len(st.tx.exceptions) < MAX_EXCEPTIONS:
                st.tx.exceptions.append(match)
            else:
                st.tx.exceptions_dropped += 1
        match.fatal = True
        match.stack = []
        match.message = message
        st.cur_exc = match
        return _C_FATAL

    @staticmethod
    def _fatal_line(st: _TxState, line: str) -> None:
        exc = st.cur_exc
        if exc is None:
            return
        if (line.startswith(_STACK_PREFIXES) and ": line " in line) or exc.stack:
            if len(exc.stack) < MAX_TEXT_LINES:
                exc.stack.append(line.strip()[:MAX_NAME_CHARS])
        elif len(exc.message) < MAX_TEXT_CHARS:
            exc.message = (exc.message + "\n" + line)[:MAX_TEXT_CHARS]

    def _user_info(self, st: _TxState | None, args: str) -> None:
        parts = args.split("|")
        if parts and parts[0][:1] == "[":
            parts = parts[1:]
        user_id = parts[0][:100] if parts else None
        username = parts[1][:MAX_NAME_CHARS] if len(parts) > 1 else None
        self._pending_user = (user_id, username)
        if st is not None and st.tx.user_id is None:
            st.tx.user_id, st.tx.username = user_id, username

    def _callout_request(self, st: _TxState, args: str, ns: int, lineno: int) -> None:
        first, _, text = args.partition("|")
        endpoint = _bracket_value(text, "Endpoint") or text
        method = _bracket_value(text, "Method") or ""
        callout = Callout(endpoint[:MAX_NAME_CHARS], method[:40], ns)
        if len(st.tx.callouts) < MAX_CALLOUTS:
            st.tx.callouts.append(callout)
        st.cur_callout = callout
        self._push(
            st,
            ["CALLOUT_REQUEST", first if first[:1] == "[" and len(first) < 40 else "", callout, ns, 0, _K_CALLOUT],
            lineno,
        )

    def _callout_response(self, st: _TxState, args: str, ns: int, lineno: int) -> None:
        first, _, text = args.partition("|")
        frame = self._pop(st, "CALLOUT_REQUEST", first if first[:1] == "[" and len(first) < 40 else "", ns)
        callout = frame[2] if frame is not None else st.cur_callout
        if callout is None:
            self._problem(lineno, "unmatched-exit", f"CALLOUT_RESPONSE without CALLOUT_REQUEST: {args[:120]}")
            return
        code = _bracket_value(text, "StatusCode")
        status = _bracket_value(text, "Status")
        callout.status = status[:200] if status is not None else None
        callout.status_code = _safe_int(code) if code else None
        if callout.duration_ns is None:
            callout.duration_ns = ns - callout.nanos

    @staticmethod
    def _flow_error(st: _TxState, ev: str, args: str, ns: int) -> int:
        error = FlowError(ev, args[:MAX_TEXT_CHARS], ns)
        if len(st.tx.flow_errors) < MAX_EXCEPTIONS:
            st.tx.flow_errors.append(error)
        st.cur_flow = error
        return _C_FLOW

    def _marker(self, line: str, lineno: int, st: _TxState | None) -> bool:
        """Truncation markers: flag the log and the open transaction. False when it is not a marker."""
        if line.startswith("*** Skipped"):
            kind = "truncated-skipped"
        elif "MAXIMUM DEBUG LOG SIZE REACHED" in line:
            kind = "truncated-max-size"
        else:
            return False
        self.log.truncated = True
        if st is not None:
            st.tx.truncated = True
        self._problem(lineno, kind, line.strip("* ").strip())
        return True

    def _non_event(self, line: str, lineno: int, st: _TxState | None, before_events: bool) -> None:
        """A line outside any event: header, anonymous-Apex prelude, or something unreadable."""
        text = line.lstrip("\ufeff")
        match = _HEADER.match(text)
        if match:
            if st is not None:
                # A second header inside a transaction: logs were concatenated and the first one was cut.
                self._problem(lineno, "unexpected-header", "a log header inside an open transaction")
            if self.log.api_version is None:
                self.log.api_version = match.group(1)
                self.log.log_levels = dict(item.split(",", 1) for item in match.group(2).split(";"))
            return
        if text.startswith(_PRELUDE) or (before_events and not text[:1].isdigit()):
            if not text.startswith(_PRELUDE):
                self._problem(lineno, "invalid-line", f"text before the first event: {text[:120]}")
            return
        if text[:1].isdigit():
            self._problem(lineno, "invalid-line", f"malformed event line: {text[:120]}")


def _ns_of(line: str) -> int:
    """The `(nanos)` of an event line (0 when there is none)."""
    j = line.find(")|", 12, 64)
    i = line.rfind(" (", 0, j) if j > 0 else -1
    return (_safe_int(line[i + 2 : j]) or 0) if i > 0 else 0


def _bracket_value(text: str, name: str) -> str | None:
    """`Endpoint` of `System.HttpRequest[Endpoint=https://x, Method=POST]`."""
    key = name + "="
    pos = text.find(key)
    while pos > 0 and text[pos - 1] not in "[ ,":
        pos = text.find(key, pos + 1)
    if pos < 0:
        return None
    start = pos + len(key)
    end = len(text)
    for stop in (", ", "]"):
        q = text.find(stop, start)
        if 0 <= q < end:
            end = q
    return text[start:end]


def parse_stream(
    stream: BinaryIO, source: str = "<stream>", *, classify: bool = True, metadata: dict[str, Any] | None = None
) -> ParsedLog:
    """Parse a binary stream into a `ParsedLog` with all its transactions (held in memory: for big inputs
    iterate `LogParser.transactions()` or `LogFile` instead)."""
    parser = LogParser(stream, source, classify=classify, metadata=metadata)
    parser.log.transactions.extend(parser.transactions())
    return parser.log


def check_regular_file(path: Path) -> None:
    """Raise OSError unless `path` is a regular file: a device (`/dev/zero`) never ends, and opening a FIFO
    blocks until something writes to it."""
    mode = path.stat().st_mode  # OSError (missing, no permission) goes to the caller as is
    if not stat.S_ISREG(mode):
        kinds = (
            (stat.S_ISDIR, "directory"),
            (stat.S_ISFIFO, "FIFO"),
            (stat.S_ISCHR, "device"),
            (stat.S_ISBLK, "device"),
            (stat.S_ISSOCK, "socket"),
        )
        kind = next((name for test, name in kinds if test(mode)), "special file")
        raise OSError(f"not a regular file (a {kind})")


class LogFile:
    """One log file (plain or .gz) read as a stream: iterating yields its transactions one at a time, so memory
    stays bounded whatever the file holds; `log` has the file's facts (problems, sizes, header) and is complete
    once iteration ends (its `transactions` list stays empty). Iterating raises OSError when the file cannot be
    read, is not a regular file, or is a damaged .gz (transactions already yielded stay valid)."""

    def __init__(self, path: str | Path, *, classify: bool = True, metadata: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        self.log = ParsedLog(source=str(path))
        self._classify = classify
        self._metadata = metadata

    def __iter__(self) -> Iterator[Transaction]:
        path = self.path
        check_regular_file(path)
        if path.suffix == ".gz":
            import gzip
            import zlib

            try:
                with gzip.open(path, "rb") as fh:
                    yield from self._parse(fh)  # type: ignore[arg-type]
            except (EOFError, zlib.error) as exc:  # truncated or corrupt: BadGzipFile is already an OSError
                raise OSError(f"damaged gzip file ({exc})") from exc
            return
        with path.open("rb") as fh:
            yield from self._parse(fh)

    def _parse(self, fh: BinaryIO) -> Iterator[Transaction]:
        parser = LogParser(fh, str(self.path), classify=self._classify, metadata=self._metadata)
        self.log = parser.log
        yield from parser.transactions()


def parse_file(path: str | Path, *, classify: bool = True, metadata: dict[str, Any] | None = None) -> ParsedLog:
    """Parse a log file (plain or .gz) with all its transactions in memory. Raises OSError when it cannot be
    read or is not a regular file. For big files iterate a `LogFile` instead."""
    source = LogFile(path, classify=classify, metadata=metadata)
    transactions = list(source)
    source.log.transactions = transactions
    return source.log


def parse_bytes(
    data: bytes, source: str = "<bytes>", *, classify: bool = True, metadata: dict[str, Any] | None = None
) -> ParsedLog:
    """Parse a log held in memory (tests, small bodies). `metadata` may carry ApexLog `request`/`operation`."""
    import io

    return parse_stream(io.BytesIO(data), source, classify=classify, metadata=metadata)
