"""Validate, deploy, quick-deploy, follow and cancel a rollback package through the Metadata API.

The package is the folder `rollback plan` wrote. Validation (check-only, with tests) should run right
after release B lands; its id is stored with B's SHA and time so that, on incident, `quick` can
deploy it without re-running tests. Any later deploy, or 10 days, make it stale: `quick` then falls
back to a full deploy and says so. Every call is recorded in the audit trail (SHAs, ids, who, why).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import quoteattr

from sfops.errors import ExitCode, SalesforceError, SfopsError, UsageError
from sfops.rollback.delta import PathTraversalError, safe_relpath
from sfops.rollback.gitio import Git, GitError
from sfops.rollback.intent import DeployIntents, Started, fingerprint, quick_fingerprint
from sfops.rollback.registry import META
from sfops.salesforce.metadata import DeployOptions, DeployResult, MetadataClient

if TYPE_CHECKING:
    from sfops.store import Store

VALIDATION_LIFETIME = dt.timedelta(days=10)
STATE_KEY = "rollback.validation.{org}"
APEX_DIRS = ("classes", "triggers")
_IS_TEST = re.compile(r"@\s*isTest\b", re.I)
_TRIGGER_ON = re.compile(r"\btrigger\s+\w+\s+on\s+(\w+)", re.I)


class RollbackDeployError(SfopsError):
    """The deploy/validation finished unsuccessfully (component or test failures)."""


class DriftError(SfopsError):
    """Production differs from release B: the rollback would overwrite or trip on changes made after B."""


class ValidationRunningError(SfopsError):
    """The stored validation has not finished yet: quick deploy has to wait for it."""

    exit_code = ExitCode.STILL_RUNNING


@dataclass
class Package:
    """A rollback package folder (one deployable folder per phase) and its plan.json."""

    root: Path
    plan: dict[str, Any]
    phases: list[Path]

    @property
    def from_sha(self) -> str:
        return str(self.plan.get("from_sha", ""))

    @property
    def to_sha(self) -> str:
        return str(self.plan.get("to_sha", ""))

    @property
    def label(self) -> str:
        return f"{self.plan.get('from_ref')}->{self.plan.get('to_ref')}"


@dataclass
class Outcome:
    """What a rollback deploy command reports (also the JSON result)."""

    action: str
    org: str
    id: str | None
    status: str
    done: bool
    success: bool
    check_only: bool
    from_sha: str = ""
    to_sha: str = ""
    test_level: str | None = None
    tests: list[str] = field(default_factory=list)
    components_deployed: int = 0
    components_total: int = 0
    tests_completed: int = 0
    tests_total: int = 0
    component_failures: list[dict[str, Any]] = field(default_factory=list)
    test_failures: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    validation_id: str | None = None
    fell_back: bool = False

    @property
    def exit_code(self) -> ExitCode:
        """0/1/68/69 like `sf project deploy`."""
        if not self.done or self.status in ("InProgress", "Pending", "Canceling"):
            return ExitCode.STILL_RUNNING
        if self.status == "SucceededPartial":
            return ExitCode.PARTIAL
        return ExitCode.OK if self.success and self.status == "Succeeded" else ExitCode.FAILED

    def rows(self) -> list[dict[str, Any]]:
        """One row per failure (component or test) for the human table."""
        rows = [
            {
                "kind": "component",
                "name": f"{f['type']} {f['full_name']}",
                "problem": f["problem"],
                "where": f["file"] + (f":{f['line']}" if f.get("line") else ""),
            }
            for f in self.component_failures
        ]
        rows += [
            {
                "kind": "test",
                "name": f"{f['class_name']}.{f['method']}",
                "problem": f["message"],
                "where": (f.get("stack") or "").splitlines()[0] if f.get("stack") else "",
            }
            for f in self.test_failures
        ]
        return rows


def load_package(path: str | Path) -> Package:
    """Read a package folder written by `rollback plan`."""
    root = Path(path)
    plan_file = root / "plan.json"
    if not plan_file.is_file():
        raise UsageError(f"{root} is not a rollback package (no plan.json). Run `sfops rollback plan` first.")
    plan = _read_plan(plan_file)
    count = plan.get("phases", 1)
    phases = [root] if count == 1 else [root / f"phase-{n}" for n in range(1, count + 1)]
    real_root = root.resolve()
    for phase in (p for p in phases if p != root):
        # zip_folder checks files against the phase folder; the phase folder itself must be in the package
        if phase.is_symlink() or (phase.exists() and phase.resolve().parent != real_root):
            raise PathTraversalError(f"Refusing {phase.name}: a link or a folder outside the package {root}.")
    for number, folder in enumerate(phases, start=1):
        _check_phase_folder(root, folder, plan, number)
    extra = sorted(p.name for p in root.glob("phase-*") if p not in phases)
    if extra:
        raise UsageError(
            f"{root}: {', '.join(extra)} not in plan.json ({count} phase(s)); re-run `sfops rollback plan`."
        )
    return Package(root, plan, phases)


def _check_phase_folder(root: Path, folder: Path, plan: dict[str, Any], number: int) -> None:
    """A phase folder must exist and carry exactly the members plan.json gives it (a deleted or edited
    phase would half-roll-back the org)."""
    from sfops.rollback.xmlutil import MetadataXmlError, parse, text_of

    rerun = "re-run `sfops rollback plan`"
    where = folder.relative_to(root).as_posix() if folder != root else str(root)
    expected: dict[str, dict[str, set[str]]] = {
        "package.xml": {},
        "destructiveChangesPre.xml": {},
        "destructiveChangesPost.xml": {},
    }
    files = {"deploy": "package.xml", "pre": "destructiveChangesPre.xml", "post": "destructiveChangesPost.xml"}
    for item in plan.get("items", []):
        target = files.get(str(item.get("placement")))
        if target and int(item.get("phase", 1)) == number:
            expected[target].setdefault(str(item.get("type")), set()).add(str(item.get("member")))
    for name, wanted in expected.items():
        path = folder / name
        if not path.is_file():
            raise UsageError(f"{root}: {where}/{name} is missing (plan.json names phase {number}); {rerun}.")
        try:
            found: dict[str, set[str]] = {}
            for types in parse(path.read_bytes(), name):
                type_name = text_of(types, "name")
                if type_name:
                    found.setdefault(type_name, set()).update(
                        (m.text or "").strip() for m in types if m.tag.endswith("members")
                    )
        except MetadataXmlError:
            raise UsageError(f"{root}: {where}/{name} is not valid XML; {rerun}.") from None
        if found != wanted:
            raise UsageError(f"{root}: {where}/{name} does not match plan.json (edited by hand?); {rerun}.")


_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # the shas go to git: nothing that could read as an option


def _read_plan(plan_file: Path) -> dict[str, Any]:
    """plan.json as `rollback plan` wrote it; anything else (hand-edited, truncated) is a UsageError."""
    rerun = "re-run `sfops rollback plan`"
    try:
        plan = json.loads(plan_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{plan_file} is not valid JSON ({exc}); {rerun}.") from None
    if (
        not isinstance(plan, dict)
        or not isinstance(plan.get("items", []), list)
        or not all(isinstance(i, dict) for i in plan.get("items", []))
        or type(plan.get("phases", 1)) is not int
        or not all(_SHA.fullmatch(str(plan.get(k, "0" * 40))) for k in ("from_sha", "to_sha"))
    ):
        raise UsageError(f"{plan_file} is not a rollback plan; {rerun}.")
    return plan


def zip_folder(folder: Path) -> bytes:
    """The deploy zip of one phase folder (plan.json and sub-phase folders excluded), deterministic."""
    root = folder.resolve()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder).as_posix()
            if path.is_dir() or rel == "plan.json" or rel.startswith("phase-"):
                continue
            if path.is_symlink() or root not in path.resolve().parents:
                raise PathTraversalError(f"Refusing to zip {rel!r}: a link or a path outside the package.")
            safe_relpath(rel)
            info = zipfile.ZipInfo(rel, (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    return buf.getvalue()


def _apex_names(folder: Path) -> list[str]:
    return sorted(
        {p.name.split(".", 1)[0] for d in APEX_DIRS for p in (folder / d).glob("*") if p.suffix in (".cls", ".trigger")}
        if folder.is_dir()
        else set()
    )


def covering_tests(package: Package, folder: Path) -> tuple[list[str], list[str]]:
    """A's test classes that mention each deployed Apex class/trigger, and the Apex no test mentions.

    Reads the repository at A (the plan's to_sha) with one `git grep`."""
    deployed = _apex_names(folder)
    repo, sha = package.plan.get("repo"), package.to_sha
    if not deployed or not repo or not sha or not Path(repo).is_dir():
        return [], deployed
    git = Git(repo)
    try:
        listed = git.run("grep", "-l", "-z", "-i", "-I", "-E", "@[[:space:]]*istest", sha, "--")
    except GitError:  # no match (git grep exits 1) or an unreadable repo: RunLocalTests covers it
        return [], deployed
    test_files = [f.decode().split(":", 1)[1] for f in listed.split(b"\0") if f.endswith(b".cls")]
    entries = git.ls_tree(sha, test_files) if test_files else {}
    blobs = git.cat_blobs(entry.sha for entry in entries.values())
    # a trigger counts as covered by a test that works with its object
    trigger_objects = {
        p.name.split(".", 1)[0]: m.group(1)
        for p in (folder / "triggers").glob("*.trigger")
        if (m := _TRIGGER_ON.search(p.read_text(encoding="utf-8", errors="replace")))
    }
    tests: set[str] = set()
    covered: set[str] = set()
    deployed_tests = set()
    for path, entry in entries.items():
        name = path.rsplit("/", 1)[-1].split(".", 1)[0]
        text = blobs[entry.sha].decode("utf-8", "replace")
        if not _IS_TEST.search(text):
            continue
        if name in deployed:
            deployed_tests.add(name)
        for target in deployed:
            needle = trigger_objects.get(target, target)
            if target != name and re.search(rf"\b{re.escape(needle)}\b", text, re.I):
                tests.add(name)
                covered.add(target)
    uncovered = [d for d in deployed if d not in covered and d not in deployed_tests]
    return sorted(tests), uncovered


# Outcome notes that need the user's attention (shown as warnings); the others say what sfops chose or
# where a job stands (the test level, the phase, "still running") and are information.
WARNING_NOTES = ("drift", "change freeze overridden", "QUICK DEPLOY NOT POSSIBLE", "Two-phase plan")


def is_warning(note: str) -> bool:
    """Whether an Outcome note is a warning rather than information."""
    return note.startswith(WARNING_NOTES)


def choose_test_level(
    package: Package, folder: Path, test_level: str | None, tests: Iterable[str]
) -> tuple[str, list[str], list[str]]:
    """(test level, tests, notes). Default: RunSpecifiedTests with A's tests that cover the reverted Apex
    when every deployed class/trigger has one, else RunLocalTests (each class needs 75 % coverage)."""
    tests = [t for t in tests if t]
    if test_level:
        return test_level, tests if test_level == "RunSpecifiedTests" else [], []
    if tests:
        return "RunSpecifiedTests", tests, []
    found, uncovered = covering_tests(package, folder)
    if not _apex_names(folder):
        return "RunLocalTests", [], ["no Apex in the package: RunLocalTests (production requires tests)"]
    if found and not uncovered:
        return (
            "RunSpecifiedTests",
            found,
            [f"RunSpecifiedTests with the tests of release A (good) that cover the reverted Apex: {', '.join(found)}"],
        )
    note = (
        ("RunLocalTests: no test in release A (good) covers " + ", ".join(uncovered)) if uncovered else "RunLocalTests"
    )
    return "RunLocalTests", [], [note]


def outcome_from(result: DeployResult, action: str, org: str, package: Package | None = None) -> Outcome:
    """An Outcome from the client's DeployResult."""
    return Outcome(
        action=action,
        org=org,
        id=result.id,
        status=result.status,
        done=result.done,
        success=result.success,
        check_only=result.check_only,
        from_sha=package.from_sha if package else "",
        to_sha=package.to_sha if package else "",
        components_deployed=result.number_components_deployed,
        components_total=result.number_components_total,
        tests_completed=result.number_tests_completed,
        tests_total=result.number_tests_total,
        component_failures=[
            {
                "type": c.type,
                "full_name": c.full_name,
                "file": c.file,
                "problem": c.problem or "",
                "problem_type": c.problem_type,
                "line": c.line,
            }
            for c in result.component_failures
        ],
        test_failures=[
            {"class_name": t.class_name, "method": t.method, "message": t.message, "stack": t.stack}
            for t in result.test_failures
        ],
    )


class RollbackDeployer:
    """Runs the rollback's Metadata API operations for one org and records them."""

    def __init__(
        self,
        client: MetadataClient,
        store: Store,
        org: str,
        *,
        actor: str,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        on_progress: Callable[[DeployResult], None] | None = None,
        incident_id: str | None = None,
        freeze: Mapping[str, Any] | None = None,
        production: bool = False,
    ) -> None:
        self.client, self.store, self.org, self.actor = client, store, org, actor
        self.freeze = freeze or {}  # the [rollback] settings (freeze windows, risky times)
        self.production = production
        self.incident_id = incident_id  # every audit record of this rollback names it
        self.now = now
        self.on_progress = on_progress
        self.intents = DeployIntents(client, store, org, actor=actor, now=now, incident_id=incident_id)

    # -- operations -------------------------------------------------------------------------------
    def validate(
        self,
        package: Package,
        *,
        test_level: str | None = None,
        tests: Iterable[str] = (),
        wait_minutes: float = 33,
        ignore_warnings: bool = False,
        reason: str | None = None,
        skip_drift: bool = False,
    ) -> Outcome:
        """Check-only deploy with tests (after the drift check, whose findings are notes: nothing changes);
        the id is stored with B's SHA for a later quick deploy."""
        drift = [] if skip_drift else drift_check(self.client, package, ignore_warnings=ignore_warnings)
        outcome = self._validate(
            package,
            test_level=test_level,
            tests=tests,
            wait_minutes=wait_minutes,
            ignore_warnings=ignore_warnings,
            reason=reason,
        )
        outcome.notes = drift + outcome.notes
        return outcome

    def _validate(
        self,
        package: Package,
        *,
        test_level: str | None,
        tests: Iterable[str],
        wait_minutes: float,
        ignore_warnings: bool,
        reason: str | None,
    ) -> Outcome:
        folder = package.phases[0]
        level, chosen, notes = choose_test_level(package, folder, test_level, tests)
        if level == "NoTestRun":
            raise UsageError("A validation for quick deploy must run tests: choose RunSpecifiedTests or RunLocalTests.")
        outcome = self._run(
            package,
            folder,
            "validate",
            check_only=True,
            test_level=level,
            tests=chosen,
            wait_minutes=wait_minutes,
            ignore_warnings=ignore_warnings,
            reason=reason,
        )
        outcome.notes = notes + outcome.notes
        if len(package.phases) > 1:
            outcome.notes.append(
                "Two-phase plan: only phase 1 can be validated before anything is deployed; "
                "validate phase 2 after phase 1 has landed."
            )
        self.store.set_state(
            STATE_KEY.format(org=self.org),
            {
                "id": outcome.id,
                "from_sha": package.from_sha,
                "to_sha": package.to_sha,
                "package": str(package.root),
                "at": self.now().isoformat(),
                "test_level": level,
                "tests": chosen,
                "status": outcome.status,
            },
        )
        return outcome

    def preflight(
        self,
        package: Package,
        action: str,
        *,
        override_freeze: bool = False,
        skip_drift: bool = False,
        overwrite_drift: bool = False,
        ignore_warnings: bool = False,
        reason: str | None = None,
    ) -> list[str]:
        """The checks every deploy passes before anything is sent: the change-freeze guard, then the drift
        check (on production, drift blocks unless overwrite_drift with a reason). A refusal is audited.
        Returns the notes to show (overridden freezes, drift found)."""
        from sfops.rollback.guard import ChangeFreezeError, check_freeze

        try:
            blocks = check_freeze(self.freeze, self.now(), override=override_freeze, reason=reason)
        except ChangeFreezeError as exc:
            self._record_refusal(package, action, reason, f"change freeze: {exc.message}")
            raise
        notes = [f"change freeze overridden ({b.kind}: {b.reason}); reason: {reason}" for b in blocks]
        if overwrite_drift and not (reason or "").strip():
            raise UsageError("--overwrite-drift needs --reason (it is recorded with the rollback).")
        if skip_drift and self.production and not overwrite_drift:
            raise UsageError(
                "On a production org the drift check is not skipped; to deploy over changes made "
                "after release B (bad), give --overwrite-drift --reason."
            )
        if skip_drift:
            return notes
        drift = drift_check(self.client, package, ignore_warnings=ignore_warnings)
        found = [n for n in drift if n.startswith("drift:")]
        if found and self.production and not overwrite_drift:
            self._record_refusal(package, action, reason, "drift: " + "; ".join(found))
            raise DriftError(
                f"Production differs from release {package.plan.get('from_ref')} "
                f"({len(found)} finding(s)); nothing was deployed: " + " | ".join(found),
                actions=[
                    "check the findings (a hot-fix made after release B (bad)?)",
                    "re-run with --overwrite-drift --reason '<why>' to deploy anyway",
                ],
            )
        if found and overwrite_drift:
            notes.append(f"drift overwritten on purpose; reason: {reason}")
        return notes + drift

    def _record_refusal(self, package: Package, action: str, reason: str | None, why: str) -> None:
        self.store.record_audit(
            actor=self.actor,
            alias=self.org,
            action=f"rollback.{action}",
            target=package.label,
            before={"sha": package.from_sha},
            after={"sha": package.to_sha},
            reason=reason,
            incident_id=self.incident_id,
            outcome="Refused",
            details={"refused": why},
        )

    def deploy(
        self,
        package: Package,
        *,
        test_level: str | None = None,
        tests: Iterable[str] = (),
        wait_minutes: float = 33,
        ignore_warnings: bool = False,
        reason: str | None = None,
        override_freeze: bool = False,
        skip_drift: bool = False,
        overwrite_drift: bool = False,
    ) -> Outcome:
        """A full deploy of every phase in order (stops at the first phase that fails), after the freeze
        guard and the drift check."""
        notes = self.preflight(
            package,
            "deploy",
            override_freeze=override_freeze,
            skip_drift=skip_drift,
            overwrite_drift=overwrite_drift,
            ignore_warnings=ignore_warnings,
            reason=reason,
        )
        outcome = self._deploy_phases(
            package,
            test_level=test_level,
            tests=tests,
            wait_minutes=wait_minutes,
            ignore_warnings=ignore_warnings,
            reason=reason,
            action="deploy",
        )
        outcome.notes = notes + outcome.notes
        return outcome

    def _deploy_phases(
        self,
        package: Package,
        *,
        test_level: str | None,
        tests: Iterable[str],
        wait_minutes: float,
        ignore_warnings: bool,
        reason: str | None,
        action: str,
    ) -> Outcome:
        outcome: Outcome | None = None
        for index, folder in enumerate(package.phases, start=1):
            level, chosen, notes = choose_test_level(package, folder, test_level, tests)
            outcome = self._run(
                package,
                folder,
                action,
                check_only=False,
                test_level=level,
                tests=chosen,
                wait_minutes=wait_minutes,
                ignore_warnings=ignore_warnings,
                reason=reason,
            )
            outcome.notes = notes + outcome.notes
            if len(package.phases) > 1:
                outcome.notes.insert(0, f"phase {index} of {len(package.phases)}")
            if outcome.exit_code != ExitCode.OK:
                break
        assert outcome is not None
        return outcome

    def quick_plan(self, package: Package, validation_id: str | None = None, fallback: bool = True) -> dict[str, Any]:
        """What `quick` would do, without calling the org: the validation it would use, or why it would not."""
        stored = self.refresh_validation() if not validation_id else {}
        vid = validation_id or stored.get("id")
        stale = None if validation_id else (self._stale_reason(stored, package) if vid else "no stored validation")
        if vid and not stale:
            action = "quick deploy"
        else:
            action = "full deploy with tests" if fallback else "fail (--no-fallback)"
        return {
            "validation_id": vid,
            "validated_at": stored.get("at") if not validation_id else None,
            "stale": stale,
            "would": action,
            "package": package.label,
        }

    def refresh_validation(self) -> dict[str, Any]:
        """The stored validation, its status first asked from the org (as `sf project deploy quick` does):
        a validation that finished after `validate --wait 0` is Succeeded now, not Pending."""
        key = STATE_KEY.format(org=self.org)
        stored = self.store.get_state(key) or {}
        if stored.get("id") and not stored.get("used_by") and stored.get("status") != "Succeeded":
            result = self.client.check_deploy_status(stored["id"], include_details=False)
            status = result.status if result.done else result.status or "InProgress"
            if status != stored.get("status"):
                stored = {**stored, "status": status}
                self.store.set_state(key, stored)
            if not result.done:
                stored = {**stored, "running": True}
        return stored

    def quick(
        self,
        package: Package,
        *,
        validation_id: str | None = None,
        fallback: bool = True,
        wait_minutes: float = 33,
        reason: str | None = None,
        test_level: str | None = None,
        tests: Iterable[str] = (),
        override_freeze: bool = False,
        skip_drift: bool = False,
        overwrite_drift: bool = False,
    ) -> Outcome:
        """deployRecentValidation of the stored (or given) validation, after the freeze guard and the drift
        check; a full deploy with tests when it is stale (the outcome says so first; `fell_back`)."""
        notes = self.preflight(
            package,
            "quick",
            override_freeze=override_freeze,
            skip_drift=skip_drift,
            overwrite_drift=overwrite_drift,
            reason=reason,
        )
        stored = self.refresh_validation() if not validation_id else {}
        if stored.get("running"):
            raise ValidationRunningError(
                f"Validation {stored['id']} is still running ({stored.get('status')}); "
                "a quick deploy can start once it has succeeded.",
                actions=[
                    f"sfops rollback status --job-id {stored['id']} --wait 10",
                    "then re-run sfops rollback quick",
                ],
            )
        outcome = self._quick(
            package,
            stored,
            validation_id=validation_id,
            fallback=fallback,
            wait_minutes=wait_minutes,
            reason=reason,
            test_level=test_level,
            tests=tests,
        )
        outcome.notes = (
            notes + outcome.notes if not outcome.fell_back else outcome.notes[:1] + notes + outcome.notes[1:]
        )
        return outcome

    def _quick(
        self,
        package: Package,
        stored: dict[str, Any],
        *,
        validation_id: str | None,
        fallback: bool,
        wait_minutes: float,
        reason: str | None,
        test_level: str | None,
        tests: Iterable[str],
    ) -> Outcome:
        vid = validation_id or stored.get("id")
        stale = self._stale_reason(stored, package) if not validation_id else None
        if vid and not stale:
            try:
                started = self.intents.start(
                    action="quick",
                    fingerprint=quick_fingerprint(vid, _phase_name(package, package.phases[0])),
                    check_only=False,
                    begin=lambda: self.client.quick_deploy(vid),
                    audit=self._audit_fields(package, reason, {"validation_id": vid}),
                )
            except SalesforceError as exc:
                stale = f"Salesforce refused the quick deploy of {vid}: {exc.message}"
            else:
                outcome = self._follow_started(started, "quick", package, wait_minutes)
                outcome.validation_id = vid
                self._record(outcome, package, reason, {"validation_id": vid}, audit_id=started.audit_id)
                if outcome.done:
                    self.store.set_state(STATE_KEY.format(org=self.org), {**stored, "used_by": started.deploy_id})
                if outcome.exit_code == ExitCode.OK and len(package.phases) > 1:
                    return self._later_phases(package, outcome, test_level, tests, wait_minutes, reason)
                return outcome
        stale = stale or "no stored validation for this org"
        if not fallback:
            raise RollbackDeployError(
                f"Cannot quick-deploy: {stale}.", actions=["sfops rollback deploy ... (full deploy with tests)"]
            )
        outcome = self._deploy_phases(
            package,
            test_level=test_level,
            tests=tests,
            wait_minutes=wait_minutes,
            ignore_warnings=False,
            reason=reason,
            action="quick-fallback",
        )
        outcome.fell_back = True
        outcome.validation_id = vid
        outcome.notes.insert(
            0,
            f"QUICK DEPLOY NOT POSSIBLE ({stale}): ran a FULL deploy with tests instead "
            "(slower; --no-fallback refuses).",
        )
        return outcome

    def _later_phases(
        self,
        package: Package,
        first: Outcome,
        test_level: str | None,
        tests: Iterable[str],
        wait_minutes: float,
        reason: str | None,
    ) -> Outcome:
        """After a quick deploy of phase 1, deploy the remaining phases in full (they could not be
        validated before phase 1 landed)."""
        outcome = first
        for index, folder in enumerate(package.phases[1:], start=2):
            level, chosen, notes = choose_test_level(package, folder, test_level, tests)
            outcome = self._run(
                package,
                folder,
                "deploy",
                check_only=False,
                test_level=level,
                tests=chosen,
                wait_minutes=wait_minutes,
                ignore_warnings=False,
                reason=reason,
            )
            outcome.notes = [
                f"phase 1 quick-deployed as {first.id}; phase {index} deployed in full",
                *notes,
                *outcome.notes,
            ]
            if outcome.exit_code != ExitCode.OK:
                break
        return outcome

    def status(self, deploy_id: str, wait_minutes: float = 0) -> Outcome:
        """The current state of a deploy/validation; with wait, poll until done."""
        if wait_minutes > 0:
            return self._follow(deploy_id, "status", None, wait_minutes)
        return outcome_from(self.client.check_deploy_status(deploy_id), "status", self.org)

    def cancel(self, deploy_id: str, reason: str | None = None) -> Outcome:
        """Ask Salesforce to cancel a queued or running deploy."""
        result = self.client.cancel_deploy(deploy_id)
        status = self.client.check_deploy_status(deploy_id)
        outcome = outcome_from(status, "cancel", self.org)
        outcome.notes.append("cancel requested" + (" and done" if result.done else "; Salesforce is canceling"))
        self._record(outcome, None, reason, {})
        return outcome

    # -- helpers ----------------------------------------------------------------------------------
    def _stale_reason(self, stored: dict[str, Any], package: Package) -> str | None:
        if not stored.get("id"):
            return "no stored validation for this org"
        if stored.get("used_by"):
            return f"validation {stored['id']} was already quick-deployed ({stored['used_by']})"
        if stored.get("from_sha") != package.from_sha or stored.get("to_sha") != package.to_sha:
            return "the stored validation is for another rollback"
        if stored.get("status") not in ("Succeeded", None):
            return f"the stored validation {stored['id']} did not succeed ({stored.get('status')})"
        at = dt.datetime.fromisoformat(stored["at"])
        if self.now() - at > VALIDATION_LIFETIME:
            return f"the stored validation {stored['id']} is older than 10 days"
        return None

    def _run(
        self,
        package: Package,
        folder: Path,
        action: str,
        *,
        check_only: bool,
        test_level: str,
        tests: list[str],
        wait_minutes: float,
        ignore_warnings: bool,
        reason: str | None,
    ) -> Outcome:
        options = DeployOptions(
            check_only=check_only,
            test_level=test_level,
            run_tests=tuple(tests),
            ignore_warnings=ignore_warnings,
            rollback_on_error=True,
            single_package=True,
        )
        zip_bytes = zip_folder(folder)
        extra = {"phase_folder": str(folder)}
        started = self.intents.start(
            action=action,
            fingerprint=fingerprint(zip_bytes, options, _phase_name(package, folder)),
            check_only=check_only,
            begin=lambda: self.client.deploy(zip_bytes, options),
            audit=self._audit_fields(package, reason, extra),
        )
        outcome = self._follow_started(started, action, package, wait_minutes)
        outcome.test_level, outcome.tests = test_level, list(tests)
        self._record(outcome, package, reason, extra, audit_id=started.audit_id)
        return outcome

    def _follow_started(self, started: Started, action: str, package: Package, wait_minutes: float) -> Outcome:
        outcome = self._follow(started.deploy_id, action, package, wait_minutes)
        if started.note:
            outcome.notes.insert(0, started.note)
        return outcome

    def _follow(self, deploy_id: str, action: str, package: Package | None, wait_minutes: float) -> Outcome:
        if wait_minutes <= 0:
            result = self.client.check_deploy_status(deploy_id)
        else:
            try:
                result = self.client.poll(deploy_id, timeout=wait_minutes * 60, on_progress=self.on_progress)
            except SfopsError as exc:
                if exc.exit_code != ExitCode.STILL_RUNNING:
                    raise
                result = self.client.check_deploy_status(deploy_id)
        outcome = outcome_from(result, action, self.org, package)
        if not outcome.done:
            outcome.notes.append(f"still running: sfops rollback status --job-id {deploy_id} --wait 10")
        return outcome

    def _audit_fields(
        self, package: Package | None, reason: str | None, extra: dict[str, Any], deploy_id: str | None = None
    ) -> dict[str, Any]:
        return {
            "target": package.label if package else (deploy_id or ""),
            "before": {"sha": package.from_sha} if package else None,
            "after": {"sha": package.to_sha} if package else None,
            "reason": reason,
            "details": dict(extra),
        }

    def _record(
        self,
        outcome: Outcome,
        package: Package | None,
        reason: str | None,
        extra: dict[str, Any],
        audit_id: int | None = None,
    ) -> None:
        """The audit record of a finished call: the pending intent of a deploy settled with its outcome
        (exactly one record per deploy), or a new record (cancel)."""
        details = {
            "deploy_id": outcome.id,
            "check_only": outcome.check_only,
            "test_level": outcome.test_level,
            "tests": outcome.tests,
            "component_failures": len(outcome.component_failures),
            "test_failures": len(outcome.test_failures),
            **extra,
        }
        if audit_id is not None and self.store.settle_audit([audit_id], outcome.status, details):
            return
        fields = self._audit_fields(package, reason, details, outcome.id)
        self.store.record_audit(
            actor=self.actor,
            alias=self.org,
            action=f"rollback.{outcome.action}",
            incident_id=self.incident_id,
            outcome=outcome.status,
            **fields,
        )


def _phase_name(package: Package, folder: Path) -> str:
    return "package" if folder == package.root else folder.name


def drift_check(client: MetadataClient, package: Package, *, ignore_warnings: bool = False) -> list[str]:
    """Compare the org with B before deploying: reverted code and single-file components by content
    (one retrieve), deletions and re-adds by presence (listMetadata, one call per type)."""
    items = [
        i for i in package.plan.get("items", []) if i.get("placement") in ("pre", "post") or i.get("action") == "re-add"
    ]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        if item["type"] not in ("CustomLabels", "Workflow"):
            by_type.setdefault(item["type"], []).append(item)
    notes: list[str] = []
    try:
        notes += content_drift(client, package)
    except SfopsError as exc:
        notes.append(f"drift check: could not compare contents ({exc.message})")
    for type_name, group in sorted(by_type.items()):
        try:
            present = {p.full_name.casefold() for p in client.list_metadata(type_name)}
        except SalesforceError as exc:
            notes.append(f"drift check skipped for {type_name}: {exc.message}")
            continue
        for item in group:
            there = item["member"].casefold() in present
            if item["action"] == "delete" and not there:
                notes.append(
                    f"drift: {type_name} {item['member']} is not in the org (release B (bad) has it); "
                    "deleting it "
                    + (
                        "is a warning (--ignore-warnings)"
                        if ignore_warnings
                        else "fails the deploy unless --ignore-warnings is given"
                    )
                )
            elif item["action"] == "re-add" and there:
                notes.append(
                    f"drift: {type_name} {item['member']} is already in the org although release B (bad) removed it"
                )
    return notes


# types whose retrieved file can be compared with B's file one to one
COMPARABLE_TYPES = frozenset(
    {
        "ApexClass",
        "ApexTrigger",
        "ApexPage",
        "ApexComponent",
        "Layout",
        "Flow",
        "FlexiPage",
        "CustomMetadata",
        "CustomTab",
        "PlatformEventChannel",
    }
)


def content_drift(client: MetadataClient, package: Package, timeout: float = 300) -> list[str]:
    """Retrieve the components the rollback reverts and compare them with B's versions: a difference
    means someone changed production after B (a hot-fix the rollback would silently overwrite)."""
    from sfops.rollback.convert import convert
    from sfops.rollback.delta import REVERT, compute_delta
    from sfops.rollback.registry import load_registry
    from sfops.rollback.xmlutil import MetadataXmlError, normalised

    wanted = {
        (i["type"], i["member"])
        for i in package.plan.get("items", [])
        if i.get("action") == REVERT and i["type"] in COMPARABLE_TYPES
    }
    if not wanted or not package.plan.get("repo"):
        return []
    registry = load_registry()
    delta = compute_delta(
        package.plan["repo"], package.from_sha, package.to_sha, registry, allow_forward=True
    )  # the plan already chose its direction
    b_sides = [
        replace(c, files_a=c.files_b, files_b={})
        for c in delta.changes
        if c.action == REVERT and (c.key.type, c.key.name) in wanted
    ]
    expected = convert(delta, b_sides, registry).files
    members: dict[str, list[str]] = {}
    for type_name, member in sorted(wanted):
        members.setdefault(type_name, []).append(member)
    result = client.poll(client.retrieve(members), timeout=timeout, kind="retrieve")
    if not result.success or not result.zip_bytes:
        return [f"drift check: retrieve failed ({result.error_message or result.status})"]
    org_files = {n.removeprefix("unpackaged/"): data for n, data in unzip_bounded(result.zip_bytes).items()}
    notes = []
    for path, data in sorted(expected.items()):
        if path.endswith(META) and path.rsplit("/", 1)[0] in ("classes", "triggers", "pages", "components"):
            continue  # sidecars carry only the API version and status
        got = org_files.get(path)
        if got is None:
            notes.append(f"drift: {path} is not in the org (release B (bad) has it)")
            continue
        try:
            same = (
                normalised(got) == normalised(data) if data.lstrip().startswith(b"<") else got.strip() == data.strip()
            )
        except MetadataXmlError:
            same = got.strip() == data.strip()
        if not same:
            notes.append(
                f"drift: {path} in the org differs from release B (bad) (changed in production after it?); "
                "the rollback overwrites it"
            )
    return notes


MAX_UNZIPPED_BYTES = 200 * 1024 * 1024


def unzip_bounded(zip_bytes: bytes, limit: int | None = None) -> dict[str, bytes]:
    """The files of a retrieved zip, checked BEFORE reading: entry paths stay inside, the declared sizes
    add up to at most `limit`, and no entry inflates beyond what it declares (a zip bomb is refused,
    not inflated)."""
    limit = MAX_UNZIPPED_BYTES if limit is None else limit
    try:
        archive = zipfile.ZipFile(io.BytesIO(zip_bytes))
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except zipfile.BadZipFile as exc:
        raise SalesforceError(f"The retrieved zip is not a zip ({exc}).", error_code="MALFORMED_RESPONSE") from None
    declared = sum(i.file_size for i in infos)
    if declared > limit:
        raise SalesforceError(
            f"The retrieved zip would inflate to {declared} bytes (more than {limit}); refusing to unpack it.",
            error_code="RESPONSE_TOO_LARGE",
        )
    out: dict[str, bytes] = {}
    for info in infos:
        safe_relpath(info.filename)
        with archive.open(info) as entry:
            data = entry.read(info.file_size + 1)
        if len(data) > info.file_size:
            raise SalesforceError(
                f"Zip entry {info.filename!r} inflates beyond its declared size; refusing it.",
                error_code="MALFORMED_RESPONSE",
            )
        out[info.filename] = data
    return out


def write_junit(outcome: Outcome, path: str | Path) -> Path:
    """JUnit XML of the test results (failures named; passing tests counted)."""
    failures = outcome.test_failures
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuites name="sfops rollback" tests="{outcome.tests_total}" failures="{len(failures)}">',
        f"  <testsuite name={quoteattr(f'rollback {outcome.action} {outcome.id}')} "
        f'tests="{outcome.tests_total}" failures="{len(failures)}" errors="0">',
    ]
    for f in failures:
        lines.append(f"    <testcase classname={quoteattr(f['class_name'])} name={quoteattr(f['method'])}>")
        body = (f.get("stack") or "").replace("]]>", "]]]]><![CDATA[>")
        lines.append(f"      <failure message={quoteattr(f['message'])}><![CDATA[{body}]]></failure>")
        lines.append("    </testcase>")
    passed = max(outcome.tests_completed - len(failures), 0)
    if passed:
        lines.append(f'    <testcase classname="passed" name={quoteattr(f"{passed} passing test method(s)")}/>')
    lines += ["  </testsuite>", "</testsuites>", ""]
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines), encoding="utf-8")
    return target
