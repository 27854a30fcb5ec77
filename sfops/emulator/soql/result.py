"""The result of executing a query, ready to be paged and serialised by the REST/Tooling layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class QueryResult:
    """All matching rows, ordered, with LIMIT/OFFSET applied (the caller pages them).

    `records` are wire dicts: each has "attributes" {type, url} (aggregate rows: {type: AggregateResult}
    only), parent relationships as nested dicts or None, child subqueries as nested
    {totalSize, done, records} dicts. For `SELECT COUNT() ...` records is empty and total_size is the count.
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    total_size: int = 0
    entity_type_name: str = ""
    count_only: bool = False

    def to_wire(self) -> dict[str, Any]:
        """The unpaged REST body {totalSize, done, records}."""
        return {"totalSize": self.total_size, "done": True, "records": self.records}
