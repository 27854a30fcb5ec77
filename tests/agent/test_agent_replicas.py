"""Three `sfops agent run` processes share thirty emulated orgs on a real PostgreSQL store: each org led
by exactly one agent, spread (at most ceil(M/N)+1 each), takeover within lease_seconds after kill -9 of
the busiest leader, and no job twice for one tick (run records and the snapshots the jobs stored)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from replica_support import run_replicas

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def test_three_agents_thirty_orgs_balance_takeover_and_no_duplicates(
    emulator: Any, postgres: Any, tmp_path: Path
) -> None:
    report = run_replicas(emulator, tmp_path, postgres.new_database(), agents=3, orgs=30, lease_seconds=6)
    print(f"\nreplicas: {report}")
    logs = "\n".join(report.logs.values())
    assert report.exit_codes == [0, 0], logs
    assert report.healthy_unled_samples == 0, logs  # every org had a leader at every sample
    assert report.healthy_max_led <= report.bound_healthy == 11
    # The takeover is bounded by the lease (a dead holder's lease expires within 3/4 of lease_seconds, and the
    # survivors renew every 1/4); what the observer sees adds polling and CPU starvation: 5.1-5.5 s on a quiet
    # 2-core machine (benchmarks/agent_replicas_bench.py), 7.3-9.6 s with two test suites running beside it.
    # The test guards against a takeover that waits for more than one further lease period.
    assert report.takeover_seconds <= 2 * report.lease_seconds
    assert report.after_max_led <= report.bound_after == 16
    assert report.runs >= 30 and report.snapshots >= 30
    assert report.duplicate_ticks == 0
    assert report.snapshot_ticks_duplicated == 0
