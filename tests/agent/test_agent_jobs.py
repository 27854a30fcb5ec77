"""Job wiring with an injected clock: due/not due, failures recorded (never raised), scheduler defaults."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest

from sfops.agent import JOBS, Agent, JobResult, JobSpec, lease_name, load_agent_config, run_history
from sfops.agent.agent import NOT_DUE
from sfops.agent.config import DEFAULT_SCHEDULES
from sfops.config import Settings
from sfops.errors import SalesforceError, UsageError
from sfops.store import Store

TOKEN = "00D5g000004abcd!AQ0AQHfakefakefakefakefakefakefakefakefakefakefakefakefake"


def make_agent(settings: Settings, store: Store, clock, jobs: dict[str, JobSpec], **kw) -> Agent:
    config = load_agent_config(settings, known_jobs=tuple(jobs))
    return Agent(
        config,
        store,
        settings,
        get_org=lambda alias: f"org:{alias}",
        actor="tester",
        clock=clock,
        holder="agent-a",
        jobs=jobs,
        **kw,
    )


@pytest.fixture
def calls() -> list[tuple[str, str, dt.datetime]]:
    return []


@pytest.fixture
def jobs(calls) -> dict[str, JobSpec]:
    def snapshot(ctx) -> JobResult:
        calls.append(("snapshot", ctx.alias, ctx.now))
        assert ctx.org() == f"org:{ctx.alias}" and ctx.actor == "tester"
        return JobResult("ok", f"stored for {ctx.alias}", {"n": 1})

    def broken(ctx) -> JobResult:
        calls.append(("broken", ctx.alias, ctx.now))
        raise SalesforceError(f"Session expired; header was Authorization: Bearer {TOKEN}")

    def crash(ctx) -> JobResult:
        calls.append(("crash", ctx.alias, ctx.now))
        raise ZeroDivisionError("division by zero")

    return {
        "snap": JobSpec("snap", "snapshot", snapshot),
        "broken": JobSpec("broken", "fails", broken),
        "crash": JobSpec("crash", "crashes", crash),
    }


def test_due_jobs_run_once_per_tick_of_their_schedule(make_settings, agent_store, clock, jobs, calls) -> None:
    settings = make_settings(
        '[agent]\norgs = ["prod", "uat"]\n[agent.jobs]\nsnap = "1m"\nbroken = "5m"\n'
        'crash = "off"\n[agent.overrides.uat]\nbroken = "off"\n'
    )
    agent = make_agent(settings, agent_store, clock, jobs)
    first = agent.run_once()
    assert [(a.org, a.job, a.outcome) for a in first] == [
        ("prod", "snap", "ok"),
        ("prod", "broken", "failed"),
        ("uat", "snap", "ok"),
    ]
    assert [c[:2] for c in calls] == [("snapshot", "prod"), ("broken", "prod"), ("snapshot", "uat")]
    assert all(c[2] == clock.now for c in calls)  # jobs get the injected time
    # 12:00:50: same minute, nothing is due
    clock.advance(seconds=40)
    assert {a.outcome for a in agent.run_once()} == {NOT_DUE}
    # 12:01:00.5: the 1-minute job is due again, the 5-minute one is not
    clock.advance(seconds=10.5)
    second = agent.run_once()
    assert [(a.org, a.job, a.outcome) for a in second] == [
        ("prod", "snap", "ok"),
        ("prod", "broken", NOT_DUE),
        ("uat", "snap", "ok"),
    ]
    # 12:05:00: the failed job runs again at its next tick, not before
    clock.now = dt.datetime(2026, 3, 10, 12, 5, tzinfo=dt.UTC)
    assert [a.outcome for a in agent.run_once(["broken"])] == ["failed"]
    assert len([c for c in calls if c[0] == "broken"]) == 2


def test_failures_are_recorded_redacted_and_never_raised(make_settings, agent_store, clock, jobs) -> None:
    agent = make_agent(
        make_settings('[agent.jobs]\nsnap = "1m"\nbroken = "1m"\ncrash = "1m"\n'), agent_store, clock, jobs
    )
    attempts = {a.job: a for a in agent.run_once()}
    assert attempts["snap"].outcome == "ok"  # a failing job does not stop the others
    broken = agent.record(attempts["broken"].run_id)
    assert broken.outcome == "failed" and broken.finished_at == clock.now
    assert "Session expired" in broken.error and TOKEN not in broken.error and "****" in broken.error
    crash = agent.record(attempts["crash"].run_id)
    assert crash.error == "ZeroDivisionError: division by zero"
    ok = agent.record(attempts["snap"].run_id)
    assert (ok.outcome, ok.summary, ok.details, ok.holder) == ("ok", "stored for prod", {"n": 1}, "agent-a")
    assert [r.job for r in run_history(agent_store, alias="prod")] == ["crash", "broken", "snap"]


def test_force_runs_jobs_that_are_not_due(make_settings, agent_store, clock, jobs, calls) -> None:
    agent = make_agent(
        make_settings('[agent.jobs]\nsnap = "1h"\nbroken = "off"\ncrash = "off"\n'), agent_store, clock, jobs
    )
    agent.run_once()
    assert agent.run_once()[0].outcome == NOT_DUE
    assert agent.run_once(force=True)[0].outcome == "ok"
    assert len(calls) == 2


def test_unknown_jobs_are_refused(make_settings, agent_store, clock, jobs) -> None:
    agent = make_agent(
        make_settings('[agent.jobs]\nsnap = "1m"\nbroken = "off"\ncrash = "off"\n'), agent_store, clock, jobs
    )
    with pytest.raises(UsageError, match="Unknown job"):
        agent.run_once(["nope"])
    assert run_history(agent_store) == []
    planned = {p.job: p for p in agent.plan()}
    assert planned["snap"].due and planned["snap"].next_run == clock.now


def test_plan_shows_last_run_and_next_tick(make_settings, agent_store, clock, jobs) -> None:
    agent = make_agent(
        make_settings('[agent.jobs]\nsnap = "15m"\nbroken = "off"\ncrash = "off"\n'), agent_store, clock, jobs
    )
    agent.run_once()
    clock.advance(minutes=3)
    (planned,) = agent.plan()
    assert not planned.due and planned.last_run.outcome == "ok"
    assert planned.next_run == dt.datetime(2026, 3, 10, 12, 15, tzinfo=dt.UTC)


def test_scheduler_job_defaults(make_settings, agent_store, clock, jobs) -> None:
    settings = make_settings(
        '[agent]\nlease_seconds = 30\n[agent.jobs]\nsnap = "10m"\nbroken = "*/2 * * * *"\ncrash = "off"\n'
    )
    scheduler = make_agent(settings, agent_store, clock, jobs).scheduler()
    by_id = {job.id: job for job in scheduler.get_jobs()}
    assert set(by_id) == {"prod:snap", "prod:broken", "lease:renew"}
    assert by_id["prod:snap"].misfire_grace_time == 300  # half the period, not the 3.x default of 1 s
    assert by_id["prod:broken"].misfire_grace_time == 60
    assert all(j.coalesce and j.max_instances == 1 for j in by_id.values())
    assert by_id["prod:snap"].args == ("prod", "snap")
    # renewed every quarter of lease_seconds (leases are written for three quarters: takeover < lease_seconds)
    assert by_id["lease:renew"].trigger.interval == dt.timedelta(seconds=7.5)
    # the renewal never waits behind long jobs for a worker
    assert by_id["lease:renew"].executor == "lease" and by_id["prod:snap"].executor == "default"


def test_serve_takes_the_lease_and_releases_it_on_stop(make_settings, agent_store, jobs, calls) -> None:
    settings = make_settings('[agent.jobs]\nsnap = "1h"\nbroken = "off"\ncrash = "off"\n')
    agent = make_agent(settings, agent_store, lambda: dt.datetime.now(dt.UTC), jobs)
    stop = threading.Event()
    thread = threading.Thread(target=agent.serve, args=(stop,))
    thread.start()
    try:
        for _ in range(200):  # renewal and due jobs run at start; wait (bounded) for the lease and the job
            info = agent.lease.info(lease_name("prod"))
            if info is not None and agent.lease.is_live(info) and calls:
                break
            stop.wait(0.05)
        assert info is not None and info.holder == "agent-a"
        # never ran before, so it was due at start (not only at the next hourly tick)
        assert [c[:2] for c in calls] == [("snapshot", "prod")]
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()
    assert not agent.lease.is_live(agent.lease.info(lease_name("prod")))


def test_the_real_jobs_are_all_wired(make_settings: Callable[[str], Settings]) -> None:
    assert list(JOBS) == list(DEFAULT_SCHEDULES)
    for spec in JOBS.values():
        assert spec.help
