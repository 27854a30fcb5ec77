"""Bytes in, text chunks out: encoding detection (BOM, UTF-16) and CRLF handling for debug logs.

Real logs arrive as UTF-8 with or without a BOM, and as UTF-16 (saved by PowerShell) with CRLF line ends.
The reader never loads a whole file: it yields decoded text in chunks of about `chunk_chars` characters.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import BinaryIO

CHUNK_CHARS = 1 << 20


class _CountingRaw(io.RawIOBase):
    """Adapts any binary file object (socket body, gzip, BytesIO) to raw IO and counts the bytes read."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


def detect_encoding(head: bytes) -> str:
    """The codec for a log that starts with `head` (at least the first 4 bytes when available)."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"  # the codec reads the BOM and picks the byte order
    if len(head) >= 2:
        if head[0] != 0 and head[1] == 0:
            return "utf-16-le"
        if head[0] == 0 and head[1] != 0:
            return "utf-16-be"
    return "utf-8"


class TextSource:
    """Decoded text chunks of a binary stream; `bytes_read` and `encoding` are known after reading."""

    def __init__(self, stream: BinaryIO, chunk_chars: int | None = None) -> None:
        self._raw = _CountingRaw(stream)
        self._buffered = io.BufferedReader(self._raw, buffer_size=1 << 16)
        self.encoding = detect_encoding(self._buffered.peek(4)[:4])
        self._chunk_chars = chunk_chars or CHUNK_CHARS  # read at call time: tests shrink it

    @property
    def bytes_read(self) -> int:
        return self._raw.count

    def chunks(self) -> Iterator[str]:
        """Decoded text, undecodable bytes replaced by U+FFFD, CRLF and CR turned into LF."""
        text = io.TextIOWrapper(self._buffered, encoding=self.encoding, errors="replace", newline=None)
        text._CHUNK_SIZE = 1 << 16  # type: ignore[attr-defined]  # fewer, larger decode steps
        try:
            while chunk := text.read(self._chunk_chars):
                yield chunk
        finally:
            text.detach()  # the caller owns the stream; do not close it
