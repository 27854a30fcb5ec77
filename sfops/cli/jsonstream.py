"""Large JSON output written in pieces, so a command never holds its whole output (or its JSON text) in memory.

orjson serializes dataclasses, dicts and lists in C, several times faster than `to_jsonable` + `json.dumps`;
what it refuses (integers beyond 64 bits, lone surrogates from undecodable file names) goes through the
standard library instead, so nothing is lost.
"""

from __future__ import annotations

import json
import tempfile
from typing import IO, Any

import orjson

from sfops.serialize import to_jsonable

FLUSH_BYTES = 1 << 20
SPOOL_BYTES = 8 << 20  # a spool bigger than this moves to a temporary file


def _default(value: Any) -> Any:
    converted = to_jsonable(value)
    return str(converted) if converted is value else converted


def dumps(value: Any) -> bytes:
    """Compact JSON (UTF-8 bytes) for any value `to_jsonable` understands."""
    try:
        return orjson.dumps(value, default=_default)
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(to_jsonable(value), default=str).encode()


class JsonOut:
    """Buffered writes of JSON bytes to a text stream (to its binary buffer when it has one)."""

    def __init__(self, file: IO[str]) -> None:
        self._file = file
        self._binary: IO[bytes] | None = getattr(file, "buffer", None)
        if self._binary is not None:
            file.flush()  # keep anything already written in the text layer before our bytes
        self._parts: list[bytes] = []
        self._size = 0

    def write(self, data: bytes) -> None:
        self._parts.append(data)
        self._size += len(data)
        if self._size >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        data = b"".join(self._parts)
        self._parts, self._size = [], 0
        if self._binary is not None:
            self._binary.write(data)
            self._binary.flush()
        else:
            self._file.write(data.decode())

    def copy_from(self, spool: IO[bytes]) -> None:
        """Append everything written to `spool` (then closes it)."""
        spool.seek(0)
        while block := spool.read(FLUSH_BYTES):
            self.write(block)
        spool.close()


def spool() -> IO[bytes]:
    """A byte buffer for output that must come later in the document: memory up to SPOOL_BYTES, then a file."""
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
