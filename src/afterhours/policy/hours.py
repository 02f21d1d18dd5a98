"""The policy's opening hours (schedule:): when the desk is staffed, in its time zone, with
its holidays. Stands apart from the policy's model as the one part about time of day."""

from __future__ import annotations

import itertools
import re
from datetime import date, time
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator, model_validator

from afterhours.policy.basics import Weekday, check_time_zone
from afterhours.policy.conditions import _Strict

_RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class TimeRange(_Strict):
    """Opening hours within one day, start inclusive, end exclusive."""

    start: time
    end: time

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        if isinstance(value, str):
            match = _RANGE.match(value.strip())
            if not match:
                raise ValueError(f"expected HH:MM-HH:MM, got {value!r}")
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            # 24:00 closes a day that runs to midnight.
            end = time(0, 0) if (h2, m2) == (24, 0) else time(h2, m2)
            return {"start": time(h1, m1), "end": end}
        return value

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.end != time(0, 0) and self.end <= self.start:
            raise ValueError("a range must end after it starts (use 24:00 for midnight)")
        return self


def _no_overlap(ranges: list[TimeRange]) -> list[TimeRange]:
    # A validator of each day's list, so that `check` points at that day's line.
    ordered = sorted(ranges, key=lambda r: r.start)
    for before, after in itertools.pairwise(ordered):
        if before.end == time(0, 0) or after.start < before.end:
            raise ValueError(f"these hours overlap: {_span(before)} and {_span(after)};"
                             " merge them into one range")
    return ranges


def _span(hours: TimeRange) -> str:
    end = "24:00" if hours.end == time(0, 0) else f"{hours.end:%H:%M}"
    return f"{hours.start:%H:%M}-{end}"


DayHours = Annotated[list[TimeRange], AfterValidator(_no_overlap)]


class Schedule(_Strict):
    """When the desk is staffed: a time zone, weekly hours and holidays."""

    time_zone: str = Field(
        description="The IANA time zone the hours are in, such as Europe/London or "
        "America/New_York. Daylight saving is followed.",
        examples=["Europe/London", "America/New_York"],
    )
    hours: dict[Weekday, DayHours] = Field(
        description="Open hours per weekday (mon to sun), each a list of HH:MM-HH:MM ranges in "
        "local time; 24:00 is midnight. A day left out is closed all day."
    )
    holidays: list[date] = Field(
        default=[],
        description="Dates (YYYY-MM-DD) when the desk is closed all day, whatever the weekday.",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_time_zone(value)
