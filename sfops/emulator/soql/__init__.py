"""SOQL for the emulator: a hand-written tokenizer and recursive-descent parser plus an evaluator.

Pure Python, no I/O. The emulator's REST and Tooling query endpoints use it like this::

    from sfops.emulator.soql import SoqlError, execute

    try:
        result = execute(q, catalog, now=datetime.now(UTC), include_deleted=is_query_all,
                         api_version="60.0", tooling=False)
    except SoqlError as err:
        return 400, err.to_wire()          # [{"message": ..., "errorCode": ...}]
    body = result.to_wire()                # then slice result.records for nextRecordsUrl paging

`catalog` implements `sfops.emulator.soql.catalog.Catalog` (describe / records / lookup);
`MemoryCatalog` is an in-memory implementation. `parse(text)` gives the syntax tree alone
(syntax errors only; names are checked against the catalog by `execute`).
"""

from sfops.emulator.soql.catalog import Catalog, ChildRelationship, FieldInfo, MemoryCatalog, ObjectInfo
from sfops.emulator.soql.engine import execute
from sfops.emulator.soql.errors import SoqlError
from sfops.emulator.soql.parser import parse
from sfops.emulator.soql.result import QueryResult

__all__ = [
    "Catalog",
    "ChildRelationship",
    "FieldInfo",
    "MemoryCatalog",
    "ObjectInfo",
    "QueryResult",
    "SoqlError",
    "execute",
    "parse",
]
