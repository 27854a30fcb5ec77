"""Apex tests, which cannot run here: which tests a deploy would run (test level, runTests, the
@isTest classes in the org after the deploy) and their outcome (all pass unless the fault knob names
them), plus a rough code coverage of the deployed classes."""

from __future__ import annotations

from typing import Any

from sfops.emulator.metadata import apex
from sfops.emulator.metadata.host import DeployFaults
from sfops.emulator.metadata.model import TEST_LEVELS, DeployOptions, Outcome, empty_tests
from sfops.emulator.metadata.package import Comp
from sfops.emulator.metadata.workstate import WorkState, source_of


class TestRunner:
    """Fills an Outcome's test fields for one deploy."""

    __test__ = False  # not a pytest test class

    def __init__(self, work: WorkState, options: DeployOptions, faults: DeployFaults | None, out: Outcome) -> None:
        self.work = work
        self.options = options
        self.faults = faults
        self.out = out
        self.fault_used = False

    def _test_level(self, adds: list[Comp]) -> str:
        level = self.options.test_level
        if level in TEST_LEVELS:
            return level
        has_apex = any(c.type in ("ApexClass", "ApexTrigger") for c in adds)
        return "RunLocalTests" if has_apex else "NoTestRun"

    def run(self, adds: list[Comp]) -> None:
        """Decide the tests, run them (pass/fail from the fault knob) and record the results."""
        level = self._test_level(adds)
        self.out.test_level = level
        self.out.run_tests_enabled = level != "NoTestRun"
        if level == "NoTestRun":
            self.out.test_result = empty_tests()
            return
        classes = {r["fullName"].lower(): r for r in self.work.of_type("ApexClass")}
        plan: list[tuple[dict[str, Any], str]] = []
        if level == "RunSpecifiedTests":
            for spec in self.options.run_tests:
                cls_name, _, method = spec.partition(".")
                rec = classes.get(cls_name.lower())
                methods = apex.test_methods(source_of(rec)) if rec else []
                if rec is None or not methods:
                    self.out.status = "Failed"
                    self.out.error_status_code = "INVALID_INPUT"
                    self.out.error_message = (
                        f"This class name's value is invalid: {cls_name}. Provide the name "
                        "of an Apex class that has test methods."
                    )
                    self.out.test_errors = 0
                    self.out.test_result = empty_tests()
                    return
                plan += [(rec, m) for m in methods if not method or m.lower() == method.lower()]
        else:
            for rec in sorted(classes.values(), key=lambda r: r["fullName"].lower()):
                src = source_of(rec)
                if apex.is_test_class(src):
                    plan += [(rec, m) for m in apex.test_methods(src)]
        failing = {f.lower() for f in (self.faults.failing_tests if self.faults else ())}
        successes, failures = [], []
        for rec, method in plan:
            name = rec["fullName"]
            if name.lower() in failing or f"{name}.{method}".lower() in failing:
                self.fault_used = True
                failures.append(
                    {
                        "id": rec.get("id") or "",
                        "message": self.faults.test_message if self.faults else "",
                        "methodName": method,
                        "name": name,
                        "namespace": None,
                        "packageName": name,
                        "seeAllData": False,
                        "stackTrace": f"Class.{name}.{method}: line 1, column 1",
                        "time": 12.0,
                        "type": "Class",
                    }
                )
            else:
                successes.append(
                    {
                        "id": rec.get("id") or "",
                        "methodName": method,
                        "name": name,
                        "namespace": None,
                        "seeAllData": False,
                        "time": 12.0,
                    }
                )
        self.out.tests_total = len(plan)
        self.out.test_errors = len(failures)
        self.out.test_result = {
            "codeCoverage": self._coverage(adds, [r for r, _ in plan]),
            "codeCoverageWarnings": [],
            "failures": failures,
            "numFailures": len(failures),
            "numTestsRun": len(plan),
            "successes": successes,
            "totalTime": float(12 * len(plan)),
        }

    def _coverage(self, adds: list[Comp], test_recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        test_words: set[str] = set()
        for rec in {id(r): r for r in test_recs}.values():
            test_words |= apex.words(apex.strip_code(source_of(rec)))
        out = []
        for comp in adds:
            if comp.type not in ("ApexClass", "ApexTrigger"):
                continue
            rec = self.work.get(comp.type, comp.full_name)
            if rec is None:
                continue
            src = source_of(rec)
            if comp.type == "ApexClass" and apex.is_test_class(src):
                continue
            lines = apex.strip_code(src).count(";")  # statements stand in for coverable locations
            covered = comp.full_name.lower() in test_words or comp.type == "ApexTrigger"
            out.append(
                {
                    "id": rec.get("id") or "",
                    "locationsNotCovered": [],
                    "name": comp.full_name,
                    "namespace": None,
                    "numLocations": lines,
                    "numLocationsNotCovered": 0 if covered else lines,
                    "type": "Class" if comp.type == "ApexClass" else "Trigger",
                }
            )
        return out
