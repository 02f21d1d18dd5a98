"""The on-call roster as validated data: the `oncall:` section support leads write in YAML.

Each team has a weekly rotation of primary and backup, handed over at a fixed local time,
and overrides for sick leave or holiday cover. Times are the team's local wall-clock times;
`afterhours.domain.oncall` turns them into shifts.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, time
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from afterhours.policy.basics import RuleName, Weekday, check_time_zone, located_errors

_DAY = r"(mon|tue|wed|thu|fri|sat|sun)"
_CLOCK = r"([01]?[0-9]|2[0-3]):([0-5][0-9])"
# What the parsers below accept; the JSON Schema carries the same patterns for editors.
HANDOVER_PATTERN = rf"^\s*{_DAY}\s+{_CLOCK}\s*$"
LOCAL_DATETIME_PATTERN = rf"^\s*([0-9]{{4}})-([0-9]{{2}})-([0-9]{{2}})[ T]{_CLOCK}\s*$"
_HANDOVER = re.compile(HANDOVER_PATTERN)
_LOCAL_DATETIME = re.compile(LOCAL_DATETIME_PATTERN)
# Loose on purpose: it catches "bob@" and "bob@example", not every RFC 5322 corner.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SHOWN = "%Y-%m-%d %H:%M"


def _check_person(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("a person cannot be blank: write a name or an email address")
    if not value.isprintable():
        raise ValueError(f"{value!r} must be on one line, without control characters")
    if "@" in value and not _EMAIL.match(value):
        raise ValueError(
            f"{value!r} does not look like an email address: write it as name@example.com, "
            "or write a plain name without @"
        )
    return value


def _parse_local_datetime(value: object) -> object:
    # YAML reads "2026-11-30 09:00" as text, but "2026-11-30 09:00:00" as a datetime and
    # "2026-11-30" as a date; answer each in words rather than with a type error.
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError(
                "write the local time without a time zone offset, such as '2026-11-30 09:00'; "
                "it is read in the team's time zone"
            )
        return value
    if isinstance(value, date):
        raise ValueError(f"write a date and a time, such as '{value.isoformat()} 09:00'")
    if not isinstance(value, str):
        raise ValueError("expected a date and a time such as '2026-11-30 09:00'")
    match = _LOCAL_DATETIME.match(value)
    if not match:
        raise ValueError(f"expected a date and a time such as '2026-11-30 09:00', got {value!r}")
    try:
        # Naive on purpose: a wall-clock time, placed in the team's zone by the domain.
        year, month, day, hour, minute = (int(part) for part in match.groups())
        return datetime(year, month, day, hour, minute)
    except ValueError as error:
        raise ValueError(f"{value.strip()!r} is not a real date and time: {error}") from None


# A name or an email address; compared without regard to case.
Person = Annotated[
    str,
    AfterValidator(_check_person),
    WithJsonSchema({"type": "string", "minLength": 1, "examples": ["alice@example.com"]}),
]
TimeZoneName = Annotated[str, AfterValidator(check_time_zone)]
# A wall-clock time in the team's time zone, written "YYYY-MM-DD HH:MM".
LocalDateTime = Annotated[
    datetime,
    BeforeValidator(_parse_local_datetime),
    WithJsonSchema(
        {"type": "string", "pattern": LOCAL_DATETIME_PATTERN, "examples": ["2026-11-30 09:00"]}
    ),
]


def same_person(first: str, second: str) -> bool:
    """True when two roster entries name the same person (case is ignored)."""
    return first.casefold() == second.casefold()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Handover(_Strict):
    """The weekly moment one shift hands over to the next, in the team's local time."""

    weekday: Weekday = Field(description="The day of the week: mon, tue, ... sun.")
    at: time = Field(description="The local time of day, HH:MM.")

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        if isinstance(value, str):
            match = _HANDOVER.match(value)
            if not match:
                raise ValueError(
                    f"expected a weekday and a time such as 'mon 09:00', got {value!r}"
                )
            day, hour, minute = match.groups()
            return {"weekday": day, "at": time(int(hour), int(minute))}
        return value

    def __str__(self) -> str:
        return f"{self.weekday.value} {self.at:%H:%M}"


class RotationShift(_Strict):
    """One week of the rotation: who is paged first, and who if they do not answer."""

    primary: Person = Field(description="Who is on call this week: a name or an email address.")
    backup: Person = Field(
        description="Who is paged if the primary does not answer; someone other than the "
        "primary."
    )

    @model_validator(mode="after")
    def _two_people(self) -> RotationShift:
        if same_person(self.primary, self.backup):
            raise ValueError(
                f"the backup must be someone other than the primary (both are {self.primary!r})"
            )
        return self


class OnCallOverride(_Strict):
    """A stretch of time when someone else covers the rotation, such as sick leave."""

    from_: LocalDateTime = Field(
        alias="from",
        description="When the override begins: 'YYYY-MM-DD HH:MM' in the team's time zone.",
    )
    to: LocalDateTime = Field(
        description="When the override ends, after it begins: 'YYYY-MM-DD HH:MM' in the "
        "team's time zone. The rotation takes over again at that moment."
    )
    primary: Person = Field(description="Who is on call instead, for the whole override.")
    backup: Person | None = Field(
        default=None,
        description="Who backs them up. Leave out to keep the rotation's backup of the moment.",
    )
    reason: str | None = Field(
        default=None,
        description="Why, for people reading the roster and the messages: 'sick leave'.",
    )

    @model_validator(mode="after")
    def _sensible(self) -> OnCallOverride:
        if self.to <= self.from_:
            raise ValueError(
                f"an override must end after it starts: 'to' ({self.to:{_SHOWN}}) is not after "
                f"'from' ({self.from_:{_SHOWN}})"
            )
        if self.backup is not None and same_person(self.primary, self.backup):
            raise ValueError(
                f"the backup must be someone other than the primary (both are {self.primary!r})"
            )
        return self

    def describe(self) -> str:
        """The override in a few words, for messages: '2026-11-30 09:00 to ... (carol)'."""
        return f"{self.from_:{_SHOWN}} to {self.to:{_SHOWN}} ({self.primary})"


class OnCallTeam(_Strict):
    """A team's on-call rotation: weekly shifts handed over at a local time, and overrides."""

    description: str = Field(
        default="", description="What the team covers and who keeps its roster; for people."
    )
    time_zone: TimeZoneName = Field(
        description="The IANA time zone of the hand-over and the overrides, such as "
        "Europe/London. Daylight saving is followed: a 09:00 hand-over stays at 09:00 local "
        "time all year.",
        examples=["Europe/London", "America/New_York"],
    )
    handover: Annotated[
        Handover,
        WithJsonSchema(
            {"type": "string", "pattern": HANDOVER_PATTERN, "examples": ["mon 09:00"]}
        ),
    ] = Field(
        description="When each week's shift hands over to the next: a weekday (mon to sun) and "
        "a local time HH:MM, such as 'mon 09:00'."
    )
    starts: date = Field(
        description="The date (YYYY-MM-DD) the rotation begins: the first shift in the list "
        "takes over at the first hand-over on or after this date. Before it, the rotation "
        "counts backwards, as if it had always been running."
    )
    rotation: list[RotationShift] = Field(
        description="The weekly shifts in order, each a primary and a backup. After the last "
        "one the rotation starts again from the first.",
        json_schema_extra={"minItems": 1},
    )
    channel: RuleName | None = Field(
        default=None,
        description="A channel declared under channels: where this team's on-call is paged.",
    )
    overrides: list[OnCallOverride] = Field(
        default=[],
        description="Changes to the rotation for a while, such as sick leave or holiday "
        "cover. Two overrides of one team may not overlap.",
    )
    slack_ids: dict[Person, Annotated[str, Field(pattern=r"^[UW][A-Z0-9]{2,20}$")]] = Field(
        default={},
        description="Each person's Slack member id (profile > ... > Copy member ID), by the "
        "email the rotation names them by: Take it on an escalation message assigns the "
        "ticket to the agent whose id clicked it.",
        examples=[{"alice@acme.example": "U024BE7LH"}],
    )

    @field_validator("rotation")
    @classmethod
    def _not_empty(cls, value: list[RotationShift]) -> list[RotationShift]:
        if not value:
            raise ValueError("the rotation needs at least one shift (a primary and a backup)")
        return value

    @model_validator(mode="after")
    def _overrides_fit(self) -> OnCallTeam:
        # Each problem carries its own path, so `check` can point at the very override.
        problems: list[tuple[tuple[str | int, ...], str]] = []
        zone = ZoneInfo(self.time_zone)
        for i, override in enumerate(self.overrides):
            for key, wall in (("from", override.from_), ("to", override.to)):
                if not _exists(wall, zone):
                    problems.append(
                        (
                            ("overrides", i, key),
                            f"{wall:{_SHOWN}} does not happen in {self.time_zone}: the clocks "
                            "go forward past it that night; pick a time outside the skipped "
                            "hour",
                        )
                    )
        for (i, first), (j, second) in itertools.combinations(enumerate(self.overrides), 2):
            if first.from_ < second.to and second.from_ < first.to:
                problems.append(
                    (
                        ("overrides", j),
                        f"overrides {i + 1} ({first.describe()}) and {j + 1} "
                        f"({second.describe()}) overlap; only one override can apply at a time",
                    )
                )
        if problems:
            raise located_errors("OnCallTeam", "oncall", problems)
        return self

    def people(self) -> tuple[str, ...]:
        """Everyone the team names, once each: the rotation's people first, then the overrides'."""
        named = [person for shift in self.rotation for person in (shift.primary, shift.backup)]
        named += [o.primary for o in self.overrides]
        named += [o.backup for o in self.overrides if o.backup is not None]
        # The same person written Alice@Example.com and alice@example.com is listed once.
        seen: dict[str, str] = {}
        for person in named:
            seen.setdefault(person.casefold(), person)
        return tuple(seen.values())


def _exists(wall: datetime, zone: ZoneInfo) -> bool:
    # A wall time in the hour skipped when clocks go forward comes back changed from a round trip.
    aware = wall.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


# The whole `oncall:` section: team name -> team.
OnCall = dict[RuleName, OnCallTeam]
ONCALL_DESCRIPTION = (
    "On-call rotations by team name: who is on call each week, handed over at a fixed local "
    "time, with overrides for sick leave and holiday cover."
)
