"""Who is on call: a team's rotation and overrides at a moment. Pure: no I/O, no clock.

Shift k of the rotation runs from the k-th weekly hand-over to the next, counted from the
first hand-over on or after the team's `starts` date (k is negative before it). Hand-overs
are local wall-clock times, so a daylight-saving change moves them in UTC, never locally.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from afterhours.domain.memo import by_identity
from afterhours.policy.roster import OnCallOverride, OnCallTeam, RotationShift, same_person

_WEEK = timedelta(days=7)


@dataclass(frozen=True)
class OnCallShift:
    """Who is on call for a team over one unbroken stretch, with why and until when.

    `starts` (inclusive) and `ends` (exclusive) are aware UTC datetimes bounding the stretch in
    which this very primary and backup are on call for this reason: a rotation week, cut short
    where an override begins or ends inside it. `backup` is None when an override's primary is
    the rotation's backup of the moment and the override names no backup of its own.
    """

    team: str
    primary: str
    backup: str | None
    starts: datetime
    ends: datetime
    reason: str
    time_zone: str


def on_call_now(team_name: str, team: OnCallTeam, moment: datetime) -> OnCallShift:
    """The shift of `team` that contains `moment` (an aware datetime)."""
    if moment.utcoffset() is None:
        raise ValueError("on_call_now needs an aware moment (with a time zone)")
    moment = moment.astimezone(UTC)
    # A shift is the same for every moment of its stretch (overrides never overlap): the
    # planner asks once per page, so the last one found answers until it ends.
    known = _last_shifts(team)
    last = known.get(team_name)
    if last is not None and last.starts <= moment < last.ends:
        return last
    shift = known[team_name] = _shift_at(team_name, team, moment)
    return shift


def _shift_at(team_name: str, team: OnCallTeam, moment: datetime) -> OnCallShift:
    week, week_starts, week_ends = _rotation_week(team, moment)
    slot = team.rotation[week % len(team.rotation)]
    spans = [(o, *_override_span(o, team.time_zone)) for o in team.overrides]
    active = next(((o, s, e) for o, s, e in spans if s <= moment < e), None)
    if active is not None:
        return _covered(team_name, team, active, slot, (week_starts, week_ends))
    # Overrides never overlap this moment; trim the week to the nearest ones around it.
    starts = max([week_starts, *(e for _, _, e in spans if week_starts < e <= moment)])
    ends = min([week_ends, *(s for _, s, _ in spans if moment < s < week_ends)])
    return OnCallShift(
        team=team_name,
        primary=slot.primary,
        backup=slot.backup,
        starts=starts,
        ends=ends,
        reason=f"rotation week {week % len(team.rotation) + 1}",
        time_zone=team.time_zone,
    )


def describe_shift(shift: OnCallShift) -> str:
    """A short human line: 'alice on call (backup bob) until Mon 30 Nov 09:00 Europe/London'."""
    backup = "no backup" if shift.backup is None else f"backup {shift.backup}"
    until = shift.ends.astimezone(_zone(shift.time_zone)).strftime("%a %d %b %H:%M")
    return f"{shift.primary} on call ({backup}) until {until} {shift.time_zone}"


def handover_at(team: OnCallTeam, week: int) -> datetime:
    """The UTC moment shift `week` begins; week 0 is the first hand-over on or after `starts`."""
    return _at(_first_day(team) + week * _WEEK, team)


def _rotation_week(team: OnCallTeam, moment: datetime) -> tuple[int, datetime, datetime]:
    zone = _zone(team.time_zone)
    first = datetime.combine(_first_day(team), team.handover.at)
    week = (moment.astimezone(zone).replace(tzinfo=None) - first) // _WEEK
    # Wall-clock arithmetic can be an hour out near a clock change; settle on real instants.
    while moment < handover_at(team, week):
        week -= 1
    while moment >= handover_at(team, week + 1):
        week += 1
    return week, handover_at(team, week), handover_at(team, week + 1)


def _first_day(team: OnCallTeam) -> date:
    # The first hand-over on or after `starts`, so a lead need not work out which weekday it is.
    return team.starts + timedelta(days=(team.handover.weekday.number - team.starts.weekday()) % 7)


def _covered(
    team_name: str,
    team: OnCallTeam,
    active: tuple[OnCallOverride, datetime, datetime],
    slot: RotationShift,
    week: tuple[datetime, datetime],
) -> OnCallShift:
    override, starts, ends = active
    reason = override.reason or "override"
    if override.backup is not None:
        backup: str | None = override.backup
    else:
        # The rotation's backup changes at each hand-over, so this pairing lasts at most a week.
        starts, ends = max(starts, week[0]), min(ends, week[1])
        backup = None if same_person(override.primary, slot.backup) else slot.backup
    return OnCallShift(
        team=team_name,
        primary=override.primary,
        backup=backup,
        starts=starts,
        ends=ends,
        reason=reason,
        time_zone=team.time_zone,
    )


def _override_span(override: OnCallOverride, time_zone: str) -> tuple[datetime, datetime]:
    zone = _zone(time_zone)
    return (
        override.from_.replace(tzinfo=zone).astimezone(UTC),
        override.to.replace(tzinfo=zone).astimezone(UTC),
    )


def _at(day: date, team: OnCallTeam) -> datetime:
    # fold=0: a hand-over in an hour the clocks repeat happens the first time round; one in an
    # hour they skip happens an hour later by the clock.
    local = datetime.combine(day, team.handover.at, tzinfo=_zone(team.time_zone))
    return local.astimezone(UTC)


@lru_cache(maxsize=32)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _no_shifts(_: OnCallTeam) -> dict[str, OnCallShift]:
    return {}


_last_shifts = by_identity(_no_shifts, limit=64)
