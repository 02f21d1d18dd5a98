"""Business-hours arithmetic: opening checks, adding open minutes, daylight saving, wording."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from afterhours.domain.schedule import add_business_minutes, describe_moment, is_business_time
from afterhours.policy.model import Schedule

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
ALL_DAYS = (*WEEKDAYS, "sat", "sun")

LONDON = Schedule.model_validate(
    {
        "time_zone": "Europe/London",
        "hours": {day: ["09:00-17:30"] for day in WEEKDAYS},
        "holidays": ["2026-12-25", "2026-12-28"],
    }
)
NEW_YORK = Schedule.model_validate(
    {"time_zone": "America/New_York", "hours": {day: ["09:00-17:00"] for day in WEEKDAYS}}
)
# Friday evenings until midnight, in UTC, with one Friday a holiday.
LATE_FRIDAY = Schedule.model_validate(
    {"time_zone": "UTC", "hours": {"fri": ["18:00-24:00"]}, "holidays": ["2026-01-23"]}
)
# Two ranges on one day, with a gap at lunch.
SPLIT = Schedule.model_validate(
    {"time_zone": "UTC", "hours": {"wed": ["09:00-12:00", "13:00-17:00"]}}
)
# Open around the clock, in London: a day is 23 or 25 hours across a change.
ALWAYS_LONDON = Schedule.model_validate(
    {"time_zone": "Europe/London", "hours": {day: ["00:00-24:00"] for day in ALL_DAYS}}
)
# Only Sundays, all day, in London: both 2026 changes fall on a Sunday.
SUNDAYS_LONDON = Schedule.model_validate(
    {"time_zone": "Europe/London", "hours": {"sun": ["00:00-24:00"]}}
)
NEVER = Schedule.model_validate({"time_zone": "Europe/London", "hours": {}})
ONLY_HOLIDAYS = Schedule.model_validate(
    {"time_zone": "UTC", "hours": {"fri": ["09:00-17:00"]}, "holidays": ["2026-01-16"]}
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "moment", "expected"),
    [
        pytest.param(LONDON, utc(2026, 1, 14, 10), True, id="wed-inside"),
        pytest.param(LONDON, utc(2026, 1, 14, 9), True, id="start-inclusive"),
        pytest.param(LONDON, utc(2026, 1, 14, 8, 59), False, id="minute-before-start"),
        pytest.param(LONDON, utc(2026, 1, 14, 17, 29), True, id="last-open-minute"),
        pytest.param(LONDON, utc(2026, 1, 14, 17, 30), False, id="end-exclusive"),
        pytest.param(LONDON, utc(2026, 1, 14, 2), False, id="night"),
        pytest.param(LONDON, utc(2026, 1, 17, 12), False, id="saturday"),
        pytest.param(LONDON, utc(2026, 1, 18, 12), False, id="sunday"),
        pytest.param(LONDON, utc(2026, 12, 25, 12), False, id="christmas-friday"),
        pytest.param(LONDON, utc(2026, 12, 28, 12), False, id="boxing-day-observed-monday"),
        pytest.param(LONDON, utc(2026, 12, 29, 12), True, id="tuesday-after-holidays"),
        pytest.param(
            LONDON,
            datetime(2026, 1, 14, 11, tzinfo=timezone(timedelta(hours=2))),
            True,
            id="non-utc-aware-input",
        ),
        # Spring forward (Sun 2026-03-29): 09:00 local is 09:00 UTC before, 08:00 UTC after.
        pytest.param(LONDON, utc(2026, 3, 27, 8, 30), False, id="gmt-fri-0830utc-closed"),
        pytest.param(LONDON, utc(2026, 3, 30, 8, 30), True, id="bst-mon-0830utc-open"),
        pytest.param(LONDON, utc(2026, 3, 27, 17), True, id="gmt-fri-1700utc-open"),
        pytest.param(LONDON, utc(2026, 3, 30, 17), False, id="bst-mon-1700utc-closed"),
        # Fall back (Sun 2026-10-25): 09:00 local is 08:00 UTC before, 09:00 UTC after.
        pytest.param(LONDON, utc(2026, 10, 23, 8, 30), True, id="bst-fri-0830utc-open"),
        pytest.param(LONDON, utc(2026, 10, 26, 8, 30), False, id="gmt-mon-0830utc-closed"),
        pytest.param(LONDON, utc(2026, 10, 26, 17, 15), True, id="gmt-mon-1715utc-open"),
        # New York: EST is UTC-5 before 2026-03-08, EDT is UTC-4 after; back on 2026-11-01.
        pytest.param(NEW_YORK, utc(2026, 3, 6, 13, 30), False, id="ny-est-0830-closed"),
        pytest.param(NEW_YORK, utc(2026, 3, 6, 14), True, id="ny-est-0900-open"),
        pytest.param(NEW_YORK, utc(2026, 3, 9, 13, 30), True, id="ny-edt-0930-open"),
        pytest.param(NEW_YORK, utc(2026, 3, 9, 21), False, id="ny-edt-1700-closed"),
        pytest.param(NEW_YORK, utc(2026, 10, 30, 13), True, id="ny-edt-fri-0900-open"),
        pytest.param(NEW_YORK, utc(2026, 11, 2, 13, 30), False, id="ny-est-mon-0830-closed"),
        pytest.param(NEW_YORK, utc(2026, 11, 2, 21, 30), True, id="ny-est-mon-1630-open"),
        # A range ending at 24:00 runs to midnight, and midnight itself is closed.
        pytest.param(LATE_FRIDAY, utc(2026, 1, 16, 17, 59), False, id="late-before"),
        pytest.param(LATE_FRIDAY, utc(2026, 1, 16, 18), True, id="late-start"),
        pytest.param(LATE_FRIDAY, utc(2026, 1, 16, 23, 59), True, id="late-last-minute"),
        pytest.param(LATE_FRIDAY, utc(2026, 1, 17, 0), False, id="late-midnight-closed"),
        pytest.param(LATE_FRIDAY, utc(2026, 1, 23, 20), False, id="late-holiday"),
        pytest.param(SPLIT, utc(2026, 1, 14, 12, 30), False, id="split-lunch-closed"),
        pytest.param(SPLIT, utc(2026, 1, 14, 13), True, id="split-afternoon-open"),
        pytest.param(ALWAYS_LONDON, utc(2026, 3, 29, 1, 30), True, id="always-in-spring-gap"),
        pytest.param(NEVER, utc(2026, 1, 14, 10), False, id="never-open"),
    ],
)
def test_is_business_time(schedule: Schedule, moment: datetime, expected: bool) -> None:
    assert is_business_time(moment, schedule) is expected


@pytest.mark.parametrize(
    ("schedule", "start", "minutes", "expected"),
    [
        pytest.param(LONDON, utc(2026, 1, 14, 10), 60, utc(2026, 1, 14, 11), id="within-day"),
        pytest.param(LONDON, utc(2026, 1, 14, 17), 30, utc(2026, 1, 14, 17, 30), id="to-close"),
        pytest.param(LONDON, utc(2026, 1, 14, 17), 60, utc(2026, 1, 15, 9, 30), id="overnight"),
        pytest.param(LONDON, utc(2026, 1, 14, 20), 0, utc(2026, 1, 15, 9), id="zero-at-night"),
        pytest.param(LONDON, utc(2026, 1, 14, 2), 30, utc(2026, 1, 14, 9, 30), id="from-night"),
        pytest.param(
            LONDON, utc(2026, 1, 14, 9), 2 * 510, utc(2026, 1, 15, 17, 30), id="two-full-days"
        ),
        pytest.param(LONDON, utc(2026, 1, 16, 17), 60, utc(2026, 1, 19, 9, 30), id="weekend"),
        pytest.param(LONDON, utc(2026, 1, 17, 12), 30, utc(2026, 1, 19, 9, 30), id="from-sat"),
        pytest.param(
            LONDON, utc(2026, 12, 24, 17), 60, utc(2026, 12, 29, 9, 30), id="christmas-holidays"
        ),
        pytest.param(
            LONDON, utc(2026, 3, 27, 17), 60, utc(2026, 3, 30, 8, 30), id="weekend-into-bst"
        ),
        pytest.param(
            LONDON, utc(2026, 10, 23, 16), 60, utc(2026, 10, 26, 9, 30), id="weekend-into-gmt"
        ),
        pytest.param(SPLIT, utc(2026, 1, 14, 11), 90, utc(2026, 1, 14, 13, 30), id="over-lunch"),
        pytest.param(
            NEW_YORK, utc(2026, 3, 6, 21, 45), 30, utc(2026, 3, 9, 13, 15), id="ny-into-edt"
        ),
        pytest.param(
            LATE_FRIDAY, utc(2026, 1, 16, 23), 90, utc(2026, 1, 30, 18, 30), id="late-holiday"
        ),
        # Spring forward: Sunday 2026-03-29 is 23 hours long.
        pytest.param(
            SUNDAYS_LONDON, utc(2026, 3, 29), 23 * 60, utc(2026, 3, 29, 23), id="23h-day-full"
        ),
        pytest.param(
            SUNDAYS_LONDON, utc(2026, 3, 29), 23 * 60 + 1, utc(2026, 4, 4, 23, 1), id="23h-day-over"
        ),
        # Fall back: Sunday 2026-10-25 is 25 hours long (00:00 BST is 23:00 UTC the day before).
        pytest.param(
            SUNDAYS_LONDON, utc(2026, 10, 24, 23), 25 * 60, utc(2026, 10, 26), id="25h-day-full"
        ),
        pytest.param(
            ALWAYS_LONDON, utc(2026, 3, 28, 12), 48 * 60, utc(2026, 3, 30, 12), id="always-spring"
        ),
        pytest.param(
            ALWAYS_LONDON, utc(2026, 10, 24, 12), 48 * 60, utc(2026, 10, 26, 12), id="always-fall"
        ),
        pytest.param(
            ONLY_HOLIDAYS, utc(2026, 1, 14), 60, utc(2026, 1, 23, 10), id="skips-holiday-friday"
        ),
    ],
)
def test_add_business_minutes(
    schedule: Schedule, start: datetime, minutes: int, expected: datetime
) -> None:
    assert add_business_minutes(start, minutes, schedule) == expected


@pytest.mark.parametrize(
    ("start", "minutes"),
    [
        pytest.param(utc(2026, 1, 14), 60, id="an-hour"),
        pytest.param(utc(2026, 3, 29, 1), 0, id="zero-minutes"),
        pytest.param(utc(2026, 12, 31, 23, 59), 1, id="year-end"),
    ],
)
def test_add_business_minutes_never_opens(start: datetime, minutes: int) -> None:
    assert add_business_minutes(start, minutes, NEVER) is None


@pytest.mark.parametrize(
    ("schedule", "moment", "expected"),
    [
        pytest.param(LONDON, utc(2026, 1, 14, 10), "Wed 14 Jan 10:00 Europe/London", id="gmt"),
        pytest.param(LONDON, utc(2026, 3, 30, 8), "Mon 30 Mar 09:00 Europe/London", id="bst"),
        pytest.param(
            NEW_YORK, utc(2026, 1, 17, 2), "Fri 16 Jan 21:00 America/New_York", id="ny-prev-day"
        ),
        pytest.param(LATE_FRIDAY, utc(2026, 1, 16, 23, 59), "Fri 16 Jan 23:59 UTC", id="utc"),
    ],
)
def test_describe_moment(schedule: Schedule, moment: datetime, expected: str) -> None:
    assert describe_moment(moment, schedule) == expected
