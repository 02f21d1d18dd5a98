"""The policy's basic vocabulary, shared by its sections: names and weekdays."""

from __future__ import annotations

import difflib
import functools
import zoneinfo
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
RuleName = Annotated[str, Field(pattern=NAME_PATTERN, max_length=64)]


class Weekday(StrEnum):
    """A day of the week as written in the policy: mon, tue, wed, thu, fri, sat, sun."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def number(self) -> int:
        """Monday is 0, as in `date.weekday()`."""
        return list(Weekday).index(self)


def located_errors(
    title: str, kind: str, problems: list[tuple[tuple[str | int, ...], str]]
) -> ValidationError:
    """One ValidationError carrying each problem at its own path, so `check` can point at the
    very line of each, all at once."""
    return ValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(type=PydanticCustomError(kind, message), loc=path, input=None)
            for path, message in problems
        ],
    )


def check_time_zone(value: str) -> str:
    """Return `value` if it is a known IANA time zone; raise a lead-readable ValueError if not."""
    try:
        ZoneInfo(value)
    # The name is looked up as a file under tzdata: "America" is a directory (OSError).
    except (ZoneInfoNotFoundError, ValueError, OSError):
        close = _closest_zone(value)
        hint = f"did you mean {close!r}?" if close else "use an IANA name such as 'Europe/London'"
        raise ValueError(f"unknown time zone {value!r}: {hint}") from None
    return value


@functools.cache
def _zones() -> dict[str, str]:
    """Every IANA zone name, by its lower-case form."""
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def _closest_zone(value: str) -> str | None:
    """The IANA name `value` most likely meant: the same in another case, or a near spelling."""
    zones = _zones()
    wanted = value.strip().replace(" ", "_").lower()
    if wanted in zones:
        return zones[wanted]
    close = difflib.get_close_matches(wanted, zones, n=1, cutoff=0.75)
    return zones[close[0]] if close else None
