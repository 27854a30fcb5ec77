"""Kill-switch benchmark: wall time and API calls of `switch off` and `switch list` against the emulator.

    .venv/bin/python benchmarks/switches_bench.py [--runs 5] [--json]

Starts an in-process emulator over HTTPS (demo seed: Kill_Switch__c with 5 checkboxes and an
org-level record), adds 50 user-level overrides (50 users created through the REST API), then
measures, each through the same domain calls the CLI makes:

  off/org/cold    `switch off New_Pricing__c` at org scope, empty local store (describe + org id fetched)
  off/org/warm    the same with the describe and org id cached in the local store
  off/user/warm   `switch off ... --scope user:USERNAME` (username lookup + read + write)
  list/cold       `switch list` with 5 switches and 50 overrides, empty local store
  list/warm       the same with the cached describe

API calls are the counted requests in the emulator's journal (/__emulator__/requests): what a
real org would charge against its daily API limit (logins excluded). Targets (issue 4): `switch
off` at one scope <= 3, `switch list` with 5 switches and 50 overrides <= 3.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# requests lets these override a session's CA bundle; the emulator's CA must be used.
os.environ.pop("REQUESTS_CA_BUNDLE", None)
os.environ.pop("CURL_CA_BUNDLE", None)

from sfops.emulator.testing import RunningEmulator, running_emulator  # noqa: E402
from sfops.salesforce import Org, connect  # noqa: E402
from sfops.store import Store  # noqa: E402
from sfops.switches import flip, list_switches  # noqa: E402

TARGET = 3
OVERRIDES = 50


def counted(emu: RunningEmulator, since: int) -> list[dict[str, Any]]:
    return [e for e in emu.requests_journal()[since:] if e["counted"]]


def seed_overrides(emu: RunningEmulator, org: Org) -> str:
    """50 users, each with a user-level Kill_Switch__c record; returns one username."""
    profile = org.query("SELECT Id FROM Profile WHERE Name = 'Standard User'")[0]["Id"]
    fields = ["Async_Recalculation__c", "Auto_Escalation__c", "External_Sync__c", "New_Pricing__c", "Outbound_Email__c"]
    username = ""
    for i in range(OVERRIDES):
        username = f"bench{i:02d}@sfops.demo"
        uid = org.create(
            "User",
            {
                "Username": username,
                "LastName": f"Bench{i:02d}",
                "FirstName": "B",
                "Email": f"bench{i:02d}@example.com",
                "Alias": f"bn{i:02d}",
                "ProfileId": profile,
                "TimeZoneSidKey": "Europe/London",
                "LocaleSidKey": "en_GB",
                "LanguageLocaleKey": "en_US",
                "EmailEncodingKey": "UTF-8",
            },
        )
        org.create("Kill_Switch__c", {"SetupOwnerId": uid, **{f: (i + j) % 3 != 0 for j, f in enumerate(fields)}})
    return username


def measure(emu: RunningEmulator, org: Org, runs: int, fresh_store: bool, action: Any) -> dict[str, Any]:
    times, calls = [], []
    with tempfile.TemporaryDirectory() as tmp:
        shared = Store.open(f"sqlite:///{tmp}/warm.db")
        action(org, shared, 0)  # warm the cache (and the connection) once
        for i in range(runs):
            store = Store.open(f"sqlite:///{tmp}/cold{i}.db") if fresh_store else shared
            since = len(emu.requests_journal())
            start = time.perf_counter()
            action(org, store, i + 1)
            times.append(time.perf_counter() - start)
            calls.append(len(counted(emu, since)))
    return {
        "median_ms": round(statistics.median(times) * 1000, 1),
        "max_ms": round(max(times) * 1000, 1),
        "api_calls": max(calls),
        "kinds": sorted({e["kind"] for e in counted(emu, since)}),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with running_emulator() as emu:
        org = connect(emu.org_config(alias="bench"), env={})
        user = seed_overrides(emu, org)

        def off_org(o: Org, s: Store, i: int) -> None:
            flip(o, s, {"New_Pricing__c": i % 2 == 1}, actor="bench", reason="bench")

        def off_user(o: Org, s: Store, i: int) -> None:
            flip(o, s, {"New_Pricing__c": i % 2 == 1}, scope=f"user:{user}", actor="bench", reason="bench")

        def listing(o: Org, s: Store, _i: int) -> None:
            rows = list_switches(o, s)
            assert len(rows) == 5 and sum(len(r.user_overrides) for r in rows) == 5 * OVERRIDES

        results = {
            "off/org/cold": measure(emu, org, args.runs, True, off_org),
            "off/org/warm": measure(emu, org, args.runs, False, off_org),
            "off/user/cold": measure(emu, org, args.runs, True, off_user),
            "off/user/warm": measure(emu, org, args.runs, False, off_user),
            "list/cold": measure(emu, org, args.runs, True, listing),
            "list/warm": measure(emu, org, args.runs, False, listing),
        }
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"{'case':<16}{'median ms':>10}{'max ms':>9}{'API calls':>11}  target  requests")
        for case, r in results.items():
            ok = "ok" if r["api_calls"] <= TARGET else "OVER"
            print(
                f"{case:<16}{r['median_ms']:>10}{r['max_ms']:>9}{r['api_calls']:>11}  <= {TARGET} {ok:<4} "
                f"{', '.join(r['kinds'])}"
            )
    return 0 if all(r["api_calls"] <= TARGET for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
