"""Shared fixtures: one emulator per test session, served in-process over real HTTPS on a free port.

`emulator` resets the org before each test that uses it. `emulator_org` gives an sfops `OrgConfig`
(ca_bundle = the emulator's CA) for the seeded admin.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sfops.emulator.app import EmulatorSettings
from sfops.emulator.testing import RunningEmulator, running_emulator

_SHARED_BESIDE_REPO = str(Path(__file__).resolve().parent.parent.parent / "shared") + "/"
_OPENED_OUTSIDE: list[str] = []


def _refuse_reads_of_shared(event: str, args: tuple[Any, ...]) -> None:
    """Audit hook: remember every file opened under ../shared (a fresh clone has no such folder)."""
    if event == "open" and isinstance(args[0], str | Path) and str(args[0]).startswith(_SHARED_BESIDE_REPO):
        _OPENED_OUTSIDE.append(str(args[0]))


def pytest_sessionstart(session: pytest.Session) -> None:
    sys.addaudithook(_refuse_reads_of_shared)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _OPENED_OUTSIDE:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        outside = sorted(set(_OPENED_OUTSIDE))
        print(f"\ntests opened files outside the repository (copy them into tests/data): {outside}")


# Markers follow from what a test uses, so `-m "not integration"` is a unit run: a test that needs the
# emulator (the `emulator_server` fixture, directly or through `emulator`, `emu`, `org`, `cli_env`...)
# or is an end-to-end or third-party-client test (each starts an emulator) is an integration test.
_EMULATOR_FIXTURE = "emulator_server"
_TALKS_TO_AN_EMULATOR = ("e2e", "thirdparty")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        needs_emulator = _EMULATOR_FIXTURE in getattr(item, "fixturenames", ()) or any(
            item.get_closest_marker(name) for name in _TALKS_TO_AN_EMULATOR
        )
        if needs_emulator and item.get_closest_marker("integration") is None:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def emulator_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    """The session-wide emulator (HTTPS, in-memory state, demo seed)."""
    with running_emulator(tmp_path_factory.mktemp("emulator"), EmulatorSettings(seed="demo")) as running:
        yield running


@pytest.fixture
def emulator(emulator_server: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> RunningEmulator:
    """The emulator, reset to its freshly seeded state for this test.

    requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's CA bundle, so they are
    removed for the test: the emulator's CA must be the one used."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    emulator_server.reset()
    return emulator_server


@pytest.fixture
def emulator_org(emulator: RunningEmulator) -> Any:
    """An sfops OrgConfig (password auth, emulator CA) for the emulator's admin."""
    return emulator.org_config()


@pytest.fixture
def emu(emulator: RunningEmulator) -> RunningEmulator:
    """The shared emulator, reset for this test (the short name the area tests use)."""
    return emulator


@pytest.fixture
def org(emu: RunningEmulator) -> Any:
    """A gateway `Org` (alias 'emu') connected to the emulator as its admin."""
    from sfops.salesforce import connect

    return connect(emu.org_config(alias="emu"), env={})


@pytest.fixture
def store(tmp_path: Path) -> Any:
    """A fresh local store in tmp_path."""
    from sfops.store import Store

    return Store.open(f"sqlite:///{tmp_path / 'sfops.db'}")


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """A throwaway PostgreSQL cluster (skips, with the reason, where no server is installed)."""
    import tempfile

    from postgres_support import running_cluster, server_bin

    if server_bin() is None:
        pytest.skip("PostgreSQL server not installed (apt-get install postgresql; .ci/run does)")
    pytest.importorskip("psycopg", reason="psycopg not installed (pip install -e '.[dev]')")
    # not under pytest's tmp root: that is private to root, and the server runs as `postgres`
    with tempfile.TemporaryDirectory(prefix="sfops-pg-") as base, running_cluster(Path(base)) as cluster:
        yield cluster


@pytest.fixture
def proxy(emu: Any) -> Iterator[Any]:
    """A fault-injecting HTTPS proxy in front of the emulator (tests/fault_proxy.py)."""
    from fault_proxy import fault_proxy

    with fault_proxy(emu) as running:
        yield running
