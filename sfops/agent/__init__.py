"""The scheduled agent: runs the domain jobs (log pull, limits snapshot, switch restores, breaker sync,
incident escalation, notification retries) per org on schedules from `[agent]`, as leader only.

Public API: `load_agent_config(settings)`, `Agent(config, store, settings, get_org=..., actor=...)`
with `plan`, `run_once`, `run_job`, `scheduler`, `serve`; `LeaderLease`; `JOBS`; `run_history`.
"""

from sfops.agent.agent import Agent, Attempt, PlannedJob, lease_name
from sfops.agent.config import AgentConfig, Schedule, load_agent_config, parse_schedule
from sfops.agent.jobs import JOBS, JobContext, JobResult, JobSpec
from sfops.agent.lease import LeaderLease, LeaseInfo
from sfops.agent.runs import RunRecord, last_runs, run_history

__all__ = [
    "JOBS",
    "Agent",
    "AgentConfig",
    "Attempt",
    "JobContext",
    "JobResult",
    "JobSpec",
    "LeaderLease",
    "LeaseInfo",
    "PlannedJob",
    "RunRecord",
    "Schedule",
    "last_runs",
    "lease_name",
    "load_agent_config",
    "parse_schedule",
    "run_history",
]
