"""JUnit XML of a gate run for CI: one test case per check (failure, skipped when off, findings as text)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from sfops.release.model import GateReport, Status


def junit_xml(report: GateReport) -> bytes:
    """The report as a JUnit `<testsuites>` document."""
    failures = sum(1 for c in report.checks if c.effective is Status.FAIL)
    skipped = sum(1 for c in report.checks if c.effective is Status.OFF)
    suites = ET.Element(
        "testsuites",
        name="sfops release check",
        tests=str(len(report.checks)),
        failures=str(failures),
        time=f"{report.seconds:.3f}",
    )
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"release {report.from_ref}..{report.to_ref} on {report.org}",
        tests=str(len(report.checks)),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
        time=f"{report.seconds:.3f}",
        timestamp=report.started_at.isoformat(),
    )
    for check in report.checks:
        case = ET.SubElement(
            suite, "testcase", classname="release." + check.name, name=check.name, time=f"{check.seconds:.3f}"
        )
        lines = [check.reason] + [f"{f.where + ': ' if f.where else ''}{f.message}" for f in check.findings]
        status = check.effective
        if status is Status.FAIL:
            failure = ET.SubElement(case, "failure", message=check.reason, type="release.gate")
            failure.text = "\n".join(lines)
        elif status is Status.OFF:
            ET.SubElement(case, "skipped", message="off in [release.checks]")
        else:
            out = ET.SubElement(case, "system-out")
            out.text = (
                f"[{status.value}] "
                + "\n".join(lines)
                + (f"\noverride: {check.override_reason}" if check.override_reason else "")
            )
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True)


def write_junit(report: GateReport, path: str | Path) -> Path:
    """Write the JUnit file (parent folders created)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(junit_xml(report))
    return target
