"""Apex debug logs: streaming parser, failure classification and report building blocks.

Offline use: `parse_file(path)` -> `ParsedLog` with one `Transaction` per EXECUTION_STARTED; for big files
`LogFile(path)` yields the transactions one at a time (bounded memory).

The names below are imported on first use (PEP 562), so importing a light submodule such as
`sfops.logs.traceflags` (the `sfops logs --help` options) does not load the parser. The
`classify()` function lives in `sfops.logs.classify` (the package attribute of that name is the submodule).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sfops.logs.classify import fingerprint
    from sfops.logs.model import (
        Callout,
        Classification,
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
    from sfops.logs.parser import LogFile, LogParser, parse_bytes, parse_file, parse_stream

_LAZY: dict[str, str] = {
    "fingerprint": "classify",
    **dict.fromkeys(
        (
            "Callout",
            "Classification",
            "ExceptionInfo",
            "FlowError",
            "LimitSnapshot",
            "LimitUsage",
            "MethodStat",
            "ParsedLog",
            "ParseProblem",
            "SoqlStat",
            "Transaction",
        ),
        "model",
    ),
    **dict.fromkeys(("LogFile", "LogParser", "parse_bytes", "parse_file", "parse_stream"), "parser"),
}

__all__ = [
    "Callout",
    "Classification",
    "ExceptionInfo",
    "FlowError",
    "LimitSnapshot",
    "LimitUsage",
    "LogFile",
    "LogParser",
    "MethodStat",
    "ParseProblem",
    "ParsedLog",
    "SoqlStat",
    "Transaction",
    "fingerprint",
    "parse_bytes",
    "parse_file",
    "parse_stream",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"sfops.logs.{module}"), name)
