"""Write a rollback package: metadata/rollbacks/<B>-to-<A>/ with package.xml, destructiveChangesPre.xml,
destructiveChangesPost.xml, plan.json and the Metadata API format files (one folder per phase when
the plan needs two phases).
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import shutil
import zipfile
from pathlib import Path

from sfops.errors import UsageError
from sfops.rollback.convert import convert
from sfops.rollback.delta import Delta, PathTraversalError, compute_delta, safe_relpath
from sfops.rollback.plan import DEPLOY, POST, PRE, Plan, build_plan, limit_warnings
from sfops.rollback.registry import Registry, load_registry
from sfops.rollback.xmlutil import package_xml

DEFAULT_ROOT = Path("metadata") / "rollbacks"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def folder_name(from_ref: str, to_ref: str) -> str:
    """`<B>-to-<A>` with anything unsafe in a folder name replaced (refs may contain '/')."""
    parts = []
    for ref in (from_ref, to_ref):
        clean = _SAFE.sub("_", ref).strip("._") or "ref"
        parts.append(clean)
    return f"{parts[0]}-to-{parts[1]}"


def write_tree(target: Path, files: dict[str, bytes]) -> None:
    """Write files under `target`, refusing any path that would leave it (each folder is created once;
    threads were measured slower on this file system)."""
    root = target.resolve()
    paths: dict[Path, bytes] = {}
    for rel, data in files.items():
        path = (root / safe_relpath(rel)).resolve()
        if root not in path.parents:
            raise PathTraversalError(f"Refusing to write outside the package folder: {rel!r}.")
        paths[path] = data
    for folder in sorted({p.parent for p in paths}):
        folder.mkdir(parents=True, exist_ok=True)
    for path, data in paths.items():
        path.write_bytes(data)


def zipped_size(files: dict[str, bytes]) -> int:
    """Bytes of the deploy zip these files would make."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted(files.items()):
            zf.writestr(name, data)
    return len(buf.getvalue())


def phase_files(delta: Delta, plan: Plan, phase: int, registry: Registry) -> dict[str, bytes]:
    """Every file of one phase's deploy folder."""
    wanted = {i.key.ident for i in plan.items if i.placement == DEPLOY and i.phase == phase}
    changes = [c for c in delta.changes if c.key.ident in wanted]
    converted = convert(delta, changes, registry)
    files = dict(converted.files)
    version = plan.api_version
    files["package.xml"] = package_xml(converted.members, version)
    files["destructiveChangesPre.xml"] = package_xml(plan.members(PRE, phase), version)
    files["destructiveChangesPost.xml"] = package_xml(plan.members(POST, phase), version)
    return files


def write_package(delta: Delta, plan: Plan, output: Path | None = None, registry: Registry | None = None) -> Path:
    """Write the package folder and return it. An existing folder is replaced only if sfops wrote it."""
    registry = registry or load_registry()
    target = output or delta.repo / DEFAULT_ROOT / folder_name(plan.from_ref, plan.to_ref)
    if target.exists():
        if not (target / "plan.json").is_file():
            raise UsageError(f"{target} exists and is not an sfops rollback package; choose another --output.")
        shutil.rmtree(target)
    target.mkdir(parents=True)
    total_files, total_zip = 0, 0
    per_phase = {p: phase_files(delta, plan, p, registry) for p in range(1, plan.phases + 1)}
    for phase, files in per_phase.items():
        folder = target if plan.phases == 1 else target / f"phase-{phase}"
        write_tree(folder, files)
        total_files = max(total_files, len(files))
        total_zip = max(total_zip, zipped_size(files))
    plan.file_count, plan.zip_bytes = total_files, total_zip
    plan.warnings.extend(limit_warnings(total_files, total_zip))
    plan.package_dir = str(target)
    (target / "plan.json").write_text(
        json.dumps(dataclasses.asdict(plan), indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return target


def plan_and_package(
    repo: str | Path,
    from_ref: str,
    to_ref: str,
    output: str | Path | None = None,
    *,
    write: bool = True,
    allow_forward: bool = False,
) -> Plan:
    """The whole `rollback plan`: delta, plan, and (unless write=False) the package folder."""
    registry = load_registry()
    delta = compute_delta(repo, from_ref, to_ref, registry, allow_forward=allow_forward)
    plan = build_plan(delta, registry)
    if write:
        try:
            write_package(delta, plan, Path(output) if output else None, registry)
        except OSError as exc:  # a file where the folder should go, no permission, disk full...
            raise UsageError(
                f"Cannot write the rollback package ({exc.strerror or exc}: {exc.filename}); choose another --output."
            ) from None
    return plan
