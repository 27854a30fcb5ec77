"""Markers come from the fixtures a test uses: `-m "not integration"` leaves no test that needs the emulator."""

from __future__ import annotations

import pytest


def test_every_collected_test_on_the_emulator_is_marked_integration(request: pytest.FixtureRequest) -> None:
    items = request.session.items
    assert request.node in items
    unmarked = [
        i.nodeid
        for i in items
        if "emulator_server" in getattr(i, "fixturenames", ()) and i.get_closest_marker("integration") is None
    ]
    assert unmarked == []


def test_a_unit_run_collects_no_test_that_starts_an_emulator(request: pytest.FixtureRequest) -> None:
    if "not integration" not in (request.config.getoption("markexpr") or ""):
        pytest.skip('checked in a unit run: pytest -m "not integration"')
    offenders = [
        i.nodeid
        for i in request.session.items
        if "emulator_server" in getattr(i, "fixturenames", ())
        or i.get_closest_marker("e2e")
        or i.get_closest_marker("thirdparty")
    ]
    assert offenders == []
