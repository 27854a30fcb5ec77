"""The agent's configuration: which orgs, which jobs on which schedule, the leader lease.

    [agent]
    orgs = ["prod", "uat"]        # default: the default org
    lease_seconds = 60            # leader lease time to live (renewed every lease_seconds / 3)
    workers = 4                   # jobs running at the same time
    grace_seconds = 30            # on SIGTERM, how long running jobs may take to finish

    [agent.jobs]                  # schedules for every org: "30s", "15m", "1h", "1h30m",
    logs-pull = "10m"             # a crontab line "*/5 * * * *" (UTC), or "off"
    limits-snapshot = "15m"

    [agent.overrides.prod]        # per-org schedules, over [agent.jobs]
    logs-pull = "5m"

Interval schedules are anchored at 2000-01-01 00:00 UTC, so every agent (and every `--once` run from
cron) computes the same ticks: "15m" fires at :00, :15, :30 and :45.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from sfops.config import Settings, toml_table
from sfops.errors import ConfigError

ANCHOR = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
OFF = "off"
DEFAULT_SCHEDULES: dict[str, str] = {
    "logs-pull": "15m",
    "limits-snapshot": "15m",
    "switch-restore": "1m",
    "breaker-sync": "5m",
    "incident-escalate": "1m",
    "notify-retry": "5m",
    "errors-pull": "15m",
    "changes-pull": "15m",
    "detect": "1m",
}
DEFAULT_LEASE_SECONDS = 60
DEFAULT_WORKERS = 4
DEFAULT_GRACE_SECONDS = 30  # what Kubernetes gives a pod between SIGTERM and SIGKILL by default
_PART = re.compile(r"(\d+)([smhd])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Schedule:
    """When a job runs: every `seconds` (anchored) or on a crontab line (UTC)."""

    text: str
    seconds: int | None = None
    crontab: str | None = None

    def trigger(self) -> BaseTrigger:
        """The APScheduler trigger for this schedule."""
        if self.crontab is not None:
            return CronTrigger.from_crontab(apscheduler_crontab(self.crontab), timezone=dt.UTC)
        return IntervalTrigger(seconds=self.seconds or 60, start_date=ANCHOR, timezone=dt.UTC)

    def next_after(self, moment: dt.datetime) -> dt.datetime:
        """The first tick strictly after `moment`."""
        fire = self.trigger().get_next_fire_time(None, moment + dt.timedelta(microseconds=1))
        return fire.astimezone(dt.UTC)

    def period_seconds(self) -> float:
        """Length of one period (for cron: between the next two ticks)."""
        if self.seconds is not None:
            return float(self.seconds)
        first = self.next_after(ANCHOR)
        return (self.next_after(first) - first).total_seconds()


_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # cron's numbering: 0 (and 7) is Sunday


def _cron_day(token: str) -> int:
    name = token.lower()[:3]
    if name in _WEEKDAYS:
        return _WEEKDAYS.index(name)
    if token.isascii() and token.isdigit() and 0 <= int(token) <= 7:
        return int(token) % 7
    raise ValueError(f"bad day of week '{token}'")


def apscheduler_crontab(line: str) -> str:
    """A standard crontab line as APScheduler 3 reads it.

    APScheduler 3's `from_crontab` numbers the days of the week from Monday = 0, so `0 9 * * 1` would run
    on Tuesdays; cron (and every crontab a user copies) numbers them from Sunday = 0 (7 is Sunday too).
    The day-of-week field is rewritten as day names, which both read the same way."""
    fields = line.split()
    if len(fields) != 5 or fields[4] in ("*", "?"):
        return line
    days: set[int] = set()
    for part in fields[4].split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isascii() and step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ValueError(f"bad step in '{part}'")
        if base == "*":
            first, last = 0, 6
        elif "-" in base:
            low, high = base.split("-", 1)
            first, last = _cron_day(low), _cron_day(high) or 7  # `5-7`/`fri-sun`: through Sunday
        else:
            first = last = _cron_day(base)
            if step:
                last = 6
        days.update(day % 7 for day in range(first, last + 1, step or 1))
    return " ".join([*fields[:4], ",".join(_WEEKDAYS[day] for day in sorted(days))])


def parse_schedule(text: str, where: str) -> Schedule | None:
    """'15m' / '1h30m' / a crontab line / 'off' (None). Errors name where the value came from."""
    value = str(text).strip()
    if value.lower() == OFF:
        return None
    if " " in value:
        try:
            CronTrigger.from_crontab(apscheduler_crontab(value), timezone=dt.UTC)
        except ValueError as exc:
            raise ConfigError(f"{where}: '{value}' is not a valid crontab line ({exc}).") from exc
        return Schedule(text=value, crontab=value)
    parts = _PART.findall(value.lower())
    if not parts or "".join(n + u for n, u in parts) != value.lower():
        raise ConfigError(
            f"{where}: bad schedule '{value}': use e.g. 30s, 15m, 1h, 1h30m, a crontab line "
            "like '*/5 * * * *', or 'off'."
        )
    seconds = sum(int(n) * _UNIT[u] for n, u in parts)
    if seconds < 1:
        raise ConfigError(f"{where}: schedule '{value}' must be at least 1 second.")
    return Schedule(text=value, seconds=seconds)


@dataclass(frozen=True)
class AgentConfig:
    """Orgs, per-org job schedules (None = off), lease and worker settings."""

    orgs: tuple[str, ...]
    schedules: Mapping[tuple[str, str], Schedule | None]
    lease_seconds: int = DEFAULT_LEASE_SECONDS
    workers: int = DEFAULT_WORKERS
    grace_seconds: int = DEFAULT_GRACE_SECONDS

    def schedule(self, alias: str, job: str) -> Schedule | None:
        return self.schedules.get((alias, job))


def _check_jobs(table: Mapping[str, Any], where: str, known: tuple[str, ...]) -> None:
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown job(s) {', '.join(unknown)}. Jobs: {', '.join(known)}.")


def load_agent_config(
    settings: Settings, known_jobs: tuple[str, ...] = tuple(DEFAULT_SCHEDULES), *, only_org: str | None = None
) -> AgentConfig:
    """`[agent]` from sfops.toml (all optional) into an `AgentConfig`; errors are ConfigError.

    `only_org` serves just that org (which need not be listed in `orgs`), with its schedules.
    """
    section = settings.section("agent")
    where = f"[agent] in {settings.config_path}"
    unknown = sorted(set(section) - {"orgs", "lease_seconds", "workers", "grace_seconds", "jobs", "overrides"})
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}. "
            "Valid keys: orgs, lease_seconds, workers, grace_seconds, jobs, overrides."
        )
    orgs_value = section.get("orgs")
    if orgs_value is not None:
        if not (isinstance(orgs_value, list) and orgs_value and all(isinstance(o, str) for o in orgs_value)):
            raise ConfigError(f"{where}: orgs must be a non-empty list of org aliases.")
        for alias in orgs_value:
            settings.org(alias)  # unknown alias -> ConfigError listing the known ones
    if only_org is not None:
        orgs = (settings.org(only_org).alias,)
    elif orgs_value is None:
        orgs = (settings.org(None).alias,)  # the default org (ConfigError when there is none)
    else:
        orgs = tuple(dict.fromkeys(orgs_value))
    lease = section.get("lease_seconds", DEFAULT_LEASE_SECONDS)
    workers = section.get("workers", DEFAULT_WORKERS)
    if not isinstance(lease, int) or lease < 3:
        raise ConfigError(f"{where}: lease_seconds must be an integer of at least 3.")
    if not isinstance(workers, int) or not 1 <= workers <= 32:
        raise ConfigError(f"{where}: workers must be an integer from 1 to 32.")
    grace = section.get("grace_seconds", DEFAULT_GRACE_SECONDS)
    if not isinstance(grace, int) or isinstance(grace, bool) or not 0 <= grace <= 3600:
        raise ConfigError(f"{where}: grace_seconds must be an integer from 0 to 3600.")
    jobs = toml_table(section.get("jobs"), f"{where}, [agent.jobs]")
    _check_jobs(jobs, f"{where}, [agent.jobs]", known_jobs)
    overrides = toml_table(section.get("overrides"), f"{where}, [agent.overrides]")
    for alias in overrides:
        if alias not in orgs and only_org is None:
            raise ConfigError(
                f"{where}: [agent.overrides.{alias}] is for an org the agent does not serve (orgs: {', '.join(orgs)})."
            )
    schedules: dict[tuple[str, str], Schedule | None] = {}
    for alias in orgs:
        own = toml_table(overrides.get(alias), f"{where}, [agent.overrides.{alias}]")
        _check_jobs(own, f"{where}, [agent.overrides.{alias}]", known_jobs)
        for job in known_jobs:
            if job in own:
                text, origin = own[job], f"[agent.overrides.{alias}] {job}"
            elif job in jobs:
                text, origin = jobs[job], f"[agent.jobs] {job}"
            else:
                text, origin = DEFAULT_SCHEDULES.get(job, OFF), f"default schedule of {job}"
            schedules[(alias, job)] = parse_schedule(text, origin)
    return AgentConfig(orgs=orgs, schedules=schedules, lease_seconds=lease, workers=workers, grace_seconds=grace)
