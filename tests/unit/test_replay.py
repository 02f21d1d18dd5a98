"""`replay` on literal tickets: periods, tickets replayed as they arrived, tallies, diffs."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from afterhours.adapters.ports import ExportPage
from afterhours.domain.model import Ticket
from afterhours.inspect.commands import parse_moment, place
from afterhours.inspect.replay import (
    Period,
    compare,
    parse_span,
    replay_policy,
    select_period,
)
from afterhours.inspect.replay_report import build_report, report_to_json
from afterhours.inspect.replay_text import render_report
from afterhours.inspect.simulate import replay_plan
from afterhours.inspect.sources import read_export
from afterhours.policy import LoadedPolicy, load_policy, parse_policy
from factories import make_ticket as base_ticket

POLICY_FILE = Path(__file__).parents[1] / "fixtures" / "classic_policy.yaml"
SOP = load_policy(POLICY_FILE).policy
# The SOP before "down" and "outage" made a ticket P1.
OLD = parse_policy(POLICY_FILE.read_text(encoding="utf-8").replace(
    "keywords: [outage, down, security,", "keywords: [security,"))
FRIDAY_NIGHT = datetime(2026, 11, 20, 22, 40, tzinfo=UTC)
WEDNESDAY_MORNING = datetime(2026, 11, 18, 10, tzinfo=UTC)
LATER = FRIDAY_NIGHT + timedelta(days=2)
PERIOD = Period(datetime(2026, 11, 16, tzinfo=UTC), LATER)


def make_ticket(**overrides: Any) -> Ticket:
    """An open ticket created on a Friday night in London; override any field."""
    return base_ticket(**{"created_at": FRIDAY_NIGHT} | overrides)


def minutes(n: int) -> datetime:
    """`n` minutes after FRIDAY_NIGHT."""
    return FRIDAY_NIGHT + timedelta(minutes=n)


TICKETS = (
    # Answered in 20 minutes and solved in 3 hours: no ladder level reaches it.
    make_ticket(id=1, subject="Production API is down", status="solved",
                first_reply_at=minutes(20), solved_at=minutes(180)),
    make_ticket(id=2, subject="Refund please"),
    make_ticket(id=3, subject="A question", created_at=WEDNESDAY_MORNING),
    make_ticket(id=4, subject="Site is down", first_reply_at=minutes(90)),
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7d", timedelta(days=7)), ("36h", timedelta(hours=36)), ("90m", timedelta(minutes=90)),
     ("2w", timedelta(weeks=2)), (" 12 h ", timedelta(hours=12))],
)
def test_parse_span(text: str, expected: timedelta) -> None:
    assert parse_span(text) == expected


@pytest.mark.parametrize("text", ["7", "0d", "7y", "", "-3d", "1.5d"])
def test_parse_span_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        parse_span(text)


@pytest.mark.parametrize(
    ("given", "end_of_day", "expected"),
    [
        pytest.param(date(2026, 7, 1), False, datetime(2026, 6, 30, 23, tzinfo=UTC), id="day"),
        pytest.param(date(2026, 7, 1), True, datetime(2026, 7, 1, 23, tzinfo=UTC), id="to-day"),
        pytest.param(datetime(2026, 7, 1, 9, 30), True, datetime(2026, 7, 1, 8, 30, tzinfo=UTC),
                     id="naive-time-is-local"),
        pytest.param(datetime(2026, 7, 1, 9, 30, tzinfo=UTC), False,
                     datetime(2026, 7, 1, 9, 30, tzinfo=UTC), id="aware-time"),
    ],
)
def test_dates_and_times_are_read_in_the_policy_zone(
    given: datetime | date, end_of_day: bool, expected: datetime
) -> None:
    assert place(given, SOP.schedule, end_of_day=end_of_day) == expected


def test_parse_moment_tells_dates_from_times() -> None:
    assert parse_moment("2026-11-20") == date(2026, 11, 20)
    assert parse_moment("2026-11-20T18:30Z") == datetime(2026, 11, 20, 18, 30, tzinfo=UTC)
    with pytest.raises(argparse.ArgumentTypeError, match="expected an ISO date"):
        parse_moment("last friday")


def test_select_period_keeps_the_latest_version_and_leaves_out_deleted_and_older() -> None:
    early = make_ticket(id=5, created_at=datetime(2026, 11, 1, tzinfo=UTC))
    first = make_ticket(id=2, subject="old subject")
    selection = select_period(
        [first, early, make_ticket(id=6, status="deleted"), *TICKETS], PERIOD)
    assert [t.id for t in selection.tickets] == [1, 2, 3, 4]
    assert selection.tickets[1].subject == "Refund please"
    assert (selection.read, selection.deleted, selection.outside) == (6, 1, 1)


def test_a_solved_ticket_is_replayed_as_it_arrived() -> None:
    plan = replay_plan(TICKETS[0], SOP, LATER)
    kinds = {(p.rule, p.kind) for p in plan.actions}
    assert ("priority:p1-urgent", "SetPriority") in kinds
    assert ("route:general-inquiry", "AssignGroup") in kinds
    # Replied at 20 minutes and solved at 3 hours: neither ladder's level fell due before.
    assert not any(p.rule.startswith("escalation:") for p in plan.actions)


def test_a_level_counts_only_when_it_fell_due_before_the_reply() -> None:
    plan = replay_plan(TICKETS[3], SOP, LATER)  # replied at 90 minutes, the level is due at 60
    rules = {p.rule for p in plan.actions}
    assert "escalation:p1-first-reply/level:1" in rules
    assert "escalation:unresolved-24h/level:1" in rules
    early = replay_plan(TICKETS[3], SOP, minutes(59))
    assert not any(p.rule.startswith("escalation:") for p in early.actions)


def test_a_closed_ticket_without_solved_at_stops_at_its_last_change() -> None:
    ticket = make_ticket(status="closed", updated_at=minutes(60))
    plan = replay_plan(ticket, SOP, LATER)
    assert "escalation:unresolved-24h/level:1" not in {p.rule for p in plan.actions}


def test_tallies_count_tickets_actions_and_samples_per_rule() -> None:
    replay = replay_policy(TICKETS, SOP, LATER)
    tallies = {t.rule: t for t in replay.tallies}
    assert [t.rule for t in replay.tallies][:4] == [
        "priority:p1-urgent", "priority:p1-vip", "priority:p2-normal", "route:billing"]
    assert {rule: t.tickets for rule, t in tallies.items()} == {
        "priority:p1-urgent": [1, 4],
        "priority:p1-vip": [],
        "priority:p2-normal": [2],
        "route:billing": [2],
        "route:product-bug": [],
        "route:general-inquiry": [1, 4],
        "escalation:p1-first-reply": [1, 4],
        "escalation:p1-first-reply/level:1": [4],
        "escalation:unresolved-24h": [1, 2, 4],
        "escalation:unresolved-24h/level:1": [2, 4],
    }
    assert tallies["priority:p1-urgent"].actions == {"SetPriority": 2, "AddTags": 2}
    assert tallies["route:billing"].actions == {
        "AssignGroup": 1, "AddTags": 1, "NotifyChannel": 1}
    assert tallies["priority:p2-normal"].held_by_hours == [3]
    assert replay.untouched == (3,)


def test_steps_the_ticket_already_has_count_and_are_marked() -> None:
    ticket = make_ticket(subject="Site is down", priority="urgent", tags=frozenset({"p1"}))
    tally = {t.rule: t for t in replay_policy([ticket], SOP, LATER).tallies}
    assert tally["priority:p1-urgent"].actions == {"SetPriority": 1, "AddTags": 1}
    assert tally["priority:p1-urgent"].already == 2


def test_samples_stop_at_five() -> None:
    tickets = [make_ticket(id=n, subject="Refund please") for n in range(1, 9)]
    tally = {t.rule: t for t in replay_policy(tickets, SOP, LATER).tallies}
    assert len(tally["route:billing"].tickets) == 8
    assert tally["route:billing"].sample == [1, 2, 3, 4, 5]


def test_compare_lists_changed_tickets_and_rules_gained_and_lost() -> None:
    diff = compare(replay_policy(TICKETS, SOP, LATER), replay_policy(TICKETS, OLD, LATER))
    assert [c.ticket_id for c in diff.changed] == [1, 4]
    shifts = {s.rule: (s.gained, s.lost) for s in diff.shifts}
    assert shifts["priority:p1-urgent"] == ((1, 4), ())
    assert shifts["priority:p2-normal"] == ((), (1, 4))
    change = diff.changed[0]
    assert "priority:p1-urgent: priority urgent" in change.steps_gained
    assert "priority:p2-normal: priority normal" in change.steps_lost


def test_the_same_policy_shows_no_difference() -> None:
    diff = compare(replay_policy(TICKETS, SOP, LATER), replay_policy(TICKETS, SOP, LATER))
    assert diff.changed == ()
    assert diff.shifts == ()


def report_for(against: bool) -> Any:
    """A whole report on TICKETS, with or without the OLD policy to compare."""
    selection = select_period(TICKETS, PERIOD)
    new = LoadedPolicy(SOP, "new.yaml", "a" * 64)
    old = LoadedPolicy(OLD, "old.yaml", "b" * 64) if against else None
    return build_report(selection, PERIOD, LATER, new, old)


def test_the_text_report_shows_rules_counts_samples_and_the_diff() -> None:
    text = render_report(report_for(against=True))
    for expected in (
        "Replay of 4 tickets created from Mon 16 Nov 00:00 Europe/London until"
        " Sun 22 Nov 22:40 Europe/London",
        "policy new.yaml (sha256 aaaaaaaaaaaa); nothing is changed by replaying.",
        "Evaluated as of Sun 22 Nov 22:40 Europe/London.",
        "even if it is solved or closed",
        "  p1-urgent                       2 tickets  AddTags 2, SetPriority 2  e.g. #1, #4",
        "  billing                         1 ticket   AddTags 1, AssignGroup 1, NotifyChannel 1"
        "  e.g. #2",
        "matched all but the hours condition for 1 ticket, e.g. #3",
        "    level 1 fired                 1 ticket ",
        "No rule matched 1 ticket: e.g. #3",
        "Compared with old.yaml (old) -> new.yaml (new):",
        "  2 of 4 tickets would be handled differently.",
        "    #1 “Production API is down”",
        "       now matches:   priority:p1-urgent, escalation:p1-first-reply\n",
        "       + priority:p1-urgent: priority urgent",
    ):
        assert expected in text, expected


def test_the_text_report_without_a_second_policy_has_no_diff() -> None:
    assert "Compared with" not in render_report(report_for(against=False))


def test_json_report_round_trips() -> None:
    data = report_to_json(report_for(against=True))
    assert json.loads(json.dumps(data)) == data
    assert data["tickets"] == {"read": 4, "replayed": 4, "outside_period": 0, "deleted": 0}
    rules = {r["rule"]: r for r in data["rules"]}
    assert rules["route:billing"]["tickets"] == 1
    assert rules["route:billing"]["sample"] == [2]
    assert data["against"]["tickets_changed"] == 2
    assert data["no_rule"] == {"tickets": 1, "sample": [3]}


@dataclass
class FakeExport:
    """An export of `pages`, recording the cursor and start time of each request."""

    pages: list[ExportPage]
    asked: list[tuple[str | None, datetime]] = field(default_factory=list)

    def export_page(self, cursor: str | None, start_time: datetime) -> ExportPage:
        """The next page, whatever the cursor says."""
        self.asked.append((cursor, start_time))
        return self.pages[len(self.asked) - 1]


def test_read_export_follows_the_cursor_to_the_end() -> None:
    desk = FakeExport([
        ExportPage(TICKETS[:2], "c1", end_of_stream=False),
        ExportPage(TICKETS[2:], "c2", end_of_stream=True),
    ])
    assert read_export(desk, PERIOD.start) == list(TICKETS)
    assert desk.asked == [(None, PERIOD.start), ("c1", PERIOD.start)]


def test_read_export_stops_on_a_cursor_that_does_not_move() -> None:
    desk = FakeExport([ExportPage((), "c1", end_of_stream=False)] * 3)
    assert read_export(desk, PERIOD.start) == []
    assert len(desk.asked) == 2
