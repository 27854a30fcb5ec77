"""Generate a large SFDX git history for rollback benchmarks (fast: one `git fast-import` stream).

    python benchmarks/rollback_repo_gen.py TARGET [--classes 5000] [--objects 500] [--commits 300]

Base commit: N Apex classes (+ -meta.xml), N/10 objects x 10 decomposed fields, LWC bundles and a
labels file (about 15,000 files at the defaults). Then M commits, each touching a random subset with
a modify/add/delete/rename mix of roughly 70/20/7/3; a release tag r1, r2, ... every R commits.
Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import random
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

P = "force-app/main/default"
NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"'
HDR = '<?xml version="1.0" encoding="UTF-8"?>'
PROJECT = (
    '{"packageDirectories": [{"path": "force-app", "default": true}], "name": "bench", '
    '"namespace": "", "sourceApiVersion": "62.0"}\n'
)


def cls(name: str, version: int) -> str:
    return (
        f"public with sharing class {name} {{\n    public static Integer value() {{ return {version}; }}\n"
        f"    public static String label() {{ return Label.Bench_{version % 50:03d}; }}\n}}\n"
    )


def cls_meta() -> str:
    return f"{HDR}\n<ApexClass {NS}>\n    <apiVersion>62.0</apiVersion>\n    <status>Active</status>\n</ApexClass>\n"


def obj_meta(name: str) -> str:
    return (
        f"{HDR}\n<CustomObject {NS}>\n    <deploymentStatus>Deployed</deploymentStatus>\n"
        f"    <label>{name}</label>\n    <nameField>\n        <label>Name</label>\n        <type>Text</type>\n"
        f"    </nameField>\n    <pluralLabel>{name}s</pluralLabel>\n    <sharingModel>ReadWrite</sharingModel>\n"
        "</CustomObject>\n"
    )


def fld(name: str, version: int) -> str:
    return (
        f"{HDR}\n<CustomField {NS}>\n    <fullName>{name}</fullName>\n    <label>{name} v{version}</label>\n"
        f"    <length>{80 + version % 100}</length>\n    <type>Text</type>\n</CustomField>\n"
    )


def lwc(name: str, version: int) -> dict[str, str]:
    base = f"{P}/lwc/{name}/{name}"
    return {
        f"{base}.js": f"import {{ LightningElement }} from 'lwc';\nexport default class X extends LightningElement "
        f"{{ v = {version}; }}\n",
        f"{base}.html": f"<template><p>{name} {version}</p></template>\n",
        f"{base}.js-meta.xml": f"{HDR}\n<LightningComponentBundle {NS}>\n    <apiVersion>62.0</apiVersion>\n"
        "    <isExposed>false</isExposed>\n</LightningComponentBundle>\n",
    }


def labels(values: dict[str, int]) -> str:
    body = "".join(
        f"    <labels>\n        <fullName>{k}</fullName>\n        <language>en_US</language>\n"
        f"        <protected>false</protected>\n        <shortDescription>{k}</shortDescription>\n"
        f"        <value>{k} v{v}</value>\n    </labels>\n"
        for k, v in sorted(values.items())
    )
    return f"{HDR}\n<CustomLabels {NS}>\n{body}</CustomLabels>\n"


@dataclass
class State:
    classes: dict[str, int] = field(default_factory=dict)
    fields: dict[tuple[str, str], int] = field(default_factory=dict)
    objects: list[str] = field(default_factory=list)
    bundles: dict[str, int] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)
    counter: int = 0


def _blob(path: str, text: str) -> bytes:
    data = text.encode()
    return f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n"


def _commit(mark: int, message: str, ops: list[bytes], when: int) -> bytes:
    head = (
        f"commit refs/heads/main\nmark :{mark}\nauthor Bench <bench@sfops.invalid> {when} +0000\n"
        f"committer Bench <bench@sfops.invalid> {when} +0000\ndata {len(message)}\n{message}\n"
    )
    parent = f"from :{mark - 1}\n" if mark > 1 else ""
    return head.encode() + parent.encode() + b"".join(ops) + b"\n"


def generate(
    target: Path,
    classes: int = 5000,
    objects: int = 500,
    commits: int = 300,
    release_every: int = 25,
    bundles: int = 200,
    seed: int = 7,
) -> dict[str, int]:
    """Write the repository; returns counts (files in the base commit, commits, tags)."""
    rng = random.Random(seed)
    st = State()
    ops: list[bytes] = [_blob("sfdx-project.json", PROJECT)]
    for i in range(1, classes + 1):
        name = f"Filler{i:05d}"
        st.classes[name] = 1
        ops += [_blob(f"{P}/classes/{name}.cls", cls(name, 1)), _blob(f"{P}/classes/{name}.cls-meta.xml", cls_meta())]
    for o in range(1, objects + 1):
        obj = f"Bench{o:04d}__c"
        st.objects.append(obj)
        ops.append(_blob(f"{P}/objects/{obj}/{obj}.object-meta.xml", obj_meta(obj)))
        for f in range(1, 11):
            fname = f"F{f:02d}__c"
            st.fields[(obj, fname)] = 1
            ops.append(_blob(f"{P}/objects/{obj}/fields/{fname}.field-meta.xml", fld(fname, 1)))
    for b in range(1, bundles + 1):
        st.bundles[f"bench{b:04d}"] = 1
        ops += [_blob(p, t) for p, t in lwc(f"bench{b:04d}", 1).items()]
    st.labels = {f"Bench_{k:03d}": 1 for k in range(50)}
    ops.append(_blob(f"{P}/labels/CustomLabels.labels-meta.xml", labels(st.labels)))
    base_files = len(ops)
    stream = [_commit(1, "base", ops, 1_700_000_000)]
    tags = []
    for n in range(2, commits + 2):
        ops = []
        for _ in range(rng.randint(5, 40)):
            ops += _change(rng, st)
        stream.append(_commit(n, f"change {n}", ops, 1_700_000_000 + n * 3600))
        if (n - 1) % release_every == 0:
            tags.append(f"reset refs/tags/r{len(tags) + 1}\nfrom :{n}\n\n".encode())
            stream.append(tags[-1])
    target.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(target)], check=True)
    subprocess.run(["git", "-C", str(target), "fast-import", "--quiet"], input=b"".join(stream), check=True)
    subprocess.run(["git", "-C", str(target), "checkout", "-q", "-f", "main"], check=True)
    return {"base_files": base_files, "commits": commits + 1, "tags": len(tags)}


def _change(rng: random.Random, st: State) -> list[bytes]:
    roll = rng.random()
    st.counter += 1
    kind = rng.choice(["class", "class", "field", "bundle", "label"])
    if roll < 0.70:  # modify
        if kind == "class" and st.classes:
            name = rng.choice(
                sorted(st.classes)[: max(1, len(st.classes) // 5)] if rng.random() < 0.8 else sorted(st.classes)
            )
            st.classes[name] += 1
            return [_blob(f"{P}/classes/{name}.cls", cls(name, st.classes[name]))]
        if kind == "field" and st.fields:
            obj, fname = rng.choice(sorted(st.fields))
            st.fields[(obj, fname)] += 1
            return [_blob(f"{P}/objects/{obj}/fields/{fname}.field-meta.xml", fld(fname, st.fields[(obj, fname)]))]
        if kind == "bundle" and st.bundles:
            name = rng.choice(sorted(st.bundles))
            st.bundles[name] += 1
            return [_blob(f"{P}/lwc/{name}/{name}.html", lwc(name, st.bundles[name])[f"{P}/lwc/{name}/{name}.html"])]
        key = rng.choice(sorted(st.labels))
        st.labels[key] += 1
        return [_blob(f"{P}/labels/CustomLabels.labels-meta.xml", labels(st.labels))]
    if roll < 0.90:  # add
        if kind == "field":
            obj = rng.choice(st.objects)
            fname = f"N{st.counter:05d}__c"
            st.fields[(obj, fname)] = 1
            return [_blob(f"{P}/objects/{obj}/fields/{fname}.field-meta.xml", fld(fname, 1))]
        name = f"New{st.counter:05d}"
        st.classes[name] = 1
        return [_blob(f"{P}/classes/{name}.cls", cls(name, 1)), _blob(f"{P}/classes/{name}.cls-meta.xml", cls_meta())]
    if roll < 0.97 and len(st.classes) > 10:  # delete
        name = rng.choice(sorted(st.classes))
        del st.classes[name]
        return [f"D {P}/classes/{name}.cls\n".encode(), f"D {P}/classes/{name}.cls-meta.xml\n".encode()]
    if len(st.classes) > 10:  # rename
        old = rng.choice(sorted(st.classes))
        new = f"Ren{st.counter:05d}"
        st.classes[new] = st.classes.pop(old)
        return [
            f"D {P}/classes/{old}.cls\n".encode(),
            f"D {P}/classes/{old}.cls-meta.xml\n".encode(),
            _blob(f"{P}/classes/{new}.cls", cls(new, st.classes[new])),
            _blob(f"{P}/classes/{new}.cls-meta.xml", cls_meta()),
        ]
    return []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path)
    parser.add_argument("--classes", type=int, default=5000)
    parser.add_argument("--objects", type=int, default=500)
    parser.add_argument("--commits", type=int, default=300)
    parser.add_argument("--release-every", type=int, default=25)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(generate(args.target, args.classes, args.objects, args.commits, args.release_every, seed=args.seed))


if __name__ == "__main__":
    main()
