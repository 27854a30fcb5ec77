"""The Python circuit breaker: states, one probe at a time, both modes, listeners, storages."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from clock_support import Clock

from sfops.breakers import (
    BreakerConfig,
    CircuitBreaker,
    CircuitOpenError,
    Listener,
    MemoryStorage,
    Mode,
    Snapshot,
    State,
    StoreStorage,
)
from sfops.store import Store

T0 = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


class Recorder(Listener):
    def __init__(self) -> None:
        self.transitions: list[tuple[State, State]] = []
        self.failures = 0
        self.successes = 0

    def state_change(self, breaker, old, new, snapshot):  # type: ignore[no-untyped-def]
        self.transitions.append((old, new))

    def failure(self, breaker, error):  # type: ignore[no-untyped-def]
        self.failures += 1

    def success(self, breaker):  # type: ignore[no-untyped-def]
        self.successes += 1


def boom() -> None:
    raise ConnectionError("webhook down")


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        with pytest.raises((ConnectionError, CircuitOpenError)):
            breaker.call(boom)


def make(clock: Clock, **kwargs) -> tuple[CircuitBreaker, Recorder]:  # type: ignore[no-untyped-def]
    rec = Recorder()
    config = BreakerConfig(name="slack", cooldown=dt.timedelta(seconds=60), **kwargs)
    return CircuitBreaker(config, listeners=[rec], clock=clock), rec


def test_consecutive_failures_open_and_a_success_resets_the_count() -> None:
    clock = Clock(T0)
    breaker, rec = make(clock, max_failures=3)
    fail(breaker, 2)
    assert breaker.call(lambda: "ok") == "ok"
    assert breaker.snapshot().failure_count == 0
    fail(breaker, 3)
    assert breaker.state is State.OPEN and rec.transitions == [(State.CLOSED, State.OPEN)]
    assert breaker.snapshot().last_error == "ConnectionError: webhook down"
    with pytest.raises(CircuitOpenError, match="is open until 12:01:00") as info:
        breaker.call(lambda: "never runs")
    assert info.value.retry_at == T0 + dt.timedelta(seconds=60)


def test_successes_on_a_clean_breaker_do_not_write_to_storage() -> None:
    class CountingStorage(MemoryStorage):
        saves = 0

        def save(self, snapshot: Snapshot, previous: Snapshot) -> None:
            CountingStorage.saves += 1
            super().save(snapshot, previous)

    breaker = CircuitBreaker(BreakerConfig("webhook", max_failures=3), CountingStorage(), clock=Clock(T0))
    for _ in range(10):
        breaker.call(lambda: None)
    assert CountingStorage.saves == 0
    fail(breaker, 1)
    breaker.call(lambda: None)  # resets the count: one write for the failure, one for the reset
    assert CountingStorage.saves == 2 and breaker.snapshot().failure_count == 0


def test_after_the_cooldown_one_probe_closes_it() -> None:
    clock = Clock(T0)
    breaker, rec = make(clock, max_failures=1)
    fail(breaker, 1)
    clock.advance(seconds=61)
    assert breaker.call(lambda: 42) == 42
    assert breaker.state is State.CLOSED
    assert rec.transitions == [
        (State.CLOSED, State.OPEN),
        (State.OPEN, State.HALF_OPEN),
        (State.HALF_OPEN, State.CLOSED),
    ]


def test_a_failed_probe_reopens_and_restarts_the_cooldown() -> None:
    clock = Clock(T0)
    breaker, _ = make(clock, max_failures=1)
    fail(breaker, 1)
    clock.advance(seconds=61)
    fail(breaker, 1)
    snap = breaker.snapshot()
    assert snap.state is State.OPEN and snap.opened_at == clock.now
    with pytest.raises(CircuitOpenError):
        breaker.call(lambda: None)


def test_half_open_admits_exactly_one_probe_at_a_time() -> None:
    clock = Clock(T0)
    breaker, _ = make(clock, max_failures=1)
    fail(breaker, 1)
    clock.advance(seconds=61)
    refused: list[CircuitOpenError] = []
    inside, release = threading.Event(), threading.Event()

    def slow_probe() -> str:
        inside.set()
        release.wait(5)
        return "ok"

    def second_caller() -> None:
        inside.wait(5)
        try:
            breaker.call(lambda: "second")
        except CircuitOpenError as exc:
            refused.append(exc)
        finally:
            release.set()

    t = threading.Thread(target=second_caller)
    t.start()
    assert breaker.call(slow_probe) == "ok"
    t.join(5)
    assert len(refused) == 1 and "probe call is in flight" in refused[0].message
    assert breaker.state is State.CLOSED


def test_success_threshold_needs_that_many_probes() -> None:
    clock = Clock(T0)
    breaker, _ = make(clock, max_failures=1, success_threshold=2)
    fail(breaker, 1)
    clock.advance(seconds=61)
    breaker.call(lambda: None)
    assert breaker.state is State.HALF_OPEN and breaker.snapshot().success_count == 1
    breaker.call(lambda: None)
    assert breaker.state is State.CLOSED


def test_a_lapsed_probe_lease_lets_the_next_probe_through() -> None:
    clock = Clock(T0)
    breaker, _ = make(clock, max_failures=1, probe_lease=dt.timedelta(seconds=5))
    fail(breaker, 1)
    breaker.half_open()
    breaker._admit()  # a probe that never reports back (process died)
    with pytest.raises(CircuitOpenError):
        breaker.call(lambda: None)
    clock.advance(seconds=6)
    breaker.call(lambda: None)
    assert breaker.state is State.CLOSED


def test_rate_mode_opens_on_failure_rate_after_minimum_calls_in_a_window() -> None:
    clock = Clock(T0)
    breaker, _ = make(clock, mode=Mode.RATE, failure_rate=0.5, minimum_calls=4, window=dt.timedelta(seconds=60))
    breaker.call(lambda: None)
    fail(breaker, 2)  # 2 of 3: rate reached but too few calls
    assert breaker.state is State.CLOSED
    clock.advance(seconds=61)  # new window: counts start over
    breaker.call(lambda: None)
    breaker.call(lambda: None)
    fail(breaker, 1)
    assert breaker.state is State.CLOSED and breaker.snapshot().request_count == 3
    fail(breaker, 1)  # 2 of 4 = 50 %
    assert breaker.state is State.OPEN


def test_rate_mode_ignores_consecutive_failures_below_the_rate() -> None:
    clock = Clock(T0)
    breaker, _ = make(clock, mode=Mode.RATE, failure_rate=0.5, minimum_calls=4, max_failures=2)
    for _ in range(3):
        for _ in range(4):
            breaker.call(lambda: None)
        fail(breaker, 2)  # two in a row would open a consecutive breaker with max_failures=2
    assert breaker.state is State.CLOSED and breaker.snapshot().failure_count == 6


def test_excluded_exceptions_are_not_failures_but_still_raise() -> None:
    clock = Clock(T0)
    breaker, rec = make(clock, max_failures=1, exclude=(ValueError, lambda e: "404" in str(e)))
    with pytest.raises(ValueError):
        breaker.call(lambda: int("x"))
    with pytest.raises(RuntimeError):
        breaker.call(lambda: (_ for _ in ()).throw(RuntimeError("HTTP 404")))
    assert breaker.state is State.CLOSED and rec.failures == 0 and rec.successes == 2


def test_context_manager_and_decorator_forms() -> None:
    clock = Clock(T0)
    breaker, rec = make(clock, max_failures=2)

    @breaker
    def send(ok: bool) -> str:
        if not ok:
            raise ConnectionError("no")
        return "sent"

    assert send(True) == "sent"
    with pytest.raises(ConnectionError), breaker.calling():
        raise ConnectionError("no")
    with pytest.raises(ConnectionError):
        send(False)
    assert breaker.state is State.OPEN and rec.failures == 2


def test_manual_open_close_and_thresholds_from_storage_win() -> None:
    clock = Clock(T0)
    storage = MemoryStorage(Snapshot(max_failures=2, cooldown=dt.timedelta(minutes=10)))
    breaker = CircuitBreaker(BreakerConfig("erp", max_failures=50), storage, clock=clock)
    fail(breaker, 2)
    assert breaker.state is State.OPEN  # the stored threshold (2), not the config (50)
    clock.advance(seconds=120)
    with pytest.raises(CircuitOpenError):  # stored cooldown is 10 minutes
        breaker.call(lambda: None)
    breaker.close()
    assert breaker.snapshot() == Snapshot(
        state=State.CLOSED,
        last_failure=T0,
        last_error="ConnectionError: webhook down",
        max_failures=2,
        cooldown=dt.timedelta(minutes=10),
    )
    breaker.open()
    assert breaker.state is State.OPEN and breaker.snapshot().opened_at == clock.now


def test_bad_config_is_refused() -> None:
    with pytest.raises(ValueError):
        BreakerConfig("x", max_failures=0)
    with pytest.raises(ValueError):
        BreakerConfig("x", failure_rate=1.5)


def test_store_storage_shares_state_between_breaker_instances(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = Store.open(f"sqlite:///{tmp_path / 'sfops.db'}")
    clock = Clock(T0)
    first = CircuitBreaker(BreakerConfig("pagerduty", max_failures=2), StoreStorage(store, "pagerduty"), clock=clock)
    fail(first, 2)
    second = CircuitBreaker(BreakerConfig("pagerduty", max_failures=2), StoreStorage(store, "pagerduty"), clock=clock)
    snap = second.snapshot()
    assert snap.state is State.OPEN and snap.failure_count == 2 and snap.opened_at == T0
    with pytest.raises(CircuitOpenError):
        second.call(lambda: None)
