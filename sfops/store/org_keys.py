"""Which org an alias points at, so that pulled data is keyed by org id: two aliases of one org (say
`prod` and `prod-readonly`) share one copy of every log instead of storing each twice.

State key `org_id.<alias>`: {"org_id", "instance_url"}. `rekey` moves rows stored under an alias
(before data was keyed by org id) to the org id, dropping the ones already stored there.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select

from sfops.store import Store, schema

# The state keys that hold a per-org watermark of pulled data, by their prefix before the org.
WATERMARK_PREFIXES = ("logs.watermark.", "logs.Error_Log__c.watermark.", "logs.EventLogFile.watermark.")


def _key(alias: str) -> str:
    return f"org_id.{alias}"


def cached_org_id(store: Store, alias: str, instance_url: str | None = None) -> str | None:
    """The org id last seen for `alias` (on the same instance, when given), or None."""
    value = store.get_state(_key(alias))
    if not isinstance(value, dict):
        return None
    if instance_url is not None and value.get("instance_url") != instance_url:
        return None
    return str(value["org_id"])


def remember(store: Store, alias: str, org_id: str, instance_url: str) -> None:
    store.set_state(_key(alias), {"org_id": org_id, "instance_url": instance_url})


def aliases_of(store: Store, org_id: str) -> list[str]:
    """Every alias known to point at `org_id` (for display)."""
    return sorted(k.removeprefix("org_id.") for k, v in store.state_items("org_id.")
                  if isinstance(v, dict) and v.get("org_id") == org_id)


def rekey(store: Store, old: str, new: str) -> dict[str, int]:
    """Move logs, errors and watermarks stored under `old` (an alias) to `new` (the org id), in one
    transaction; rows already stored under `new` win. Returns the rows moved per table."""
    moved = {"apex_log": 0, "error_event": 0}
    with store.begin() as conn:
        log = schema.apex_log
        have = select(log.c.id).where(log.c.org == new)
        conn.execute(log.delete().where(log.c.org == old, log.c.id.in_(have)))
        moved["apex_log"] = conn.execute(log.update().where(log.c.org == old).values(org=new)).rowcount
        err = schema.error_event
        for source, error_id in conn.execute(select(err.c.source, err.c.id).where(err.c.org == new)).all():
            conn.execute(err.delete().where(and_(err.c.org == old, err.c.source == source, err.c.id == error_id)))
        moved["error_event"] = conn.execute(err.update().where(err.c.org == old).values(org=new)).rowcount
        for prefix in WATERMARK_PREFIXES:
            old_value: Any = store_value(conn, prefix + old)
            if old_value is None:
                continue
            new_value = store_value(conn, prefix + new)
            # the earlier watermark: listing again is harmless (stored ids are skipped), skipping is not
            keep = old_value if new_value is None or str(old_value) < str(new_value) else new_value
            store.set_state(prefix + new, keep, conn=conn)
            store.delete_state(prefix + old, conn=conn)
    return moved


def store_value(conn: Any, key: str) -> Any:
    return conn.execute(select(schema.state.c.value).where(schema.state.c.key == key)).scalar()

