"""Offline analysis of log files and the row shapes that reports and the CLI show.

`analyze_files` sets up a streaming pass over files (no org needed): `Analysis.transactions()` yields each
transaction as soon as it is parsed, so memory does not grow with the number of transactions;
`transaction_rows`, `limit_rows` and `problem_rows` turn the results into flat records (one dict per row) for
tables, CSV, JSON and pandas.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sfops.logs.model import ParsedLog, Transaction
from sfops.logs.parser import LogFile


@dataclass
class FileAnalysis:
    """One input file: its facts and problems (`log`, without the transactions, which were streamed), or why
    it could not be read (`error`; a file that broke midway has both)."""

    path: str
    log: ParsedLog | None = None
    error: str | None = None


class Analysis:
    """A one-pass analysis of files: iterate `transactions()` once; `files` fills in as each file is read."""

    def __init__(self, paths: Sequence[str | Path], *, classify: bool = True) -> None:
        self.paths = expand_paths(paths)
        self.files: list[FileAnalysis] = []
        self._classify = classify

    @property
    def unreadable(self) -> list[FileAnalysis]:
        return [f for f in self.files if f.error is not None]

    @property
    def not_apex_logs(self) -> list[str]:
        """Files that read fine but hold no Apex debug log: no `64.0 APEX_CODE,...` header and no event."""
        return [
            f.path
            for f in self.files
            if f.log is not None
            and f.error is None
            and f.log.api_version is None
            and not f.log.log_levels
            and not f.log.events
        ]

    def transactions(self) -> Iterator[tuple[str, Transaction]]:
        """(path, transaction) for every transaction of every readable file, in file order."""
        for path, txs in self.by_file():
            for tx in txs:
                yield path.path, tx

    def by_file(self) -> Iterator[tuple[FileAnalysis, Iterator[Transaction]]]:
        """Each file with an iterator over its transactions; consume it before taking the next file, then the
        file's `log` and `error` are final."""
        for path in self.paths:
            record = FileAnalysis(str(path))
            self.files.append(record)
            if path.is_dir():
                record.error = f"no .log or .log.gz files in {path}"
                yield record, iter(())
                continue
            yield record, self._read(record, LogFile(path, classify=self._classify))

    @staticmethod
    def _read(record: FileAnalysis, source: LogFile) -> Iterator[Transaction]:
        try:
            yield from source
        except OSError as exc:
            record.error = f"{exc.strerror or exc}: {source.path}"
        finally:
            record.log = source.log
            if record.error is not None and source.log.size_bytes == 0 and not source.log.lines:
                record.log = None  # nothing was read at all


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


def analyze_files(paths: Sequence[str | Path], *, classify: bool = True) -> Analysis:
    """A streaming analysis of each file (directories: their .log/.log.gz files); nothing is read until
    `transactions()` is iterated. A file that cannot be read is reported in its `error`; the others still
    parse."""
    return Analysis(paths, classify=classify)


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
    soql, soql_source = tx.count("soql")
    dml, dml_source = tx.count("dml")
    return {
        "file": Path(path).name,
        "tx": tx.index,
        "entry_point": tx.entry_point,
        "user": tx.username,
        "start": tx.start_clock,
        "duration_ms": None if duration is None else round(duration / 1e6, 1),
        "soql": soql,
        "soql_source": soql_source,
        "dml": dml,
        "dml_source": dml_source,
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


def transaction_rows(analysis: Analysis) -> Iterator[dict[str, Any]]:
    """One row per transaction of every readable file (streamed)."""
    return (transaction_row(path, tx) for path, tx in analysis.transactions())


def limit_rows(transactions: Iterable[tuple[str, Transaction]]) -> list[dict[str, Any]]:
    """One row per transaction, namespace and governor limit: used (peak), max and percent used."""
    rows = []
    for path, tx in transactions:
        for namespace, usages in tx.limits.items():
            for usage in usages.values():
                rows.append(
                    {
                        "file": Path(path).name,
                        "tx": tx.index,
                        "entry_point": tx.entry_point,
                        "namespace": namespace,
                        "limit": usage.key,
                        "used": usage.peak,
                        "max": usage.max,
                        "pct": _pct(usage.peak, usage.max),
                    }
                )
    return rows


def problem_rows(analysis: Analysis) -> list[dict[str, Any]]:
    """Every parse problem (and unreadable file) as a row; reads the files if that has not happened yet."""
    if not analysis.files:
        for _ in analysis.transactions():
            pass
    rows: list[dict[str, Any]] = []
    for f in analysis.files:
        if f.log is not None:
            for p in f.log.problems:
                rows.append({"file": Path(f.path).name, "line": p.line, "kind": p.kind, "message": p.message})
        if f.error is not None:
            rows.append({"file": Path(f.path).name, "line": None, "kind": "unreadable", "message": f.error})
            continue
        assert f.log is not None
        if f.log.problems_dropped:
            rows.append(
                {
                    "file": Path(f.path).name,
                    "line": None,
                    "kind": "more",
                    "message": f"{f.log.problems_dropped} further problems not listed",
                }
            )
    return rows
