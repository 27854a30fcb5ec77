"""Apex debug logs: streaming parser, failure classification and report building blocks.

Offline use: `parse_file(path)` -> `ParsedLog` with one `Transaction` per EXECUTION_STARTED.
"""

from sfops.logs.classify import classify, fingerprint
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
from sfops.logs.parser import LogParser, parse_bytes, parse_file, parse_stream

__all__ = [
    "Callout", "Classification", "ExceptionInfo", "FlowError", "LimitSnapshot", "LimitUsage", "LogParser",
    "MethodStat", "ParseProblem", "ParsedLog", "SoqlStat", "Transaction", "classify", "fingerprint",
    "parse_bytes", "parse_file", "parse_stream",
]
