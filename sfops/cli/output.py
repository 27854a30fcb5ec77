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
from zoneinfo import ZoneInfo

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
    warnings: things the user should act on or know went wrong (printed "Warning: ...", and in the
        JSON envelope's `warnings`).
    notes: information (a file written, a default chosen): printed as plain lines, never "Warning:".
    document: the message is a document to copy (Markdown, iCalendar), written as is at any width.
    optional: columns a narrow terminal drops first, in this order (then the rightmost ones).
    """

    data: Any = None
    rows: Sequence[Mapping[str, Any]] | None = None
    columns: Sequence[str] | None = None
    title: str | None = None
    message: str | None = None
    warnings: list[str] = field(default_factory=list)
    exit_code: ExitCode = ExitCode.OK
    notes: list[str] = field(default_factory=list)
    optional: Sequence[str] = ()
    document: bool = False  # the message is a document (Markdown, iCalendar): printed as is, never re-wrapped
    # Output too big to hold: render calls stream(mode, file) with mode "json", "csv" or "table" first. It
    # returns True when it wrote the whole output itself (it sets warnings and exit_code on this Result as it
    # goes), False after filling rows/message/warnings for the usual rendering.
    stream: Callable[[str, IO[str]], bool] | None = None


# The one way people see a moment: UTC to the minute. JSON carries ISO 8601 with an offset.
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M UTC"
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def when_text(value: dt.datetime | str | None) -> str:
    """A moment as people see it (`2026-11-26 18:00 UTC`): a datetime or an ISO 8601 string (one
    without an offset is UTC, as the store and Salesforce keep them); "-" for none."""
    if value is None or value == "":
        return "-"
    if isinstance(value, str):
        moment = parse_moment_text(value)
        if moment is None:
            return value
        value = moment
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    if isinstance(value.tzinfo, ZoneInfo) and value.tzinfo.key not in ("UTC", "Etc/UTC"):
        return value.strftime("%Y-%m-%d %H:%M %Z")  # asked for in a zone (oncall --tz): same shape, its zone
    return value.astimezone(dt.UTC).strftime(TIMESTAMP_FORMAT)


def parse_moment_text(text: str) -> dt.datetime | None:
    """The datetime an ISO 8601 string names (`2026-12-06T21:19:16.000+0000` included), else None."""
    if not _ISO_MOMENT.match(text):
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


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
            columns, dropped = fit_columns(rows, result.columns, console.width, result.optional)
            console.print(make_table(rows, columns, result.title))
            if dropped:
                console.print(
                    f"(not shown at {console.width} columns: {', '.join(dropped)}; widen the terminal "
                    "or use --json/--csv)",
                    style="dim",
                    highlight=False,
                    markup=False,
                )
        elif result.title:
            console.print(printable(f"{result.title}: none"), highlight=False, markup=False)
    for note in result.notes:
        console.print(printable(note), highlight=False, markup=False)
    for warning in result.warnings:
        console.print(Text.assemble(("Warning:", "yellow"), " ", printable(str(warning))), highlight=False)
    if result.message and result.document:
        console.file.write(result.message if result.message.endswith("\n") else result.message + "\n")
    elif result.message:
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


# A column whose every cell is one word at most this long (an Id, a status, a timestamp) is never
# wrapped; longer text wraps at spaces, and a word only folds when it is longer than this.
_ATOMIC_MAX = 30
_FOLD_MIN = 14


def _column_min(rows: Sequence[Mapping[str, Any]], column: str) -> tuple[int, bool]:
    """(narrowest width the column may take, whether it must stay on one line)."""
    header = max((len(word) for word in column.split()), default=1)
    cells = [_cell(row.get(column)) for row in rows]
    if all(len(c) <= _ATOMIC_MAX and (" " not in c or _is_moment(c)) for c in cells):
        return max([len(column), *(len(c) for c in cells)]), True
    longest_word = max((len(word) for c in cells for word in c.split()), default=1)
    return max(header, min(longest_word, _FOLD_MIN)), False


def fit_columns(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None, width: int, optional: Sequence[str] = ()
) -> tuple[list[str], list[str]]:
    """(columns shown, columns dropped) so the table fits `width`: columns in `optional` go first,
    then the rightmost; the first column always stays."""
    shown = list(columns or _columns(rows))
    dropped: list[str] = []
    mins = {c: _column_min(rows, c)[0] for c in shown}

    def needed() -> int:  # each column has a border and one space of padding either side
        return sum(mins[c] for c in shown) + 3 * len(shown) + 1

    order = [c for c in optional if c in shown] + [c for c in reversed(shown[1:]) if c not in optional]
    for column in order:
        if needed() <= width or len(shown) == 1:
            break
        shown.remove(column)
        dropped.append(column)
    every = list(columns or _columns(rows))
    return shown, sorted(dropped, key=every.index)


def make_table(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, title: str | None = None
) -> Table:
    """A rich table; piped output stays plain text. Ids, statuses and timestamps stay on one line and
    headers never split inside a word; free text wraps at spaces."""
    columns = list(columns or _columns(rows))
    table = Table(title=printable(title) if title else None, show_lines=False)
    for column in columns:
        narrowest, atomic = _column_min(rows, column)
        if atomic:
            table.add_column(column, no_wrap=True, width=narrowest)
        else:
            table.add_column(column, overflow="fold", min_width=narrowest)
    for row in rows:
        table.add_row(*(Text(_cell(row.get(c))) for c in columns))  # Text: '[prod]' in data is not markup
    return table


def rows_to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """CSV text with a header row."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns or _columns(rows)), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v, human=False) for k, v in row.items()})  # CSV keeps ISO 8601 moments
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


def _is_moment(text: str) -> bool:
    return text.endswith(" UTC") and len(text) == len("2026-01-01 00:00 UTC")


def _cell(value: Any, *, human: bool = True) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return when_text(value) if human else to_jsonable(value)
    if human and isinstance(value, str) and _ISO_MOMENT.match(value):
        return when_text(value)
    if isinstance(value, Mapping | list):
        return json.dumps(value, default=str)
    return printable(str(value))
