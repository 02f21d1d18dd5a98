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
# Field descriptions are what an editor shows on hover (see `afterhours schema`).
_NAME_HELP = (
    "A unique name: lowercase letters, digits, - and _. What a rule did is remembered by its "
    "name, so renaming a rule in use may repeat its notes and messages on open tickets."
)
_WHEN_HELP = (
    "The conditions a ticket must meet; every one given must hold. Leave out to match every "
    "ticket."
)


class Priority(StrEnum):
    """Zendesk's ticket priorities."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


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

    time_zone: str = Field(
        description="The IANA time zone the hours are in, such as Europe/London or "
        "America/New_York. Daylight saving is followed.",
        examples=["Europe/London", "America/New_York"],
    )
    hours: dict[Weekday, list[TimeRange]] = Field(
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
        try:
            ZoneInfo(value)
        # The name is looked up as a file under tzdata: "America" is a directory (OSError).
        except (ZoneInfoNotFoundError, ValueError, OSError):
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

    keywords: list[Keyword] = Field(
        default=[],
        description='Words or phrases to find in the subject or description, as whole words in '
        'any case ("down" does not match "download"). Any one of them is enough.',
    )
    organizations: list[str] = Field(
        default=[], description="Requester organization names, in any case. Any one is enough."
    )
    requester_domains: list[str] = Field(
        default=[],
        description="Requester email domains, such as globex.com. Any one is enough.",
    )
    tags: list[Tag] = Field(
        default=[], description="Zendesk tags; the ticket must have at least one of them."
    )
    channels: list[str] = Field(
        default=[],
        description="Zendesk channels the ticket came in by (via), such as email, web or api. "
        "Any one is enough.",
    )
    priorities: list[Priority] = Field(
        default=[],
        description="Ticket priorities; any one is enough. A ticket without a priority matches "
        "none of them.",
    )
    after_hours: bool | None = Field(
        default=None,
        description="true: only tickets created outside the schedule's hours; false: only "
        "tickets created inside them. Leave out for both.",
    )


class PriorityRule(_Strict):
    """Sets a priority and tags; the first matching rule wins."""

    name: RuleName = Field(description=_NAME_HELP)
    when: Match = Field(default=Match(), description=_WHEN_HELP)
    priority: Priority = Field(description="The priority to set.")
    tags: list[Tag] = Field(default=[], description="Tags to add; the ticket keeps its others.")


class JiraTarget(_Strict):
    """Where a routed ticket is filed in Jira."""

    project: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]+$")] = Field(
        description="The Jira project key, such as ENG."
    )
    issue_type: str = Field(default="Bug", description="The Jira issue type, by name.")
    labels: list[Tag] = Field(
        default=[],
        description="Labels for the issue; zendesk-<ticket id> is always added as well.",
    )


class Route(_Strict):
    """Where a ticket goes; the first matching route wins."""

    name: RuleName = Field(description=_NAME_HELP)
    when: Match = Field(default=Match(), description=_WHEN_HELP)
    group: str | None = Field(
        default=None, description="The Zendesk group to assign the ticket to, by name."
    )
    tags: list[Tag] = Field(default=[], description="Tags to add; the ticket keeps its others.")
    notify: str | None = Field(
        default=None,
        description="A channel declared under channels: to post a message about the ticket to.",
    )
    note: str | None = Field(
        default=None, description="An internal note (seen by agents only) to add to the ticket."
    )
    jira: JiraTarget | None = Field(
        default=None,
        description="File the ticket as a Jira issue, once; the issue is then linked back to the "
        "ticket and the ticket tagged jira_<issue key>.",
    )


class EscalationLevel(_Strict):
    """One rung of a ladder: if `until` has not happened `after_minutes` in, act."""

    after_minutes: Annotated[int, Field(gt=0)] = Field(
        description="How many minutes after the ticket was created this level acts, counted "
        "on its clock."
    )
    until: Literal["first_reply", "solved"] = Field(
        description="What makes this level unnecessary: first_reply (an agent's first public "
        "reply) or solved."
    )
    clock: Literal["calendar", "business"] = Field(
        default="calendar",
        description="calendar: every minute counts; business: only minutes inside the "
        "schedule's hours.",
    )
    notify: str | None = Field(
        default=None,
        description="A channel declared under channels: to post a message about the ticket to.",
    )
    group: str | None = Field(
        default=None, description="The Zendesk group to reassign the ticket to, by name."
    )
    tags: list[Tag] = Field(default=[], description="Tags to add; the ticket keeps its others.")


class Escalation(_Strict):
    """A ladder for the tickets it matches; every matching ladder applies."""

    name: RuleName = Field(description=_NAME_HELP)
    when: Match = Field(default=Match(), description=_WHEN_HELP)
    levels: Annotated[list[EscalationLevel], Field(min_length=1)] = Field(
        description="The levels, each acting once per ticket when it falls due."
    )


class Channel(_Strict):
    """A chat channel; its webhook URL is a secret and comes from settings, not the policy."""

    description: str = Field(
        default="", description="What the channel is and who reads it; for people, not used."
    )


class Policy(_Strict):
    """The whole routing policy: when the desk is staffed, what to do with tickets outside it."""

    version: Literal[1] = Field(description="The policy language version; only 1 exists.")
    schedule: Schedule = Field(
        description="When the desk is staffed; a ticket created outside it is after hours."
    )
    channels: dict[RuleName, Channel] = Field(
        default={},
        description="The chat channels routes and escalations may notify, by name. Their "
        "webhook URLs are secrets, set in AFTERHOURS_WEBHOOKS, not here.",
    )
    priority_rules: list[PriorityRule] = Field(
        default=[],
        description="Rules that set a ticket's priority and add tags. The first rule that "
        "matches wins; those after it are not looked at.",
    )
    routes: list[Route] = Field(
        default=[],
        description="Where tickets go: a group, tags, a note, a chat message, a Jira issue. "
        "The first route that matches wins.",
    )
    escalations: list[Escalation] = Field(
        default=[],
        description="Escalation ladders. Every ladder that matches applies; each level acts "
        "once per ticket.",
    )

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
