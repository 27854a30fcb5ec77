"""Fixtures for the Metadata API tests: an in-memory host and a SOAP client on a MetadataService over it."""

from __future__ import annotations

import pytest
from md_support import Client, MemoryHost

from sfops.emulator.metadata import MetadataService


@pytest.fixture
def host() -> MemoryHost:
    return MemoryHost()


@pytest.fixture
def client(host: MemoryHost) -> Client:
    return Client(MetadataService(host))
