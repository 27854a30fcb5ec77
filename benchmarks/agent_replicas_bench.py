"""N agents sharing M emulated orgs on a throwaway PostgreSQL: balance, takeover after kill -9, duplicates,
/metrics scrape time over HTTP.

    .venv/bin/python benchmarks/agent_replicas_bench.py [--agents 3] [--orgs 30] [--lease 6] [--rounds 1]

Each round starts `--agents` `sfops agent run --listen` processes on one PostgreSQL store (initdb'd
in a temp dir; needs Debian's postgresql package) and one emulator serving `--orgs` aliases, waits
until every org is led, samples the spread while all are healthy, scrapes /metrics of every agent,
kills the busiest leader with SIGKILL and times until all of its orgs are led again, then stops
the others with SIGTERM and counts duplicate runs per tick (run records and stored snapshots).
Reference: the lease time itself (takeover / lease_seconds is the ratio that matters).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from postgres_support import running_cluster, server_bin  # noqa: E402
from replica_support import run_replicas  # noqa: E402

from sfops.emulator.app import EmulatorSettings  # noqa: E402
from sfops.emulator.testing import running_emulator  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=3)
    parser.add_argument("--orgs", type=int, default=30)
    parser.add_argument("--lease", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if server_bin() is None:
        raise SystemExit("PostgreSQL server not installed (apt-get install postgresql)")
    reports = []
    with (
        tempfile.TemporaryDirectory(prefix="sfops-pg-") as pg_base,
        running_cluster(Path(pg_base)) as cluster,
        running_emulator(settings=EmulatorSettings(seed="demo")) as emulator,
    ):
        for n in range(args.rounds):
            with tempfile.TemporaryDirectory() as work:
                reports.append(
                    run_replicas(
                        emulator,
                        Path(work),
                        cluster.new_database(),
                        agents=args.agents,
                        orgs=args.orgs,
                        lease_seconds=args.lease,
                    )
                )
            print(f"round {n + 1}: takeover {reports[-1].takeover_seconds:.2f} s", file=sys.stderr)
    rows = [{k: v for k, v in asdict(r).items() if k != "logs"} for r in reports]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    r = reports[-1]
    takeover = statistics.median(x.takeover_seconds for x in reports)
    print(f"{args.agents} agents, {args.orgs} orgs, lease_seconds {args.lease}, {len(reports)} round(s)")
    print(f"converged (every org led, spread within bound) in {r.converge_seconds:.1f} s")
    print(
        f"healthy: orgs led per agent min {min(x.healthy_min_led for x in reports)} max "
        f"{max(x.healthy_max_led for x in reports)} (bound ceil(M/N)+1 = {r.bound_healthy}); samples with an "
        f"unled org: {sum(x.healthy_unled_samples for x in reports)} of {sum(x.healthy_samples for x in reports)}"
    )
    print(
        f"kill -9 of the busiest leader ({r.killed_led} orgs): takeover median {takeover:.2f} s "
        f"({takeover / args.lease:.2f} x lease_seconds); after: max {max(x.after_max_led for x in reports)} "
        f"per survivor (bound {r.bound_after})"
    )
    scrape = statistics.median(x.scrape_ms_median for x in reports)
    print(f"/metrics over HTTP, {args.orgs} orgs: median {scrape:.1f} ms")
    print(
        f"runs {sum(x.runs for x in reports)}, ticks with two runs {sum(x.duplicate_ticks for x in reports)}, "
        f"snapshots {sum(x.snapshots for x in reports)}, org-ticks with two snapshots "
        f"{sum(x.snapshot_ticks_duplicated for x in reports)}; survivors' exit codes {r.exit_codes}"
    )


if __name__ == "__main__":
    main()
