"""The schedule fact behind a ticket's arrival verdict, in words a lead can check.

Whether a ticket arrived after hours is the planner's verdict (`domain.verdicts.Arrival`);
this only says why, from the same schedule.
"""

from __future__ import annotations

from datetime import datetime, time

from afterhours.domain.schedule import local_time
from afterhours.policy.model import Schedule, Weekday

_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def hours_reason(moment: datetime, schedule: Schedule, *, after_hours: bool) -> str:
    """The schedule fact behind `after_hours`: a holiday, a closed day or the day's hours."""
    local = local_time(moment, schedule)
    day_name = _DAY_NAMES[local.weekday()]
    if local.date() in schedule.holidays:
        return f"{local.date().isoformat()} is a holiday in the schedule: closed all day"
    ranges = next((r for d, r in schedule.hours.items() if d == _weekday(local.weekday())), [])
    if not ranges:
        return f"the desk is closed all day on {day_name}s"
    spans = ", ".join(
        f"{_clock(r.start)}-{_clock(r.end, end=True)}"
        for r in sorted(ranges, key=lambda r: r.start)
    )
    inside = "outside" if after_hours else "within"
    return f"{local.strftime('%H:%M')} is {inside} {day_name}'s hours {spans}"


def _weekday(number: int) -> Weekday:
    return list(Weekday)[number]


def _clock(moment: time, *, end: bool = False) -> str:
    # The policy writes a range that runs to midnight as 24:00; say it the same way back.
    return "24:00" if end and moment == time(0, 0) else moment.strftime("%H:%M")
