"""What the Metadata API service needs from the emulator core (the "host").

The emulator core (server, routing, sessions, persistence, schema) implements this Protocol and
hands an instance to :class:`sfops.emulator.metadata.MetadataService`. Nothing else in the
metadata package talks to the core, so this file is the whole contract between the two.

Conventions:
- Ids are Salesforce ids: ``new_id("0Af")`` returns an 18-character id with a valid checksum.
- ``put_json``/``get_json``/``list_json``/``delete_json`` persist JSON-serialisable values under
  a ``(kind, key)`` pair; the service uses kinds ``"md.deploy"``, ``"md.retrieve"``,
  ``"md.component"`` and ``"md.validation"``. Keys are plain strings. ``list_json`` returns every
  value of a kind as ``{key: value}`` (any order).
- Records: the service creates and deletes ``ApexClass`` and ``ApexTrigger`` rows (fields
  ``Name, Body, ApiVersion, Status, IsValid, LengthWithoutComments, NamespacePrefix``; triggers also
  ``TableEnumOrId``) so that REST/Tooling queries see deployed Apex. Apex rows the core seeded
  itself are found with ``find_records(type, "Status", "Active"|"Inactive")`` and treated as
  deployed components (retrieve, listMetadata, RunLocalTests and reference checks see them).
- ``transaction()`` groups the writes of one deploy: all or nothing. The service validates a
  deploy completely before it writes anything, so a host whose transaction is a no-op still
  keeps failed deploys from changing the org; a real transaction also covers crashes mid-write.
- ``schema`` is the core's ``sfops.emulator.schema.Schema``; the service changes it through
  ``upsert_object/remove_object/upsert_field/remove_field`` and builds definitions with
  ``object_from_metadata_xml``/``field_from_metadata_xml`` from the same module.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the core owns the schema module
    from sfops.emulator.schema import Schema


@dataclass(frozen=True)
class MdUser:
    """The user behind a session (what DeployResult's createdBy/createdByName report)."""

    user_id: str  # 18-character id; the service shortens it to 15 where Salesforce does
    name: str


@dataclass(frozen=True)
class DeployFaults:
    """The "make a deploy fail" fault knob, as set through /__emulator__/faults.

    - ``failing_tests``: Apex tests that fail when a deploy runs them, as ``"Class"`` (every method
      of the class) or ``"Class.method"``. Default: every test passes.
    - ``component_problem``: when set, every deploy (the next ``deploys`` ones, or all when
      ``deploys`` is None) fails with this problem on its first component.
    - ``test_message``: the failure message reported for a failing test.

    Like Salesforce, a deploy with a component failure runs no tests; when the knob sets both
    ``component_problem`` and ``failing_tests`` the tests run anyway so both kinds are reported.
    """

    failing_tests: tuple[str, ...] = ()
    component_problem: str | None = None
    deploys: int | None = None
    test_message: str = "System.AssertException: Assertion Failed: injected by the emulator fault knob"
    extra: Mapping[str, Any] = field(default_factory=dict)


class MetadataHost(Protocol):
    """Everything the Metadata API needs from the emulator core."""

    @property
    def org_id(self) -> str:
        """The organization id (18 characters, 00D...)."""
        ...

    @property
    def api_version(self) -> str:
        """Latest API version served, e.g. ``"62.0"``."""
        ...

    @property
    def schema(self) -> Schema:
        """The live schema that REST describe and SOQL use."""
        ...

    def authenticate(self, session_id: str) -> MdUser | None:
        """The user of a valid, unexpired session; None when the session is unknown or expired."""
        ...

    def now(self) -> datetime:
        """Current time, timezone-aware UTC (a test clock may move it)."""
        ...

    def new_id(self, key_prefix: str) -> str:
        """A fresh 18-character id with the given 3-character key prefix."""
        ...

    def deploy_faults(self) -> DeployFaults | None:
        """The current deploy fault knob, or None when no deploy fault is set."""
        ...

    def consume_deploy_fault(self) -> None:
        """Called once per deploy the knob made fail, so ``deploys=N`` counts down."""
        ...

    # persistence of the service's own state
    def put_json(self, kind: str, key: str, value: Any) -> None:
        """Store a JSON-serialisable value."""
        ...

    def get_json(self, kind: str, key: str) -> Any | None:
        """Load a value stored by put_json, or None."""
        ...

    def list_json(self, kind: str) -> Mapping[str, Any]:
        """Every stored value of a kind, keyed by key."""
        ...

    def delete_json(self, kind: str, key: str) -> None:
        """Remove a stored value (no error when absent)."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """Context manager: the writes inside commit together or not at all."""
        ...

    # records (ApexClass, ApexTrigger)
    def find_records(self, sobject: str, field_name: str, value: str) -> list[dict[str, Any]]:
        """Rows of ``sobject`` whose field equals value (case-insensitive for Name); each has Id."""
        ...

    def insert_record(self, sobject: str, fields: Mapping[str, Any]) -> str:
        """Create a row; returns its 18-character id."""
        ...

    def update_record(self, sobject: str, record_id: str, fields: Mapping[str, Any]) -> None:
        """Update fields of an existing row."""
        ...

    def delete_record(self, sobject: str, record_id: str) -> None:
        """Delete a row."""
        ...


# The service side of the contract (implemented in sfops/emulator/metadata/service.py):
#   MetadataService(host: MetadataHost)
#   .handle_soap(body: bytes, headers: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]
#       for POST /services/Soap/m/{NN.0}[/anything]
#   .handle_rest(method: str, subpath: str, query: Mapping[str, str], headers: Mapping[str, str],
#                body: bytes) -> tuple[int, dict[str, str], bytes]
#       for /services/data/vNN.0/metadata/<subpath>, subpath e.g. "deployRequest" or "deployRequest/0Af..."
#       (the core authenticates REST requests itself; the service re-checks the Bearer token via
#       host.authenticate so it can answer 401 in the REST error shape)
#   .deploy_zip_now(zip_bytes: bytes, options: Mapping[str, Any] | None = None) -> dict
#       synchronous deploy for seeding (e.g. the companion metadata at start); returns the final
#       DeployResult as a dict
