"""Plain data of a deploy: the options it was given and the outcome it reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

TEST_LEVELS = ("NoTestRun", "RunSpecifiedTests", "RunLocalTests", "RunAllTestsInOrg")


@dataclass
class DeployOptions:
    """DeployOptions as the emulator understands them."""

    check_only: bool = False
    ignore_warnings: bool = False
    rollback_on_error: bool = True
    single_package: bool = True
    purge_on_delete: bool = False
    allow_missing_files: bool = False
    auto_update_package: bool = False
    perform_retrieve: bool = False
    test_level: str | None = None
    run_tests: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The REST deployOptions object."""
        return {
            "allowMissingFiles": self.allow_missing_files,
            "autoUpdatePackage": self.auto_update_package,
            "checkOnly": self.check_only,
            "ignoreWarnings": self.ignore_warnings,
            "performRetrieve": self.perform_retrieve,
            "purgeOnDelete": self.purge_on_delete,
            "rollbackOnError": self.rollback_on_error,
            "runTests": list(self.run_tests),
            "singlePackage": self.single_package,
            "testLevel": self.test_level,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeployOptions:
        return cls(
            check_only=bool(data.get("checkOnly", False)),
            ignore_warnings=bool(data.get("ignoreWarnings", False)),
            rollback_on_error=bool(data.get("rollbackOnError", True)),
            single_package=bool(data.get("singlePackage", True)),
            purge_on_delete=bool(data.get("purgeOnDelete", False)),
            allow_missing_files=bool(data.get("allowMissingFiles", False)),
            auto_update_package=bool(data.get("autoUpdatePackage", False)),
            perform_retrieve=bool(data.get("performRetrieve", False)),
            test_level=data.get("testLevel") or None,
            run_tests=list(data.get("runTests") or []),
        )


@dataclass
class Outcome:
    """Everything a finished deploy reports (before rendering to SOAP/JSON)."""

    successes: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    test_result: dict[str, Any] = field(default_factory=dict)
    components_total: int = 0
    components_deployed: int = 0
    component_errors: int = 0
    tests_total: int = 0
    test_errors: int = 0
    status: str = "Succeeded"
    error_message: str | None = None
    error_status_code: str | None = None
    run_tests_enabled: bool = False
    test_level: str = "NoTestRun"


def empty_tests() -> dict[str, Any]:
    """A runTestResult with nothing run."""
    return {
        "codeCoverage": [],
        "codeCoverageWarnings": [],
        "failures": [],
        "numFailures": 0,
        "numTestsRun": 0,
        "successes": [],
        "totalTime": 0.0,
    }


def iso(dt: datetime) -> str:
    """Salesforce SOAP dateTime with milliseconds and Z."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
