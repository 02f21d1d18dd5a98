"""Zendesk schedule JSON to a policy `schedule:` block: intervals, midnight, holidays."""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any

import pytest
import yaml

from afterhours.errors import ConfigError
from afterhours.policy import parse_policy
from afterhours.policy.import_schedule import (
    ScheduleImportError,
    holiday_dates,
    schedule_yaml,
    weekly_hours,
)
from afterhours.policy.model import Schedule, Weekday

SUN, MON, TUE, WED, THU, FRI, SAT = (day * 1440 for day in range(7))
H = 60


def interval(start: int, end: int) -> dict[str, int]:
    return {"start_time": start, "end_time": end}


def zendesk_schedule(*intervals: dict[str, int], zone: str = "Pacific Time (US & Canada)",
                     **extra: Any) -> dict[str, Any]:
    """A schedule as GET /api/v2/business_hours/schedules/{id} answers it."""
    return {"id": 360000123, "name": "North America", "time_zone": zone,
            "intervals": list(intervals), "created_at": "2026-01-05T10:00:00Z",
            "updated_at": "2026-01-05T10:00:00Z", **extra}


def holiday(name: str, start: str, end: str | None = None) -> dict[str, Any]:
    return {"id": 1, "name": name, "start_date": start, "end_date": end or start}


def as_schedule(text: str) -> Schedule:
    return Schedule.model_validate(yaml.safe_load(text)["schedule"])


@pytest.mark.parametrize(("intervals", "expected"), [
    # The docs' example: Monday 09:00 to 17:00.
    ([interval(1980, 2460)], {"mon": [(540, 1020)]}),
    # Weekdays nine to five, Zendesk's default schedule.
    ([interval(d + 9 * H, d + 17 * H) for d in (MON, TUE, WED, THU, FRI)],
     {day: [(540, 1020)] for day in ("mon", "tue", "wed", "thu", "fri")}),
    # Two shifts a day, given out of order.
    ([interval(TUE + 13 * H, TUE + 17 * H), interval(TUE + 8 * H, TUE + 12 * H)],
     {"tue": [(480, 720), (780, 1020)]}),
    # A shift ending at midnight, as the docs allow: 24:00, not the next day's 00:00.
    ([interval(TUE + 16 * H, WED)], {"tue": [(960, 1440)]}),
    # Crossing midnight (the older docs' Monday 09:00 to Tuesday 17:00): split per day.
    ([interval(1980, 3900)], {"mon": [(540, 1440)], "tue": [(0, 1020)]}),
    ([interval(FRI + 22 * H, SAT + 2 * H)], {"fri": [(1320, 1440)], "sat": [(0, 120)]}),
    # Past Saturday midnight the week starts over on Sunday.
    ([interval(SAT + 22 * H, SAT + 26 * H)], {"sat": [(1320, 1440)], "sun": [(0, 120)]}),
    # Round the clock: each day 00:00-24:00.
    ([interval(0, 7 * 1440)], {day: [(0, 1440)] for day in
                                ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}),
    # Back-to-back and overlapping intervals merge.
    ([interval(MON + 8 * H, MON + 12 * H), interval(MON + 12 * H, MON + 18 * H),
      interval(MON + 17 * H, MON + 19 * H)], {"mon": [(480, 1140)]}),
    ([], {}),
])
def test_week_intervals_become_ranges_per_weekday(
    intervals: list[dict[str, int]], expected: dict[str, list[tuple[int, int]]]
) -> None:
    assert weekly_hours(intervals) == expected


@pytest.mark.parametrize(("bad", "message"), [
    (interval(600, 540), "not a range of minutes"),
    (interval(540, 540), "not a range of minutes"),
    (interval(-60, 540), "not a range of minutes"),
    (interval(10080, 10140), "not a range of minutes"),
    ({"start_time": "09:00", "end_time": 1020}, "whole minutes"),
    ({"start_time": True, "end_time": 1020}, "whole minutes"),
    ({"start_time": 540}, "whole minutes"),
])
def test_intervals_that_are_no_range_are_refused(bad: dict[str, Any], message: str) -> None:
    with pytest.raises(ScheduleImportError, match=message):
        weekly_hours([bad])


def test_holiday_ranges_are_written_out_day_by_day_in_order() -> None:
    closed = holiday_dates([
        holiday("New Year", "2027-01-01"),
        holiday("Winter break", "2026-12-24", "2026-12-27"),
        holiday("Boxing Day", "2026-12-26"),
    ])
    assert closed == {
        date(2026, 12, 24): ["Winter break (2026-12-24 to 2026-12-27)"],
        date(2026, 12, 25): ["Winter break (2026-12-24 to 2026-12-27)"],
        date(2026, 12, 26): ["Winter break (2026-12-24 to 2026-12-27)", "Boxing Day"],
        date(2026, 12, 27): ["Winter break (2026-12-24 to 2026-12-27)"],
        date(2027, 1, 1): ["New Year"],
    }


@pytest.mark.parametrize(("bad", "message"), [
    (holiday("Backwards", "2026-12-27", "2026-12-24"), "ends .* before it starts"),
    (holiday("Forever", "2026-01-01", "2030-01-01"), "runs 1462 days"),
    (holiday("Sloppy", "24/12/2026"), "not a date"),
    ({"id": 9, "name": "Missing"}, "start_date None is not a date"),
])
def test_holidays_that_are_no_range_of_dates_are_refused(
    bad: dict[str, Any], message: str
) -> None:
    with pytest.raises(ScheduleImportError, match=message):
        holiday_dates([bad])


def test_the_block_validates_as_the_policy_schedule_and_says_where_it_came_from() -> None:
    schedule = zendesk_schedule(
        *(interval(d + 9 * H, d + 17 * H + 30) for d in (MON, TUE, WED, THU, FRI)),
        interval(FRI + 22 * H, SAT + 2 * H),
    )
    text = schedule_yaml(schedule, [holiday("Winter break", "2026-12-24", "2026-12-26"),
                                    holiday("New Year's Day", "2027-01-01")])
    parsed = as_schedule(text)
    assert parsed.time_zone == "America/Los_Angeles"
    assert [(r.start, r.end) for r in parsed.hours[Weekday.FRI]] == [
        (time(9), time(17, 30)), (time(22), time(0))]
    assert [(r.start, r.end) for r in parsed.hours[Weekday.SAT]] == [(time(0), time(2))]
    assert Weekday.SUN not in parsed.hours
    assert parsed.holidays == [date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26),
                               date(2027, 1, 1)]
    head = text.splitlines()[:2]
    assert 'schedule "North America" (id 360000123)' in head[0]
    assert '"Pacific Time (US & Canada)"' in head[1]
    assert "    fri: [\"09:00-17:30\", \"22:00-24:00\"]" in text
    assert "# Zendesk: Pacific Time (US & Canada)" in text
    assert "# closed all day: sun" in text
    assert re.search(r"\n    - 2027-01-01 +# New Year's Day\n", text)


def test_the_block_makes_a_valid_policy_with_version_1() -> None:
    text = schedule_yaml(zendesk_schedule(interval(MON + 9 * H, MON + 17 * H), zone="London"),
                         [])
    policy = parse_policy("version: 1\n" + text)
    assert policy.schedule.time_zone == "Europe/London"
    assert policy.schedule.holidays == []


def test_a_schedule_without_hours_is_closed_all_week() -> None:
    text = schedule_yaml(zendesk_schedule(zone="Europe/Berlin"), [])
    assert as_schedule(text).hours == {}
    assert "hours: {}" in text
    assert "# IANA name" in text


def test_names_from_zendesk_cannot_break_out_of_their_comments() -> None:
    schedule = zendesk_schedule(interval(MON + 9 * H, MON + 17 * H),
                                name='EMEA\nschedule:\n  time_zone: "Mars"  # x')
    text = schedule_yaml(schedule, [holiday("Day off\r\n  - 1999-01-01", "2026-05-01")])
    parsed = as_schedule(text)
    assert parsed.time_zone == "America/Los_Angeles"
    assert parsed.holidays == [date(2026, 5, 1)]
    assert sum(line.startswith("schedule:") for line in text.splitlines()) == 1


def test_an_unknown_zendesk_time_zone_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown time zone 'Atlantis'"):
        schedule_yaml(zendesk_schedule(zone="Atlantis"), [])


@pytest.mark.parametrize("broken", [
    {"name": "No zone", "intervals": []},
    {"name": "Bad intervals", "time_zone": "UTC", "intervals": {"start_time": 0}},
])
def test_a_schedule_without_zone_or_interval_list_is_refused(broken: dict[str, Any]) -> None:
    with pytest.raises(ScheduleImportError):
        schedule_yaml(broken, [])
