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
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.background import BackgroundScheduler

from sfops.agent import backoff, spread
from sfops.agent.config import AgentConfig, Schedule
from sfops.agent.executor import DaemonThreadExecutor
from sfops.agent.jobs import JOBS, JobContext, JobSpec
from sfops.agent.lease import LeaderLease, default_holder
from sfops.agent.runs import (
    FAILED,
    RunRecord,
    abandon_dead_runs,
    claim_run,
    finish_run,
    get_run,
    last_runs,
)
from sfops.agent.ticks import latest_tick
from sfops.clock import Clock, utcnow
from sfops.config import Settings
from sfops.errors import AuthError, SfopsError, UsageError
from sfops.store import Store, agent_members, agent_status
from sfops.store.agent_runs import FENCED, TAKEN

if TYPE_CHECKING:
    from sfops.salesforce import Org

log = logging.getLogger("sfops.agent")
NOT_DUE, NOT_LEADER, STOPPING, AUTH_BACKOFF = "not-due", "not-leader", "stopping", "auth-backoff"
RunObserver = Callable[[str, str, str, float], None]  # (org, job, outcome, seconds)


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
    backoff: str | None = None  # why the org's jobs wait (failed logins), if they do


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

    def __init__(
        self,
        config: AgentConfig,
        store: Store,
        settings: Settings,
        *,
        get_org: Callable[[str], Org],
        actor: str,
        clock: Clock = utcnow,
        holder: str | None = None,
        jobs: Mapping[str, JobSpec] = JOBS,
    ) -> None:
        self.config = config
        self.store = store
        self.settings = settings
        self.get_org = get_org
        self.actor = actor
        self.clock = clock
        self.holder = holder or default_holder()
        self.jobs = dict(jobs)
        # Leases are written for 3/4 of lease_seconds and renewed every quarter: a dead leader's orgs
        # lapse within 3/4 and are picked up at the next quarter, so takeover stays within lease_seconds.
        self.lease = LeaderLease(store, self.holder, dt.timedelta(seconds=config.lease_seconds * 0.75), clock)
        self._leading: dict[str, bool] = {}
        self.observers: list[RunObserver] = []
        self.stopping = threading.Event()
        self.last_renewal: dt.datetime | None = None
        self.renewal_error: str | None = None
        self._running: dict[int, tuple[str, str]] = {}
        self._idle = threading.Condition()
        self._scheduler: BackgroundScheduler | None = None
        self._connected: dict[str, Org] = {}

    def _org(self, alias: str) -> Org:
        org = self.get_org(alias)
        self._connected[alias] = org
        return org

    def leading(self) -> dict[str, bool]:
        """org -> whether this agent leads it now (as of the last lease check)."""
        return dict(self._leading)

    def api_usage(self) -> dict[str, Any]:
        """org -> the API usage the org's last response reported (orgs this agent has connected to)."""
        return {alias: getattr(org, "api_usage", None) for alias, org in list(self._connected.items())}

    def running(self) -> list[tuple[int, str, str]]:
        """(run id, org, job) of the runs in progress in this process."""
        with self._idle:
            return [(run_id, org, job) for run_id, (org, job) in self._running.items()]

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
            waiting = backoff.active(self.store, org, now)
            planned.append(
                PlannedJob(
                    org=org,
                    job=job,
                    schedule=schedule.text,
                    last_run=previous,
                    next_run=max(due_at, waiting.until if waiting else now),
                    due=due_at <= now and waiting is None,
                    backoff=waiting.text() if waiting else None,
                )
            )
        return planned

    def is_due(self, alias: str, job: str, schedule: Schedule) -> bool:
        """Due when no run is recorded, or the first tick after the last recorded run has passed."""
        previous = last_runs(self.store, [alias]).get((alias, job))
        return previous is None or schedule.next_after(previous.started_at) <= self.clock()

    # -- running ------------------------------------------------------------------------------------
    def _set_leading(self, alias: str, leading: bool) -> bool:
        """Record whether we lead `alias`; on becoming leader, `_became_leader` runs (once per takeover)."""
        became = leading and not self._leading.get(alias, False)
        if leading != self._leading.get(alias, False):
            log.info("%s leader for %s (%s)", "became" if leading else "not", alias, self.holder)
        self._leading[alias] = leading
        if became:
            self._became_leader(alias)
        return leading

    def _became_leader(self, alias: str) -> None:
        """What a new leader does first: close the runs a dead holder left running, then bring the org's due
        jobs forward (see `_kick`)."""
        self._abandon_dead_runs(alias)
        self._kick(alias)

    def hold(self, alias: str) -> bool:
        """Take or renew the org's lease; logs when leadership changes."""
        try:
            leading = self.lease.hold(lease_name(alias))
        except Exception as exc:  # a store hiccup must not kill the agent; we just are not leader now
            log.warning("lease check for %s failed: %s", alias, _message(exc))
            leading = False
        return self._set_leading(alias, leading)

    def _abandon_dead_runs(self, alias: str) -> None:
        try:
            closed = abandon_dead_runs(self.store, alias=alias, leader=self.holder, at=self.clock())
        except Exception as exc:  # bookkeeping only: never stops the agent
            log.warning("could not close abandoned runs of %s: %s", alias, _message(exc))
            return
        if closed:
            log.warning("%s: %d run(s) left running by a stopped agent marked abandoned", alias, len(closed))

    def run_job(self, alias: str, job: str, *, force: bool = False, take: bool = True) -> Attempt:
        """Run one job for one org if we lead and it is due (or `force`); record it; never raise.

        `take`: take the lease if it is free (`--once`); the scheduled runs of `serve` pass False and run
        only where the renewal round (which spreads the orgs over the agents) gave us the lease.
        """
        spec = self.jobs[job]
        schedule = self.config.schedule(alias, job)
        if self.stopping.is_set():
            return Attempt(alias, job, STOPPING, summary="the agent is stopping")
        name = lease_name(alias)
        if not (self.hold(alias) if take else self._leading.get(alias, False)):
            return Attempt(alias, job, NOT_LEADER, summary=self._leader_text(alias))
        if not force and schedule is not None and not self.is_due(alias, job, schedule):
            return Attempt(alias, job, NOT_DUE, summary="already ran this period")
        now = self.clock()
        waiting = backoff.active(self.store, alias, now)
        if waiting is not None:
            return Attempt(alias, job, AUTH_BACKOFF, summary=waiting.text())
        generation = self.lease.generation(name)
        claim: int | str = FENCED
        if generation is not None:
            claim = claim_run(
                self.store,
                lease=name,
                generation=generation,
                alias=alias,
                job=job,
                holder=self.holder,
                started_at=now,
                tick=None if force or schedule is None else latest_tick(schedule, now),
            )
        if claim == FENCED:
            # We believed we led, but the store says the lease moved on (we were frozen, or our session died).
            log.warning(
                "%s %s not run: the lease of %s is no longer ours at generation %s", alias, job, alias, generation
            )
            self.lease.generations.pop(name, None)
            self._set_leading(alias, False)
            return Attempt(alias, job, NOT_LEADER, summary="lease lost (fenced): " + self._leader_text(alias))
        if claim == TAKEN:
            return Attempt(alias, job, NOT_DUE, summary="this tick already has a run")
        assert isinstance(claim, int)
        return self._execute(spec, alias, job, claim, now)

    def _execute(self, spec: JobSpec, org: str, job: str, run_id: int, now: dt.datetime) -> Attempt:
        context = JobContext(
            alias=org, get_org=self._org, store=self.store, settings=self.settings, actor=self.actor, now=now
        )
        with self._idle:
            self._running[run_id] = (org, job)
        try:
            try:
                result = spec.run(context)
            except Exception as exc:  # a job failure is recorded, never fatal to the agent
                error = _message(exc)
                log.error("%s %s failed: %s", org, job, error)
                if isinstance(exc, AuthError):
                    waiting = backoff.record_failure(self.store, org, self.clock(), error)
                    log.warning("%s: %s", org, waiting.text())
                log.debug("%s %s traceback", org, job, exc_info=True)
                finish_run(self.store, run_id, finished_at=self.clock(), outcome=FAILED, error=error)
                self._observe(org, job, FAILED, now)
                return Attempt(org, job, FAILED, error=error, run_id=run_id)
            if backoff.current(self.store, org) is not None:
                backoff.clear(self.store, org)
            log.info("%s %s %s: %s", org, job, result.outcome, result.summary)
            finish_run(
                self.store,
                run_id,
                finished_at=self.clock(),
                outcome=result.outcome,
                summary=result.summary,
                details=dict(result.details),
            )
            self._observe(org, job, result.outcome, now)
            return Attempt(org, job, result.outcome, summary=result.summary, run_id=run_id)
        finally:
            with self._idle:
                self._running.pop(run_id, None)
                self._idle.notify_all()

    def _observe(self, org: str, job: str, outcome: str, started: dt.datetime) -> None:
        seconds = (self.clock() - started).total_seconds()
        for observer in self.observers:
            try:
                observer(org, job, outcome, seconds)
            except Exception as exc:  # metrics must never break a run
                log.warning("run observer failed: %s", exc)

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
        """One renewal round (every lease_seconds / 4): heartbeat, renew our leases, and take free ones or give
        surplus back so that the orgs are spread over the live agents (sfops.agent.spread)."""
        now = self.clock()
        ttl = self.lease.ttl
        names = {org: lease_name(org) for org in self.config.orgs}
        try:
            agent_members.heartbeat(self.store, self.holder, now, now + ttl)
            agents = len(agent_members.live_members(self.store, now))
            rows = {r["name"]: r for r in agent_status.lease_rows(self.store, list(names.values()))}
        except Exception as exc:  # the store is down: we cannot know; keep nothing (jobs would be fenced anyway)
            self.renewal_error = _message(exc)
            log.warning("lease renewal failed: %s", self.renewal_error)
            return
        held, free = set(), set()
        for org, name in names.items():
            row = rows.get(name)
            if row is None or row["expires_at"] <= now:
                free.add(org)
            elif row["holder"] == self.holder:
                held.add(org)
        if self.stopping.is_set():
            free = set()  # a stopping agent keeps what it has until it releases, and takes nothing new
        busy = {org for _, org, _ in self.running()}
        lease_plan = spread.plan(self.config.orgs, held, free, agents, holder=self.holder, busy=busy)
        for org in self.config.orgs:
            name = names[org]
            try:
                if org in lease_plan.release:
                    self.lease.release(name)
                    self._set_leading(org, False)
                elif org in lease_plan.keep:
                    kept = self.lease.renew(name) if self.lease.generation(name) is not None else self.lease.hold(name)
                    self._set_leading(org, kept)
                elif org in lease_plan.take:
                    self._set_leading(org, self.lease.hold(name))
                else:
                    self.lease.generations.pop(name, None)
                    self._set_leading(org, False)
            except Exception as exc:
                log.warning("lease check for %s failed: %s", org, _message(exc))
                self._set_leading(org, False)
        self.renewal_error = None
        self.last_renewal = now

    def _kick(self, org: str) -> None:
        """A new leader runs the org's due jobs now instead of waiting for their next tick."""
        scheduler = self._scheduler
        if scheduler is None or not scheduler.running:
            return
        for job in scheduler.get_jobs():
            if job.id.startswith(f"{org}:") and job.id != "lease:renew":
                try:
                    job.modify(next_run_time=self.clock())
                except Exception as exc:  # the job was removed meanwhile (stopping)
                    log.debug("could not bring %s forward: %s", job.id, exc)

    def scheduler(self, names: Sequence[str] | None = None) -> BackgroundScheduler:
        """A BackgroundScheduler (not started) with every selected job plus the lease renewal.

        coalesce: missed ticks run once, not in a burst; max_instances=1: a slow job never overlaps itself;
        misfire_grace_time: half a period (the 3.x default of 1 s silently drops runs after a busy second).
        """
        # The renewal has its own thread: long jobs filling every worker must not let the lease lapse.
        executors = {"default": DaemonThreadExecutor(self.config.workers), "lease": DaemonThreadExecutor(1)}
        scheduler = BackgroundScheduler(
            timezone=dt.UTC, executors=executors, job_defaults={"coalesce": True, "max_instances": 1}
        )
        for org, job, schedule in self.selected(names):
            # First run at start: run_job skips it unless it is due (e.g. overdue after a restart).
            scheduler.add_job(
                self.run_job,
                schedule.trigger(),
                args=(org, job),
                kwargs={"take": False},
                id=f"{org}:{job}",
                name=f"{org}:{job}",
                misfire_grace_time=max(1, int(schedule.period_seconds() / 2)),
                coalesce=True,
                max_instances=1,
                next_run_time=self.clock(),
            )
        every = max(0.5, self.config.lease_seconds / 4)
        scheduler.add_job(
            self.renew,
            "interval",
            seconds=every,
            id="lease:renew",
            name="lease renewal",
            executor="lease",
            misfire_grace_time=max(1, int(every)),
            coalesce=True,
            max_instances=1,
        )
        return scheduler

    def serve(
        self, stop: threading.Event, names: Sequence[str] | None = None, grace: float | None = None
    ) -> list[tuple[int, str, str]]:
        """Run the scheduler until `stop` is set; then stop taking runs, give running jobs up to `grace`
        seconds (default [agent] grace_seconds) to finish, release the leases and return. Returns the runs
        still going when the grace ran out (recorded as failed; they die with the process)."""
        scheduler = self._scheduler = self.scheduler(names)
        self.renew()  # leases first, so the runs due at start find them
        scheduler.start()
        log.info(
            "agent %s started: %d job(s) for %s",
            self.holder,
            len(scheduler.get_jobs()) - 1,
            ", ".join(self.config.orgs),
        )
        try:
            stop.wait()
        finally:
            left = self.shutdown(self.config.grace_seconds if grace is None else grace)
        return left

    def shutdown(self, grace: float) -> list[tuple[int, str, str]]:
        """Stop taking runs, wait up to `grace` s for running ones (the leases are still renewed meanwhile),
        record the stragglers as failed, release leases and membership."""
        self.stopping.set()
        scheduler = self._scheduler
        if scheduler is not None and scheduler.running:
            for job in scheduler.get_jobs():
                if job.id != "lease:renew":
                    job.remove()
        log.info("agent %s stopping: %d run(s) in progress, grace %g s", self.holder, len(self.running()), grace)
        left = self.wait_idle(grace)
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
        for run_id, org, job in left:
            log.warning("%s %s still running after the %g s grace period; recorded as failed", org, job, grace)
            try:
                finish_run(
                    self.store,
                    run_id,
                    finished_at=self.clock(),
                    outcome=FAILED,
                    error=f"interrupted: the agent stopped (grace period {grace:g} s ran out)",
                )
            except Exception as exc:
                log.warning("could not record run %s as interrupted: %s", run_id, _message(exc))
        self.release()
        try:
            agent_members.leave(self.store, self.holder)
        except Exception as exc:
            log.warning("could not leave the agent membership: %s", _message(exc))
        log.info("agent %s stopped", self.holder)
        return left

    def wait_idle(self, timeout: float) -> list[tuple[int, str, str]]:
        """Wait until no run is in progress or `timeout` s passed; the runs still in progress."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._running and (remaining := deadline - time.monotonic()) > 0:
                self._idle.wait(min(remaining, 0.5))
            return [(run_id, org, job) for run_id, (org, job) in self._running.items()]
