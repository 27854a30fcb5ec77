"""`sfops oncall ...`: who is on call, the schedule, overrides, iCalendar export."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from sfops.cli.common import output_command, output_file, parse_moment, pass_app, writing_to
from sfops.cli.context import AppContext
from sfops.cli.output import Result, when_text
from sfops.errors import UsageError
from sfops.incidents import oncall as oc

rotation_option = click.option(
    "--rotation",
    "-r",
    "rotation",
    default=None,
    metavar="NAME",
    help="Rotation from [oncall.rotations] (default: default_rotation).",
)


def _time(
    value: str | None, name: str, default: dt.datetime | None = None, *, rotation: oc.Rotation | None = None
) -> dt.datetime:
    """An option's moment; without an offset it is read in the rotation's time zone (where its handoffs are)."""
    if not value:
        if default is None:
            raise UsageError(f"{name} is required.")
        return default
    return parse_moment(value, name, oc.rotation_zone(rotation) if rotation else dt.UTC)


def _config(app: AppContext) -> oc.OnCallConfig:
    return oc.parse_oncall(app.settings.section("oncall"))


@click.group("oncall")
def oncall() -> None:
    """On-call rotations from [oncall] in sfops.toml: now, schedule, overrides, iCalendar export."""


@oncall.command("now")
@rotation_option
@click.option(
    "--at",
    "at",
    default=None,
    help="Ask for this ISO time instead of now (without an offset: the rotation's time zone).",
)
@output_command
@pass_app
def now_cmd(app: AppContext, rotation: str | None, at: str | None) -> Result:
    """Who is on call now (or at --at), with their contact details."""
    config = _config(app)
    rot = config.rotation(rotation)
    moment = _time(at, "--at", dt.datetime.now(dt.UTC), rotation=rot)
    # a week ahead, so that a gap is reported with its real end
    shift = oc.final_schedule(rot, moment, moment + dt.timedelta(days=7), oc.stored_overrides(app.store, rot.name))[0]
    person = config.person(shift.person) if shift.person else None
    warnings = oc.gap_warnings([shift]) if person is None else []
    if person is not None and not oc.has_contact(person):
        warnings.append(
            f"{shift.person} has no contact details ([oncall.people.{shift.person}] email, slack...): "
            "notifications cannot name or reach them."
        )
    return Result(
        data={"rotation": rot.name, "at": moment, "person": person, "source": shift.source},
        rows=[
            {
                "rotation": rot.name,
                "on call": shift.person or "(nobody)",
                "source": shift.source,
                "email": (person or {}).get("email") or ("-" if person is None else "(none!)"),
            }
        ],
        warnings=warnings,
    )


@oncall.command("schedule")
@rotation_option
@click.option("--from", "start", default=None, help="Start (ISO; default now).")
@click.option("--to", "end", default=None, help="End (ISO; default 14 days after --from).")
@click.option("--tz", "tz", default=None, help="Show times in this IANA time zone (default UTC).")
@output_command
@pass_app
def schedule_cmd(app: AppContext, rotation: str | None, start: str | None, end: str | None, tz: str | None) -> Result:
    """The final schedule (layers, restrictions and overrides applied); gaps are warnings."""
    rot = _config(app).rotation(rotation)
    begin = _time(start, "--from", dt.datetime.now(dt.UTC), rotation=rot)
    finish = _time(end, "--to", begin + dt.timedelta(days=14), rotation=rot)
    zone = oc._zone(tz, "--tz") if tz else None
    schedule = oc.final_schedule(rot, begin, finish, oc.stored_overrides(app.store, rot.name))
    return Result(
        data=schedule,
        rows=[s.row(zone) for s in schedule],
        title=f"On-call schedule: {rot.name}",
        warnings=oc.gap_warnings(schedule, zone),
    )


@oncall.group("override")
def override() -> None:
    """Overrides: someone covers part of a rotation (later overrides win where they overlap)."""


@override.command("add")
@rotation_option
@click.option("--person", "-p", required=True, help="Who covers.")
@click.option("--from", "start", required=True, help="Start (ISO; without an offset, in the rotation's time zone).")
@click.option("--to", "end", required=True, help="End (ISO; without an offset, in the rotation's time zone).")
@click.option("--reason", default=None, help="Why (swap, holiday...).")
@output_command
@pass_app
def override_add_cmd(
    app: AppContext, rotation: str | None, person: str, start: str, end: str, reason: str | None
) -> Result:
    """Add an override for a rotation."""
    config = _config(app)
    rot = config.rotation(rotation)
    config.check_override_person(person)
    item = oc.add_override(
        app.store,
        rot.name,
        person,
        _time(start, "--from", rotation=rot),
        _time(end, "--to", rotation=rot),
        actor=app.actor,
        reason=reason,
    )
    return Result(
        data=item,
        message=f"Override #{item.id}: {person} covers {rot.name} {when_text(item.start)} - {when_text(item.end)}.",
    )


@override.command("list")
@rotation_option
@output_command
@pass_app
def override_list_cmd(app: AppContext, rotation: str | None) -> Result:
    """Active overrides of a rotation (oldest first; later ones win)."""
    rot = _config(app).rotation(rotation)
    items = [*rot.overrides, *oc.stored_overrides(app.store, rot.name)]
    return Result(
        data=items,
        rows=[
            {
                "id": o.id if o.id is not None else "config",
                "person": o.person,
                "start": o.start,
                "end": o.end,
                "reason": o.reason,
            }
            for o in items
        ],
        title=f"Overrides: {rot.name}",
    )


@override.command("remove")
@click.argument("override_id", type=int)
@output_command
@pass_app
def override_remove_cmd(app: AppContext, override_id: int) -> Result:
    """Cancel an override by its id (kept in history)."""
    oc.cancel_override(app.store, override_id)
    return Result(data={"id": override_id, "cancelled": True}, message=f"Override #{override_id} cancelled.")


@oncall.command("export")
@rotation_option
@click.option(
    "--ics",
    "ics",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    callback=output_file,
    help="Write an iCalendar (.ics) file here ('-' prints it).",
)
@click.option("--from", "start", default=None, help="Start (ISO; default now).")
@click.option("--to", "end", default=None, help="End (ISO; default 90 days after --from).")
@click.option("--person", default=None, help="Only this person's shifts (a personal calendar).")
@output_command
@pass_app
def export_cmd(
    app: AppContext, rotation: str | None, ics: Path, start: str | None, end: str | None, person: str | None
) -> Result:
    """Export the final schedule as iCalendar (one event per shift; gaps reported as warnings)."""
    rot = _config(app).rotation(rotation)
    begin = _time(start, "--from", dt.datetime.now(dt.UTC), rotation=rot)
    finish = _time(end, "--to", begin + dt.timedelta(days=90), rotation=rot)
    schedule = oc.final_schedule(rot, begin, finish, oc.stored_overrides(app.store, rot.name))
    text = oc.to_ics(schedule, calendar_name=f"On call: {rot.name}", person=person)
    shifts = sum(1 for s in schedule if s.person and (not person or s.person == person))
    if shifts == 0:  # one reason, not a warning per gap
        who = f"{person} has no shift" if person else "nobody is on call"
        warnings = [
            f"No shifts to export: {who} in rotation '{rot.name}' between {when_text(begin)} and "
            f"{when_text(finish)} (check --from/--to, --person and the rotation's start)."
        ]
    else:
        warnings = oc.gap_warnings(schedule)
    if str(ics) == "-":
        return Result(data={"ics": text, "events": shifts}, message=text, warnings=warnings, document=True)
    with writing_to("--ics", ics):
        ics.write_bytes(text.encode("utf-8"))
    return Result(
        data={"path": ics, "events": shifts}, warnings=warnings, message=f"{shifts} shift(s) written to {ics}."
    )
