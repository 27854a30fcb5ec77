"""The agent: runs the jobs on their schedules for every configured org, as leader only.

`run_once` runs every due job one time (tests, cron); `serve` runs an APScheduler 3.x
BackgroundScheduler until a stop event is set (SIGTERM/SIGINT in the CLI). Either way a job runs
only when (1) this agent holds the org's leader lease and (2) the job is due: the first tick of its
schedule after the last recorded run (by any agent on this store) has passed. Failures are logged and
recorded in `agent_run`, never raised.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from sfops.agent.config import AgentConfig, Schedule
from sfops.agent.jobs import JOBS, JobContext, JobSpec
from sfops.agent.lease import LeaderLease, default_holder
from sfops.agent.runs import FAILED, RunRecord, finish_run, get_run, last_runs, start_run
from sfops.clock import Clock, utcnow
from sfops.config import Settings
from sfops.errors import SfopsError, UsageError
from sfops.store import Store

log = logging.getLogger("sfops.agent")
NOT_DUE, NOT_LEADER = "not-due", "not-leader"


def lease_name(alias: str) -> str:
    """One lease per org: agents serving different orgs on one store do not block each other."""
    return f"agent:{alias}"


@dataclass(frozen=True)
class PlannedJob:
    """A configured job of one org: schedule, last run, next tick, due now."""

    org: str
    job: str
    schedule: str
    last_run: RunRecord | None
    next_run: dt.datetime
    due: bool


@dataclass(frozen=True)
class Attempt:
    """What happened to one job in `run_once`: a recorded run, or why it did not run."""

    org: str
    job: str
    outcome: str
    summary: str | None = None
    error: str | None = None
    run_id: int | None = None


def _message(exc: BaseException) -> str:
    from sfops.salesforce import redact  # secrets must never reach the log or the store

    text = exc.message if isinstance(exc, SfopsError) else f"{type(exc).__name__}: {exc}"
    return str(redact(text))[:2000]


class Agent:
    """Schedules `jobs` for the orgs of `config`; see the module docstring."""

    def __init__(self, config: AgentConfig, store: Store, settings: Settings, *, get_org: Callable[[str], Any],
                 actor: str, clock: Clock = utcnow, holder: str | None = None,
                 jobs: Mapping[str, JobSpec] = JOBS) -> None:
        self.config = config
        self.store = store
        self.settings = settings
        self.get_org = get_org
        self.actor = actor
        self.clock = clock
        self.holder = holder or default_holder()
        self.jobs = dict(jobs)
        self.lease = LeaderLease(store, self.holder, dt.timedelta(seconds=config.lease_seconds), clock)
        self._leading: dict[str, bool] = {}

    # -- planning -----------------------------------------------------------------------------------
    def selected(self, names: Sequence[str] | None = None) -> list[tuple[str, str, Schedule]]:
        """(org, job, schedule) of every scheduled job, optionally only the named ones."""
        if names:
            unknown = sorted(set(names) - set(self.jobs))
            if unknown:
                raise UsageError(f"Unknown job(s) {', '.join(unknown)}. Jobs: {', '.join(self.jobs)}.")
        out = []
        for org in self.config.orgs:
            for job in self.jobs:
                schedule = self.config.schedule(org, job)
                if schedule is not None and (not names or job in names):
                    out.append((org, job, schedule))
        if names and not out:
            raise UsageError(f"None of {', '.join(names)} is scheduled (set to 'off' in [agent]?).")
        return out

    def plan(self, names: Sequence[str] | None = None) -> list[PlannedJob]:
        """Every scheduled job with its last run and next tick (no API call)."""
        now = self.clock()
        last = last_runs(self.store, list(self.config.orgs))
        planned = []
        for org, job, schedule in self.selected(names):
            previous = last.get((org, job))
            due_at = schedule.next_after(previous.started_at) if previous else now
            planned.append(PlannedJob(org=org, job=job, schedule=schedule.text,
                                      last_run=previous,
                                      next_run=max(due_at, now), due=due_at <= now))
        return planned

    def is_due(self, alias: str, job: str, schedule: Schedule) -> bool:
        """Due when no run is recorded, or the first tick after the last recorded run has passed."""
        previous = last_runs(self.store, [alias]).get((alias, job))
        return previous is None or schedule.next_after(previous.started_at) <= self.clock()

    # -- running ------------------------------------------------------------------------------------
    def hold(self, alias: str) -> bool:
        """Take or renew the org's lease; logs when leadership changes."""
        try:
            leading = self.lease.hold(lease_name(alias))
        except Exception as exc:  # a store hiccup must not kill the agent; we just are not leader now
            log.warning("lease check for %s failed: %s", alias, _message(exc))
            leading = False
        if leading != self._leading.get(alias):
            log.info("%s leader for %s (%s)", "became" if leading else "not", alias, self.holder)
            self._leading[alias] = leading
        return leading

    def run_job(self, alias: str, job: str, *, force: bool = False) -> Attempt:
        """Run one job for one org if we lead and it is due (or `force`); record it; never raise."""
        spec = self.jobs[job]
        schedule = self.config.schedule(alias, job)
        if not self.hold(alias):
            return Attempt(alias, job, NOT_LEADER, summary=self._leader_text(alias))
        if not force and schedule is not None and not self.is_due(alias, job, schedule):
            return Attempt(alias, job, NOT_DUE, summary="already ran this period")
        now = self.clock()
        run_id = start_run(self.store, org=alias, job=job, holder=self.holder, started_at=now)
        context = JobContext(alias=alias, get_org=self.get_org, store=self.store, settings=self.settings,
                             actor=self.actor, now=now)
        try:
            result = spec.run(context)
        except Exception as exc:  # a job failure is recorded, never fatal to the agent
            error = _message(exc)
            log.error("%s %s failed: %s", alias, job, error)
            log.debug("%s %s traceback", alias, job, exc_info=True)
            finish_run(self.store, run_id, finished_at=self.clock(), outcome=FAILED, error=error)
            return Attempt(alias, job, FAILED, error=error, run_id=run_id)
        log.info("%s %s %s: %s", alias, job, result.outcome, result.summary)
        finish_run(self.store, run_id, finished_at=self.clock(), outcome=result.outcome, summary=result.summary,
                   details=dict(result.details))
        return Attempt(alias, job, result.outcome, summary=result.summary, run_id=run_id)

    def _leader_text(self, alias: str) -> str:
        info = self.lease.info(lease_name(alias))
        if info is None:
            return "no leader"
        return f"{info.holder} leads until {info.expires_at:%H:%M:%S} UTC"

    def run_once(self, names: Sequence[str] | None = None, *, force: bool = False) -> list[Attempt]:
        """Run every due job (or all selected ones with `force`) one time, then give the leases up."""
        selected = self.selected(names)
        try:
            return [self.run_job(org, job, force=force) for org, job, _ in selected]
        finally:
            self.release()

    def release(self) -> None:
        """Give up every lease we hold (clean shutdown: another agent takes over at once)."""
        for org in self.config.orgs:
            try:
                self.lease.release(lease_name(org))
            except Exception as exc:
                log.warning("could not release the lease of %s: %s", org, _message(exc))
            self._leading.pop(org, None)

    def record(self, run_id: int) -> RunRecord:
        return get_run(self.store, run_id)

    # -- scheduling ---------------------------------------------------------------------------------
    def renew(self) -> None:
        """Keep (or take over) the lease of every org; scheduled every lease_seconds / 3."""
        for org in self.config.orgs:
            self.hold(org)

    def scheduler(self, names: Sequence[str] | None = None) -> BackgroundScheduler:
        """A BackgroundScheduler (not started) with every selected job plus the lease renewal.

        coalesce: missed ticks run once, not in a burst; max_instances=1: a slow job never overlaps itself;
        misfire_grace_time: half a period (the 3.x default of 1 s silently drops runs after a busy second).
        """
        # The renewal has its own thread: long jobs filling every worker must not let the lease lapse.
        executors = {"default": ThreadPoolExecutor(self.config.workers), "lease": ThreadPoolExecutor(1)}
        scheduler = BackgroundScheduler(timezone=dt.UTC, executors=executors,
                                        job_defaults={"coalesce": True, "max_instances": 1})
        for org, job, schedule in self.selected(names):
            # First run at start: run_job skips it unless it is due (e.g. overdue after a restart).
            scheduler.add_job(self.run_job, schedule.trigger(), args=(org, job), id=f"{org}:{job}",
                              name=f"{org}:{job}", misfire_grace_time=max(1, int(schedule.period_seconds() / 2)),
                              coalesce=True, max_instances=1, next_run_time=self.clock())
        every = max(1, self.config.lease_seconds // 3)
        scheduler.add_job(self.renew, "interval", seconds=every, id="lease:renew", name="lease renewal",
                          executor="lease", next_run_time=self.clock(), misfire_grace_time=every, coalesce=True,
                          max_instances=1)
        return scheduler

    def serve(self, stop: threading.Event, names: Sequence[str] | None = None) -> None:
        """Run the scheduler until `stop` is set; then wait for running jobs and release the leases."""
        scheduler = self.scheduler(names)
        scheduler.start()
        log.info("agent %s started: %d job(s) for %s", self.holder, len(scheduler.get_jobs()) - 1,
                 ", ".join(self.config.orgs))
        try:
            stop.wait()
        finally:
            scheduler.shutdown(wait=True)
            self.release()
            log.info("agent %s stopped", self.holder)
