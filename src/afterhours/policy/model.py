"""The routing policy as validated data: what support leads write in YAML.

Every model forbids unknown fields so a typo is an error, not a silently
ignored rule.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, time
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

_RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_NAME = r"^[a-z0-9][a-z0-9_-]*$"

RuleName = Annotated[str, Field(pattern=_NAME, max_length=64)]
Tag = Annotated[str, Field(pattern=r"^[A-Za-z0-9_:./-]+$", max_length=80)]
# A blank keyword would compile to a pattern that matches between any two non-word characters.
Keyword = Annotated[str, Field(pattern=r"\S", max_length=200)]


class Priority(StrEnum):
    """Zendesk's ticket priorities."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class Weekday(StrEnum):
    """Days as written in the policy; `number` matches `date.weekday()`."""

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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class Schedule(_Strict):
    """When the desk is staffed: a time zone, weekly hours and holidays."""

    time_zone: str
    hours: dict[Weekday, list[TimeRange]]
    holidays: list[date] = []

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA name such as 'Europe/London'"
            ) from None
        return value

    @field_validator("hours")
    @classmethod
    def _no_overlap(cls, value: dict[Weekday, list[TimeRange]]) -> dict[Weekday, list[TimeRange]]:
        for day, ranges in value.items():
            ordered = sorted(ranges, key=lambda r: r.start)
            for before, after in itertools.pairwise(ordered):
                if before.end == time(0, 0) or after.start < before.end:
                    raise ValueError(f"hours on {day.value} overlap")
        return value


class Match(_Strict):
    """Conditions on a ticket; every field given must hold, any value within a list may."""

    keywords: list[Keyword] = []  # whole words or phrases in subject or description, any case
    organizations: list[str] = []
    requester_domains: list[str] = []
    tags: list[Tag] = []
    channels: list[str] = []
    priorities: list[Priority] = []
    after_hours: bool | None = None  # True: only tickets created outside business hours


class PriorityRule(_Strict):
    """Sets a priority and tags; the first matching rule wins."""

    name: RuleName
    when: Match = Match()
    priority: Priority
    tags: list[Tag] = []


class JiraTarget(_Strict):
    """Where a routed ticket is filed in Jira."""

    project: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]+$")]
    issue_type: str = "Bug"
    labels: list[Tag] = []


class Route(_Strict):
    """Where a ticket goes; the first matching route wins."""

    name: RuleName
    when: Match = Match()
    group: str | None = None
    tags: list[Tag] = []
    notify: str | None = None
    note: str | None = None
    jira: JiraTarget | None = None


class EscalationLevel(_Strict):
    """One rung of a ladder: if `until` has not happened `after_minutes` in, act."""

    after_minutes: Annotated[int, Field(gt=0)]
    until: Literal["first_reply", "solved"]
    clock: Literal["calendar", "business"] = "calendar"
    notify: str | None = None
    group: str | None = None
    tags: list[Tag] = []


class Escalation(_Strict):
    """A ladder for the tickets it matches; every matching ladder applies."""

    name: RuleName
    when: Match = Match()
    levels: Annotated[list[EscalationLevel], Field(min_length=1)]


class Channel(_Strict):
    """A chat channel; its webhook URL is a secret and comes from settings, not the policy."""

    description: str = ""


class Policy(_Strict):
    """The whole routing policy."""

    version: Literal[1]
    schedule: Schedule
    channels: dict[RuleName, Channel] = {}
    priority_rules: list[PriorityRule] = []
    routes: list[Route] = []
    escalations: list[Escalation] = []

    @model_validator(mode="after")
    def _references(self) -> Policy:
        # Each problem carries its own path, so `check` can point at the very line.
        problems: list[tuple[tuple[str | int, ...], str]] = []
        seen: set[str] = set()
        named: list[tuple[tuple[str | int, ...], str]] = [
            (("priority_rules", i, "name"), r.name) for i, r in enumerate(self.priority_rules)
        ]
        named += [(("routes", i, "name"), r.name) for i, r in enumerate(self.routes)]
        named += [(("escalations", i, "name"), e.name) for i, e in enumerate(self.escalations)]
        for path, name in named:
            if name in seen:
                problems.append((path, f"rule name {name!r} is used twice; names must be unique"))
            seen.add(name)
        notified: list[tuple[tuple[str | int, ...], str | None]] = [
            (("routes", i, "notify"), r.notify) for i, r in enumerate(self.routes)
        ]
        notified += [
            (("escalations", i, "levels", j, "notify"), level.notify)
            for i, e in enumerate(self.escalations)
            for j, level in enumerate(e.levels)
        ]
        declared = ", ".join(sorted(self.channels)) or "none"
        for path, channel in notified:
            if channel is not None and channel not in self.channels:
                problems.append(
                    (path, f"notify names undeclared channel {channel!r}; declared: {declared}")
                )
        if problems:
            raise ValidationError.from_exception_data(
                "Policy",
                [
                    InitErrorDetails(
                        type=PydanticCustomError("reference", message), loc=path, input=None
                    )
                    for path, message in problems
                ],
            )
        return self
