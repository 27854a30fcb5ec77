"""Offline analysis of log files and the row shapes that reports and the CLI show.

`analyze_files` parses files (no org needed); `transaction_rows`, `limit_rows` and `problem_rows` turn the
results into flat records (one dict per row) for tables, CSV, JSON and pandas.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sfops.logs.model import ParsedLog, Transaction
from sfops.logs.parser import parse_file


@dataclass
class FileAnalysis:
    """One input file: its parse result, or why it could not be read."""

    path: str
    log: ParsedLog | None = None
    error: str | None = None


@dataclass
class Analysis:
    """The result of `analyze_files`."""

    files: list[FileAnalysis] = field(default_factory=list)

    @property
    def unreadable(self) -> list[FileAnalysis]:
        return [f for f in self.files if f.error is not None]

    @property
    def not_apex_logs(self) -> list[str]:
        """Files that read fine but hold no Apex debug log: no `64.0 APEX_CODE,...` header and no event."""
        return [f.path for f in self.files if f.log is not None and f.log.api_version is None
                and not f.log.log_levels and not f.log.transactions]

    def transactions(self) -> Iterable[tuple[str, Transaction]]:
        for f in self.files:
            if f.log is not None:
                for tx in f.log.transactions:
                    yield f.path, tx


def expand_paths(paths: Sequence[str | Path]) -> list[Path]:
    """Files as given; a directory stands for the `*.log` and `*.log.gz` files under it (sorted)."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith((".log", ".log.gz")))
            out.extend(found or [path])  # an empty directory stays, to be reported as unreadable
        else:
            out.append(path)
    return out


def analyze_files(paths: Sequence[str | Path]) -> Analysis:
    """Parse each file (directories: their .log/.log.gz files); a file that cannot be read is reported in its
    `error`, the others still parse."""
    analysis = Analysis()
    for path in expand_paths(paths):
        if path.is_dir():
            analysis.files.append(FileAnalysis(str(path), error=f"no .log or .log.gz files in {path}"))
            continue
        try:
            analysis.files.append(FileAnalysis(str(path), parse_file(path)))
        except OSError as exc:
            analysis.files.append(FileAnalysis(str(path), error=f"{exc.strerror or exc}: {path}"))
    return analysis


def _pct(used: int, maximum: int) -> float:
    return round(100.0 * used / maximum, 1) if maximum else 0.0


def limit_text(tx: Transaction, n: int = 3) -> str:
    """`cpu_time 152% (15163/10000); soql_queries 5% (5/100)` — namespace shown when not (default)."""
    parts = []
    for usage in tx.closest_limits(n):
        where = "" if usage.namespace == "(default)" else f" {usage.namespace}"
        parts.append(f"{usage.key}{where} {_pct(usage.peak, usage.max):g}% ({usage.peak}/{usage.max})")
    return "; ".join(parts)


def _first_line(text: str, width: int = 100) -> str:
    line = text.split("\n", 1)[0]
    return line if len(line) <= width else line[: width - 1] + "…"


def exception_text(tx: Transaction) -> str:
    """The fatal exception first, then a count of handled ones."""
    fatal = tx.fatal
    handled = [e for e in tx.exceptions if not e.fatal]
    parts = []
    if fatal is not None:
        parts.append(f"{fatal.type}: {_first_line(fatal.message)} [fatal]")
    if handled:
        first = handled[0]
        more = f" (+{len(handled) - 1} more)" if len(handled) > 1 else ""
        parts.append(f"{first.type}: {_first_line(first.message)} [handled]{more}")
    return "; ".join(parts)


def transaction_row(path: str, tx: Transaction) -> dict[str, Any]:
    """The one-line summary of a transaction that `sfops logs analyze` shows."""
    c = tx.classification
    duration = tx.duration_ns
    return {
        "file": Path(path).name,
        "tx": tx.index,
        "entry_point": tx.entry_point,
        "user": tx.username,
        "start": tx.start_clock,
        "duration_ms": None if duration is None else round(duration / 1e6, 1),
        "soql": tx.soql_count,
        "dml": tx.dml_count,
        "cpu_ms": tx.cpu_ms,
        "heap_peak": tx.heap_peak,
        "closest_limits": limit_text(tx),
        "exceptions": exception_text(tx),
        "category": c.category if c else None,
        "limit": c.limit if c else None,
        "failed": c.failed if c else None,
        "hint": c.hint if c else None,
        "fingerprint": c.fingerprint if c else None,
        "truncated": tx.truncated,
    }


def transaction_rows(analysis: Analysis) -> list[dict[str, Any]]:
    """One row per transaction of every readable file."""
    return [transaction_row(path, tx) for path, tx in analysis.transactions()]


def limit_rows(transactions: Iterable[tuple[str, Transaction]]) -> list[dict[str, Any]]:
    """One row per transaction, namespace and governor limit: used (peak), max and percent used."""
    rows = []
    for path, tx in transactions:
        for namespace, usages in tx.limits.items():
            for usage in usages.values():
                rows.append({
                    "file": Path(path).name, "tx": tx.index, "entry_point": tx.entry_point,
                    "namespace": namespace, "limit": usage.key, "used": usage.peak, "max": usage.max,
                    "pct": _pct(usage.peak, usage.max),
                })
    return rows


def problem_rows(analysis: Analysis) -> list[dict[str, Any]]:
    """Every parse problem (and unreadable file) as a row."""
    rows: list[dict[str, Any]] = []
    for f in analysis.files:
        if f.error is not None:
            rows.append({"file": Path(f.path).name, "line": None, "kind": "unreadable", "message": f.error})
            continue
        assert f.log is not None
        for p in f.log.problems:
            rows.append({"file": Path(f.path).name, "line": p.line, "kind": p.kind, "message": p.message})
        if f.log.problems_dropped:
            rows.append({"file": Path(f.path).name, "line": None, "kind": "more",
                         "message": f"{f.log.problems_dropped} further problems not listed"})
    return rows
