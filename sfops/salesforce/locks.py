"""Writes that meet UNABLE_TO_LOCK_ROW: retried with bounded exponential backoff and jitter.

Salesforce answers UNABLE_TO_LOCK_ROW when another transaction holds the row for longer than
its own 10-second wait; the write did not happen, so trying again later is safe.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sfops.errors import RecordLockedError

T = TypeVar("T")


@dataclass(frozen=True)
class LockRetry:
    """Bounded exponential backoff with jitter for UNABLE_TO_LOCK_ROW."""

    attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 2.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def with_lock_retry(action: Callable[[], T], policy: LockRetry) -> tuple[T, int]:
    """Run `action`, retrying on RecordLockedError; returns (result, attempts used)."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return action(), attempt
        except RecordLockedError:
            if attempt >= policy.attempts:
                raise
            policy.sleep(policy.delay(attempt))
