"""Deploy requests: submit, advance over polls, finish (run the engine, maybe commit), cancel,
quick deploy of a validation, and the DeployResult they report (SOAP order / REST JSON types)."""

from __future__ import annotations

import base64
import dataclasses
from datetime import datetime, timedelta
from typing import Any

from sfops.emulator.metadata.engine import Deployer
from sfops.emulator.metadata.host import MdUser, MetadataHost
from sfops.emulator.metadata.model import DeployOptions, Outcome, empty_tests, iso
from sfops.emulator.metadata.package import Collector, PayloadError, read_zip
from sfops.emulator.metadata.workstate import WorkState, commit, commit_seq

DEPLOY_KIND = "md.deploy"
VALIDATION_DAYS = 10


class DeployError(Exception):
    """A request about a deploy that Salesforce answers with a fault / error (code, message)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _parse_iso(value: str) -> datetime:
    return datetime.strptime(value.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")


def _estimate(zip_bytes: bytes, options: DeployOptions) -> tuple[int, str | None]:
    """(number of components, first component type) for the progress of an unfinished deploy."""
    try:
        dz = read_zip(zip_bytes, options.single_package)
    except PayloadError:
        return 0, None
    collector = Collector(dz.files, dz.prefix)
    comps = collector.collect(dz.manifest)
    n = len(comps) + len(collector.problems)
    return n + sum(len(ms) for m in dz.pre + dz.post for ms in m.types.values()), (comps[0].type if comps else None)


class Deploys:
    """All deploy requests of one org (state lives in the host's JSON store)."""

    def __init__(
        self, host: MetadataHost, *, polls_to_complete: int = 3, seconds_per_step: float | None = None
    ) -> None:
        self.host = host
        self.polls_to_complete = max(1, polls_to_complete)
        self.seconds_per_step = seconds_per_step

    # ------------------------------------------------------------------ requests
    def submit(
        self,
        zip_bytes: bytes,
        options: DeployOptions,
        user: MdUser,
        *,
        quick_of: str | None = None,
        history: bool = True,
    ) -> dict[str, Any]:
        """Queue a deploy; returns the stored request. A real org lists it as a DeployRequest (Tooling) from
        this moment, Pending, whether or not anyone ever reads the deploy call's reply; `history=False`
        is the emulator's own seeding (the org's creation, not its change history)."""
        now = self.host.now()
        total, first_type = _estimate(zip_bytes, options)
        rec = {
            "id": self.host.new_id("0Af"),
            "options": options.to_json(),
            "zip": base64.b64encode(zip_bytes).decode(),
            "createdBy": user.user_id[:15],
            "createdById": user.user_id,
            "createdByName": user.name,
            "createdDate": iso(now),
            "lastModifiedDate": iso(now),
            "startDate": None,
            "completedDate": None,
            "status": "Pending",
            "done": False,
            "polls": 0,
            "total": total,
            "firstType": first_type,
            "outcome": None,
            "quickOf": quick_of,
            "canceledBy": None,
            "canceledByName": None,
            "commitSeq": None,
            "history": history,
        }
        self._save(rec)
        return rec

    def get(self, deploy_id: str) -> dict[str, Any]:
        """The stored request (DeployError when unknown)."""
        rec = self.host.get_json(DEPLOY_KIND, _key(deploy_id))
        if rec is None:
            raise DeployError("INVALID_CROSS_REFERENCE_KEY", f"invalid cross reference id: {deploy_id}")
        return rec

    def poll(self, deploy_id: str) -> dict[str, Any]:
        """One status check: advances the request one step (or by elapsed time) and returns it."""
        rec = self.get(deploy_id)
        if rec["done"]:
            return rec
        if rec["status"] == "Canceling":
            return self._cancel_done(rec)
        rec["polls"] += 1
        steps = rec["polls"]
        if self.seconds_per_step:
            elapsed = (self.host.now() - _parse_iso(rec["createdDate"])).total_seconds()
            steps = max(steps, int(elapsed / self.seconds_per_step))
        if steps >= self.polls_to_complete:
            return self.finish(rec)
        if steps >= self.polls_to_complete - 1:
            rec["status"] = "InProgress"
            rec["startDate"] = rec["startDate"] or iso(self.host.now())
        rec["lastModifiedDate"] = iso(self.host.now())
        self._save(rec)
        return rec

    def finish(self, rec: dict[str, Any]) -> dict[str, Any]:
        """Run the deploy now: validate, commit unless check-only or failed, record the outcome."""
        options = DeployOptions.from_json(rec["options"])
        user = MdUser(rec["createdById"], rec["createdByName"])
        faults = self.host.deploy_faults()
        try:
            work = WorkState(self.host)
            deployer = Deployer(self.host, work, options, user, faults)
            outcome = deployer.run(base64.b64decode(rec["zip"]))
            if deployer.fault_used:
                self.host.consume_deploy_fault()
            if outcome.status in ("Succeeded", "SucceededPartial") and not options.check_only:
                commit(self.host, work, outcome)
        except Exception as exc:  # a bug or a host failure: report it the way Salesforce reports its own
            outcome = Outcome(
                status="Failed",
                error_status_code="UNKNOWN_EXCEPTION",
                error_message=f"An unexpected error occurred: {type(exc).__name__}: {exc}",
                test_result=empty_tests(),
            )
        now = iso(self.host.now())
        rec.update(
            {
                "status": outcome.status,
                "done": True,
                "completedDate": now,
                "lastModifiedDate": now,
                "startDate": rec["startDate"] or now,
                "outcome": dataclasses.asdict(outcome),
                "commitSeq": commit_seq(self.host),
            }
        )
        self._save(rec, finished=True)
        return rec

    def run_now(self, zip_bytes: bytes, options: DeployOptions, user: MdUser) -> dict[str, Any]:
        """Submit and finish at once (seeding)."""
        return self.finish(self.submit(zip_bytes, options, user, history=False))

    def cancel(self, deploy_id: str, user: MdUser) -> dict[str, Any]:
        """cancelDeploy: an unfinished deploy goes to Canceling, the next poll reports Canceled."""
        rec = self.get(deploy_id)
        if rec["done"]:
            raise DeployError(
                "INVALID_ID_FIELD",
                f"The deployment {deploy_id} has already completed with status {rec['status']} and cannot be canceled",
            )
        rec.update(
            {
                "status": "Canceling",
                "canceledBy": user.user_id[:15],
                "canceledByName": user.name,
                "lastModifiedDate": iso(self.host.now()),
            }
        )
        self._save(rec)
        return rec

    def quick_deploy(self, validation_id: str, user: MdUser) -> dict[str, Any]:
        """deployRecentValidation: deploy a recent successful validation without running tests again."""
        try:
            val = self.get(validation_id)
        except DeployError as exc:
            raise DeployError("INVALID_ID_FIELD", f"invalid id: {validation_id}") from exc
        reason = self.stale_reason(val)
        if reason:
            raise DeployError(
                "INVALID_ID_FIELD", f"This deployment ({validation_id}) is not valid for quick deploy: {reason}"
            )
        options = DeployOptions.from_json(val["options"])
        options.check_only = False
        options.test_level = "NoTestRun"
        options.run_tests = []
        return self.submit(base64.b64decode(val["zip"]), options, user, quick_of=val["id"])

    def stale_reason(self, val: dict[str, Any]) -> str | None:
        """Why a validation cannot be quick-deployed, None when it can."""
        options = DeployOptions.from_json(val["options"])
        outcome = val.get("outcome") or {}
        if not options.check_only:
            return "it is not a validation (checkOnly was false)"
        if not val["done"] or val["status"] != "Succeeded":
            return f"the validation has status {val['status']}"
        if outcome.get("test_level", "NoTestRun") == "NoTestRun":
            return "the validation ran no tests"
        if self.host.now() - _parse_iso(val["completedDate"]) > timedelta(days=VALIDATION_DAYS):
            return f"the validation is older than {VALIDATION_DAYS} days"
        if val.get("commitSeq") != commit_seq(self.host):
            return "a later deployment changed the organization after this validation"
        return None

    # ------------------------------------------------------------------ helpers
    def _cancel_done(self, rec: dict[str, Any]) -> dict[str, Any]:
        now = iso(self.host.now())
        rec.update({"status": "Canceled", "done": True, "completedDate": now, "lastModifiedDate": now})
        self._save(rec)
        return rec

    def _save(self, rec: dict[str, Any], *, finished: bool = False) -> None:
        self.host.put_json(DEPLOY_KIND, _key(rec["id"]), rec)
        history = getattr(self.host, "record_deploy", None)  # DeployRequest / SetupAuditTrail rows, if kept
        if history is not None and rec.get("history"):
            history(rec, finished)


def _key(deploy_id: str) -> str:
    """Deploy ids are accepted with 15 or 18 characters."""
    return deploy_id[:15]


# ---------------------------------------------------------------------- DeployResult rendering


def _details(rec: dict[str, Any], include_details: bool) -> dict[str, Any] | None:
    outcome = rec.get("outcome")
    tests = (outcome or {}).get("test_result") or {}
    run = {k: tests.get(k) for k in ("codeCoverage", "codeCoverageWarnings", "failures")}
    run.update(
        {
            "numFailures": tests.get("numFailures", 0),
            "numTestsRun": tests.get("numTestsRun", 0),
            "successes": tests.get("successes", []),
            "totalTime": tests.get("totalTime", 0.0),
        }
    )
    if not include_details:
        return None
    if outcome is None:
        return {"runTestResult": {"numFailures": 0, "numTestsRun": 0, "totalTime": 0.0}}
    return {"componentFailures": outcome["failures"], "componentSuccesses": outcome["successes"], "runTestResult": run}


def deploy_result(rec: dict[str, Any], include_details: bool = True) -> dict[str, Any]:
    """DeployResult in the element order of the real responses (None = element omitted)."""
    options = rec["options"]
    outcome: dict[str, Any] | None = rec.get("outcome")
    total = outcome["components_total"] if outcome else rec["total"]
    if outcome:
        deployed, errors = outcome["components_deployed"], outcome["component_errors"]
        tests_total, test_errors = outcome["tests_total"], outcome["test_errors"]
    else:
        deployed = total // 2 if rec["status"] == "InProgress" else 0
        errors = tests_total = test_errors = 0
    run_tests = outcome["run_tests_enabled"] if outcome else (options.get("testLevel") not in (None, "NoTestRun"))
    state_detail = None
    if rec["status"] == "InProgress":
        state_detail = f"Processing Type: {rec.get('firstType') or 'Package'}"
    return {
        "canceledBy": rec.get("canceledBy"),
        "canceledByName": rec.get("canceledByName"),
        "checkOnly": bool(options.get("checkOnly")),
        "completedDate": rec.get("completedDate"),
        "createdBy": rec["createdBy"],
        "createdByName": rec["createdByName"],
        "createdDate": rec["createdDate"],
        "details": _details(rec, include_details),
        "done": rec["done"],
        "errorMessage": (outcome or {}).get("error_message"),
        "errorStatusCode": (outcome or {}).get("error_status_code"),
        "id": rec["id"],
        "ignoreWarnings": bool(options.get("ignoreWarnings")),
        "lastModifiedDate": rec["lastModifiedDate"],
        "numberComponentErrors": errors,
        "numberComponentsDeployed": deployed,
        "numberComponentsTotal": total,
        "numberTestErrors": test_errors,
        "numberTestsCompleted": tests_total - test_errors if outcome else 0,
        "numberTestsTotal": tests_total,
        "rollbackOnError": bool(options.get("rollbackOnError", True)),
        "runTestsEnabled": bool(run_tests),
        "startDate": rec.get("startDate"),
        "stateDetail": state_detail,
        "status": rec["status"],
        "success": rec["status"] in ("Succeeded", "SucceededPartial"),
    }


def rest_date(value: str | None) -> str | None:
    """SOAP ...000Z to the REST form ...000+0000."""
    return value[:-1] + "+0000" if value and value.endswith("Z") else value


def deploy_result_json(rec: dict[str, Any], include_details: bool = True) -> dict[str, Any]:
    """The REST deployResult: same fields, JSON types, nulls instead of missing elements, arrays always."""
    soap = deploy_result(rec, include_details)
    out: dict[str, Any] = {}
    for k, v in soap.items():
        out[k] = rest_date(v) if k.endswith("Date") else v
    details = soap["details"]
    if details is not None:
        run = dict(details.get("runTestResult") or {})
        for k in ("codeCoverage", "codeCoverageWarnings", "failures", "successes"):
            run[k] = run.get(k) or []
        out["details"] = {
            "componentFailures": [_json_msg(m) for m in details.get("componentFailures", [])],
            "componentSuccesses": [_json_msg(m) for m in details.get("componentSuccesses", [])],
            "runTestResult": run,
        }
    return out


def _json_msg(msg: dict[str, Any]) -> dict[str, Any]:
    out = {
        "changed": msg["changed"],
        "columnNumber": msg.get("columnNumber"),
        "componentType": msg["componentType"] or None,
        "created": msg["created"],
        "createdDate": rest_date(msg["createdDate"]),
        "deleted": msg["deleted"],
        "fileName": msg["fileName"],
        "fullName": msg["fullName"],
        "id": msg.get("id"),
        "lineNumber": msg.get("lineNumber"),
        "problem": msg.get("problem"),
        "problemType": msg.get("problemType"),
        "success": msg["success"],
    }
    return out


__all__ = ["DeployError", "Deploys", "Outcome", "deploy_result", "deploy_result_json", "iso"]
