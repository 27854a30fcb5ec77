"""Per-org login back-off for the agent: after a failed login, leave the org alone for a while.

Salesforce locks a user out after 3 to 10 failed logins; an agent with a rotated password running
jobs every minute would get there within minutes. After an authentication failure the org's jobs
are skipped for 5 minutes, doubling per further failure up to an hour; a successful job clears it.
State key `agent.auth_backoff.<org>`: {"failures", "until", "error"}.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sfops.store import Store

FIRST_DELAY = dt.timedelta(minutes=5)
MAX_DELAY = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Backoff:
    """An org the agent does not log in to until `until`."""

    org: str
    failures: int
    until: dt.datetime
    error: str

    def text(self) -> str:
        return (
            f"login failed {self.failures} time(s) ({self.error}); next attempt after "
            f"{self.until:%Y-%m-%d %H:%M:%S} UTC"
        )


def _key(org: str) -> str:
    return f"agent.auth_backoff.{org}"


def current(store: Store, org: str) -> Backoff | None:
    """The org's back-off, whether or not it has run out (None when the last login worked)."""
    value = store.get_state(_key(org))
    if not isinstance(value, dict):
        return None
    return Backoff(
        org=org,
        failures=int(value["failures"]),
        until=dt.datetime.fromisoformat(value["until"]),
        error=str(value["error"]),
    )


def active(store: Store, org: str, now: dt.datetime) -> Backoff | None:
    """The org's back-off if it has not run out at `now`."""
    backoff = current(store, org)
    return backoff if backoff is not None and backoff.until > now else None


def record_failure(store: Store, org: str, now: dt.datetime, error: str) -> Backoff:
    """Count a failed login and back off: 5 min, 10, 20, 40, then every hour."""
    previous = current(store, org)
    failures = (previous.failures if previous else 0) + 1
    delay = min(FIRST_DELAY * 2 ** (failures - 1), MAX_DELAY)
    backoff = Backoff(org=org, failures=failures, until=now + delay, error=error[:500])
    store.set_state(_key(org), {"failures": failures, "until": backoff.until.isoformat(), "error": backoff.error})
    return backoff


def clear(store: Store, org: str) -> None:
    """A job of the org logged in fine."""
    store.delete_state(_key(org))
