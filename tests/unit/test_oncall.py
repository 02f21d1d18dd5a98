"""The on-call roster: validating the `oncall:` section, and who is on call at a moment."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from afterhours.domain.oncall import OnCallShift, describe_shift, handover_at, on_call_now
from afterhours.policy.roster import OnCallTeam

ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@example.com"
DAN, ERIN = "Dan", "erin@example.com"
LONDON = "Europe/London"


def team_data(**changes: Any) -> dict[str, Any]:
    """A London team handing over Mondays 09:00, first shift Mon 2 Nov 2026 (GMT, so UTC)."""
    return {
        "description": "Platform on-call",
        "time_zone": LONDON,
        "handover": "mon 09:00",
        "starts": "2026-11-02",
        "rotation": [
            {"primary": ALICE, "backup": BOB},
            {"primary": BOB, "backup": CAROL},
            {"primary": CAROL, "backup": ALICE},
        ],
        "channel": "oncall-lead",
    } | changes


def make_team(**changes: Any) -> OnCallTeam:
    """`team_data` validated."""
    return OnCallTeam.model_validate(team_data(**changes))


def cover(start: str, end: str, primary: str, **more: str) -> dict[str, str]:
    """An override as a lead writes it."""
    return {"from": start, "to": end, "primary": primary, **more}


def at(text: str) -> datetime:
    """'YYYY-MM-DD HH:MM[:SS]' as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


TEAM = make_team()


# --- the rotation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "who", "starts", "ends", "week"),
    [
        # The hand-over itself belongs to the new shift: starts inclusive, ends exclusive.
        ("2026-11-02 09:00", (ALICE, BOB), "2026-11-02 09:00", "2026-11-09 09:00", 1),
        ("2026-11-09 08:59:59", (ALICE, BOB), "2026-11-02 09:00", "2026-11-09 09:00", 1),
        ("2026-11-09 09:00", (BOB, CAROL), "2026-11-09 09:00", "2026-11-16 09:00", 2),
        ("2026-11-20 18:00", (CAROL, ALICE), "2026-11-16 09:00", "2026-11-23 09:00", 3),
        # After the last shift the rotation starts again from the first.
        ("2026-11-23 09:00", (ALICE, BOB), "2026-11-23 09:00", "2026-11-30 09:00", 1),
        ("2027-01-13 12:00", (BOB, CAROL), "2027-01-11 09:00", "2027-01-18 09:00", 2),
        # Before `starts` the rotation runs backwards: the week before is the last shift's.
        ("2026-11-02 08:59", (CAROL, ALICE), "2026-10-26 09:00", "2026-11-02 09:00", 3),
        ("2026-10-20 12:00", (BOB, CAROL), "2026-10-19 08:00", "2026-10-26 09:00", 2),
        ("2020-01-01 00:00", (ALICE, BOB), "2019-12-30 09:00", "2020-01-06 09:00", 1),
    ],
)
def test_rotation(
    moment: str, who: tuple[str, str], starts: str, ends: str, week: int
) -> None:
    shift = on_call_now("platform", TEAM, at(moment))
    reason = f"rotation week {week}"
    assert shift == OnCallShift("platform", *who, at(starts), at(ends), reason, LONDON)


def test_starts_on_another_weekday_waits_for_the_next_handover() -> None:
    # Wednesday 4 November: the first shift starts at the following Monday's hand-over.
    team = make_team(starts="2026-11-04")
    assert handover_at(team, 0) == at("2026-11-09 09:00")
    assert on_call_now("platform", team, at("2026-11-09 09:00")).primary == ALICE
    assert on_call_now("platform", team, at("2026-11-05 12:00")).primary == CAROL


def test_a_moment_in_another_zone_is_the_same_instant() -> None:
    # 09:30 in New York (UTC-5) is 14:30 UTC on Monday 9 November: Bob's week.
    new_york = timezone(timedelta(hours=-5))
    shift = on_call_now("platform", TEAM, datetime(2026, 11, 9, 9, 30, tzinfo=new_york))
    assert shift.primary == BOB
    assert shift.starts.tzinfo is UTC


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        on_call_now("platform", TEAM, datetime(2026, 11, 9, 9))


def test_one_shift_rotation() -> None:
    team = make_team(rotation=[{"primary": DAN, "backup": ERIN}])
    assert on_call_now("solo", team, at("2031-05-05 00:00")).reason == "rotation week 1"


# --- daylight saving: the hand-over stays at 09:00 local and moves in UTC -----------------------


@pytest.mark.parametrize(
    ("handover", "moment", "starts", "ends"),
    [
        # Clocks go forward on Sunday 29 March 2026: 09:00 GMT, then 09:00 BST (08:00 UTC).
        ("mon 09:00", "2026-03-28 12:00", "2026-03-23 09:00", "2026-03-30 08:00"),
        ("mon 09:00", "2026-03-30 07:59", "2026-03-23 09:00", "2026-03-30 08:00"),
        ("mon 09:00", "2026-03-30 08:00", "2026-03-30 08:00", "2026-04-06 08:00"),
        # Clocks go back on Sunday 25 October 2026: 09:00 BST (08:00 UTC), then 09:00 GMT.
        ("mon 09:00", "2026-10-22 12:00", "2026-10-19 08:00", "2026-10-26 09:00"),
        ("mon 09:00", "2026-10-26 08:30", "2026-10-19 08:00", "2026-10-26 09:00"),
        # A hand-over on the very Sunday of each change.
        ("sun 09:00", "2026-03-29 07:59", "2026-03-22 09:00", "2026-03-29 08:00"),
        ("sun 09:00", "2026-03-29 08:00", "2026-03-29 08:00", "2026-04-05 08:00"),
        ("sun 09:00", "2026-10-25 08:59", "2026-10-18 08:00", "2026-10-25 09:00"),
        ("sun 09:00", "2026-10-25 09:00", "2026-10-25 09:00", "2026-11-01 09:00"),
    ],
)
def test_handover_across_daylight_saving(
    handover: str, moment: str, starts: str, ends: str
) -> None:
    shift = on_call_now("platform", make_team(handover=handover), at(moment))
    assert (shift.starts, shift.ends) == (at(starts), at(ends))
    assert describe_shift(shift).endswith(" 09:00 Europe/London")


# --- overrides ---------------------------------------------------------------------------------


def test_override_replaces_the_primary_and_keeps_the_rotation_backup() -> None:
    # Alice is off Tuesday to Thursday of her week; Dan covers and Bob stays the backup.
    team = make_team(overrides=[cover("2026-11-03 09:00", "2026-11-05 09:00", DAN, reason="sick")])
    during = on_call_now("platform", team, at("2026-11-04 03:00"))
    expected = (DAN, BOB, at("2026-11-03 09:00"), at("2026-11-05 09:00"), "sick")
    assert during == OnCallShift("platform", *expected, LONDON)
    # Alice's week is cut short where the override begins and resumes where it ends.
    before = on_call_now("platform", team, at("2026-11-02 12:00"))
    assert (before.primary, before.ends) == (ALICE, at("2026-11-03 09:00"))
    after = on_call_now("platform", team, at("2026-11-05 09:00"))
    assert (after.primary, after.starts, after.ends) == (
        ALICE, at("2026-11-05 09:00"), at("2026-11-09 09:00")
    )
    assert after.reason == "rotation week 1"


def test_override_with_its_own_backup_spans_handovers() -> None:
    holiday = cover("2026-11-06 17:00", "2026-11-13 17:00", DAN, backup=ERIN, reason="holiday")
    shift = on_call_now("platform", make_team(overrides=[holiday]), at("2026-11-10 02:00"))
    expected = (DAN, ERIN, at("2026-11-06 17:00"), at("2026-11-13 17:00"), "holiday")
    assert shift == OnCallShift("platform", *expected, LONDON)
    assert describe_shift(shift) == f"Dan on call (backup {ERIN}) until Fri 13 Nov 17:00 {LONDON}"


def test_override_keeping_the_backup_changes_backup_at_the_handover() -> None:
    team = make_team(overrides=[cover("2026-11-06 17:00", "2026-11-13 17:00", DAN)])
    first = on_call_now("platform", team, at("2026-11-07 00:00"))
    second = on_call_now("platform", team, at("2026-11-10 00:00"))
    assert (first.backup, first.starts, first.ends) == (
        BOB, at("2026-11-06 17:00"), at("2026-11-09 09:00")
    )
    assert (second.backup, second.starts, second.ends) == (
        CAROL, at("2026-11-09 09:00"), at("2026-11-13 17:00")
    )
    assert (first.primary, first.reason) == (DAN, "override")


def test_override_by_the_rotation_backup_leaves_no_backup() -> None:
    team = make_team(overrides=[cover("2026-11-03 09:00", "2026-11-04 09:00", BOB)])
    shift = on_call_now("platform", team, at("2026-11-03 12:00"))
    assert (shift.primary, shift.backup) == (BOB, None)
    assert describe_shift(shift) == f"{BOB} on call (no backup) until Wed 04 Nov 09:00 {LONDON}"


def test_touching_overrides_do_not_overlap() -> None:
    team = make_team(
        overrides=[
            cover("2026-11-03 09:00", "2026-11-05 09:00", DAN, backup=ERIN),
            cover("2026-11-05 09:00", "2026-11-06 09:00", ERIN, backup=DAN),
        ]
    )
    assert on_call_now("platform", team, at("2026-11-05 08:59")).primary == DAN
    assert on_call_now("platform", team, at("2026-11-05 09:00")).primary == ERIN


def test_describe_shift() -> None:
    shift = on_call_now("platform", TEAM, at("2026-11-25 12:00"))
    expected = f"{ALICE} on call (backup {BOB}) until Mon 30 Nov 09:00 {LONDON}"
    assert describe_shift(shift) == expected


# --- validation --------------------------------------------------------------------------------


def problems(**changes: Any) -> list[tuple[str, str]]:
    """(dotted path, message) for each problem validation reports in `team_data(**changes)`."""
    with pytest.raises(ValidationError) as caught:
        make_team(**changes)
    return [
        (".".join(str(part) for part in e["loc"]), e["msg"].removeprefix("Value error, "))
        for e in caught.value.errors()
    ]


UNKNOWN_ZONE = "use an IANA name such as 'Europe/London'"
NOT_HANDOVER = "expected a weekday and a time such as 'mon 09:00', got"
SAME_PERSON = "the backup must be someone other than the primary (both are 'alice@example.com')"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param(
            {"rotation": [{"primary": ALICE, "backup": "Alice@Example.com"}]},
            [("rotation.0", SAME_PERSON)],
            id="backup-is-primary",
        ),
        pytest.param(
            {"overrides": [cover("2026-11-03 09:00", "2026-11-04 09:00", ALICE, backup=ALICE)]},
            [("overrides.0", SAME_PERSON)],
            id="override-backup-is-primary",
        ),
        pytest.param(
            {"time_zone": "Europe/Londn"},
            [("time_zone", "unknown time zone 'Europe/Londn': did you mean 'Europe/London'?")],
            id="bad-time-zone",
        ),
        pytest.param(
            {"time_zone": "America"},
            [("time_zone", f"unknown time zone 'America': {UNKNOWN_ZONE}")],
            id="time-zone-is-a-directory",
        ),
        pytest.param(
            {"handover": "Monday 9am"},
            [("handover", f"{NOT_HANDOVER} 'Monday 9am'")],
            id="bad-handover",
        ),
        pytest.param(
            {"handover": "mon 24:00"}, [("handover", f"{NOT_HANDOVER} 'mon 24:00'")], id="hour-24"
        ),
        pytest.param(
            {"rotaton": []}, [("rotaton", "Extra inputs are not permitted")], id="unknown-field"
        ),
        pytest.param(
            {"rotation": [{"primary": ALICE, "backup": BOB, "bakup": CAROL}]},
            [("rotation.0.bakup", "Extra inputs are not permitted")],
            id="unknown-field-in-shift",
        ),
        pytest.param(
            {"rotation": []},
            [("rotation", "the rotation needs at least one shift (a primary and a backup)")],
            id="empty-rotation",
        ),
        pytest.param(
            {"rotation": [{"primary": "bob@", "backup": " "}]},
            [
                (
                    "rotation.0.primary",
                    "'bob@' does not look like an email address: write it as name@example.com, "
                    "or write a plain name without @",
                ),
                ("rotation.0.backup", "a person cannot be blank: write a name or an email address"),
            ],
            id="bad-people",
        ),
        pytest.param(
            {"overrides": [cover("2026-11-05 09:00", "2026-11-05 09:00", DAN)]},
            [
                (
                    "overrides.0",
                    "an override must end after it starts: 'to' (2026-11-05 09:00) is not after "
                    "'from' (2026-11-05 09:00)",
                )
            ],
            id="override-ends-as-it-starts",
        ),
        pytest.param(
            {"overrides": [{"from": "2026-11-31 09:00", "to": date(2026, 12, 2), "primary": DAN}]},
            [
                (
                    "overrides.0.from",
                    "'2026-11-31 09:00' is not a real date and time: day is out of range for month",
                ),
                ("overrides.0.to", "write a date and a time, such as '2026-12-02 09:00'"),
            ],
            id="override-bad-dates",
        ),
        pytest.param(
            {"overrides": [cover("2027-03-28 01:30", "2027-03-29 09:00", DAN)]},
            [
                (
                    "overrides.0.from",
                    "2027-03-28 01:30 does not happen in Europe/London: the clocks go forward past "
                    "it that night; pick a time outside the skipped hour",
                )
            ],
            id="override-in-skipped-hour",
        ),
        pytest.param(
            {
                "overrides": [
                    cover("2026-11-03 09:00", "2026-11-05 09:00", DAN),
                    cover("2026-12-01 09:00", "2026-12-02 09:00", ERIN),
                    cover("2026-11-04 18:00", "2026-11-06 09:00", ERIN),
                ]
            },
            [
                (
                    "overrides.2",
                    "overrides 1 (2026-11-03 09:00 to 2026-11-05 09:00 (Dan)) and 3 "
                    "(2026-11-04 18:00 to 2026-11-06 09:00 (erin@example.com)) overlap; only one "
                    "override can apply at a time",
                )
            ],
            id="overlapping-overrides",
        ),
    ],
)
def test_invalid_teams(changes: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert problems(**changes) == expected


def test_override_times_may_be_yaml_datetimes() -> None:
    # YAML reads "2026-11-03 09:00:00", with seconds, as a datetime rather than text.
    wall = datetime(2026, 11, 3, 9)  # naive: a local wall-clock time
    team = make_team(overrides=[{"from": wall, "to": "2026-11-04 09:00", "primary": DAN}])
    assert team.overrides[0].from_ == wall


def test_people_lists_everyone_once() -> None:
    team = make_team(
        overrides=[
            cover("2026-11-03 09:00", "2026-11-04 09:00", DAN, backup="ALICE@example.com"),
            cover("2026-12-03 09:00", "2026-12-04 09:00", ERIN),
        ]
    )
    assert team.people() == (ALICE, BOB, CAROL, DAN, ERIN)


def test_handover_and_starts_parse() -> None:
    assert str(TEAM.handover) == "mon 09:00"
    assert TEAM.starts == date(2026, 11, 2)


# --- properties --------------------------------------------------------------------------------

ZONES = ["Europe/London", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "UTC"]
OVERRIDES = [
    [],
    [
        cover("2026-03-27 18:00", "2026-04-02 09:00", DAN),
        cover("2026-10-24 12:00", "2026-10-26 12:00", DAN, backup=ERIN),
        cover("2026-10-26 12:00", "2026-11-20 12:00", ERIN),
    ],
]


@st.composite
def teams(draw: st.DrawFn) -> OnCallTeam:
    """Teams in zones with daylight saving (Lord Howe's by half an hour), any hand-over, start."""
    people = [ALICE, BOB, CAROL]
    day = draw(st.sampled_from(["mon", "tue", "sun"]))
    hour, minute = draw(st.integers(0, 23)), draw(st.sampled_from([0, 30, 59]))
    return make_team(
        time_zone=draw(st.sampled_from(ZONES)),
        handover=f"{day} {hour:02d}:{minute:02d}",
        starts=draw(st.dates(date(2025, 1, 1), date(2027, 12, 31))).isoformat(),
        rotation=[
            {"primary": people[i], "backup": people[(i + 1) % 3]}
            for i in range(draw(st.integers(1, 3)))
        ],
        overrides=draw(st.sampled_from(OVERRIDES)),
    )


MOMENTS = st.datetimes(
    datetime(2000, 1, 1),
    datetime(2060, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=45))]),
)


@settings(max_examples=300, deadline=None)
@given(team=teams(), moment=MOMENTS)
def test_the_shift_contains_the_moment_and_shifts_tile_time(
    team: OnCallTeam, moment: datetime
) -> None:
    shift = on_call_now("t", team, moment)
    assert shift.starts <= moment < shift.ends
    assert shift.starts.tzinfo is UTC
    assert shift.ends.tzinfo is UTC
    # A pure function: the same answer again, and for every moment of the shift.
    assert on_call_now("t", team, moment) == shift
    assert on_call_now("t", team, shift.starts) == shift
    assert on_call_now("t", team, shift.ends - timedelta(microseconds=1)) == shift
    # The next shift begins exactly where this one ends: no gaps, no overlaps.
    assert on_call_now("t", team, shift.ends).starts == shift.ends
    if not team.overrides:
        # A week, give or take a clock change; the list's shift for that week.
        assert abs(shift.ends - shift.starts - timedelta(days=7)) <= timedelta(hours=1)
        index = int(shift.reason.removeprefix("rotation week ")) - 1
        assert (shift.primary, shift.backup) == (
            team.rotation[index].primary, team.rotation[index].backup
        )
