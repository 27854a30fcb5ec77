"""Circuit breakers: a Python breaker for sfops's own outbound calls (memory, local-store or
org-shared state) and management of the org's Circuit_Breaker__c records, with the
breaker -> kill switch linkage."""

from sfops.breakers.core import (
    BreakerConfig,
    CircuitBreaker,
    CircuitOpenError,
    Listener,
    MemoryStorage,
    Mode,
    Snapshot,
    State,
    Storage,
)
from sfops.breakers.linking import KillSwitchLink, LinkOutcome, on_breaker_close, on_breaker_open
from sfops.breakers.records import BREAKER_OBJECT, BreakerRow
from sfops.breakers.service import (
    BreakerChange,
    create_breaker,
    list_breakers,
    set_breaker,
    show_breaker,
    sync_links,
)
from sfops.breakers.storage import OrgStorage, StoreStorage

__all__ = [
    "BREAKER_OBJECT",
    "BreakerChange",
    "BreakerConfig",
    "BreakerRow",
    "CircuitBreaker",
    "CircuitOpenError",
    "KillSwitchLink",
    "LinkOutcome",
    "Listener",
    "MemoryStorage",
    "Mode",
    "OrgStorage",
    "Snapshot",
    "State",
    "Storage",
    "StoreStorage",
    "create_breaker",
    "list_breakers",
    "on_breaker_close",
    "on_breaker_open",
    "set_breaker",
    "show_breaker",
    "sync_links",
]
