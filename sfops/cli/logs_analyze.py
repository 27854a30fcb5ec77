"""How `sfops logs analyze` renders its results without holding them: JSON and CSV are written while the files
are parsed, one transaction at a time; the human table keeps a bounded sample (failed transactions first)."""

from __future__ import annotations

import dataclasses
from typing import IO, Any

from sfops.cli.jsonstream import JsonOut, dumps, spool
from sfops.cli.output import Result, write_csv
from sfops.errors import ExitCode
from sfops.logs.analyze import Analysis, transaction_row

TABLE_ROWS = 1000  # rows the human table shows at most; --csv and --json have them all


def analysis_result(analysis: Analysis, columns: list[str]) -> Result:
    """A Result whose output is produced while `analysis` runs (see Result.stream)."""
    result = Result(
        title="Apex log analysis", columns=columns, optional=["hint", "tx", "duration_ms", "closest_limits", "file"]
    )  # narrow terminals drop these

    def stream(mode: str, file: IO[str]) -> bool:
        if mode == "json":
            _write_json(analysis, result, file)
            return True
        if mode == "csv":
            write_csv(file, (transaction_row(path, tx) for path, tx in analysis.transactions()), columns)
            _finish(analysis, result, None, None)
            return True
        _fill_table(analysis, result)
        return False

    result.stream = stream
    return result


def _finish(analysis: Analysis, result: Result, count: int | None, failed: int | None) -> None:
    result.warnings = [f.error for f in analysis.unreadable if f.error]
    result.warnings += [
        f"{path}: not an Apex debug log (no header such as '64.0 APEX_CODE,FINEST;...' and no events)."
        for path in analysis.not_apex_logs
    ]
    result.exit_code = ExitCode.FAILED if analysis.unreadable else ExitCode.OK
    if count is not None:
        read = len(analysis.files) - len(analysis.unreadable)
        result.message = f"{count} transaction(s) in {read} file(s); {failed} failed."


def _fill_table(analysis: Analysis, result: Result) -> None:
    failed_rows: list[tuple[int, dict[str, Any]]] = []
    other_rows: list[tuple[int, dict[str, Any]]] = []
    count = failed = 0
    for path, tx in analysis.transactions():
        row = transaction_row(path, tx)
        if row["failed"]:
            failed += 1
            if len(failed_rows) < TABLE_ROWS:
                failed_rows.append((count, row))
        elif len(other_rows) < TABLE_ROWS:
            other_rows.append((count, row))
        count += 1
    shown = sorted(failed_rows + other_rows[: TABLE_ROWS - len(failed_rows)], key=lambda item: item[0])
    result.rows = [row for _, row in shown]
    _finish(analysis, result, count, failed)
    if len(shown) < count:
        result.notes.append(
            f"The table shows {len(shown)} of {count} transactions (failed ones first); --csv or --json list them all."
        )


def _write_json(analysis: Analysis, result: Result, file: IO[str]) -> None:
    """The envelope {"result": {"logs": [...], "transactions": [...]}, "warnings", "status"}, one transaction per
    line. Rows go to a spool while the details stream out, then follow them."""
    out = JsonOut(file)
    rows = spool()
    count = failed = 0
    out.write(b'{\n  "result": {\n    "logs": [')
    for n, (record, txs) in enumerate(analysis.by_file()):
        out.write((b",\n      " if n else b"\n      ") + b'{"path": ' + dumps(record.path) + b', "log": ')
        opened = False
        for tx in txs:
            out.write(b",\n        " if opened else b'{"transactions": [\n        ')
            opened = True
            out.write(dumps(tx))
            row = transaction_row(record.path, tx)
            rows.write((b",\n      " if count else b"\n      ") + dumps(row))
            count += 1
            failed += bool(row["failed"])
        log = record.log
        if log is None:
            out.write(b"\n      ]}" if opened else b"null")
        else:
            facts = dumps({f.name: getattr(log, f.name) for f in dataclasses.fields(log) if f.name != "transactions"})
            out.write((b"\n      ], " if opened else b'{"transactions": [], ') + facts[1:])
        out.write(b', "error": ' + dumps(record.error) + b"}")
    out.write(b'\n    ],\n    "transactions": [')
    out.copy_from(rows)
    _finish(analysis, result, count, failed)
    out.write(
        b'\n    ]\n  },\n  "warnings": '
        + dumps(result.warnings)
        + b',\n  "status": '
        + str(int(result.exit_code)).encode()
        + b"\n}\n"
    )
    out.flush()
