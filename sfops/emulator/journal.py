"""The request journal behind /__emulator__/requests: lets tests count API calls by kind."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Entry:
    """One served request."""

    seq: int
    time: float
    method: str
    path: str
    kind: str
    status: int
    counted: bool


class Journal:
    """A bounded, thread-safe list of served requests."""

    def __init__(self, capacity: int = 10000) -> None:
        self._entries: deque[Entry] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._seq = 0

    def add(self, method: str, path: str, kind: str, status: int, counted: bool) -> None:
        with self._lock:
            self._seq += 1
            self._entries.append(Entry(self._seq, time.time(), method, path, kind, status, counted))

    def entries(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Entries as dicts, optionally only those whose kind equals or starts with `kind.`."""
        with self._lock:
            items = list(self._entries)
        if kind:
            items = [e for e in items if e.kind == kind or e.kind.startswith(kind + ".")]
        return [asdict(e) for e in items]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
