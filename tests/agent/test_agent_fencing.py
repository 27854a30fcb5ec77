"""Fencing and spreading on a shared store (SQLite and PostgreSQL), with an injected clock: a leader that
lost its lease without noticing cannot claim a run; one run per tick whoever leads; orgs spread over
the live agents."""

from __future__ import annotations

import datetime as dt

from sfops.agent import Agent, JobResult, JobSpec, lease_name, load_agent_config, run_history
from sfops.agent.agent import NOT_DUE, NOT_LEADER
from sfops.agent.config import parse_schedule
from sfops.agent.runs import claim_run
from sfops.agent.spread import fair_share, plan
from sfops.agent.ticks import latest_tick
from sfops.store import Store
from sfops.store.agent_runs import TAKEN


def _jobs(ran: list[tuple[str, str]]) -> dict[str, JobSpec]:
    def snap(ctx) -> JobResult:
        ran.append((ctx.alias, ctx.now.isoformat()))
        return JobResult("ok", "done")

    return {"snap": JobSpec("snap", "snapshot", snap)}


def _agent(settings, store_url: str, clock, holder: str, ran: list) -> Agent:
    jobs = _jobs(ran)
    config = load_agent_config(settings, known_jobs=tuple(jobs))
    return Agent(
        config, Store.open(store_url), settings, get_org=lambda a: a, actor="t", clock=clock, holder=holder, jobs=jobs
    )


def test_a_leader_that_lost_its_lease_without_noticing_is_fenced(make_settings, store_url, clock) -> None:
    settings = make_settings('[agent]\nlease_seconds = 20\n[agent.jobs]\nsnap = "1m"\n')
    ran: list = []
    a = _agent(settings, store_url, clock, "agent-a", ran)
    b = _agent(settings, store_url, clock, "agent-b", ran)
    a.renew()
    assert a.leading() == {"prod": True} and a.lease.generation(lease_name("prod")) == 1
    # a freezes (SIGSTOP, a stalled VM) longer than its lease: b's renewal round takes the org over
    clock.advance(seconds=16)
    b.renew()
    assert b.leading() == {"prod": True} and b.lease.generation(lease_name("prod")) == 2
    # a wakes up still believing it leads, and its scheduler fires the job: the claim is refused
    assert a.leading() == {"prod": True}
    attempt = a.run_job("prod", "snap", take=False)
    assert attempt.outcome == NOT_LEADER and attempt.summary.startswith("lease lost (fenced): agent-b leads")
    assert ran == [] and run_history(a.store) == []
    assert a.leading() == {"prod": False}
    assert b.run_job("prod", "snap", take=False).outcome == "ok"
    [run] = run_history(a.store)
    assert run.holder == "agent-b"


def test_one_run_per_tick_across_a_handover(make_settings, store_url, clock) -> None:
    settings = make_settings('[agent]\nlease_seconds = 20\n[agent.jobs]\nsnap = "1m"\n')
    ran: list = []
    a = _agent(settings, store_url, clock, "agent-a", ran)
    b = _agent(settings, store_url, clock, "agent-b", ran)
    assert a.run_job("prod", "snap").outcome == "ok"
    a.release()
    # b leads now, in the same minute: the tick has its run
    b.renew()
    assert b.run_job("prod", "snap", take=False).outcome == NOT_DUE
    assert b.run_job("prod", "snap", take=False, force=True).outcome == "ok"  # forced runs belong to no tick
    assert len(ran) == 2
    clock.advance(minutes=1)
    b.renew()
    assert b.run_job("prod", "snap", take=False).outcome == "ok"
    assert len(run_history(b.store)) == 3
    # two claims racing past the "due" check: the store keeps one run per tick
    clock.advance(minutes=1)
    b.renew()
    name, generation = lease_name("prod"), b.lease.generation(lease_name("prod"))
    tick = latest_tick(parse_schedule("1m", "t"), clock.now)
    first = claim_run(
        b.store,
        lease=name,
        generation=generation,
        alias="prod",
        job="snap",
        holder="agent-b",
        started_at=clock.now,
        tick=tick,
    )
    second = claim_run(
        b.store,
        lease=name,
        generation=generation,
        alias="prod",
        job="snap",
        holder="agent-b",
        started_at=clock.now,
        tick=tick,
    )
    assert isinstance(first, int) and second == TAKEN


def test_renewal_rounds_spread_orgs_over_live_agents(make_settings, store_url, clock) -> None:
    orgs = [f"o{i}" for i in range(7)]
    tables = "".join(f'[orgs.{o}]\nauth = "token"\ninstance_url = "https://{o}.example.invalid"\n' for o in orgs)
    settings = make_settings(
        tables + f'[agent]\norgs = {orgs!r}\nlease_seconds = 20\n[agent.jobs]\nsnap = "1m"\n'.replace("'", '"')
    )
    ran: list = []
    a = _agent(settings, store_url, clock, "agent-a", ran)
    a.renew()
    assert sum(a.leading().values()) == 7  # alone: leads everything
    b = _agent(settings, store_url, clock, "agent-b", ran)
    c = _agent(settings, store_url, clock, "agent-c", ran)
    for _ in range(3):  # a few rounds (every 5 s): a gives its surplus back, b and c take it
        for agent in (b, c, a):
            agent.renew()
        clock.advance(seconds=5)
    led = [sum(x.leading().values()) for x in (a, b, c)]
    assert sum(led) == 7 and max(led) <= fair_share(7, 3) == 3
    owners = {org: [x.holder for x in (a, b, c) if x.leading().get(org)] for org in orgs}
    assert all(len(h) == 1 for h in owners.values()), owners
    # c dies: its heartbeat and leases lapse (15 s), a and b share its orgs within lease_seconds
    for _ in range(4):
        clock.advance(seconds=5)
        a.renew()
        b.renew()
    led = [sum(x.leading().values()) for x in (a, b)]
    assert sum(led) == 7 and max(led) <= fair_share(7, 2) == 4


def test_lease_plan() -> None:
    orgs = [f"o{i}" for i in range(10)]
    p = plan(orgs, held=set(orgs[:6]), free=set(), agents=3, holder="x", busy={"o5"})
    assert p.share == 4 and p.release == ("o4", "o3") and p.keep == ("o0", "o1", "o2", "o5")
    p = plan(orgs, held={"o0"}, free=set(orgs[5:]), agents=3, holder="x")
    assert p.keep == ("o0",) and len(p.take) == 3 and set(p.take) <= set(orgs[5:])


def test_latest_tick() -> None:
    now = dt.datetime(2026, 3, 10, 12, 7, 31, tzinfo=dt.UTC)
    assert latest_tick(parse_schedule("15m", "t"), now) == dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
    assert latest_tick(parse_schedule("5s", "t"), now) == dt.datetime(2026, 3, 10, 12, 7, 30, tzinfo=dt.UTC)
    assert latest_tick(parse_schedule("0 13 * * *", "t"), now) == dt.datetime(2026, 3, 9, 13, 0, tzinfo=dt.UTC)
    assert latest_tick(parse_schedule("*/5 * * * *", "t"), now) == dt.datetime(2026, 3, 10, 12, 5, tzinfo=dt.UTC)
