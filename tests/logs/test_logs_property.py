"""Property test: mangled logs never crash the parser; it returns what it could and lists problems."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paths import APEX_LOGS

from sfops.logs import parse_bytes
from sfops.logs.model import Classification, Transaction

BASES = [
    (APEX_LOGS / name).read_text(encoding="utf-8").split("\n")
    for name in (
        "certinia-mcp-minimal-v64.log",
        "SYNTHETIC-certinia-mcp-exceptions-callout-timeout-v64.log",
        "synthetic/SYNTHETIC-non-selective-query-trigger-v64.log",
        "synthetic/SYNTHETIC-unable-to-lock-row-queueable-v64.log",
        "SYNTHETIC-certinia-mcp-truncated-skipped-maxsize-v64.log",
    )
]
KNOWN_KINDS = {
    "truncated-skipped",
    "truncated-max-size",
    "unexpected-end",
    "invalid-line",
    "unknown-event",
    "unmatched-exit",
    "missing-execution-started",
    "invalid-limit-line",
    "invalid-field",
    "unexpected-header",
    "line-too-long",
    "stack-too-deep",
    "exit-search-limited",
}
JUNK = st.text(
    alphabet=st.sampled_from(list("0123456789:.()| []ABCDEFGHIJKLMNOPQRSTUVWXYZ_abc*\t\ufeff\r")), max_size=60
)


@st.composite
def mangled(draw: st.DrawFn) -> bytes:
    lines = list(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(0, 8))):
        op = draw(st.sampled_from(["drop", "dup", "cut", "insert", "swap", "pipe"]))
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "cut":
            lines[i] = lines[i][: draw(st.integers(0, max(0, len(lines[i]))))]
        elif op == "insert":
            lines.insert(i, draw(JUNK))
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            pos = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:pos] + draw(st.sampled_from(["|", ")|", " (", "\n", "(99)|X"])) + lines[i][pos:]
    text = "\n".join(lines)
    data = text.encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"])))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]  # cut anywhere, even inside a UTF-16 code unit
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled())
def test_mangled_logs_never_crash(data: bytes) -> None:
    log = parse_bytes(data)
    assert {p.kind for p in log.problems} <= KNOWN_KINDS
    for tx in log.transactions:
        assert isinstance(tx, Transaction)
        assert isinstance(tx.classification, Classification) and tx.classification.hint
        assert tx.end_ns is not None
        for exc in tx.exceptions:
            assert exc.type


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_crash(data: bytes) -> None:
    log = parse_bytes(data)
    assert log.size_bytes == len(data)
