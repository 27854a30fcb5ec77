"""A settable clock for injected-time tests (a uniquely named module rather than a conftest import,
so it works whichever test directories pytest collects together)."""

from __future__ import annotations

import datetime as dt


class Clock:
    """Callable returning `now`; `advance(minutes=5)` moves it forward and returns the new time."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now
