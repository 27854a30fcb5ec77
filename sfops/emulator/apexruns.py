"""Apex test runs through the Tooling API: runTestsAsynchronous, runTestsSynchronous and the objects a
real org fills while tests run (ApexTestQueueItem, ApexTestResult, ApexTestRunResult, ApexCodeCoverage,
ApexCodeCoverageAggregate, ApexOrgWideCoverage).

Apex does not execute here: a run finishes at once, every test method passes unless the deploy fault
knob's `failing_tests` names it (`"Class"` or `"Class.method"`, the same knob a deploy's tests obey),
and coverage is the emulator's estimate (as for deploys): a class or trigger counts as covered by a
test class that names it (a trigger, by a test that names its object), its statements standing in
for lines.

Documented in the Tooling API reference (runTestsAsynchronous, runTestsSynchronous and the objects'
pages); the shapes the `sf` CLI (@salesforce/apex-node) queries are those below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sfops.emulator import ids
from sfops.emulator.metadata import apex
from sfops.emulator.schema import FieldDef, ObjectDef
from sfops.emulator.values import fmt_datetime, now_utc
from sfops.emulator.wire import ApiError

if TYPE_CHECKING:
    from sfops.emulator.app import Emulator

DEFAULT_MESSAGE = "System.AssertException: Assertion Failed: injected by the emulator fault knob"
METHOD_TIME_MS = 12


def _ro(name: str, type_: str, **kw: Any) -> FieldDef:
    """A read-only field (the platform fills it)."""
    return FieldDef(name, type_, createable=False, updateable=False, **kw)


def _ref(name: str, to: list[str], rel: str) -> FieldDef:
    return _ro(name, "reference", reference_to=to, relationship_name=rel)


def _int(name: str) -> FieldDef:
    return _ro(name, "int", digits=9)


def _pick(name: str, values: list[str]) -> FieldDef:
    return _ro(name, "picklist", picklist_values=values)


def test_objects(make: Any) -> list[ObjectDef]:
    """The Tooling objects of Apex test runs; `make` is schema._obj (id and audit fields added there)."""
    tooling = {"apis": ("tooling",), "createable": False, "deletable": False}
    unit = ["ApexClass", "ApexTrigger"]
    coverage = [
        _ref("ApexClassOrTriggerId", unit, "ApexClassOrTrigger"),
        _int("NumLinesCovered"),
        _int("NumLinesUncovered"),
        _ro("Coverage", "complexvalue"),
    ]
    return [
        make(
            "ApexTestRunResult",
            "05m",
            [
                _ref("AsyncApexJobId", ["AsyncApexJob"], "AsyncApexJob"),
                _pick("Status", ["Queued", "Processing", "Aborted", "Completed", "Failed"]),
                _ro("StartTime", "datetime"),
                _ro("EndTime", "datetime"),
                _int("TestTime"),
                _int("TestSetupTime"),
                _int("ClassesEnqueued"),
                _int("ClassesCompleted"),
                _int("MethodsEnqueued"),
                _int("MethodsCompleted"),
                _int("MethodsFailed"),
                _ref("UserId", ["User"], "User"),
                _ro("JobName", "string", length=255),
                _ro("Source", "string", length=255),
                _ro("IsAllTests", "boolean"),
            ],
            label="Apex Test Run Result",
            plural="Apex Test Run Results",
            updateable=False,
            **tooling,
        ),
        make(
            "ApexTestQueueItem",
            "709",
            [
                _ref("ApexClassId", ["ApexClass"], "ApexClass"),
                _ref("ParentJobId", ["AsyncApexJob"], "ParentJob"),
                FieldDef(
                    "Status",
                    "picklist",
                    picklist_values=["Holding", "Queued", "Preparing", "Processing", "Aborted", "Completed", "Failed"],
                ),
                _ro("ExtendedStatus", "string", length=255),
                _ref("TestRunResultId", ["ApexTestRunResult"], "TestRunResult"),
                _ro("ShouldSkipCodeCoverage", "boolean"),
            ],
            label="Apex Test Queue Item",
            plural="Apex Test Queue Items",
            **tooling,
        ),
        make(
            "ApexTestResult",
            "07M",
            [
                _ref("ApexClassId", ["ApexClass"], "ApexClass"),
                _ro("MethodName", "string", length=255),
                _pick("Outcome", ["Pass", "Fail", "CompileFail", "Skip"]),
                _ro("Message", "textarea", length=4000),
                _ro("StackTrace", "textarea", length=4000),
                _ref("AsyncApexJobId", ["AsyncApexJob"], "AsyncApexJob"),
                _ref("QueueItemId", ["ApexTestQueueItem"], "QueueItem"),
                _ref("ApexTestRunResultId", ["ApexTestRunResult"], "ApexTestRunResult"),
                _ref("ApexLogId", ["ApexLog"], "ApexLog"),
                _int("RunTime"),
                _ro("TestTimestamp", "datetime"),
                _ro("IsTestSetup", "boolean"),
            ],
            label="Apex Test Result",
            plural="Apex Test Results",
            updateable=False,
            **tooling,
        ),
        make(
            "ApexCodeCoverage",
            "714",
            [
                _ref("ApexTestClassId", ["ApexClass"], "ApexTestClass"),
                _ro("TestMethodName", "string", length=255),
                *[FieldDef(**vars(f)) for f in coverage],
            ],
            label="Apex Code Coverage",
            plural="Apex Code Coverage",
            updateable=False,
            **tooling,
        ),
        make(
            "ApexCodeCoverageAggregate",
            "715",
            [FieldDef(**vars(f)) for f in coverage],
            label="Apex Code Coverage Aggregate",
            plural="Apex Code Coverage Aggregates",
            updateable=False,
            **tooling,
        ),
        make(
            "ApexOrgWideCoverage",
            "716",
            [_ro("PercentCovered", "int", digits=3)],
            label="Apex Org Wide Coverage",
            plural="Apex Org Wide Coverage",
            updateable=False,
            **tooling,
        ),
    ]


def _classes(emu: Emulator) -> list[dict[str, Any]]:
    return [r for r in emu.store.rows("ApexClass") if not r.get("IsDeleted")]


def _plan(emu: Emulator, body: dict[str, Any]) -> tuple[list[tuple[dict[str, Any], list[str]]], bool]:
    """(test classes with the methods to run, all tests?) from a runTests request body."""
    classes = _classes(emu)
    by_name = {str(r["Name"]).lower(): r for r in classes}
    by_id = {ids.to15(str(r["Id"])): r for r in classes}
    level = str(body.get("testLevel") or "")
    wanted: list[tuple[dict[str, Any], list[str] | None]] = []

    def add(name: str | None = None, class_id: str | None = None, methods: list[str] | None = None) -> None:
        rec = by_name.get(name.strip().lower()) if name else by_id.get(ids.to15(class_id.strip())) if class_id else None
        if rec is None:
            raise ApiError(
                400,
                "INVALID_INPUT",
                f"This class name's value is invalid: {name or class_id}. "
                "Provide the name of an Apex class that has test methods.",
            )
        wanted.append((rec, methods))

    for name in str(body.get("classNames") or "").split(","):
        if name.strip():
            add(name=name)
    for cid in str(body.get("classids") or "").split(","):
        if cid.strip():
            add(class_id=cid)
    for test in body.get("tests") or []:
        add(name=test.get("className"), class_id=test.get("classId"), methods=test.get("testMethods"))
    run_all = level in ("RunLocalTests", "RunAllTestsInOrg")
    if level in ("RunLocalTests", "RunAllTestsInOrg"):
        wanted = [
            (r, None)
            for r in sorted(classes, key=lambda r: str(r["Name"]).lower())
            if apex.is_test_class(str(r.get("Body") or ""))
        ]
    if not wanted:
        raise ApiError(
            400, "INVALID_INPUT", "No test classes were specified: give classNames, classids, tests or testLevel."
        )
    plan = []
    for rec, methods in wanted:
        available = apex.test_methods(str(rec.get("Body") or ""))
        chosen = [m for m in available if methods is None or m.lower() in {x.lower() for x in methods}]
        plan.append((rec, chosen))
    return plan, run_all


def _failing(emu: Emulator) -> tuple[set[str], str]:
    spec = emu.faults.deploy or {}
    return {str(t).lower() for t in spec.get("failing_tests") or ()}, str(spec.get("test_message") or DEFAULT_MESSAGE)


def run(emu: Emulator, body: dict[str, Any], user_id: str, *, source: str = "REST") -> dict[str, Any]:
    """Run the tests at once; returns the job id, run result id and per-method outcomes."""
    plan, run_all = _plan(emu, body)
    failing, message = _failing(emu)
    start = fmt_datetime(now_utc())
    results = []
    for rec, methods in plan:
        for method in methods:
            name = str(rec["Name"])
            failed = name.lower() in failing or f"{name}.{method}".lower() in failing
            results.append((rec, method, failed))
    failures = sum(1 for *_, f in results if f)
    job = emu.insert_system(
        "AsyncApexJob",
        {
            "JobType": "TestRequest",
            "Status": "Completed",
            "CompletedDate": start,
            "NumberOfErrors": failures,
            "JobItemsProcessed": len(plan),
            "TotalJobItems": len(plan),
        },
    )
    total_time = METHOD_TIME_MS * len(results)
    run_id = emu.insert_system(
        "ApexTestRunResult",
        {
            "AsyncApexJobId": job,
            "Status": "Completed",
            "StartTime": start,
            "EndTime": start,
            "TestTime": total_time,
            "TestSetupTime": 0,
            "ClassesEnqueued": len(plan),
            "ClassesCompleted": len(plan),
            "MethodsEnqueued": len(results),
            "MethodsCompleted": len(results),
            "MethodsFailed": failures,
            "UserId": user_id,
            "Source": source,
            "IsAllTests": run_all,
        },
    )
    queue: dict[str, str] = {}
    for rec, methods in plan:
        passed = sum(1 for r, _, failed in results if r is rec and not failed)
        queue[rec["Id"]] = emu.insert_system(
            "ApexTestQueueItem",
            {
                "ApexClassId": rec["Id"],
                "ParentJobId": job,
                "Status": "Completed",
                "TestRunResultId": run_id,
                "ExtendedStatus": f"({passed}/{len(methods)})",  # passed/total, as the object reference shows
                "ShouldSkipCodeCoverage": bool(body.get("skipCodeCoverage")),
            },
        )
    out = []
    for rec, method, failed in results:
        row = {
            "ApexClassId": rec["Id"],
            "MethodName": method,
            "Outcome": "Fail" if failed else "Pass",
            "Message": message if failed else None,
            "StackTrace": f"Class.{rec['Name']}.{method}: line 1, column 1" if failed else None,
            "AsyncApexJobId": job,
            "QueueItemId": queue[rec["Id"]],
            "ApexTestRunResultId": run_id,
            "RunTime": METHOD_TIME_MS,
            "TestTimestamp": start,
            "IsTestSetup": False,
        }
        row["Id"] = emu.insert_system("ApexTestResult", row)
        out.append((rec, row))
    covered = (
        []
        if body.get("skipCodeCoverage")
        else _coverage(emu, [rec for rec, _ in plan], {rec["Id"]: m for rec, m in plan})
    )
    return {"job": job, "run": run_id, "results": out, "plan": plan, "time": total_time, "coverage": covered}


def _lines(source: str) -> int:
    return max(1, apex.strip_code(source).count(";"))


def _coverage(
    emu: Emulator, tests: list[dict[str, Any]], methods: dict[str, list[str]]
) -> list[tuple[str, dict[str, Any], int]]:
    """Rows of ApexCodeCoverage per test class and covered unit; aggregates; the org-wide percentage.
    Returns (kind, unit, lines) of the units this run covered."""
    touched: list[tuple[str, dict[str, Any], int]] = []
    test_words = {t["Id"]: apex.words(apex.strip_code(str(t.get("Body") or ""))) for t in tests}
    units = [("ApexClass", r) for r in _classes(emu) if not apex.is_test_class(str(r.get("Body") or ""))]
    units += [("ApexTrigger", r) for r in emu.store.rows("ApexTrigger") if not r.get("IsDeleted")]
    aggregates = {str(r["ApexClassOrTriggerId"]): r for r in emu.store.rows("ApexCodeCoverageAggregate")}
    for kind, unit in units:
        lines = _lines(str(unit.get("Body") or ""))
        needle = str(unit.get("TableEnumOrId") or unit["Name"]) if kind == "ApexTrigger" else str(unit["Name"])
        covering = [t for t in tests if needle.lower() in test_words[t["Id"]]]
        for test in covering:
            emu.insert_system(
                "ApexCodeCoverage",
                {
                    "ApexTestClassId": test["Id"],
                    "TestMethodName": (methods.get(test["Id"]) or [""])[0],
                    "ApexClassOrTriggerId": unit["Id"],
                    "NumLinesCovered": lines,
                    "NumLinesUncovered": 0,
                    "Coverage": {"coveredLines": list(range(1, lines + 1)), "uncoveredLines": []},
                },
            )
        covered = lines if covering else 0
        if covering:
            touched.append((kind, unit, lines))
        previous = aggregates.get(unit["Id"])
        if previous is not None and int(previous.get("NumLinesCovered") or 0) >= covered:
            continue
        values = {
            "ApexClassOrTriggerId": unit["Id"],
            "NumLinesCovered": covered,
            "NumLinesUncovered": lines - covered,
            "Coverage": {
                "coveredLines": list(range(1, covered + 1)),
                "uncoveredLines": list(range(covered + 1, lines + 1)),
            },
        }
        if previous is not None:
            emu.store.put("ApexCodeCoverageAggregate", {**previous, **values})
        else:
            aggregates[unit["Id"]] = {"Id": emu.insert_system("ApexCodeCoverageAggregate", values), **values}
    rows = list(emu.store.rows("ApexCodeCoverageAggregate"))
    covered_total = sum(int(r.get("NumLinesCovered") or 0) for r in rows)
    total = covered_total + sum(int(r.get("NumLinesUncovered") or 0) for r in rows)
    percent = round(100 * covered_total / total) if total else 0
    existing = list(emu.store.rows("ApexOrgWideCoverage"))
    if existing:
        emu.store.put("ApexOrgWideCoverage", {**existing[0], "PercentCovered": percent})
    else:
        emu.insert_system("ApexOrgWideCoverage", {"PercentCovered": percent})
    return touched


def synchronous_result(emu: Emulator, outcome: dict[str, Any]) -> dict[str, Any]:
    """The RunTestsResult body of runTestsSynchronous (Tooling API reference)."""
    successes, failures = [], []
    for rec, row in outcome["results"]:
        item = {
            "id": rec["Id"],
            "methodName": row["MethodName"],
            "name": rec["Name"],
            "namespace": None,
            "seeAllData": False,
            "time": float(METHOD_TIME_MS),
        }
        if row["Outcome"] == "Pass":
            successes.append(item)
        else:
            failures.append(
                {
                    **item,
                    "message": row["Message"],
                    "packageName": rec["Name"],
                    "stackTrace": row["StackTrace"],
                    "type": "Class",
                }
            )
    coverage = [
        {
            "id": unit["Id"],
            "name": unit["Name"],
            "namespace": None,
            "numLocations": lines,
            "numLocationsNotCovered": 0,
            "locationsNotCovered": [],
            "type": "Class" if kind == "ApexClass" else "Trigger",
        }
        for kind, unit, lines in outcome["coverage"]
    ]
    return {
        "apexLogId": None,
        "codeCoverage": coverage,
        "codeCoverageWarnings": [],
        "failures": failures,
        "flowCoverage": [],
        "flowCoverageWarnings": [],
        "numFailures": len(failures),
        "numTestsRun": len(outcome["results"]),
        "successes": successes,
        "totalTime": float(outcome["time"]),
    }
