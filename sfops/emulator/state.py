"""Persistent emulator state: records of every sObject and JSON values by (kind, key).

An in-memory cache serves reads; every write goes through to SQLite (a file under the data dir,
or `:memory:`). One re-entrant lock makes it thread-safe; `transaction()` makes a group of
writes all-or-nothing (SQLite transaction + cache snapshot restored on error).
"""

from __future__ import annotations

import copy
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sfops.emulator import ids

_DDL = """
CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, sobject TEXT NOT NULL, data TEXT NOT NULL,
                                    seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS records_sobject ON records(sobject);
CREATE TABLE IF NOT EXISTS kv (kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
                               PRIMARY KEY (kind, key));
"""


class RecordState:
    """Records (wire dicts keyed by canonical field names) and JSON values, cached and persisted."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            # WAL + NORMAL: durable across process crashes, without an fsync per API write
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_DDL)
        self._lock = threading.RLock()
        self._depth = 0
        self._seq = 0
        self._rows: dict[str, dict[str, dict[str, Any]]] = {}  # sobject (lower) -> id -> record
        self._types: dict[str, str] = {}  # id -> sobject (lower)
        self._kv: dict[str, dict[str, Any]] = {}
        self._load()

    def _load(self) -> None:
        for rid, sobject, data, seq in self._db.execute("SELECT id, sobject, data, seq FROM records ORDER BY seq"):
            self._rows.setdefault(sobject, {})[rid] = json.loads(data)
            self._types[rid] = sobject
            self._seq = max(self._seq, seq)
        for kind, key, value in self._db.execute("SELECT kind, key, value FROM kv"):
            self._kv.setdefault(kind, {})[key] = json.loads(value)

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    # ------------------------------------------------------------------ records
    def rows(self, sobject: str) -> list[dict[str, Any]]:
        """Every stored row of an object (deleted ones included), in insertion order."""
        with self._lock:
            return list(self._rows.get(sobject.lower(), {}).values())

    def get(self, record_id: str) -> tuple[str, dict[str, Any]] | None:
        """(sobject lower-case name, row) for a 15/18-char id, or None."""
        if not ids.looks_like_id(record_id):
            return None
        rid = ids.normalize(record_id)
        with self._lock:
            sobject = self._types.get(rid)
            if sobject is None:
                return None
            return sobject, self._rows[sobject][rid]

    def put(self, sobject: str, record: dict[str, Any]) -> None:
        """Insert or replace a row (its "Id" is the key)."""
        low = sobject.lower()
        rid = record["Id"]
        with self._lock:
            existing = self._types.get(rid)
            self._seq += 1
            self._rows.setdefault(low, {})[rid] = record
            self._types[rid] = low
            if existing is None:
                self._db.execute(
                    "INSERT INTO records (id, sobject, data, seq) VALUES (?, ?, ?, ?)",
                    (rid, low, json.dumps(record), self._seq),
                )
            else:
                self._db.execute("UPDATE records SET data = ? WHERE id = ?", (json.dumps(record), rid))

    def purge(self, record_id: str) -> None:
        """Remove a row for good (hard delete)."""
        rid = ids.normalize(record_id)
        with self._lock:
            sobject = self._types.pop(rid, None)
            if sobject is not None:
                self._rows[sobject].pop(rid, None)
                self._db.execute("DELETE FROM records WHERE id = ?", (rid,))

    def drop_object(self, sobject: str) -> None:
        """Remove every row of an object (its definition was deleted)."""
        low = sobject.lower()
        with self._lock:
            for rid in list(self._rows.pop(low, {})):
                self._types.pop(rid, None)
            self._db.execute("DELETE FROM records WHERE sobject = ?", (low,))

    def count(self, sobject: str) -> int:
        with self._lock:
            return sum(1 for r in self._rows.get(sobject.lower(), {}).values() if not r.get("IsDeleted"))

    # ------------------------------------------------------------------ JSON values
    def put_json(self, kind: str, key: str, value: Any) -> None:
        text = json.dumps(value)
        with self._lock:
            self._kv.setdefault(kind, {})[key] = json.loads(text)
            self._db.execute("INSERT OR REPLACE INTO kv (kind, key, value) VALUES (?, ?, ?)", (kind, key, text))

    def get_json(self, kind: str, key: str) -> Any | None:
        with self._lock:
            value = self._kv.get(kind, {}).get(key)
            return copy.deepcopy(value)

    def list_json(self, kind: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._kv.get(kind, {}))

    def delete_json(self, kind: str, key: str) -> None:
        with self._lock:
            self._kv.get(kind, {}).pop(key, None)
            self._db.execute("DELETE FROM kv WHERE kind = ? AND key = ?", (kind, key))

    # ------------------------------------------------------------------ lifecycle
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together, or none do (nested calls join the outer one)."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            snapshot = (copy.deepcopy(self._rows), dict(self._types), copy.deepcopy(self._kv), self._seq)
            self._db.execute("BEGIN")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                self._rows, self._types, self._kv, self._seq = snapshot
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._depth = 0

    def dump(self) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, dict[str, Any]]]:
        """A deep copy of everything (rows in insertion order, JSON values) for `restore`."""
        with self._lock:
            rows = [(sobject, copy.deepcopy(row)) for sobject, by_id in self._rows.items() for row in by_id.values()]
            return rows, copy.deepcopy(self._kv)

    def restore(self, dump: tuple[list[tuple[str, dict[str, Any]]], dict[str, dict[str, Any]]]) -> None:
        """Replace all state with a `dump()` (fast reset to a seeded org)."""
        rows, kv = dump
        with self._lock, self.transaction():
            self.clear()
            for sobject, row in rows:
                self.put(sobject, copy.deepcopy(row))
            for kind, values in kv.items():
                for key, value in values.items():
                    self.put_json(kind, key, value)

    def clear(self) -> None:
        """Forget everything (reset)."""
        with self._lock:
            self._rows.clear()
            self._types.clear()
            self._kv.clear()
            self._db.execute("DELETE FROM records")
            self._db.execute("DELETE FROM kv")

    def close(self) -> None:
        with self._lock:
            self._db.close()
