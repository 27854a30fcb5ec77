"""Encodings and line ends seen in real logs: UTF-8 with/without BOM, UTF-16 (PowerShell), CRLF."""

from __future__ import annotations

import io

import pytest
from paths import APEX_LOGS

from sfops.logs import parse_bytes
from sfops.logs.reader import TextSource, detect_encoding

SOURCE = (APEX_LOGS / "certinia-mcp-governor-heavy-cpu-limit-multi-ns-v64.log").read_bytes()
TEXT = SOURCE.decode("utf-8")
CRLF = TEXT.replace("\n", "\r\n")

VARIANTS = {
    "utf-8": TEXT.encode("utf-8"),
    "utf-8 BOM": b"\xef\xbb\xbf" + TEXT.encode("utf-8"),
    "utf-8 BOM CRLF": b"\xef\xbb\xbf" + CRLF.encode("utf-8"),
    "utf-16-le BOM CRLF (PowerShell)": b"\xff\xfe" + CRLF.encode("utf-16-le"),
    "utf-16-be BOM": b"\xfe\xff" + TEXT.encode("utf-16-be"),
    "utf-16-le no BOM": TEXT.encode("utf-16-le"),
}


def _summary(data: bytes) -> tuple:
    log = parse_bytes(data)
    tx = log.transactions[0]
    return (
        log.api_version,
        log.lines,
        log.events,
        log.continuation_lines,
        [p.kind for p in log.problems],
        tx.entry_point,
        tx.duration_ns,
        tx.cpu_ms,
        tx.fatal.stack,
        tx.classification.category,
        {ns: {k: (u.peak, u.max) for k, u in v.items()} for ns, v in tx.limits.items()},
    )


@pytest.mark.parametrize("name", list(VARIANTS))
def test_every_encoding_parses_the_same(name: str) -> None:
    assert _summary(VARIANTS[name]) == _summary(VARIANTS["utf-8"])


@pytest.mark.parametrize(
    "head,encoding",
    [
        (b"\xef\xbb\xbf6", "utf-8-sig"),
        (b"\xff\xfe6\x00", "utf-16"),
        (b"\xfe\xff\x006", "utf-16"),
        (b"6\x004\x00", "utf-16-le"),
        (b"\x006\x004", "utf-16-be"),
        (b"64.0", "utf-8"),
        (b"", "utf-8"),
    ],
)
def test_detect_encoding(head: bytes, encoding: str) -> None:
    assert detect_encoding(head) == encoding


def test_reader_counts_bytes_and_leaves_the_stream_open() -> None:
    stream = io.BytesIO(VARIANTS["utf-16-le BOM CRLF (PowerShell)"])
    source = TextSource(stream, chunk_chars=1000)
    text = "".join(source.chunks())
    assert text == TEXT
    assert source.bytes_read == len(stream.getvalue())
    assert not stream.closed
