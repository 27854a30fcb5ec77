"""A circuit breaker for sfops's own outbound calls (notifications, webhooks, org calls).

Modelled on pybreaker (states, listeners, pluggable storage) but written here because sfops
needs what pybreaker does not do (see docs/kill-switches.md, "Why not pybreaker"):

- the guarded call runs OUTSIDE the breaker's lock (pybreaker holds an RLock across the
  whole call, serialising every call through one breaker);
- half-open admits exactly ONE probe at a time, through a probe lease with an expiry that
  lives in the storage, so it also holds across processes sharing the storage;
- a failure-rate mode over a fixed (tumbling) window beside consecutive failures, counted
  the same way as the Apex CircuitBreaker (Request_Count__c / Failure_Count__c /
  Window_Started_At__c), so Apex and Python agree on one shared record;
- storage is loaded and saved as one snapshot (one read, one PATCH of the changed fields for
  the org-backed storage) instead of one round trip per counter operation.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from sfops.errors import SfopsError

T = TypeVar("T")


class State(StrEnum):
    """Breaker states; values match Circuit_Breaker__c.State__c once title-cased."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Mode(StrEnum):
    """How failures trip the breaker."""

    CONSECUTIVE = "consecutive"
    RATE = "rate"


@dataclass(frozen=True)
class Snapshot:
    """Everything a storage keeps for one breaker.

    The threshold fields (`max_failures` ... `linked_switch`) are set when the storage carries
    its own thresholds (Circuit_Breaker__c does): they override the Python-side configuration,
    so Apex and Python agree. None means "use the BreakerConfig value".
    """

    state: State = State.CLOSED
    failure_count: int = 0
    success_count: int = 0
    request_count: int = 0  # rate mode: calls in the current window
    window_started_at: dt.datetime | None = None
    opened_at: dt.datetime | None = None
    last_failure: dt.datetime | None = None
    last_success: dt.datetime | None = None
    last_error: str | None = None
    probe_until: dt.datetime | None = None
    max_failures: int | None = None
    cooldown: dt.timedelta | None = None
    success_threshold: int | None = None
    failure_rate: float | None = None  # a fraction; > 0 selects rate mode
    minimum_calls: int | None = None
    window: dt.timedelta | None = None
    linked_switch: str | None = None
    switch_flipped: bool = False

    def thresholds(self) -> dict[str, Any]:
        """The threshold fields only (kept when counters are cleared)."""
        return {k: getattr(self, k) for k in _THRESHOLDS}


_THRESHOLDS = (
    "max_failures",
    "cooldown",
    "success_threshold",
    "failure_rate",
    "minimum_calls",
    "window",
    "linked_switch",
    "switch_flipped",
)


class Storage(Protocol):
    """Where a breaker's snapshot lives (memory, local store, the org)."""

    def load(self) -> Snapshot:
        """The current snapshot."""

    def save(self, snapshot: Snapshot, previous: Snapshot) -> None:
        """Persist `snapshot`; `previous` is what was loaded, so only differences need writing."""


class MemoryStorage:
    """Process-local storage."""

    def __init__(self, snapshot: Snapshot | None = None) -> None:
        self.snapshot = snapshot or Snapshot()

    def load(self) -> Snapshot:
        return self.snapshot

    def save(self, snapshot: Snapshot, previous: Snapshot) -> None:
        self.snapshot = snapshot


@dataclass(frozen=True)
class BreakerConfig:
    """Thresholds of one breaker."""

    name: str
    mode: Mode = Mode.CONSECUTIVE
    max_failures: int = 5
    cooldown: dt.timedelta = dt.timedelta(seconds=60)
    success_threshold: int = 1
    failure_rate: float = 0.5
    window: dt.timedelta = dt.timedelta(seconds=60)
    minimum_calls: int = 10
    probe_lease: dt.timedelta = dt.timedelta(seconds=30)
    linked_switch: str | None = None
    # exception types or predicates that are NOT failures of the remote side (e.g. a usage error)
    exclude: tuple[type[BaseException] | Callable[[BaseException], bool], ...] = field(default=())

    def __post_init__(self) -> None:
        if self.max_failures < 1 or self.success_threshold < 1 or self.minimum_calls < 1:
            raise ValueError("max_failures, success_threshold and minimum_calls must be at least 1")
        if not 0 < self.failure_rate <= 1:
            raise ValueError("failure_rate must be in (0, 1]")


class CircuitOpenError(SfopsError):
    """The breaker refused the call (open, or a probe is already in flight)."""

    def __init__(self, name: str, message: str, *, retry_at: dt.datetime | None = None) -> None:
        super().__init__(f"Circuit breaker '{name}' {message}")
        self.breaker = name
        self.retry_at = retry_at


class Listener:
    """Hooks on a breaker's life; override what you need. Exceptions in listeners are not swallowed."""

    def before_call(self, breaker: CircuitBreaker) -> None:
        """A call is about to run."""

    def success(self, breaker: CircuitBreaker) -> None:
        """A call succeeded."""

    def failure(self, breaker: CircuitBreaker, error: BaseException) -> None:
        """A call failed (and counted)."""

    def state_change(self, breaker: CircuitBreaker, old: State, new: State, snapshot: Snapshot) -> None:
        """The breaker moved from `old` to `new`."""


class CircuitBreaker:
    """closed → open (after failures) → half-open (after cooldown; one probe) → closed or open."""

    def __init__(
        self,
        config: BreakerConfig,
        storage: Storage | None = None,
        listeners: tuple[Listener, ...] | list[Listener] = (),
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.config = config
        self.storage = storage or MemoryStorage()
        self.listeners = list(listeners)
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.config.name

    # --- inspection ----------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """The stored snapshot (state as stored; an expired cooldown shows as open until a call)."""
        return self.storage.load()

    @property
    def state(self) -> State:
        return self.snapshot().state

    def _setting(self, snap: Snapshot, name: str) -> Any:
        value = getattr(snap, name)
        return getattr(self.config, name) if value is None else value

    def _mode(self, snap: Snapshot) -> Mode:
        if snap.failure_rate is not None:
            return Mode.RATE if snap.failure_rate > 0 else Mode.CONSECUTIVE
        return self.config.mode

    def _cooldown(self, snap: Snapshot) -> dt.timedelta:
        return self._setting(snap, "cooldown")

    # --- calling -------------------------------------------------------------------------
    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn` through the breaker; raises CircuitOpenError when refused."""
        is_probe = self._admit()
        for listener in self.listeners:
            listener.before_call(self)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            if self._excluded(exc):
                self._record(success=True, is_probe=is_probe)
            else:
                self._record(success=False, is_probe=is_probe, error=exc)
            raise
        self._record(success=True, is_probe=is_probe)
        return result

    @contextlib.contextmanager
    def calling(self) -> Iterator[None]:
        """`with breaker.calling(): ...` guards a block like `call` guards a function."""
        is_probe = self._admit()
        for listener in self.listeners:
            listener.before_call(self)
        try:
            yield
        except BaseException as exc:
            self._record(success=self._excluded(exc), is_probe=is_probe, error=None if self._excluded(exc) else exc)
            raise
        self._record(success=True, is_probe=is_probe)

    def __call__(self, fn: Callable[..., T]) -> Callable[..., T]:
        """Use the breaker as a decorator."""

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            return self.call(fn, *args, **kwargs)

        return wrapper

    def _excluded(self, exc: BaseException) -> bool:
        for rule in self.config.exclude:
            if isinstance(rule, type) and isinstance(exc, rule):
                return True
            if not isinstance(rule, type) and rule(exc):
                return True
        return False

    def _admit(self) -> bool:
        """Decide whether a call may run; True when it runs as the half-open probe."""
        transition = None
        with self._lock:
            snap = self.storage.load()
            now = self.clock()
            if snap.state is State.CLOSED:
                return False
            if snap.state is State.OPEN:
                reopen_at = (snap.opened_at or now) + self._cooldown(snap)
                if now < reopen_at:
                    raise CircuitOpenError(self.name, f"is open until {reopen_at:%H:%M:%S} UTC.", retry_at=reopen_at)
                new = replace(snap, state=State.HALF_OPEN, success_count=0, probe_until=now + self.config.probe_lease)
                transition = (State.OPEN, State.HALF_OPEN)
            else:  # half-open: one probe at a time
                if snap.probe_until is not None and now < snap.probe_until:
                    raise CircuitOpenError(
                        self.name, "is half-open and a probe call is in flight.", retry_at=snap.probe_until
                    )
                new = replace(snap, probe_until=now + self.config.probe_lease)
            self.storage.save(new, snap)
        if transition:
            self._notify(*transition, new)
        return True

    def _record(self, *, success: bool, is_probe: bool, error: BaseException | None = None) -> None:
        transition = None
        with self._lock:
            snap = self.storage.load()
            now = self.clock()
            new = snap
            # Outcomes of calls admitted under an older state (e.g. a slow call that started while
            # closed and ends after another caller opened the breaker) change nothing.
            if is_probe and snap.state is State.HALF_OPEN:
                if success:
                    count = snap.success_count + 1
                    if count >= self._setting(snap, "success_threshold"):
                        new = Snapshot(
                            state=State.CLOSED,
                            last_failure=snap.last_failure,
                            last_success=now,
                            last_error=snap.last_error,
                            **snap.thresholds(),
                        )
                    else:
                        new = replace(snap, success_count=count, probe_until=None, last_success=now)
                else:
                    new = replace(
                        snap,
                        state=State.OPEN,
                        opened_at=now,
                        probe_until=None,
                        success_count=0,
                        failure_count=snap.failure_count + 1,
                        last_failure=now,
                        last_error=_error_text(error),
                    )
            elif snap.state is State.CLOSED:
                new = self._closed_outcome(snap, success, now, error)
            if new.state is not snap.state:
                transition = (snap.state, new.state)
            if new != snap:
                self.storage.save(new, snap)
        for listener in self.listeners:
            if success:
                listener.success(self)
            elif error is not None:
                listener.failure(self, error)
        if transition:
            self._notify(*transition, new)

    def _closed_outcome(self, snap: Snapshot, success: bool, now: dt.datetime, error: BaseException | None) -> Snapshot:
        if self._mode(snap) is Mode.CONSECUTIVE and success:
            # A success on a clean breaker changes nothing: no write (an org-backed storage would
            # otherwise spend one PATCH per successful call just to move Last_Success__c).
            return replace(snap, failure_count=0, last_success=now) if snap.failure_count else snap
        if success:
            snap = replace(snap, last_success=now)
        else:
            snap = replace(snap, last_failure=now, last_error=_error_text(error))
        if self._mode(snap) is Mode.CONSECUTIVE:
            failures = snap.failure_count + 1
            if failures >= self._setting(snap, "max_failures"):
                return replace(snap, state=State.OPEN, failure_count=failures, opened_at=now)
            return replace(snap, failure_count=failures)
        window = self._setting(snap, "window")
        if snap.window_started_at is None or now - snap.window_started_at >= window:
            snap = replace(snap, window_started_at=now, request_count=0, failure_count=0)
        requests = snap.request_count + 1
        failures = snap.failure_count + (0 if success else 1)
        snap = replace(snap, request_count=requests, failure_count=failures)
        if requests >= self._setting(snap, "minimum_calls") and failures / requests >= self._setting(
            snap, "failure_rate"
        ):
            return replace(snap, state=State.OPEN, opened_at=now)
        return snap

    # --- manual control ------------------------------------------------------------------
    def open(self) -> None:
        """Force the breaker open now (the cooldown starts now)."""
        self._force(lambda s, now: replace(s, state=State.OPEN, opened_at=now, probe_until=None, success_count=0))

    def close(self) -> None:
        """Force the breaker closed, clearing the counters."""
        self._force(
            lambda s, now: Snapshot(
                state=State.CLOSED,
                last_failure=s.last_failure,
                last_success=s.last_success,
                last_error=s.last_error,
                **s.thresholds(),
            )
        )

    def half_open(self) -> None:
        """Let the next call through as a probe."""
        self._force(lambda s, now: replace(s, state=State.HALF_OPEN, probe_until=None, success_count=0))

    def _force(self, change: Callable[[Snapshot, dt.datetime], Snapshot]) -> None:
        with self._lock:
            snap = self.storage.load()
            new = change(snap, self.clock())
            if new != snap:
                self.storage.save(new, snap)
        if new.state is not snap.state:
            self._notify(snap.state, new.state, new)

    def _notify(self, old: State, new: State, snapshot: Snapshot) -> None:
        for listener in self.listeners:
            listener.state_change(self, old, new, snapshot)


def _error_text(error: BaseException | None) -> str | None:
    if error is None:
        return None
    return f"{type(error).__name__}: {error}"[:255]
