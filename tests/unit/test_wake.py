"""When a plan says to plan the ticket again (Plan.wake_at), on literal tickets: each ladder
`from:`, business minutes across a weekend, repeats, promises and hours-dependent rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from afterhours.domain.actions import Plan
from afterhours.domain.model import History, Ticket
from afterhours.domain.planner import plan_actions
from afterhours.policy import parse_policy
from afterhours.policy.model import Policy
from factories import make_ticket as base_ticket

# Friday 16 January 2026, 17:00 in London (UTC in winter): the desk closes at 17:30.
FRIDAY = datetime(2026, 1, 16, 17, tzinfo=UTC)
MONDAY_0900 = datetime(2026, 1, 19, 9, tzinfo=UTC)
HEAD = """\
version: 1
schedule:
  time_zone: Europe/London
  hours: {mon: ["09:00-17:30"], tue: ["09:00-17:30"], wed: ["09:00-17:30"],
          thu: ["09:00-17:30"], fri: ["09:00-17:30"]}
channels: {desk: {}}
reply_promises:
  urgent: {minutes: 60, clock: calendar}
  normal: {minutes: 60, clock: business}
"""


def policy(rules: str) -> Policy:
    """The schedule, a channel and promises above, with `rules` (YAML) after them."""
    return parse_policy(HEAD + rules)


def make_ticket(**overrides: Any) -> Ticket:
    """An open ticket created Friday 17:00 London; override any field."""
    return base_ticket(**{"id": 9, "status": "open", "created_at": FRIDAY} | overrides)


def rested(ticket: Ticket, rules: Policy, now: datetime) -> Plan:
    """The plan at `now` once every earlier plan at `now` was carried out (its keys settled):
    what the daemon stores the wake-up of."""
    history = History()
    for _ in range(5):
        plan = plan_actions(ticket, rules, now, history)
        if not plan:
            return plan
        history = History(history.settled | {p.key for p in plan.actions}
                          | {s.key for s in plan.skips})
    raise AssertionError("still planning")


def ladder(level: str, *, when: str = "{}") -> Policy:
    """A policy with one ladder of one level (YAML flow mapping)."""
    return policy(f"escalations:\n  - name: l\n    when: {when}\n    levels: [{level}]\n")


def test_a_plan_with_actions_wakes_at_once() -> None:
    rules = ladder("{after_minutes: 30, until: solved, notify: desk}")
    now = FRIDAY + timedelta(minutes=45)
    plan = plan_actions(make_ticket(), rules, now, History())
    assert plan.actions
    assert plan.wake_at == now


@pytest.mark.parametrize(
    ("level", "overrides", "expected"),
    [
        pytest.param("{after_minutes: 30, until: solved, notify: desk}", {},
                     FRIDAY + timedelta(minutes=30), id="from-created"),
        pytest.param("{from: last_customer_update, after_minutes: 90, until: answered,"
                     " notify: desk}",
                     {"last_customer_update_at": FRIDAY + timedelta(minutes=20)},
                     FRIDAY + timedelta(minutes=110), id="from-last-customer-update"),
        pytest.param("{from: last_customer_update, after_minutes: 90, until: answered,"
                     " notify: desk}", {}, FRIDAY + timedelta(minutes=90),
                     id="from-last-customer-update-none-yet"),
        # The urgent promise is 60 calendar minutes; the level acts 15 after it.
        pytest.param("{from: first_reply_due, after_minutes: 15, until: first_reply,"
                     " notify: desk}", {"priority": "urgent"},
                     FRIDAY + timedelta(minutes=75), id="from-first-reply-due"),
        # The normal promise is 60 business minutes: 30 on Friday, 30 on Monday from 09:00.
        pytest.param("{from: first_reply_due, after_minutes: 0, until: first_reply,"
                     " notify: desk}", {"priority": "normal"},
                     MONDAY_0900 + timedelta(minutes=30), id="promise-across-the-weekend"),
        pytest.param("{from: first_reply_due, after_minutes: 0, until: first_reply,"
                     " notify: desk}", {"priority": "low"}, None, id="no-promise-no-wake"),
        pytest.param("{after_minutes: 90, until: solved, clock: business, notify: desk}", {},
                     MONDAY_0900 + timedelta(minutes=60), id="business-minutes-weekend"),
    ],
)
def test_the_first_deadline(level: str, overrides: dict[str, Any],
                            expected: datetime | None) -> None:
    plan = rested(make_ticket(**overrides), ladder(level), FRIDAY + timedelta(minutes=5))
    assert plan.wake_at == expected


def test_business_minutes_wake_on_monday_not_at_friday_close() -> None:
    # Nothing changes at 17:30 on Friday, when the desk closes: the clock just stops.
    rules = ladder("{after_minutes: 45, until: solved, clock: business, notify: desk}")
    plan = rested(make_ticket(), rules, FRIDAY + timedelta(minutes=29))
    assert plan.wake_at == MONDAY_0900 + timedelta(minutes=15)
    assert not rested(make_ticket(), rules, datetime(2026, 1, 18, 23, tzinfo=UTC))


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        pytest.param(5, 30, id="before-the-first"),
        pytest.param(30, 50, id="at-the-first"),
        pytest.param(55, 70, id="after-repeat-1"),
        pytest.param(70, None, id="after-the-last-repeat"),
        pytest.param(500, None, id="long-after"),
    ],
)
def test_repeats(minutes: int, expected: int | None) -> None:
    rules = ladder("{after_minutes: 30, until: solved, notify: desk,"
                   " repeat_every_minutes: 20, max_repeats: 2}")
    plan = rested(make_ticket(), rules, FRIDAY + timedelta(minutes=minutes))
    assert plan.wake_at == (None if expected is None else FRIDAY + timedelta(minutes=expected))


def test_business_repeats_skip_the_weekend() -> None:
    rules = ladder("{after_minutes: 15, until: solved, clock: business, notify: desk,"
                   " repeat_every_minutes: 30, max_repeats: 3}")
    # Due 17:15 on Friday; the first repeat needs 15 minutes on Friday and 15 on Monday.
    plan = rested(make_ticket(), rules, FRIDAY + timedelta(minutes=20))
    assert plan.wake_at == MONDAY_0900 + timedelta(minutes=15)


def test_the_earliest_level_of_every_ladder() -> None:
    rules = policy(
        "escalations:\n"
        "  - name: slow\n"
        "    levels: [{after_minutes: 600, until: solved, notify: desk}]\n"
        "  - name: fast\n"
        "    levels:\n"
        "      - {after_minutes: 10, until: solved, notify: desk}\n"
        "      - {after_minutes: 120, until: solved, notify: desk}\n"
    )
    plan = rested(make_ticket(), rules, FRIDAY + timedelta(minutes=30))
    assert plan.wake_at == FRIDAY + timedelta(minutes=120)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({}, FRIDAY + timedelta(minutes=30), id="nothing-stops"),
        pytest.param({"first_reply_at": FRIDAY}, FRIDAY + timedelta(minutes=45),
                     id="a-reply-stops-first-reply"),
        pytest.param({"first_reply_at": FRIDAY, "status": "pending"},
                     FRIDAY + timedelta(minutes=60), id="pending-stops-answered-too"),
        pytest.param({"status": "solved"}, None, id="closed-never-wakes"),
    ],
)
def test_stopped_levels_do_not_wake(overrides: dict[str, Any], expected: datetime | None) -> None:
    rules = policy(
        "escalations:\n"
        "  - name: l\n"
        "    levels:\n"
        "      - {after_minutes: 30, until: first_reply, notify: desk}\n"
        "      - {after_minutes: 45, until: answered, notify: desk}\n"
        "      - {after_minutes: 60, until: solved, notify: desk}\n"
    )
    plan = rested(make_ticket(**overrides), rules, FRIDAY + timedelta(minutes=5))
    assert plan.wake_at == expected


def test_an_acknowledged_ladder_still_wakes_to_say_so() -> None:
    rules = policy(
        "escalations:\n"
        "  - name: l\n"
        "    acknowledged_by: {tags: [ack]}\n"
        "    levels: [{after_minutes: 30, until: solved, notify: desk}]\n"
    )
    ticket = make_ticket(tags=frozenset({"ack"}))
    plan = rested(ticket, rules, FRIDAY + timedelta(minutes=5))
    assert plan.wake_at == FRIDAY + timedelta(minutes=30)
    later = plan_actions(ticket, rules, FRIDAY + timedelta(minutes=30), History())
    assert [s.key for s in later.skips] == ["ticket:9/escalation:l/level:1/acknowledged"]


def test_hours_rules_depend_on_the_creation_time_only() -> None:
    # Created at 17:00 (open hours): planned at 18:00 (closed) it is still a business-hours
    # ticket, so an after-hours rule never starts to match by the clock alone.
    rules = policy(
        "routes:\n"
        "  - name: night\n"
        "    when: {after_hours: true}\n"
        "    group: Night\n"
        "escalations:\n"
        "  - name: night-ladder\n"
        "    when: {after_hours: true}\n"
        "    levels: [{after_minutes: 30, until: solved, notify: desk}]\n"
    )
    for minutes in (5, 60, 60 * 24 * 3):
        plan = rested(make_ticket(), rules, FRIDAY + timedelta(minutes=minutes))
        assert plan.wake_at is None
    night = make_ticket(created_at=FRIDAY + timedelta(hours=2))
    plan = rested(night, rules, night.created_at + timedelta(minutes=5))
    assert plan.wake_at == night.created_at + timedelta(minutes=30)


def test_no_ladder_no_wake() -> None:
    rules = policy("routes:\n  - name: all\n    group: Support\n    notify: desk\n")
    plan = rested(make_ticket(), rules, FRIDAY)
    assert plan.wake_at is None


def test_the_wake_up_is_not_part_of_the_decision() -> None:
    rules = ladder("{after_minutes: 30, until: solved, notify: desk}")
    ticket = make_ticket()
    early = plan_actions(ticket, rules, FRIDAY, History())
    later = plan_actions(ticket, rules, FRIDAY + timedelta(minutes=10), History())
    assert early == later == Plan(9)
    assert early.wake_at == later.wake_at == FRIDAY + timedelta(minutes=30)
    assert replace(early, wake_at=None) == early
