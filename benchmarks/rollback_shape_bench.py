"""Benchmark a large release jump of the shape found on real repositories (issue 10), against sgd.

    python benchmarks/rollback_shape_bench.py --sgd /tmp/sgd/node_modules/sfdx-git-delta/lib/main.js [--runs 3]

The generated history has two tags, A (good) and B (bad), with about 1,300 changed components between
them, like NebulaLogger v4.10.0 -> v4.19.3: classes in several folders and two package directories,
LWC bundles whose files are not all named like the bundle, settings, objects with fields, labels; about
370 components only in B (deleted by the rollback) that call each other, are called by B's versions of
reverted classes, and call about 730 methods that only B's versions declare (symbols the revert
removes). It times, median of --runs, side by side in one run:

  sfops plan      delta + plan, nothing written      vs  sgd manifests only (node API, no --generate-delta)
  sfops package   delta + plan + package written     vs  sgd --generate-delta (A checked out, --to HEAD)

and asserts that both tools produce the same component sets. sgd 6.31.0 from npm
(`npm install --prefix /tmp/sgd sfdx-git-delta@6.31.0`) runs on node >= 22 (.ci/node has one).
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

from sfops.rollback.package import plan_and_package  # noqa: E402
from sfops.rollback.plan import Plan  # noqa: E402

NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"'
HDR = '<?xml version="1.0" encoding="UTF-8"?>'
PROJECT = (
    '{"packageDirectories": [{"path": "force-app", "default": true}, {"path": "force-app-tests"}], '
    '"sourceApiVersion": "62.0"}\n'
)
FOLDERS = (
    "force-app/main/default/classes",
    "force-app/main/default/utilities",
    "force-app/main/default/core/sub",
    "force-app-tests/tests/Shared Code",
)
D = "force-app/main/default"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "b",
    "GIT_AUTHOR_EMAIL": "b@example.invalid",
    "GIT_COMMITTER_NAME": "b",
    "GIT_COMMITTER_EMAIL": "b@example.invalid",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
    "PATH": "/usr/bin:/bin:/usr/local/bin",
    "HOME": "/nonexistent",
}
SGD_JS = """
const [main, repo, from, to, out, gen, ...source] = process.argv.slice(2);
const sgd = (await import(main)).default;
const work = await sgd({to, from, output: out, source, repo, ignoreWhitespace: false, generateDelta: gen === '1',
                        apiVersion: 62});
const ser = m => Object.fromEntries([...m].map(([k, v]) => [k, [...v].sort()]));
console.log(JSON.stringify({package: ser(work.diffs.package), destructive: ser(work.diffs.destructiveChanges)}));
"""
META = f"{HDR}\n<ApexClass {NS}>\n    <apiVersion>62.0</apiVersion>\n    <status>Active</status>\n</ApexClass>\n"


def cls(name: str, body: str) -> dict[str, str]:
    folder = FOLDERS[sum(map(ord, name)) % len(FOLDERS)]
    return {
        f"{folder}/{name}.cls": f"public with sharing class {name} {{\n{body}}}\n",
        f"{folder}/{name}.cls-meta.xml": META,
    }


def bundle(name: str, version: int) -> dict[str, str]:
    base = f"{D}/lwc/{name}"
    return {
        f"{base}/{name}.js": f"import helper from './helperUtils';\nexport default class X {{ v = {version}; }}\n",
        f"{base}/helperUtils.js": f"export default function helper() {{ return {version}; }}\n",
        f"{base}/{name}.html": "<template><p>x</p></template>\n",
        f"{base}/{name}.js-meta.xml": f"{HDR}\n<LightningComponentBundle {NS}>\n    <apiVersion>62.0</apiVersion>\n"
        "</LightningComponentBundle>\n",
    }


def field(obj: str, name: str, version: int) -> dict[str, str]:
    return {
        f"{D}/objects/{obj}/fields/{name}.field-meta.xml": f"{HDR}\n<CustomField {NS}>\n"
        f"    <fullName>{name}</fullName>\n    <label>{name} {version}</label>\n"
        f"    <length>{80 + version}</length>\n    <type>Text</type>\n</CustomField>\n"
    }


def obj(name: str) -> dict[str, str]:
    return {
        f"{D}/objects/{name}/{name}.object-meta.xml": f"{HDR}\n<CustomObject {NS}>\n    <label>{name}</label>\n"
        "    <sharingModel>ReadWrite</sharingModel>\n</CustomObject>\n"
    }


def settings(name: str, flag: bool) -> dict[str, str]:
    return {
        f"{D}/settings/{name}.settings-meta.xml": f"{HDR}\n<{name}Settings {NS}>\n"
        f"    <enableX>{str(flag).lower()}</enableX>\n</{name}Settings>\n"
    }


def release(is_b: bool) -> dict[str, str]:
    """Release A (is_b False) or B: ~1,300 components differ."""
    files: dict[str, str] = {"sfdx-project.json": PROJECT, ".forceignore": "/**/Admin.profile-meta.xml\n"}
    for i in range(1500):  # kept classes; 600 of them change, and B's version adds a method new code calls
        body = f"    public static Integer value{i}() {{ return {i}; }}\n"
        if is_b and i < 600:  # B's versions: the first 300 call new code, the next 300 are called by it
            body += f"    public static Integer extraB{i}() {{ return {i}; }}\n"
        if is_b and i < 300:
            body += f"    public static Integer extra{i}() {{ return New{i % 370}.run(); }}\n"
        files.update(cls(f"Keep{i}", body))
    for i in range(180):  # only in A: the rollback re-adds them
        if not is_b:
            files.update(cls(f"Old{i}", f"    public static Integer old() {{ return Keep{i}.value{i}(); }}\n"))
    for i in range(370):  # only in B: deleted by the rollback; they call each other and B-only methods
        if is_b:
            one, two = 300 + i % 300, 300 + (i * 7) % 300
            files.update(
                cls(
                    f"New{i}",
                    f"    public static Integer run() {{ return Keep{one}.extraB{one}() + "
                    f"Keep{two}.extraB{two}(); }}\n"
                    f"    public static Integer chain() {{ return New{(i + 1) % 370}.run(); }}\n",
                )
            )
    for i in range(100):
        files.update(bundle(f"cmp{i}", 2 if is_b and i < 60 else 1))
    for i in range(30):
        files.update(obj(f"Thing{i}__c"))
        for j in range(10):
            files.update(field(f"Thing{i}__c", f"F{j}__c", 2 if is_b and j < 3 else 1))
    for name in ("Account", "Case", "Lead", "Opportunity", "Security", "Apex"):
        files.update(settings(name, is_b))
    return files


def write_history(target: Path) -> None:
    target.mkdir(parents=True)
    git = ["git", "-C", str(target)]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True, env=GIT_ENV)
    for tag, is_b in (("A", False), ("B", True)):
        for path in [p for p in target.rglob("*") if p.is_file() and ".git" not in p.parts]:
            path.unlink()
        for rel, text in release(is_b).items():
            path = target / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        subprocess.run([*git, "add", "-A"], check=True, env=GIT_ENV)
        subprocess.run([*git, "commit", "-q", "-m", tag], check=True, env=GIT_ENV)
        subprocess.run([*git, "tag", tag], check=True, env=GIT_ENV)


def timed(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def run_sgd(node: str, main: str, repo: Path, work: Path, generate: bool) -> dict:
    script = work / "sgd.mjs"
    script.write_text(SGD_JS)
    out = work / ("sgd-d" if generate else "sgd-m")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir()
    to = "HEAD" if generate else "A"
    if generate:
        subprocess.run(["git", "-C", str(repo), "checkout", "-q", "-f", "A"], check=True)
    try:
        proc = subprocess.run(
            [
                node,
                str(script),
                main,
                str(repo),
                "B",
                to,
                str(out),
                "1" if generate else "0",
                "force-app",
                "force-app-tests",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        if generate:
            subprocess.run(["git", "-C", str(repo), "checkout", "-q", "-f", "main"], check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def sets_of(plan: Plan) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    deploy = {(i.type, i.member) for i in plan.items if i.placement == "deploy" and i.type != "CustomLabels"}
    return deploy, {(i.type, i.member) for i in plan.items if i.action == "delete"}


def sgd_sets(result: dict) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    package = {(t, m) for t, ms in result["package"].items() for m in ms}
    return package, {(t, m) for t, ms in result["destructive"].items() for m in ms} - package


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sgd", required=True, help="sfdx-git-delta's lib/main.js (6.31.0)")
    parser.add_argument("--node", default=str(REPO / ".ci/node/node_modules/.bin/node"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sfops-shape-bench-"))
    try:
        repo = work / "repo"
        write_history(repo)
        plan_s, plan = timed(lambda: plan_and_package(repo, "B", "A", write=False), args.runs)
        pkg_s, _ = timed(lambda: plan_and_package(repo, "B", "A", work / "pkg"), args.runs)
        sgd_m_s, sgd_m = timed(lambda: run_sgd(args.node, args.sgd, repo, work, False), args.runs)
        sgd_d_s, _ = timed(lambda: run_sgd(args.node, args.sgd, repo, work, True), args.runs)
        assert isinstance(plan, Plan) and isinstance(sgd_m, dict)
        ours, theirs = sets_of(plan), sgd_sets(sgd_m)
        assert ours[0] == theirs[0], f"deploy sets differ: {sorted(ours[0] ^ theirs[0])[:10]}"
        assert ours[1] == theirs[1], f"delete sets differ: {sorted(ours[1] ^ theirs[1])[:10]}"
        row = {
            "components": len(plan.items),
            "deletions": len(ours[1]),
            "phases": plan.phases,
            "sfops_plan_s": round(plan_s, 3),
            "sgd_manifests_s": round(sgd_m_s, 3),
            "plan_vs_sgd_manifests": round(sgd_m_s / plan_s, 2),
            "sfops_plan_package_s": round(pkg_s, 3),
            "sgd_generate_delta_s": round(sgd_d_s, 3),
            "package_vs_sgd_generate_delta": round(sgd_d_s / pkg_s, 2),
            "same_components": True,
        }
        print(json.dumps(row))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
