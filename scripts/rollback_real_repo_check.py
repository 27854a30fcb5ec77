"""Try `sfops rollback plan` on a real SFDX repository, release pair by release pair, the way a new user would.

    python scripts/rollback_real_repo_check.py CLONE [--pairs 6] [--step 15] [--jump] [--pair B A ...]
        [--sgd /tmp/sgd/node_modules/sfdx-git-delta/lib/main.js] [--node PATH] [--sf PATH] [--json OUT]

For each pair (B = newer release, A = older release: consecutive tags, or first-parent commits `--step`
apart when the repository has no tags; `--jump` adds the first-to-last pair) it checks:

1. the package is written (no error);
2. every file of every phase folder belongs to a member listed in that phase's package.xml, and every
   listed member has its files (objects/X.object holds the listed fields, labels the listed labels...);
3. `sf project convert mdapi` reads every phase folder (when --sf is given);
4. the component sets equal sfdx-git-delta's (node API, manifests only, same .forceignore), when --sgd
   is given. Differences are printed per pair, with the known cases where sgd is wrong named (see
   docs/rollback.md, "Checked on real repositories").

Nothing here is part of sfops: it is the acceptance check of issue 10. Clone the repository yourself.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from defusedxml import ElementTree as SafeET  # noqa: E402

from sfops.errors import SfopsError  # noqa: E402
from sfops.rollback.package import plan_and_package  # noqa: E402
from sfops.rollback.plan import Plan, standard_name  # noqa: E402
from sfops.rollback.registry import ComponentKey, load_registry  # noqa: E402

SGD_JS = """
const [main, repo, from, to, out, ignore, ...source] = process.argv.slice(2);
const sgd = (await import(main)).default;
const opts = {to, from, output: out, source, repo, ignoreWhitespace: false, generateDelta: false, apiVersion: 62};
if (ignore) opts.ignore = ignore;
const work = await sgd(opts);
const ser = m => Object.fromEntries([...m].map(([k, v]) => [k, [...v].sort()]));
console.log(JSON.stringify({package: ser(work.diffs.package), destructive: ser(work.diffs.destructiveChanges)}));
"""
NS = "{http://soap.sforce.com/2006/04/metadata}"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def release_pairs(repo: Path, count: int, step: int, jump: bool) -> list[tuple[str, str]]:
    """(B, A) pairs: consecutive tags by commit date, else first-parent commits `step` apart."""
    tags = [t for t in git(repo, "tag", "--sort=creatordate").split() if t]
    refs = tags if len(tags) >= 2 else git(repo, "rev-list", "--first-parent", "--reverse", "HEAD").split()[::step]
    pairs = [(refs[i + 1], refs[i]) for i in range(len(refs) - 1)][-count:]
    if jump and len(refs) > 2:
        pairs.append((refs[-1], refs[max(0, len(refs) - 1 - count * 2)]))
    return pairs


def members(xml: Path) -> set[tuple[str, str]]:
    root = SafeET.parse(xml).getroot()
    out = set()
    for types in root.findall(f"{NS}types"):
        name = types.findtext(f"{NS}name")
        out.update((name, m.text) for m in types.findall(f"{NS}members") if name and m.text)
    return out


def check_files(folder: Path) -> list[str]:
    """Every file belongs to a listed member and every listed member has its file(s)."""
    registry = load_registry()
    listed = members(folder / "package.xml")
    by_dir: dict[str, list[str]] = {}
    for t in registry.types.values():
        if t.parent is None:
            by_dir.setdefault(t.directory, []).append(t.name)
    problems: list[str] = []
    covered: set[tuple[str, str]] = set()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if "/" not in rel:
            continue  # package.xml, destructiveChanges*.xml, plan.json
        directory, rest = rel.split("/", 1)
        candidates = by_dir.get(directory, [])
        if not candidates:
            problems.append(f"{rel}: no metadata type uses the folder {directory}/")
            continue
        owner = _owner(registry, candidates, rest, listed)
        if owner is None:
            problems.append(f"{rel}: belongs to no member listed in package.xml")
            continue
        covered.add(owner)
        if (
            owner[0] in ("CustomObject", "CustomLabels", "Workflow", "SharingRules")
            or registry.get(owner[0]).in_file_children
        ):
            covered |= _children(registry, owner, path, listed)
    for member in sorted(listed - covered):
        problems.append(f"{member[0]} {member[1]}: listed in package.xml but no file carries it")
    return problems


def _owner(registry, candidates: list[str], rest: str, listed: set[tuple[str, str]]) -> tuple[str, str] | None:
    for type_name in candidates:
        mtype = registry.get(type_name)
        if mtype.adapter in ("bundle", "mixedContent", "staticResource") and "/" in rest and not mtype.in_folder:
            name = rest.split("/", 1)[0]
        else:
            name = rest.removesuffix("-meta.xml")
            if mtype.suffix and name.endswith(f".{mtype.suffix}"):
                name = name[: -len(mtype.suffix) - 1]
            elif "." in name.rsplit("/", 1)[-1]:
                head, _, last = name.rpartition("/")
                name = (head + "/" if head else "") + last.split(".", 1)[0]
        if (type_name, name) in listed:
            return (type_name, name)
        if mtype.children and any(
            m.startswith(f"{name}.") and t in {c.name for c in mtype.children} for t, m in listed
        ):
            return (type_name, name)  # objects/X.object carrying only deployed children
        folder_type = mtype.folder_type
        if folder_type and (folder_type, name) in listed:
            return (folder_type, name)
    return None


def _children(registry, owner: tuple[str, str], path: Path, listed: set[tuple[str, str]]) -> set[tuple[str, str]]:
    mtype = registry.get(owner[0])
    found = set()
    for elem in SafeET.parse(path).getroot():
        child = mtype.child_by_element(elem.tag.removeprefix(NS)) if mtype.children else None
        if child is None:
            child = next((c for c in mtype.children if c.directory == elem.tag.removeprefix(NS)), None)
        if child is None:
            continue
        name = elem.findtext(f"{NS}{child.id_element}") or ""
        full = name if child.ignore_parent_name else f"{owner[1]}.{name}"
        if (child.name, full) in listed:
            found.add((child.name, full))
    return found


def sfops_sets(plan: Plan) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    deploy = {(i.type, i.member) for i in plan.items if i.placement == "deploy" and i.type != "CustomLabels"}
    # what sfops really deletes, plus children covered by their object's deletion (sgd lists those too);
    # standard objects/fields and record types are skipped on purpose (never deleted)
    deleted = {
        (i.type, i.member)
        for i in plan.items
        if i.action == "delete" and (i.placement != "skip" or i.reasons[0].startswith("covered by deleting"))
    }
    return deploy, deleted


def run_sgd(node: str, main: str, repo: Path, b: str, a: str, dirs: list[str], work: Path) -> dict:
    script = work / "sgd.mjs"
    script.write_text(SGD_JS)
    out = work / "sgd-out"
    out.mkdir(exist_ok=True)
    ignore = work / "forceignore"
    try:
        ignore.write_text(git(repo, "show", f"{a}:.forceignore"))
    except subprocess.CalledProcessError:
        ignore.write_text("")
    proc = subprocess.run(
        [node, str(script), main, str(repo), b, a, str(out), str(ignore), *dirs],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "sgd failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def explain(diff_kind: str, item: tuple[str, str], plan: Plan) -> str:
    """Why sfops and sgd differ, for the cases where sgd is known to be wrong (docs/rollback.md)."""
    t, m = item
    key = ComponentKey(t, m)
    if (
        diff_kind == "delete, sfops only"
        and any(i.type == t and i.member == m and i.action == "delete" for i in plan.items)
        and b_only_dir(plan, m, t)
    ):
        return "in a package directory only B has: sgd reads A's directories only and misses the deletion"
    if t != t.strip():
        return f"sgd's type table spells the type {t!r} (trailing space): that manifest entry is invalid"
    if diff_kind == "delete, sgd only" and standard_name(key):
        return "sgd deletes a standard object/field, which Salesforce refuses"
    if diff_kind == "delete, sgd only" and t in (
        "LightningComponentBundle",
        "AuraDefinitionBundle",
        "StaticResource",
        "ExperienceBundle",
    ):
        return "sgd deletes a bundle that A still has (a file of it was removed): it must be redeployed"
    if diff_kind == "deploy, sgd only" and t == "CustomObject":
        return "sgd lists the parent object of a changed child; sfops lists only the changed children"
    if diff_kind == "deploy, sgd only" and t in ("Profile", "PermissionSet"):
        return "sgd lists a profile/permission set whose file changed only in entries sfops does not deploy"
    if t in ("RecordType",) and diff_kind.startswith("delete"):
        return "sgd never deletes record types (sfops lists them as skip)"
    if t in ("Settings", "StandardValueSet") and diff_kind == "delete, sgd only":
        return "sgd deletes org settings / a standard value set, which the Metadata API cannot delete"
    return ""


def b_only_dir(plan: Plan, member: str, type_name: str) -> bool:
    """Is this B-only component in a package directory that A's sfdx-project.json does not list?"""
    repo = Path(plan.repo)
    a_dirs = {
        d["path"].strip("./")
        for d in json.loads(git(repo, "show", f"{plan.to_sha}:sfdx-project.json")).get("packageDirectories", [])
        if d.get("path")
    }
    paths = git(repo, "ls-tree", "-r", "--name-only", plan.from_sha).splitlines()
    short = member.rsplit(".", 1)[-1].rsplit("/", 1)[-1]
    return any(short in p.rsplit("/", 1)[-1] and not any(p.startswith(d + "/") for d in a_dirs) for p in paths)


def check_pair(repo: Path, b: str, a: str, args: argparse.Namespace, work: Path) -> dict:
    result: dict = {"from": b, "to": a, "ok": False, "problems": []}
    out = work / "pkg"
    start = time.perf_counter()
    try:
        plan = plan_and_package(repo, b, a, out)
    except SfopsError as exc:
        result["problems"].append(f"plan failed: {exc.message}")
        return result
    result["seconds"] = round(time.perf_counter() - start, 2)
    result["phases"] = plan.phases
    result["components"] = len(plan.items)
    folders = [out] if plan.phases == 1 else [out / f"phase-{n}" for n in range(1, plan.phases + 1)]
    for folder in folders:
        result["problems"] += [f"{folder.name}: {p}" for p in check_files(folder)]
        empty = not any(
            members(folder / name)
            for name in ("package.xml", "destructiveChangesPre.xml", "destructiveChangesPost.xml")
        )
        if empty:
            result["note"] = "nothing to roll back (no component differs)"
        if args.sf and not empty:
            conv = subprocess.run(
                [
                    args.sf,
                    "project",
                    "convert",
                    "mdapi",
                    "--root-dir",
                    str(folder),
                    "--output-dir",
                    str(work / f"convert-{folder.name}"),
                    "--json",
                ],
                capture_output=True,
                text=True,
                check=False,
                cwd=repo,
                env={
                    "PATH": f"{Path(args.node).parent}:/usr/bin:/bin",
                    "HOME": str(work),
                    "SF_DISABLE_TELEMETRY": "true",
                    "SF_AUTOUPDATE_DISABLE": "true",
                    "SF_DISABLE_AUTOUPDATE": "true",
                },
            )
            if conv.returncode != 0:
                result["problems"].append(
                    f"{folder.name}: sf project convert mdapi failed: "
                    f"{conv.stdout.strip()[-300:] or conv.stderr.strip()[-300:]}"
                )
    if args.sgd:
        dirs = [
            d
            for d in json.loads(git(repo, "show", f"{a}:sfdx-project.json") or "{}").get("packageDirectories", [])
            if d.get("path")
        ]
        sgd = run_sgd(args.node, args.sgd, repo, b, a, [d["path"] for d in dirs], work)
        if "error" in sgd:
            result["sgd_error"] = sgd["error"]
        else:
            deploy, deleted = sfops_sets(plan)
            sgd_deploy = {(t, m) for t, ms in sgd["package"].items() for m in ms if t != "CustomLabels"}
            sgd_deleted = {(t, m) for t, ms in sgd["destructive"].items() for m in ms} - sgd_deploy
            diffs = {
                "deploy, sfops only": deploy - sgd_deploy,
                "deploy, sgd only": sgd_deploy - deploy,
                "delete, sfops only": deleted - sgd_deleted,
                "delete, sgd only": sgd_deleted - deleted,
            }
            spaced = {(t.strip(), m) for t, m in sgd_deleted if t != t.strip()}
            diffs["delete, sfops only"] -= spaced  # explained once, on sgd's side
            result["sgd_diff"] = {
                k: sorted(f"{t}:{m}" + (f"  <- {why}" if (why := explain(k, (t, m), plan)) else "") for t, m in v)
                for k, v in diffs.items()
                if v
            }
            result["sgd_unexplained"] = sum(1 for v in result["sgd_diff"].values() for line in v if "<-" not in line)
    result["ok"] = not result["problems"]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clone", type=Path)
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--step", type=int, default=15, help="commits between releases when there are no tags")
    parser.add_argument("--jump", action="store_true", help="also plan one large jump")
    parser.add_argument(
        "--pair",
        nargs=2,
        action="append",
        metavar=("B", "A"),
        help="check this pair only (repeatable) instead of the automatic ones",
    )
    parser.add_argument("--sgd", help="sfdx-git-delta's lib/main.js (npm install sfdx-git-delta@6.31.0)")
    parser.add_argument("--node", default=str(REPO / ".ci/node/node_modules/.bin/node"))
    parser.add_argument("--sf", help="the sf CLI, to run `sf project convert mdapi` on each package")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    results = []
    for b, a in args.pair or release_pairs(args.clone, args.pairs, args.step, args.jump):
        with tempfile.TemporaryDirectory() as tmp:
            res = check_pair(args.clone, b, a, args, Path(tmp))
        results.append(res)
        status = "ok " if res["ok"] else "BAD"
        extra = f", sgd differs unexplained: {res['sgd_unexplained']}" if "sgd_unexplained" in res else ""
        print(
            f"{status} {b} -> {a}: {res.get('components', 0)} components, {res.get('phases', 0)} phase(s), "
            f"{res.get('seconds', 0)} s{extra}",
            flush=True,
        )
        for problem in res["problems"][:10]:
            print(f"    {problem}")
        for kind, lines in res.get("sgd_diff", {}).items():
            for line in lines[:8]:
                print(f"    {kind}: {line}")
    passed = sum(1 for r in results if r["ok"] and not r.get("sgd_unexplained"))
    print(f"{passed}/{len(results)} pairs passed")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
