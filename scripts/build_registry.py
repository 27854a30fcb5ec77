"""Regenerate sfops's compact metadata type registry (sfops/data/metadata-registry.json).

The source is the Salesforce `source-deploy-retrieve` registry (Apache-2.0) that `sf` 2.150.6 bundles,
kept in tests/data/metadata-registry. sfops ships a compact derivative so that the product never
reads tests/data at run time:

    python scripts/build_registry.py [SOURCE_JSON] [--out sfops/data/metadata-registry.json]

Only the keys the rollback planner uses are kept; the output is written deterministically
(sorted keys, fixed indentation) so that re-running the script gives a byte-identical file.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED_REGISTRY = REPO / "tests" / "data" / "metadata-registry"
DEFAULT_SOURCE = SHARED_REGISTRY / "metadataRegistry.sdr-13.7.0.json"
DEFAULT_OUT = REPO / "sfops" / "data" / "metadata-registry.json"
LICENSE_NAME = "LICENSE-source-deploy-retrieve.txt"

KEPT_TYPE_KEYS = (
    "directoryName",
    "suffix",
    "strictDirectoryName",
    "inFolder",
    "folderType",
    "folderContentType",
    "supportsPartialDelete",
    "metaFileSuffix",
    "legacySuffix",
)
KEPT_CHILD_KEYS = (
    "directoryName",
    "suffix",
    "uniqueIdElement",
    "xmlElementName",
    "isAddressable",
    "unaddressableWithoutParent",
    "ignoreParentName",
)


def _adapter(raw: dict[str, Any]) -> str:
    """One word for how a type is laid out in source format."""
    strategies = raw.get("strategies") or {}
    if strategies.get("transformer") == "staticResource":
        return "staticResource"
    if strategies.get("transformer") == "nonDecomposed":
        return "nonDecomposed"
    if strategies.get("adapter") == "decomposed":
        return f"decomposed:{strategies.get('decomposition', '')}"
    return strategies.get("adapter") or "default"


def compact(raw_registry: dict[str, Any], source_label: str) -> dict[str, Any]:
    """The compact registry: {"source", "types": {Name: {...}}} keyed by Metadata API type name."""
    types: dict[str, Any] = {}
    for raw in raw_registry["types"].values():
        entry: dict[str, Any] = {k: raw[k] for k in KEPT_TYPE_KEYS if raw.get(k) not in (None, False)}
        entry["adapter"] = _adapter(raw)
        if raw.get("folderType"):
            folder = raw_registry["types"].get(raw["folderType"])
            if folder:
                entry["folderType"] = folder["name"]
        children = (raw.get("children") or {}).get("types") or {}
        if children:
            entry["children"] = {
                child["name"]: {k: child[k] for k in KEPT_CHILD_KEYS if k in child} for child in children.values()
            }
        types[raw["name"]] = entry
    names = {tid: raw["name"] for tid, raw in raw_registry["types"].items()}
    # SDR's own tie-breakers: which type a shared suffix means, and which folders force their type
    suffixes = {sfx: names[tid] for sfx, tid in sorted(raw_registry.get("suffixes", {}).items()) if tid in names}
    strict = {d: names[tid] for d, tid in sorted(raw_registry.get("strictDirectoryNames", {}).items()) if tid in names}
    return {
        "source": source_label,
        "license": "Apache-2.0, see metadata-registry.LICENSE.txt",
        "suffixes": suffixes,
        "strictDirectoryNames": strict,
        "types": dict(sorted(types.items())),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    raw = json.loads(args.source.read_text(encoding="utf-8"))
    label = f"@salesforce/source-deploy-retrieve 13.7.0 src/registry/metadataRegistry.json (file {args.source.name})"
    data = compact(raw, label)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    license_src = args.source.parent / LICENSE_NAME
    if license_src.exists():
        shutil.copyfile(license_src, args.out.with_name("metadata-registry.LICENSE.txt"))
    print(f"wrote {args.out} ({len(data['types'])} types)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
