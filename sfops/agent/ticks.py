"""The schedule tick a run belongs to: the latest tick at or before now.

Every agent computes the same ticks (interval schedules are anchored at 2000-01-01 UTC, crontab lines
are absolute), so the tick names a run across agents: `agent_run` holds at most one run per org, job
and tick, which is what makes "no job runs twice for one tick" hold across takeovers.
"""

from __future__ import annotations

import datetime as dt

from sfops.agent.config import ANCHOR, Schedule


def latest_tick(schedule: Schedule, now: dt.datetime) -> dt.datetime:
    """The newest tick of `schedule` at or before `now`."""
    now = now.astimezone(dt.UTC)
    if schedule.seconds is not None:
        period = dt.timedelta(seconds=schedule.seconds)
        return ANCHOR + period * ((now - ANCHOR) // period)
    window = dt.timedelta(seconds=max(60.0, schedule.period_seconds()))
    while True:  # widen the window until it holds a tick (crontab gaps can exceed the nominal period)
        start = now - window
        tick = schedule.next_after(start)
        if tick <= now:
            while (following := schedule.next_after(tick)) <= now:
                tick = following
            return tick
        window *= 4
