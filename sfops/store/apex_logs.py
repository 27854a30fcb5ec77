"""The `apex_log` table (migration 2): pulled Apex debug logs, one row per log.

Bodies are stored zlib-compressed next to their ApexLog metadata and the parsed per-transaction summary, in
one transaction per log, so a log is either completely stored or not at all.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from sfops.store import Store, schema


def stored_ids(store: Store, alias: str, since: dt.datetime | None) -> set[str]:
    """Ids of logs already stored for `org` with StartTime >= since (the overlap a new pull re-lists)."""
    table = schema.apex_log
    query = select(table.c.id).where(table.c.org == store.org_key(alias))
    if since is not None:
        query = query.where(table.c.start_time >= since)
    with store.engine.connect() as conn:
        return set(conn.execute(query).scalars())


def insert_log(store: Store, row: Mapping[str, Any], body: bytes) -> bool:
    """Store one log (`row` = every column but the body) atomically. False when it was already there."""
    values = {**row, "org": store.org_key(str(row["org"])), "body": zlib.compress(body, 6), "body_bytes": len(body)}
    try:
        with store.begin() as conn:
            conn.execute(schema.apex_log.insert().values(**values))
    except IntegrityError:
        return False
    return True


def load_body(store: Store, alias: str, log_id: str) -> bytes | None:
    """The original bytes of a stored log body."""
    table = schema.apex_log
    with store.engine.connect() as conn:
        blob = conn.execute(
            select(table.c.body).where(table.c.org == store.org_key(alias), table.c.id == log_id)
        ).scalar()
    return None if blob is None else zlib.decompress(blob)


def iter_summaries(
    store: Store, alias: str | None = None, since: dt.datetime | None = None
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """(log metadata, transaction summaries) for each stored log, oldest first."""
    table = schema.apex_log
    columns = [c for c in table.c if c.name != "body"]
    query = select(*columns).order_by(table.c.start_time, table.c.id)
    if alias is not None:
        query = query.where(table.c.org == store.org_key(alias))
    if since is not None:
        query = query.where(table.c.start_time >= since)
    with store.engine.connect() as conn:
        for row in conn.execute(query):
            meta = dict(row._mapping)
            yield meta, list(meta.pop("summary") or [])


def count_logs(store: Store, alias: str | None = None) -> int:
    """How many logs are stored (for one org, or all)."""
    table = schema.apex_log
    query = select(func.count()).select_from(table)
    if alias is not None:
        query = query.where(table.c.org == store.org_key(alias))
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())
