"""Build the emulator's table of every metadata type (sfops/emulator/seed_data/metadata_types.json) from
source-deploy-retrieve's registry (tests/data/metadata-registry/metadataRegistry.json, Apache-2.0 data).

    python scripts/gen_metadata_types.py [REGISTRY_JSON] [OUT]

The emulator models a few dozen types itself (sfops/emulator/metadata/registry.py); every other type
in this table is accepted by deploy and stored as opaque files that retrieve returns unchanged. Per
type: its folder, suffix, whether a -meta.xml companion goes with the content file, whether it lives
in folders or is a bundle (a folder per component), and the child types its file contains.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_IN = REPO / "tests" / "data" / "metadata-registry" / "metadataRegistry.json"
DEFAULT_OUT = REPO / "sfops" / "emulator" / "seed_data" / "metadata_types.json"
_BUNDLES = {"bundle", "digitalExperience", "uiBundles"}


def _entry(raw: dict[str, Any]) -> dict[str, Any]:
    adapter = (raw.get("strategies") or {}).get("adapter")
    entry: dict[str, Any] = {"name": raw["name"], "directory": raw["directoryName"], "suffix": raw.get("suffix")}
    if adapter == "matchingContentFile" or (adapter == "mixedContent" and raw.get("suffix")):
        entry["meta_file"] = True
    if raw.get("inFolder"):
        entry["in_folder"] = True
    if adapter in _BUNDLES or (adapter == "mixedContent" and not raw.get("suffix")):
        entry["bundle"] = True
    kids = (raw.get("children") or {}).get("types") or {}
    if kids:
        entry["children"] = {
            kid.get("xmlElementName") or kid["directoryName"]: kid["name"]
            for kid in sorted(kids.values(), key=lambda k: k["name"])
        }
    return entry


def build(registry: dict[str, Any]) -> dict[str, Any]:
    """Every top-level type except the folder types (ReportFolder..., handled as folders)."""
    types = [
        _entry(raw)
        for raw in sorted(registry["types"].values(), key=lambda r: r["name"])
        if not raw.get("folderContentType") and not raw.get("aliasFor")
    ]
    return {
        "source": "forcedotcom/source-deploy-retrieve src/registry/metadataRegistry.json (Apache-2.0)",
        "types": types,
    }


def main(argv: list[str]) -> int:
    src = Path(argv[1]) if len(argv) > 1 else DEFAULT_IN
    out = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUT
    out.write_text(json.dumps(build(json.loads(src.read_text())), indent=0) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
