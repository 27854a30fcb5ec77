"""A run whose agent was killed mid-job does not stay "running" forever (issue 15 item 10)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sfops.agent import Agent, load_agent_config
from sfops.agent.jobs import JobResult, JobSpec
from sfops.agent.runs import run_history
from sfops.config import Settings
from sfops.store import Store


class Killed(BaseException):
    """kill -9 in the middle of a job: nothing after this line of the agent runs."""


def test_a_killed_agents_run_is_marked_abandoned_by_the_next_leader(
    store_url: str, clock, make_settings: Callable[[str], Settings]
) -> None:
    settings = make_settings('[agent]\nlease_seconds = 60\n[agent.jobs]\nlimits-snapshot = "15m"\n')
    config = load_agent_config(settings, known_jobs=("limits-snapshot",))

    def dies(ctx) -> JobResult:
        raise Killed()

    def works(ctx) -> JobResult:
        return JobResult("ok", "done")

    def agent(holder: str, job: Callable[..., JobResult]) -> Agent:
        return Agent(
            config,
            Store.open(store_url),
            settings,
            get_org=lambda alias: None,
            actor="t",
            clock=clock,
            holder=holder,
            jobs={"limits-snapshot": JobSpec("limits-snapshot", "test job", job)},
        )

    with pytest.raises(Killed):
        agent("agent-a", dies).run_job("prod", "limits-snapshot")  # no release: the process is gone
    store = Store.open(store_url)
    (run,) = run_history(store)
    assert run.outcome == "running" and run.holder == "agent-a"
    b = agent("agent-b", works)
    clock.advance(seconds=30)  # agent-a's lease is still live: b does not lead and must not touch the run
    assert b.run_job("prod", "limits-snapshot").outcome == "not-leader"
    assert run_history(store)[0].outcome == "running"
    clock.advance(seconds=31)  # the lease ran out
    attempt = b.run_job("prod", "limits-snapshot", force=True)
    assert attempt.outcome == "ok"
    runs = {r.holder: r for r in run_history(store)}
    assert runs["agent-a"].outcome == "abandoned" and runs["agent-a"].finished_at is not None
    assert "lease expired" in (runs["agent-a"].error or "")
    assert runs["agent-b"].outcome == "ok"
    assert len(run_history(store)) == 2
