"""Escalation ladders in the planner: deadlines, stop conditions, business clocks, keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from afterhours.domain.actions import AddInternalNote, AddTags, AssignGroup, NotifyChannel, Plan
from afterhours.domain.model import History, Ticket
from afterhours.domain.planner import escalation_due, plan_actions
from afterhours.policy import load_policy, parse_policy
from afterhours.policy.model import Policy
from factories import make_ticket as base_ticket

SOP = load_policy(Path(__file__).parents[1] / "fixtures" / "classic_policy.yaml").policy
FRIDAY_EVENING = datetime(2026, 1, 16, 17, tzinfo=UTC)  # London: 30 open minutes left
LADDER = parse_policy(
    """\
version: 1
schedule:
  time_zone: Europe/London
  hours:
    mon: ["09:00-17:30"]
    tue: ["09:00-17:30"]
    wed: ["09:00-17:30"]
    thu: ["09:00-17:30"]
    fri: ["09:00-17:30"]
channels:
  desk: {}
  boss: {}
escalations:
  - name: reply
    levels:
      - after_minutes: 30
        until: first_reply
        notify: desk
        tags: [late_reply]
      - after_minutes: 120
        until: first_reply
        notify: boss
        group: Leads
  - name: open-hours
    when:
      priorities: [high]
    levels:
      - after_minutes: 60
        until: solved
        clock: business
        tags: [slow]
"""
)


def make_ticket(**overrides: Any) -> Ticket:
    """An open ticket created Friday 17:00 London; override any field."""
    return base_ticket(**{
        "id": 9, "subject": "Stuck", "description": "Nothing works.", "status": "open",
        "channel": "web", "requester_email": None, "organization": None,
        "created_at": FRIDAY_EVENING,
    } | overrides)


def escalated(
    ticket: Ticket, minutes: float, policy: Policy = LADDER, settled: frozenset[str] = frozenset()
) -> Plan:
    """The plan `minutes` after the ticket was created."""
    now = ticket.created_at + timedelta(minutes=minutes)
    return plan_actions(ticket, policy, now, History(settled=settled))


def keys(result: Plan) -> list[str]:
    """The plan's action keys, sorted: the order of steps in a level is not a promise."""
    return sorted(p.key for p in result.actions)


LEVEL1 = [
    "ticket:9/escalation:reply/level:1/notify",
    "ticket:9/escalation:reply/level:1/add_tags",
    "ticket:9/escalation:reply/level:1/note",
]
LEVEL2 = [
    "ticket:9/escalation:reply/level:2/notify",
    "ticket:9/escalation:reply/level:2/assign_group",
    "ticket:9/escalation:reply/level:2/note",
]


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        pytest.param(0, [], id="at-creation"),
        pytest.param(29.99, [], id="just-before-level-1"),
        pytest.param(30, LEVEL1, id="at-level-1"),
        pytest.param(119, LEVEL1, id="between"),
        pytest.param(120, LEVEL1 + LEVEL2, id="at-level-2"),
        pytest.param(60 * 24 * 30, LEVEL1 + LEVEL2, id="long-after"),
    ],
)
def test_levels_fall_due_at_their_deadline(minutes: float, expected: list[str]) -> None:
    assert keys(escalated(make_ticket(), minutes)) == sorted(expected)


def test_level_actions() -> None:
    result = escalated(make_ticket(), 120)
    actions = {p.key: p.action for p in result.actions}
    notify = actions["ticket:9/escalation:reply/level:1/notify"]
    assert isinstance(notify, NotifyChannel)
    assert notify.channel == "desk"
    assert "escalation reply level 1: ticket #9" in notify.text
    assert actions["ticket:9/escalation:reply/level:1/add_tags"] == AddTags(9, ("late_reply",))
    assert actions["ticket:9/escalation:reply/level:2/assign_group"] == AssignGroup(9, "Leads")
    note = actions["ticket:9/escalation:reply/level:2/note"]
    assert note == AddInternalNote(
        9,
        "afterhours escalated this ticket (reply, level 2): no first reply within 120 calendar "
        "minutes (due Fri 16 Jan 19:00 Europe/London).\n\n"
        "[afterhours ticket:9/escalation:reply/level:2/note]",  # the marker reconcile finds
    )
    reasons = {p.key: p.reason for p in result.actions}
    assert reasons["ticket:9/escalation:reply/level:1/notify"] == (
        "applies to every ticket; no first reply within 30 calendar minutes "
        "(due Fri 16 Jan 17:30 Europe/London)"
    )
    assert {p.rule for p in result.actions} == {
        "escalation:reply/level:1",
        "escalation:reply/level:2",
    }


def test_settled_level_is_never_replanned() -> None:
    result = escalated(make_ticket(), 120, settled=frozenset(LEVEL1))
    assert keys(result) == sorted(LEVEL2)
    assert not escalated(make_ticket(), 500, settled=frozenset(LEVEL1 + LEVEL2))


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({"first_reply_at": FRIDAY_EVENING + timedelta(minutes=1)}, [], id="replied"),
        pytest.param({"solved_at": FRIDAY_EVENING}, LEVEL1 + LEVEL2, id="solved-at-not-reply"),
        pytest.param({"status": "pending"}, LEVEL1 + LEVEL2, id="pending-still-escalates"),
        pytest.param({"status": "solved"}, [], id="solved"),
        pytest.param({"status": "closed"}, [], id="closed"),
    ],
)
def test_first_reply_levels_stop(overrides: dict[str, Any], expected: list[str]) -> None:
    assert keys(escalated(make_ticket(**overrides), 600)) == sorted(expected)


# Created Friday 17:00 London: 30 open minutes on Friday, 30 more on Monday from 09:00.
MONDAY_DUE = datetime(2026, 1, 19, 9, 30, tzinfo=UTC)
SLOW = "ticket:9/escalation:open-hours/level:1/add_tags"


def test_business_clock_due() -> None:
    level = LADDER.escalations.rules[1].levels[0]
    assert escalation_due(make_ticket(), level, LADDER) == MONDAY_DUE
    calendar = LADDER.escalations.rules[0].levels[0]
    assert escalation_due(make_ticket(), calendar, LADDER) == FRIDAY_EVENING + timedelta(
        minutes=30
    )


@pytest.mark.parametrize(
    ("now", "due"),
    [
        pytest.param(FRIDAY_EVENING + timedelta(minutes=61), False, id="calendar-hour-not-enough"),
        pytest.param(datetime(2026, 1, 18, 23, tzinfo=UTC), False, id="sunday-night"),
        pytest.param(MONDAY_DUE - timedelta(seconds=1), False, id="a-second-early"),
        pytest.param(MONDAY_DUE, True, id="monday-0930"),
    ],
)
def test_business_clock_counts_only_open_hours(now: datetime, due: bool) -> None:
    ticket = make_ticket(priority="high", first_reply_at=FRIDAY_EVENING)
    result = plan_actions(ticket, LADDER, now, History())
    assert (SLOW in keys(result)) is due


def test_business_clock_never_open_never_escalates() -> None:
    closed_desk = parse_policy(
        "version: 1\n"
        "schedule: {time_zone: UTC, hours: {}}\n"
        "escalations:\n"
        "  - name: never\n"
        "    levels: [{after_minutes: 1, until: solved, clock: business}]\n"
    )
    assert not escalated(make_ticket(), 60 * 24 * 365, policy=closed_desk)


@pytest.mark.parametrize(
    ("overrides", "minutes", "expected"),
    [
        pytest.param({"priority": "urgent"}, 59, [], id="p1-before-hour"),
        pytest.param(
            {"priority": "urgent"},
            60,
            ["p1-first-reply/level:1/notify", "p1-first-reply/level:1/add_tags",
             "p1-first-reply/level:1/note"],
            id="p1-at-hour",
        ),
        pytest.param(
            {"priority": "urgent", "first_reply_at": FRIDAY_EVENING}, 60, [], id="p1-replied"
        ),
        pytest.param({"priority": "low"}, 60 * 48, [], id="low-never"),
        pytest.param(
            {"priority": "high", "first_reply_at": FRIDAY_EVENING},
            60 * 24,
            ["unresolved-24h/level:1/notify", "unresolved-24h/level:1/assign_group",
             "unresolved-24h/level:1/add_tags", "unresolved-24h/level:1/note"],
            id="high-24h",
        ),
        pytest.param(
            {"priority": "high", "solved_at": FRIDAY_EVENING}, 60 * 24, [], id="high-solved-at"
        ),
    ],
)
def test_sop_escalations(overrides: dict[str, Any], minutes: int, expected: list[str]) -> None:
    # The ticket is created in business hours so that only the escalations act.
    ticket = make_ticket(created_at=datetime(2026, 1, 14, 10, tzinfo=UTC), **overrides)
    result = escalated(ticket, minutes, policy=SOP)
    assert keys(result) == sorted(f"ticket:9/escalation:{k}" for k in expected)
    groups = [p.action for p in result.actions if isinstance(p.action, AssignGroup)]
    assert groups == ([AssignGroup(9, "Support Leads")] if groups else [])
