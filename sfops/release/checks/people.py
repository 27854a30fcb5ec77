"""People: the on-call rotation covers the next N hours with people who can be reached on every
channel the alerts use (an email channel needs their email, a Slack channel their member id)."""

from __future__ import annotations

import datetime as dt

from sfops.errors import ConfigError
from sfops.incidents.channels import parse_channel
from sfops.incidents.oncall import final_schedule, parse_oncall, stored_overrides
from sfops.release.context import GateContext
from sfops.release.model import CheckResult, Finding, Status

NAME = "people"
# the contact detail a person needs for each alert channel type that addresses people
PERSON_CHANNELS = {"email": "email", "slack": "slack"}
CONTACT_KEYS = ("email", "slack", "phone")


def required_channels(ctx: GateContext) -> tuple[str, ...]:
    """[release.people] require, else what the configured alert channels address people by (email default)."""
    if ctx.config.require_channels is not None:
        return ctx.config.require_channels
    kinds: set[str] = set()
    channels = ctx.section("alerts").get("channels") or {}
    for name, table in channels.items() if isinstance(channels, dict) else ():
        try:
            kind = parse_channel(str(name), table, ctx.env).type
        except ConfigError:
            continue
        if kind in PERSON_CHANNELS:
            kinds.add(PERSON_CHANNELS[kind])
    return tuple(sorted(kinds)) or ("email",)


def check(ctx: GateContext) -> CheckResult:
    """Fail on a gap in the next N hours or an on-call person missing a contact a channel needs."""
    hours = ctx.config.oncall_hours
    try:
        oncall = parse_oncall(ctx.section("oncall"))
        rotation = oncall.rotation(ctx.config.rotation)
    except ConfigError as exc:
        return CheckResult(NAME, Status.FAIL, f"No usable on-call rotation: {exc.message} (see docs/oncall.md).")
    end = ctx.now + dt.timedelta(hours=hours)
    schedule = final_schedule(rotation, ctx.now, end, stored_overrides(ctx.store, rotation.name))
    need = required_channels(ctx)
    findings: list[Finding] = []
    for shift in schedule:
        if shift.person is None:
            findings.append(
                Finding(
                    f"nobody on call in '{rotation.name}' from {shift.start:%Y-%m-%d %H:%M} to "
                    f"{shift.end:%Y-%m-%d %H:%M} UTC"
                )
            )
    people = sorted({s.person for s in schedule if s.person})
    for name in people:
        person = oncall.person(name)
        if not any(person.get(k) for k in CONTACT_KEYS):
            findings.append(Finding(f"{name} is on call but has no contact details in [oncall.people.{name}]"))
            continue
        missing = [k for k in need if not person.get(k)]
        if missing:
            findings.append(
                Finding(
                    f"{name} is on call but has no {', '.join(missing)} in [oncall.people.{name}] "
                    "(an alert channel needs it)"
                )
            )
    facts = {"rotation": rotation.name, "hours": hours, "on_call": people, "channels": list(need)}
    if findings:
        return CheckResult(
            NAME, Status.FAIL, f"On-call cover for the next {hours:g} h is incomplete.", findings, facts=facts
        )
    return CheckResult(
        NAME,
        Status.PASS,
        f"'{rotation.name}' covers the next {hours:g} h: {', '.join(people)} (reachable by {', '.join(need)}).",
        facts=facts,
    )
