"""[agent] configuration: orgs, schedules (intervals anchored at a fixed instant, crontab, off), errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from sfops.agent import load_agent_config, parse_schedule
from sfops.agent.config import DEFAULT_SCHEDULES
from sfops.config import Settings, load_settings
from sfops.errors import ConfigError

T = dt.datetime(2026, 3, 10, 12, 7, 30, tzinfo=dt.UTC)


def test_defaults_serve_the_default_org_with_every_job(make_settings: Callable[[str], Settings]) -> None:
    config = load_agent_config(make_settings(""))
    assert config.orgs == ("prod",)
    assert config.lease_seconds == 60 and config.workers == 4
    assert {job for (_org, job) in config.schedules} == set(DEFAULT_SCHEDULES)
    assert config.schedule("prod", "switch-restore").seconds == 60
    assert config.schedule("prod", "limits-snapshot").seconds == 900


def test_jobs_overrides_off_and_cron(make_settings: Callable[[str], Settings]) -> None:
    config = load_agent_config(
        make_settings(
            '[agent]\norgs = ["prod", "uat"]\nlease_seconds = 30\nworkers = 2\n'
            '[agent.jobs]\nlogs-pull = "1h30m"\nnotify-retry = "off"\n'
            '[agent.overrides.uat]\nlogs-pull = "*/5 * * * *"\nbreaker-sync = "off"\n'
        )
    )
    assert config.orgs == ("prod", "uat") and config.lease_seconds == 30 and config.workers == 2
    assert config.schedule("prod", "logs-pull").seconds == 5400
    assert config.schedule("uat", "logs-pull").crontab == "*/5 * * * *"
    assert config.schedule("prod", "notify-retry") is None and config.schedule("uat", "notify-retry") is None
    assert config.schedule("uat", "breaker-sync") is None
    assert config.schedule("prod", "breaker-sync").seconds == 300


def test_only_org_serves_one_org(make_settings: Callable[[str], Settings]) -> None:
    config = load_agent_config(make_settings('[agent]\norgs = ["prod"]\n'), only_org="uat")
    assert config.orgs == ("uat",)


def test_only_org_needs_no_default_org(tmp_path) -> None:
    # `sfops agent run -o uat` with neither [agent] orgs nor default_org used to fail with "No target org"
    path = tmp_path / "sfops.toml"
    path.write_text('[orgs.uat]\nauth = "token"\ninstance_url = "https://uat.example.invalid"\n', encoding="utf-8")
    config = load_agent_config(load_settings({"HOME": str(tmp_path)}, path, tmp_path), only_org="uat")
    assert config.orgs == ("uat",)


@pytest.mark.parametrize(
    "toml,message",
    [
        ('[agent]\norgs = ["nope"]\n', "Unknown org alias 'nope'"),
        ('[agent]\norgs = "prod"\n', "orgs must be a non-empty list"),
        ("[agent]\nlease_seconds = 1\n", "lease_seconds must be an integer of at least 3"),
        ("[agent]\nworkers = 0\n", "workers must be an integer from 1 to 32"),
        ("[agent]\nschedule = 1\n", "unknown key(s) schedule"),
        ('[agent.jobs]\nlog-pull = "5m"\n', "unknown job(s) log-pull"),
        ('[agent.jobs]\nlogs-pull = "5 minutes"\n', "is not a valid crontab line"),
        ('[agent.jobs]\nlogs-pull = "5x"\n', "bad schedule '5x'"),
        ('[agent.jobs]\nlogs-pull = "0s"\n', "must be at least 1 second"),
        ('[agent.overrides.uat]\nlogs-pull = "5m"\n', "[agent.overrides.uat] is for an org the agent does not serve"),
    ],
)
def test_bad_configuration_is_a_clear_config_error(
    make_settings: Callable[[str], Settings], toml: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_agent_config(make_settings(toml))
    assert message in info.value.message


def test_interval_ticks_are_anchored_so_every_agent_agrees() -> None:
    every_15 = parse_schedule("15m", "test")
    assert every_15.next_after(T) == dt.datetime(2026, 3, 10, 12, 15, tzinfo=dt.UTC)
    # strictly after: a run started exactly on a tick waits for the next one
    assert every_15.next_after(dt.datetime(2026, 3, 10, 12, 15, tzinfo=dt.UTC)) == dt.datetime(
        2026, 3, 10, 12, 30, tzinfo=dt.UTC
    )
    assert parse_schedule("1h", "test").next_after(T) == dt.datetime(2026, 3, 10, 13, 0, tzinfo=dt.UTC)
    assert every_15.period_seconds() == 900


def test_crontab_schedule_in_utc() -> None:
    cron = parse_schedule("*/5 * * * *", "test")
    assert cron.next_after(T) == dt.datetime(2026, 3, 10, 12, 10, tzinfo=dt.UTC)
    assert cron.period_seconds() == 300
    nightly = parse_schedule("30 2 * * *", "test")
    assert nightly.next_after(T) == dt.datetime(2026, 3, 11, 2, 30, tzinfo=dt.UTC)
    assert parse_schedule("OFF", "test") is None


@pytest.mark.parametrize(
    ("days", "weekdays"),
    [
        ("1", ["Monday"]),  # cron numbers the days from Sunday = 0; APScheduler 3 alone would say Tuesday
        ("0", ["Sunday"]),
        ("7", ["Sunday"]),
        ("1-5", ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]),
        ("*/2", ["Sunday", "Tuesday", "Thursday", "Saturday"]),
        ("mon-fri", ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]),
        ("5-7", ["Friday", "Saturday", "Sunday"]),
        ("sat,1", ["Monday", "Saturday"]),
    ],
)
def test_crontab_days_of_week_are_counted_from_sunday_as_cron_does(days: str, weekdays: list[str]) -> None:
    schedule = parse_schedule(f"0 9 * * {days}", "[agent.jobs] x")
    assert schedule is not None
    moment, seen = dt.datetime(2026, 12, 6, tzinfo=dt.UTC), set()  # a Sunday
    for _ in range(14):
        moment = schedule.next_after(moment)
        seen.add(moment.strftime("%A"))
    assert sorted(seen) == sorted(weekdays)


def test_a_bad_day_of_week_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="crontab"):
        parse_schedule("0 9 * * funday", "[agent.jobs] x")
