"""Rendering of command results: tables for people, the `sf`-style JSON envelope for machines.

Every command returns a `Result`; only this module decides how it is shown.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from sfops.errors import ExitCode, SfopsError
from sfops.serialize import to_jsonable

# C0 controls but tab and newline, DEL and C1 controls: ESC sequences in org data (a breaker's Last_Error__c)
# or in an echoed argument could move the cursor, rewrite the screen or set the terminal title.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` with terminal control characters shown as U+FFFD instead of reaching the terminal."""
    return _CONTROL.sub("\ufffd", text)


@dataclass
class Result:
    """What a command produced.

    data: the JSON `result` (any dataclass, dict, list, DataFrame...).
    rows/columns: what the human table shows (defaults to `data` when it is a list of records).
    message: a line printed after the table in human mode.
    """

    data: Any = None
    rows: Sequence[Mapping[str, Any]] | None = None
    columns: Sequence[str] | None = None
    title: str | None = None
    message: str | None = None
    warnings: list[str] = field(default_factory=list)
    exit_code: ExitCode = ExitCode.OK
    # Output too big to hold: render calls stream(mode, file) with mode "json", "csv" or "table" first. It
    # returns True when it wrote the whole output itself (it sets warnings and exit_code on this Result as it
    # goes), False after filling rows/message/warnings for the usual rendering.
    stream: Callable[[str, IO[str]], bool] | None = None


def when_text(value: dt.datetime | None, *, seconds: bool = False) -> str:
    """A moment as table cells show it (`2026-11-26 18:00 UTC`); "-" for none."""
    if value is None:
        return "-"
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


def envelope(result: Result) -> dict[str, Any]:
    """The success envelope {"status", "result", "warnings"}."""
    return {"status": int(result.exit_code), "result": to_jsonable(result.data), "warnings": result.warnings}


def render(result: Result, *, as_json: bool, console: Console, fmt: str = "table") -> None:
    """Print a result as JSON envelope, CSV, or a table plus message."""
    if result.stream is not None and result.stream("json" if as_json else fmt, console.file):
        return
    if as_json:
        console.file.write(json.dumps(envelope(result), indent=2, default=str) + "\n")
        return
    rows = _rows_of(result)
    if fmt == "csv" and rows is not None:
        console.file.write(rows_to_csv(rows, result.columns))
        return
    if rows is not None:
        if rows:
            console.print(make_table(rows, result.columns, result.title))
        elif result.title:
            console.print(printable(f"{result.title}: none"), highlight=False, markup=False)
    for warning in result.warnings:
        console.print(Text.assemble(("Warning:", "yellow"), " ", printable(str(warning))), highlight=False)
    if result.message:
        console.print(printable(result.message), highlight=False, markup=False)


def render_error(error: SfopsError, *, as_json: bool, console: Console) -> None:
    """Print an expected error: one clear line, or the JSON error envelope."""
    if as_json:
        console.file.write(json.dumps(to_jsonable(error.to_json()), indent=2, default=str) + "\n")
        return
    console.print(printable(f"Error ({error.name}): {error.message}"), style="red", highlight=False, markup=False)
    for action in error.actions:
        console.print(printable(f"  Try: {action}"), highlight=False, markup=False)


def _rows_of(result: Result) -> list[Mapping[str, Any]] | None:
    if result.rows is not None:
        return [to_jsonable(r) for r in result.rows]
    data = to_jsonable(result.data)
    if isinstance(data, list) and all(isinstance(r, Mapping) for r in data):
        return data
    return None


def make_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None,
               title: str | None = None) -> Table:
    """A rich table; piped output stays plain text."""
    columns = list(columns or _columns(rows))
    table = Table(title=printable(title) if title else None, show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text(_cell(row.get(c))) for c in columns))  # Text: '[prod]' in data is not markup
    return table


def rows_to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """CSV text with a header row."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns or _columns(rows)), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return buf.getvalue()


def write_csv(file: IO[str], rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> None:
    """CSV with a header row, written row by row (`rows` may be a generator of any length)."""
    writer = csv.DictWriter(file, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})


def _columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping | list):
        return json.dumps(value, default=str)
    return printable(str(value))
