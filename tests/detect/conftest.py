"""Fixtures for the detection tests: a settable clock starting at the real time (the emulator stamps its
records with the real clock), and the helpers in detect_support."""

from __future__ import annotations

import datetime as dt

import pytest
from clock_support import Clock


@pytest.fixture
def now_clock() -> Clock:
    return Clock(dt.datetime.now(dt.UTC).replace(microsecond=0))
