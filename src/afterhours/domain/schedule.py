"""Business-hours arithmetic on a policy schedule: pure functions of aware datetimes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from afterhours.policy.model import Schedule

# A schedule that opens less than once a year is broken; stop looking after that.
_SEARCH_DAYS = 400


@lru_cache(maxsize=32)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_time(moment: datetime, schedule: Schedule) -> datetime:
    """`moment` in the schedule's time zone."""
    return moment.astimezone(_zone(schedule.time_zone))


def is_business_time(moment: datetime, schedule: Schedule) -> bool:
    """True when the desk is staffed at `moment` (an aware datetime)."""
    return any(start <= moment < end for start, end in _open_intervals(moment, schedule, days=1))


def describe_moment(moment: datetime, schedule: Schedule) -> str:
    """A human form of `moment` in the schedule's zone, for reasons and reports."""
    return local_time(moment, schedule).strftime(f"%a %d %b %H:%M {schedule.time_zone}")


def add_business_minutes(start: datetime, minutes: int, schedule: Schedule) -> datetime | None:
    """The moment `minutes` of open desk time after `start`; None if the schedule never opens."""
    remaining = timedelta(minutes=minutes)
    for open_at, close_at in _open_intervals(start, schedule, days=_SEARCH_DAYS):
        begin = max(open_at, start)
        if close_at <= begin:
            continue
        if begin + remaining <= close_at:
            return begin + remaining
        remaining -= close_at - begin
    return None


def _open_intervals(
    moment: datetime, schedule: Schedule, *, days: int
) -> Iterator[tuple[datetime, datetime]]:
    # Intervals are built from local wall-clock times and compared in UTC, so a day that is
    # 23 or 25 hours long across a daylight-saving change counts its real length.
    zone = _zone(schedule.time_zone)
    first = moment.astimezone(zone).date() - timedelta(days=1)  # a range may run past midnight
    holidays = frozenset(schedule.holidays)
    by_day = {day.number: ranges for day, ranges in schedule.hours.items()}
    for offset in range(days + 1):
        day = first + timedelta(days=offset)
        if day in holidays:
            continue
        for span in sorted(by_day.get(day.weekday(), []), key=lambda r: r.start):
            open_at = _at(day, span.start, zone)
            end_day = day + timedelta(days=1) if span.end == time(0, 0) else day
            yield open_at, _at(end_day, span.end, zone)


def _at(day: date, wall: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)

