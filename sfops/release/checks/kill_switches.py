"""Kill switches: every new Apex entry point of B checks a kill switch that exists in the org.

A new trigger, `@AuraEnabled`/`@InvocableMethod`/`@RestResource` method or Queueable/Batchable/
Schedulable class must call `FeatureKillSwitch.isEnabled('Feature__c')` (or another configured guard)
in its body, or in the handler method its body calls directly; or be listed in
`[release.kill_switches] exempt`. Without one, the only way to stop the feature in production is a
redeploy.
"""

from __future__ import annotations

from sfops.errors import SalesforceError
from sfops.release.apex import EntryPoint
from sfops.release.context import GateContext
from sfops.release.model import CheckResult, Finding, Status
from sfops.release.source import delegated_guards
from sfops.switches.catalog import load_switches, match_names

NAME = "kill_switches"


def _exempt(entry: EntryPoint, exempt: set[str]) -> bool:
    key = entry.key.lower()
    return key in exempt or key.split(".", 1)[0] in exempt


def check(ctx: GateContext) -> CheckResult:
    """Fail for each new entry point without a guard naming an existing switch (file and line given)."""
    release = ctx.release
    entries = [e for c in release.changes for e in c.new_entry_points]
    if not entries:
        return CheckResult(NAME, Status.PASS, f"No new Apex entry point in {ctx.to_ref}.")
    try:
        switches = load_switches(ctx.org, ctx.store)
    except SalesforceError as exc:
        return CheckResult(NAME, Status.FAIL, f"Cannot read the org's kill switches (Kill_Switch__c): {exc.message}.")
    exempt = {e.lower() for e in ctx.config.exempt}
    unguarded = [e for e in entries if not e.guards and not _exempt(e, exempt)]
    delegated = delegated_guards(release, {c for e in unguarded for c in e.calls}, ctx.config.guards)
    findings: list[Finding] = []
    guarded = 0
    for entry in entries:
        if _exempt(entry, exempt):
            continue
        names = [(entry.file, g.line, g.switch) for g in entry.guards]
        if not names:
            names = [g for c in entry.calls for g in delegated.get((c[0].lower(), c[1].lower()), [])]
        if not names:
            findings.append(
                Finding(
                    f"new {entry.kind} {entry.key} has no kill-switch guard",
                    file=entry.file,
                    line=entry.line,
                    data={"entry_point": entry.key, "kind": entry.kind},
                )
            )
            continue
        literal = [n for _, _, n in names if n]
        found, unknown = match_names(literal, switches)
        if found:
            guarded += 1
            continue
        where = names[0]
        what = f"'{unknown[0]}', which is not a switch in {ctx.alias}" if unknown else "a name that is not a literal"
        findings.append(
            Finding(
                f"new {entry.kind} {entry.key} checks {what}",
                file=where[0],
                line=where[1],
                data={"entry_point": entry.key, "switch": unknown[0] if unknown else None},
            )
        )
    facts = {"new_entry_points": len(entries), "guarded": guarded, "switches": [s.name for s in switches]}
    if findings:
        return CheckResult(
            NAME,
            Status.FAIL,
            f"{len(findings)} of {len(entries)} new entry point(s) cannot be switched off without a deploy.",
            findings,
            facts=facts,
        )
    return CheckResult(
        NAME, Status.PASS, f"All {len(entries)} new entry point(s) are guarded by a kill switch or exempt.", facts=facts
    )
