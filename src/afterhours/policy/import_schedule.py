"""A Zendesk business-hours schedule, as its API answers it, turned into a policy `schedule:` block.

Pure: JSON in, YAML text out. Zendesk counts an interval's `start_time` and `end_time` in
minutes from Sunday 00:00 of the schedule's week, in the schedule's own time zone (a Rails
name); the policy wants IANA zone names, local HH:MM ranges per weekday and holiday dates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import yaml
from pydantic import ValidationError

from afterhours.errors import ConfigError
from afterhours.policy.model import Schedule
from afterhours.policy.rails_zones import iana_zone

DAY = 24 * 60
WEEK = 7 * DAY
# Zendesk's week starts on Sunday; the policy lists days Monday first.
_ZENDESK_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_POLICY_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A holiday longer than a year is a typo in Zendesk, not a closure to write out day by day.
MAX_HOLIDAY_DAYS = 366
_COMMENT_COLUMN = 34
_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9/_+-]*$")

Minutes = tuple[int, int]  # [start, end) in minutes from local midnight; end may be 1440


class ScheduleImportError(ConfigError):
    """Schedule JSON that cannot be turned into a policy schedule."""


def weekly_hours(intervals: Sequence[Mapping[str, Any]]) -> dict[str, list[Minutes]]:
    """Zendesk's week intervals as minute ranges per policy weekday (mon..sun).

    An interval that crosses midnight is split into one range per day (the first ends at
    24:00); one that runs past Saturday midnight continues on Sunday. Ranges that touch or
    overlap within a day are merged. Days without hours are left out.
    """
    per_day: dict[str, list[Minutes]] = {}
    for index, interval in enumerate(intervals):
        start, end = _interval(index, interval)
        moment = start
        while moment < end:
            day_start = moment - moment % DAY
            until = min(end, day_start + DAY)
            day = _ZENDESK_DAYS[(day_start // DAY) % 7]
            per_day.setdefault(day, []).append((moment - day_start, until - day_start))
            moment = until
    return {day: _merged(per_day[day]) for day in _POLICY_DAYS if day in per_day}


def holiday_dates(holidays: Sequence[Mapping[str, Any]]) -> dict[date, list[str]]:
    """Every date the holidays close, in order, with the holiday names closing it.

    A holiday from `start_date` to `end_date` (both included) closes each date between:
    the policy lists single dates, so ranges are written out day by day.
    """
    closed: dict[date, list[str]] = {}
    for index, holiday in enumerate(holidays):
        name = str(holiday.get("name") or f"holiday {holiday.get('id', index)}")
        start = _date(holiday, "start_date", name)
        end = _date(holiday, "end_date", name)
        if end < start:
            raise ScheduleImportError(
                f"holiday {name!r} ends ({end}) before it starts ({start})")
        days = (end - start).days + 1
        if days > MAX_HOLIDAY_DAYS:
            raise ScheduleImportError(
                f"holiday {name!r} runs {days} days ({start} to {end}); at most "
                f"{MAX_HOLIDAY_DAYS} are imported: fix it in Zendesk")
        label = name if days == 1 else f"{name} ({start} to {end})"
        for offset in range(days):
            closed.setdefault(start + timedelta(days=offset), []).append(label)
    return dict(sorted(closed.items()))


def schedule_yaml(schedule: Mapping[str, Any], holidays: Sequence[Mapping[str, Any]]) -> str:
    """A commented `schedule:` block from a Zendesk schedule and its holidays (API JSON).

    The block is checked against the policy's `Schedule` before it is returned;
    ScheduleImportError (a ConfigError) says what in the JSON could not be used.
    """
    zendesk_zone = schedule.get("time_zone")
    if not isinstance(zendesk_zone, str):
        raise ScheduleImportError("the schedule has no time_zone")
    zone = iana_zone(zendesk_zone)
    intervals = schedule.get("intervals") or []
    if not isinstance(intervals, list):
        raise ScheduleImportError("the schedule's intervals are not a list")
    hours = weekly_hours(intervals)
    closed = holiday_dates(holidays)
    name, ident = _quoted(str(schedule.get("name") or "")), _comment(str(schedule.get("id")))
    lines = [
        f"# Imported from Zendesk business-hours schedule {name} (id {ident}),",
        f"# whose time zone is {_quoted(zendesk_zone)}, by `afterhours import-schedule`.",
        "# Put it in place of your policy's schedule: block, then run `afterhours check`.",
        "schedule:",
        _commented(f"  time_zone: {_scalar(zone)}",
                   "IANA name; daylight saving is followed" if zone == zendesk_zone
                   else f"Zendesk: {_comment(zendesk_zone)}"),
    ]
    if hours:
        lines.append(_commented("  hours:", "local HH:MM-HH:MM (24:00 = midnight)"))
        lines += [f"    {day}: [{', '.join(_range(r) for r in ranges)}]"
                  for day, ranges in hours.items()]
        closed_days = [day for day in _POLICY_DAYS if day not in hours]
        if closed_days:
            lines.append(f"    # closed all day: {', '.join(closed_days)}")
    else:
        lines.append(_commented("  hours: {}", "no hours in Zendesk: closed all week"))
    if closed:
        lines.append(_commented("  holidays:", "closed all day, whatever the weekday"))
        lines += [_commented(f"    - {day.isoformat()}", "; ".join(_comment(n) for n in names))
                  for day, names in closed.items()]
    else:
        lines.append(_commented("  holidays: []", "none in Zendesk"))
    text = "\n".join(lines) + "\n"
    _check(text)
    return text


def _interval(index: int, interval: Mapping[str, Any]) -> Minutes:
    start, end = _whole(interval.get("start_time")), _whole(interval.get("end_time"))
    if start is None or end is None:
        raise ScheduleImportError(
            f"interval {index}: start_time and end_time must be whole minutes, got "
            f"{interval.get('start_time')!r} and {interval.get('end_time')!r}")
    if not 0 <= start < WEEK or not start < end <= start + WEEK:
        raise ScheduleImportError(
            f"interval {index}: {start}-{end} is not a range of minutes within a week "
            f"(0 <= start_time < {WEEK}, start_time < end_time)")
    return start, end


def _whole(value: object) -> int | None:
    # bool is an int to Python; it is no minute count.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _merged(ranges: list[Minutes]) -> list[Minutes]:
    merged: list[Minutes] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _date(holiday: Mapping[str, Any], field: str, name: str) -> date:
    value = holiday.get(field)
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ScheduleImportError(
            f"holiday {name!r}: {field} {value!r} is not a date (YYYY-MM-DD)") from None


def _range(minutes: Minutes) -> str:
    (h1, m1), (h2, m2) = divmod(minutes[0], 60), divmod(minutes[1], 60)
    return f'"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}"'


def _scalar(value: str) -> str:
    # IANA names are safe plain scalars; anything else is quoted (JSON strings are YAML).
    return value if _PLAIN.match(value) else json.dumps(value)


def _comment(text: str) -> str:
    # A name from Zendesk must stay on its comment line: no line breaks or control characters.
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())[:120]


def _quoted(text: str) -> str:
    return json.dumps(_comment(text), ensure_ascii=False)


def _commented(line: str, comment: str) -> str:
    return f"{line.ljust(_COMMENT_COLUMN)} # {comment}" if comment else line


def _check(text: str) -> None:
    data = yaml.safe_load(text)
    try:
        Schedule.model_validate(data["schedule"])
    except ValidationError as error:  # a bug here, not in the input: say so plainly
        raise ScheduleImportError(f"the imported schedule does not validate: {error}") from None
