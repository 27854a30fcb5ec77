"""Release gate benchmark: the whole `sfops release check` on a large release, against the emulator with
injected latency.

    .venv/bin/python benchmarks/release_gate_bench.py [--classes 500] [--soql 2000] [--latency-ms 100]
                                                      [--runs 1] [--json]

Builds a git history whose release B adds `--classes` Apex classes holding `--soql` distinct inline SOQL
statements (literals and binds over Account, Contact, Error_Log__c and Incident_Log__c, half of them
filtering on an unindexed field) plus a guarded @AuraEnabled method per 50 classes, over production-size
objects (the emulator's data volumes: Account 2M, Contact 5M, Error_Log__c 1M, Incident_Log__c 50k
records); plans and validates the rollback; then runs the gate exactly as the CLI does
(`sfops release check --from A --to B -o prod`, in-process) while the emulator delays every request by
`--latency-ms`. The reference, in the same command, is the same gate with no injected latency.

Reports the median wall time per case, the ratio, the API calls the gate made (its own count, and the
requests the emulator counted against the daily limit), how many explain calls ran and the bound on
their parallelism. Target (issue 16): at most 60 s with 100 ms latency for 500 classes / 2,000 SOQL.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

os.environ.pop("REQUESTS_CA_BUNDLE", None)
os.environ.pop("CURL_CA_BUNDLE", None)

from sfops.cli.app import invoke  # noqa: E402
from sfops.emulator.testing import RunningEmulator, running_emulator  # noqa: E402

TARGET_S = 60.0
VOLUMES = {"Account": 2_000_000, "Contact": 5_000_000, "Error_Log__c": 1_000_000, "Incident_Log__c": 50_000}
GIT_ENV = {
    "GIT_AUTHOR_NAME": "b",
    "GIT_AUTHOR_EMAIL": "b@example.invalid",
    "GIT_COMMITTER_NAME": "b",
    "GIT_COMMITTER_EMAIL": "b@example.invalid",
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "HOME": "/nonexistent",
    "GIT_CONFIG_NOSYSTEM": "1",
}
META = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">'
    "<apiVersion>62.0</apiVersion><status>Active</status></ApexClass>\n"
)
SHAPES = [
    "SELECT Id, Name FROM Account WHERE Name = '{lit}' LIMIT {n}",
    "SELECT Id FROM Account WHERE Description = :text{n} AND Type = 'Customer' LIMIT {n}",
    "SELECT Id, Email FROM Contact WHERE AccountId IN :ids AND LastName = '{lit}'",
    "SELECT Id FROM Contact WHERE Email = :mail{n} LIMIT {n}",
    "SELECT Id, Message__c FROM Error_Log__c WHERE Category__c = '{lit}'",
    "SELECT Id FROM Error_Log__c WHERE CreatedDate > :since AND Class_Name__c = '{lit}'",
    "SELECT Id, Severity__c FROM Incident_Log__c WHERE Status__c = '{lit}' LIMIT {n}",
    "SELECT Id FROM Incident_Log__c WHERE Id = :incidentId{n} LIMIT {n}",
]
ONCALL = """
[oncall]
default_rotation = "primary"
[oncall.people.alice]
email = "alice@example.com"
[oncall.rotations.primary]
time_zone = "UTC"
start = "2020-01-06"
length = "daily"
participants = ["alice"]
"""


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=GIT_ENV)


def build_repo(root: Path, classes: int, soql: int) -> Path:
    """A: one class; B: `classes` classes with `soql` distinct statements in total."""
    repo = root / "repo"
    base = repo / "force-app" / "main" / "default"
    (base / "classes").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "sfdx-project.json").write_text(
        '{"packageDirectories": [{"path": "force-app", "default": true}], "sourceApiVersion": "62.0"}\n'
    )
    (base / "classes" / "Base.cls").write_text("public class Base { }\n")
    (base / "classes" / "Base.cls-meta.xml").write_text(META)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "A")
    git(repo, "tag", "A")
    per_class = [soql // classes + (1 if i < soql % classes else 0) for i in range(classes)]
    k = 0
    for i in range(classes):
        methods = []
        for j in range(per_class[i]):
            shape = SHAPES[k % len(SHAPES)]
            statement = shape.format(lit=f"v{i}_{j}", n=k + 1)
            methods.append(
                f"    public static List<SObject> q{j}(String text{k + 1}, String mail{k + 1}, "
                f"Set<Id> ids, Datetime since, Id incidentId{k + 1}) {{\n"
                f"        return [{statement}];\n    }}"
            )
            k += 1
        if i % 50 == 0:
            methods.append(
                "    @AuraEnabled\n    public static void run() {\n"
                "        if (!FeatureKillSwitch.isEnabled('New_Pricing__c')) { return; }\n    }"
            )
        (base / "classes" / f"Gen{i:04d}.cls").write_text(
            f"public with sharing class Gen{i:04d} {{\n" + "\n".join(methods) + "\n}\n"
        )
        (base / "classes" / f"Gen{i:04d}.cls-meta.xml").write_text(META)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "B")
    git(repo, "tag", "B")
    return repo


def cli_env(emu: RunningEmulator, work: Path) -> dict[str, str]:
    s = emu.settings
    config = work / "sfops.toml"
    config.write_text(
        f'default_org = "prod"\n[orgs.prod]\nauth = "password"\nlogin_url = "{emu.url}"\n'
        f'instance_url = "{emu.url}"\nusername = "{s.admin_username}"\nclient_id = "{s.client_id}"\n'
        f'ca_bundle = "{emu.ca_bundle}"\nproduction = true\n' + ONCALL
    )
    return {
        "SFOPS_CONFIG": str(config),
        "SFOPS_HOME": str(work / "home"),
        "SFOPS_STORE_URL": f"sqlite:///{work / 'bench.db'}",
        "SFOPS_ACTOR": "bench",
        "SFOPS_DOTENV": str(work / "no.env"),
        "HOME": str(work),
        "COLUMNS": "200",
        "SFOPS_ORG_PROD_PASSWORD": s.admin_password,
        "SFOPS_ORG_PROD_CLIENT_SECRET": s.client_secret,
    }


def gate_once(emu: RunningEmulator, env: dict[str, str], repo: Path) -> dict[str, Any]:
    journal_before = len(emu.requests_journal())
    start = time.perf_counter()
    code, out, err = invoke(
        ["release", "check", "--from", "A", "--to", "B", "-o", "prod", "--repo", str(repo), "--json"], env
    )
    seconds = time.perf_counter() - start
    if not out:
        raise SystemExit(f"gate failed to run: {err}")
    result = json.loads(out)["result"]
    entries = emu.requests_journal()[journal_before:]
    volumes = next(c for c in result["checks"] if c["name"] == "data_volumes")
    return {
        "seconds": seconds,
        "exit": code,
        "status": result["checks"] and json.loads(out)["status"],
        "gate_api_calls": result["api_calls"],
        "counted_by_org": sum(1 for e in entries if e["counted"]),
        "explain_calls": sum(1 for e in entries if e.get("kind") == "rest.explain"),
        "statements": volumes["facts"].get("statements"),
        "distinct": volumes["facts"].get("explained"),
        "failing_statements": sum(1 for f in volumes["findings"] if f["status"] == "fail"),
        "checks": {c["name"]: c["status"] for c in result["checks"]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--classes", type=int, default=500)
    parser.add_argument("--soql", type=int, default=2000)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_emulator(Path(tmp) / "emu") as emu:
        work = Path(tmp)
        repo = build_repo(work, args.classes, args.soql)
        env = cli_env(emu, work)
        # production-size data (the emulator's data-volume knob; the gate keeps its default thresholds)
        emu.control("POST", "volumes", VOLUMES)
        token = emu.login()["access_token"]
        for start in range(0, 600, 200):
            emu.session().post(
                f"{emu.url}/services/data/v64.0/composite/sobjects",
                timeout=60,
                headers={"Authorization": f"Bearer {token}"},
                json={
                    "allOrNone": True,
                    "records": [
                        {"attributes": {"type": "Error_Log__c"}, "Message__c": f"m{i}"}
                        for i in range(start, start + 200)
                    ],
                },
            )
        for cmd in (
            ["rollback", "plan", "--from", "B", "--to", "A", "--repo", str(repo)],
            [
                "rollback",
                "validate",
                "--package",
                str(repo / "metadata/rollbacks/B-to-A"),
                "-o",
                "prod",
                "--ignore-warnings",
            ],
        ):
            code, _, err = invoke(cmd, env)
            if code != 0:
                raise SystemExit(f"setup failed: {' '.join(cmd[:2])}: {err}")
        cases: dict[str, list[dict[str, Any]]] = {"reference (no latency)": [], f"{args.latency_ms} ms latency": []}
        for _ in range(args.runs):
            emu.faults(latency=None)
            cases["reference (no latency)"].append(gate_once(emu, env, repo))
            emu.faults(latency={"fixed_ms": args.latency_ms})
            cases[f"{args.latency_ms} ms latency"].append(gate_once(emu, env, repo))
        emu.faults(latency=None)
    summary = {}
    for name, runs in cases.items():
        last = runs[-1]
        summary[name] = {
            "median_s": round(statistics.median(r["seconds"] for r in runs), 2),
            **{k: v for k, v in last.items() if k != "seconds"},
        }
    latency_case = summary[f"{args.latency_ms} ms latency"]
    summary["ratio_latency_vs_reference"] = round(
        latency_case["median_s"] / summary["reference (no latency)"]["median_s"], 2
    )
    summary["target_s"] = TARGET_S
    summary["within_target"] = latency_case["median_s"] <= TARGET_S
    summary["release"] = {"classes": args.classes, "soql": args.soql, "runs": args.runs}
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    for name in cases:
        s = summary[name]
        print(
            f"{name:>24}: {s['median_s']:7.2f} s  API calls {s['gate_api_calls']} (org counted "
            f"{s['counted_by_org']}), explain calls {s['explain_calls']} for {s['statements']} statements "
            f"({s['distinct']} distinct), {s['failing_statements']} non-selective; checks {s['checks']}"
        )
    print(
        f"ratio latency/reference: {summary['ratio_latency_vs_reference']}x; target <= {TARGET_S:.0f} s: "
        f"{'met' if summary['within_target'] else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
