"""Which org an alias points at, so that store data is keyed by org id: two aliases of one org (say
`prod` and `prod-readonly`) share one copy of every log, audit record, limit snapshot and incident instead
of keeping two histories.

State key `org_id.<alias>`: {"org_id", "instance_url"}. Every table that identifies an org keeps its org id
in the `org` column once known (the alias before: `key_of` falls back to it, so offline commands still work);
tables shown to people also keep the `alias` it was made through. `rekey` moves rows stored under an alias
(before the alias's org id was known) to the org id, dropping the ones already stored there.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import Connection, Table, and_, exists, select

from sfops.store import Store, schema

# The state keys that hold a per-org watermark of pulled data, by their prefix before the org.
WATERMARK_PREFIXES = ("logs.watermark.", "logs.Error_Log__c.watermark.", "logs.EventLogFile.watermark.")


# Tables keyed by org: their identity columns other than `org` (rows already under the org id win), or ()
# for append-only tables, whose rows all move. `agent_run` stays per alias: it records the agent's work per
# configured alias (its leases and schedules are per alias too).
KEYED_TABLES: tuple[tuple[Table, tuple[str, ...]], ...] = (
    (schema.apex_log, ("id",)),
    (schema.error_event, ("source", "id")),
    (schema.audit, ()),
    (schema.limit_snapshot, ()),
    (schema.incident, ("id",)),
    (schema.incident_event, ()),
    (schema.notification, ()),
    (schema.detect_alert, ("rule", "key")),
    (schema.detect_firing, ()),
    (schema.detect_fingerprint, ("fingerprint",)),
    (schema.change_event, ("source", "id")),
)


class _Identity(Protocol):
    @property
    def org_id(self) -> str: ...


class _Credentials(Protocol):
    @property
    def org_id(self) -> str | None: ...


class ConnectedOrg(Protocol):
    """What `learn` needs of a connected org (sfops.salesforce.Org has it)."""

    @property
    def alias(self) -> str: ...
    @property
    def instance_url(self) -> str: ...
    @property
    def identity(self) -> _Identity: ...
    @property
    def credentials(self) -> _Credentials: ...


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


def key_of(store: Store, alias: str) -> str:
    """The key data of `alias` is stored under without asking the org: its org id once known, else the
    alias itself (an org id passed in comes back unchanged)."""
    return store.org_key(alias)


def learn(store: Store, org: ConnectedOrg, org_id: str | None = None) -> str:
    """The key data of a connected org is stored under: its 18-character org id, so two aliases of one org
    share it. Cached per alias and instance (no API call once known); data stored under the alias before
    is moved to the org id the first time. `org_id`: the org's id when the caller already has it (18
    characters)."""
    alias, instance = org.alias, org.instance_url
    cached = cached_org_id(store, alias, instance)
    if cached is not None:
        return cached
    org_id = org_id or org.identity.org_id
    with store.begin() as conn:  # the map and the moved rows together: no row is left under the alias
        store.set_state(_key(alias), {"org_id": org_id, "instance_url": instance}, conn=conn)
        _rekey(conn, store, alias, org_id)
    return org_id


def key_for(store: Store, org: ConnectedOrg) -> str:
    """Like `learn`, without an API call of its own: the org id comes from the login's answer (SOAP login,
    OAuth id URL, sf CLI) when it names one; otherwise the key known so far (rows written under the alias
    move to the org id when a later command learns it). For writes that must not fail or slow down on it."""
    cached = cached_org_id(store, org.alias, org.instance_url)
    if cached is not None:
        return cached
    org_id = org.credentials.org_id
    if not org_id or len(org_id) != 18:
        return store.org_key(org.alias)
    return learn(store, org, org_id)


def remember(store: Store, alias: str, org_id: str, instance_url: str) -> None:
    store.set_state(_key(alias), {"org_id": org_id, "instance_url": instance_url})


def aliases_of(store: Store, org_id: str) -> list[str]:
    """Every alias known to point at `org_id` (for display)."""
    return sorted(
        k.removeprefix("org_id.")
        for k, v in store.state_items("org_id.")
        if isinstance(v, dict) and v.get("org_id") == org_id
    )


def rekey(store: Store, old: str, new: str) -> dict[str, int]:
    """Move every row and watermark stored under `old` (an alias) to `new` (the org id), in one
    transaction; rows already stored under `new` with the same identity win. Returns the rows moved per
    table."""
    with store.begin() as conn:
        return _rekey(conn, store, old, new)


def _rekey(conn: Connection, store: Store, old: str, new: str) -> dict[str, int]:
    moved: dict[str, int] = {}
    if old == new:
        return moved
    for table, identity in KEYED_TABLES:
        if identity:
            mine = table.alias("mine")
            clash = exists().where(mine.c.org == new, and_(*(mine.c[c] == table.c[c] for c in identity)))
            conn.execute(table.delete().where(table.c.org == old, clash))
        moved[table.name] = conn.execute(table.update().where(table.c.org == old).values(org=new)).rowcount
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
