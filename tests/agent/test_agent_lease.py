"""The leader lease: two agents (separate engines on one SQLite file, like two processes) never both lead."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

from sfops.agent import Agent, JobResult, JobSpec, LeaderLease, lease_name, load_agent_config
from sfops.agent.agent import NOT_DUE, NOT_LEADER
from sfops.config import Settings
from sfops.store import Store

TTL = dt.timedelta(seconds=60)


def test_one_holder_at_a_time_with_renewal_expiry_and_release(store_url: str, clock) -> None:
    a = LeaderLease(Store.open(store_url), "agent-a", TTL, clock)
    b = LeaderLease(Store.open(store_url), "agent-b", TTL, clock)
    assert a.hold("agent:prod") is True
    assert b.hold("agent:prod") is False
    first = a.info("agent:prod")
    assert first is not None and first.holder == "agent-a" and first.expires_at == clock.now + TTL
    # the leader renews before expiry: the lease moves forward, acquired_at stays
    clock.advance(seconds=40)
    assert a.hold("agent:prod") is True and b.hold("agent:prod") is False
    renewed = a.info("agent:prod")
    assert renewed.expires_at == clock.now + TTL and renewed.acquired_at == first.acquired_at
    # the leader stops renewing (crash): after the ttl the other agent takes over
    clock.advance(seconds=61)
    assert b.hold("agent:prod") is True
    assert a.hold("agent:prod") is False
    taken = b.info("agent:prod")
    assert taken.holder == "agent-b" and taken.acquired_at == clock.now
    # releasing a lease someone else holds does nothing; the holder's release frees it at once
    assert a.release("agent:prod") is False and b.info("agent:prod").holder == "agent-b"
    assert b.release("agent:prod") is True
    assert not b.is_live(b.info("agent:prod"))
    assert a.hold("agent:prod") is True


def test_leases_are_per_name(store_url: str, clock) -> None:
    a = LeaderLease(Store.open(store_url), "agent-a", TTL, clock)
    b = LeaderLease(Store.open(store_url), "agent-b", TTL, clock)
    assert a.hold("agent:prod") and b.hold("agent:uat")
    assert not a.hold("agent:uat") and not b.hold("agent:prod")


def test_racing_agents_elect_exactly_one_leader(store_url: str) -> None:
    Store.open(store_url)  # migrate once up front
    contenders = [LeaderLease(Store.open(store_url), f"agent-{i}", TTL) for i in range(8)]
    barrier = threading.Barrier(len(contenders))
    results: dict[str, bool] = {}

    def contend(lease: LeaderLease) -> None:
        barrier.wait()
        results[lease.holder] = lease.hold("agent:prod")

    threads = [threading.Thread(target=contend, args=(lease,)) for lease in contenders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [holder for holder, won in results.items() if won]
    assert len(results) == 8 and len(winners) == 1
    assert contenders[0].info("agent:prod").holder == winners[0]


def test_two_agents_never_run_the_same_job_twice(
    store_url: str, make_settings: Callable[[str], Settings], clock
) -> None:
    settings = make_settings('[agent]\nlease_seconds = 60\n[agent.jobs]\nlimits-snapshot = "15m"\n')
    config = load_agent_config(settings, known_jobs=("limits-snapshot",))
    executions: list[str] = []
    lock = threading.Lock()
    inside = threading.Event()
    release = threading.Event()

    def job(ctx) -> JobResult:
        with lock:
            executions.append(ctx.alias)
        inside.set()
        release.wait(10)
        return JobResult("ok", "done")

    jobs = {"limits-snapshot": JobSpec("limits-snapshot", "test job", job)}
    agents = [
        Agent(
            config,
            Store.open(store_url),
            settings,
            get_org=lambda alias: None,
            actor="t",
            clock=clock,
            holder=f"agent-{i}",
            jobs=jobs,
        )
        for i in range(2)
    ]
    outcomes: dict[str, str] = {}

    def run(agent: Agent) -> None:
        (attempt,) = agent.run_once()
        outcomes[agent.holder] = attempt.outcome

    first = threading.Thread(target=run, args=(agents[0],))
    first.start()
    assert inside.wait(10)  # agent-0 is inside the job, holding the lease
    run(agents[1])
    assert outcomes["agent-1"] == NOT_LEADER
    assert agents[1].lease.info(lease_name("prod")).holder == "agent-0"
    release.set()
    first.join()
    assert outcomes["agent-0"] == "ok"
    # agent-0 released its lease on the way out; agent-1 now leads but the job already ran this period
    (again,) = agents[1].run_once()
    assert again.outcome == NOT_DUE
    assert executions == ["prod"]
    # the next period: exactly one of them runs it
    clock.advance(minutes=15)
    results = [a.run_once()[0].outcome for a in agents]
    assert results == ["ok", NOT_DUE] and executions == ["prod", "prod"]


def _hold_together(leases: list[LeaderLease], name: str) -> list[bool]:
    """Every lease tries to hold `name` at the same moment; their answers."""
    barrier = threading.Barrier(len(leases))
    results: list[bool] = []

    def contend(lease: LeaderLease) -> None:
        barrier.wait()
        results.append(lease.hold(name))

    threads = [threading.Thread(target=contend, args=(lease,)) for lease in leases]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_one_holder_racing_itself_always_holds(store_url: str) -> None:
    """The renewal thread and a job of the same agent both take a new lease at start: both must hold it
    (on PostgreSQL the INSERT loser used to answer 'not leader' and the agent skipped its own job)."""
    Store.open(store_url)
    for round_ in range(10):
        leases = [LeaderLease(Store.open(store_url), "agent-a", TTL) for _ in range(4)]
        assert _hold_together(leases, f"agent:race-{round_}") == [True] * 4, f"round {round_}"
