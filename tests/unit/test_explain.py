"""`explain` on literal tickets: arrival reasons, first-match verdicts, deadlines, the report."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from afterhours.adapters.state import AuditRow
from afterhours.domain.model import History, Ticket
from afterhours.domain.planner import plan_with_verdicts
from afterhours.domain.schedule import is_business_time
from afterhours.inspect.explain import Ledger, explain_ticket, explanation_to_json
from afterhours.inspect.explain_text import render_explanation
from afterhours.inspect.verdicts import hours_reason
from afterhours.policy import load_policy, parse_policy
from factories import make_ticket as base_ticket

SOP = load_policy(Path(__file__).parents[1] / "fixtures" / "classic_policy.yaml").policy
FRIDAY_NIGHT = datetime(2026, 11, 20, 22, 40, tzinfo=UTC)  # London is on GMT in November
NO_LEDGER = Ledger("state.sqlite3", found=False)


def make_ticket(**overrides: Any) -> Ticket:
    """An open ticket created on a Friday night in London; override any field."""
    return base_ticket(**{"created_at": FRIDAY_NIGHT} | overrides)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        pytest.param(datetime(2026, 11, 20, 18, tzinfo=UTC),
                     "18:00 is outside Friday's hours 09:00-17:30", id="evening"),
        pytest.param(datetime(2026, 11, 18, 10, tzinfo=UTC),
                     "10:00 is within Wednesday's hours 09:00-17:30", id="open"),
        pytest.param(datetime(2026, 11, 21, 10, tzinfo=UTC),
                     "the desk is closed all day on Saturdays", id="weekend"),
        pytest.param(datetime(2026, 12, 25, 10, tzinfo=UTC),
                     "2026-12-25 is a holiday in the schedule: closed all day", id="holiday"),
        pytest.param(datetime(2026, 7, 3, 8, 30, tzinfo=UTC),  # 09:30 BST
                     "09:30 is within Friday's hours 09:00-17:30", id="summer-time"),
    ],
)
def test_hours_reason_names_the_schedule_fact(moment: datetime, expected: str) -> None:
    after = not is_business_time(moment, SOP.schedule)
    assert hours_reason(moment, SOP.schedule, after_hours=after) == expected


def test_a_range_to_midnight_is_written_as_2400() -> None:
    policy = parse_policy(
        "version: 1\nschedule:\n  time_zone: UTC\n  hours:\n    mon: ['18:00-24:00']\n")
    moment = datetime(2026, 11, 16, 12, tzinfo=UTC)
    assert hours_reason(moment, policy.schedule, after_hours=True) == (
        "12:00 is outside Monday's hours 18:00-24:00")


def test_first_match_marks_the_winner_and_the_rules_it_shadows() -> None:
    ticket = make_ticket(subject="Production API is down")
    _, verdicts = plan_with_verdicts(ticket, SOP, ticket.created_at, History())
    statuses = [(v.name, v.status, v.shadowed_by) for v in verdicts.priority_rules]
    assert statuses == [
        ("p1-urgent", "won", None),
        ("p1-vip", "not considered", "p1-urgent"),
        ("p2-normal", "not considered", "p1-urgent"),
    ]
    assert verdicts.priority_rules[0].verdict.held == (
        "keyword 'down' in subject", "created after hours (Fri 20 Nov 22:40 Europe/London)")
    assert verdicts.winner(verdicts.routes) is not None
    assert [v.status for v in verdicts.routes] == ["not matched", "not matched", "won"]


def test_a_ladder_keyed_on_priority_applies_once_the_plan_sets_it() -> None:
    ticket = make_ticket(subject="Production API is down")
    explained = explain_ticket(ticket, SOP, FRIDAY_NIGHT + timedelta(minutes=5), NO_LEDGER)
    ladders = {ladder.verdict.name: ladder for ladder in explained.ladders}
    assert ladders["p1-first-reply"].applies == "after this plan"
    level = ladders["p1-first-reply"].levels[0]
    assert level.due == FRIDAY_NIGHT + timedelta(minutes=60)
    assert (level.state, level.note) == ("pending", "not yet due: in 55m")
    assert {p.kind for p in explained.plan.actions} >= {"SetPriority", "AddTags", "AssignGroup"}


@pytest.mark.parametrize(
    ("overrides", "now_after", "state", "note"),
    [
        pytest.param({}, timedelta(hours=2), "due", "due 1h ago: fires now", id="due"),
        pytest.param({"first_reply_at": FRIDAY_NIGHT + timedelta(minutes=20)},
                     timedelta(hours=2), "stopped",
                     "stopped by the first reply Fri 20 Nov 23:00 Europe/London", id="replied"),
        pytest.param({}, timedelta(minutes=30), "pending", "not yet due: in 30m", id="pending"),
    ],
)
def test_each_level_says_where_the_ticket_stands(
    overrides: dict[str, Any], now_after: timedelta, state: str, note: str
) -> None:
    # "down" keeps the P1 rule agreeing with the urgent priority the ticket already has.
    ticket = make_ticket(priority="urgent", subject="Site down", **overrides)
    explained = explain_ticket(ticket, SOP, FRIDAY_NIGHT + now_after, NO_LEDGER)
    level = explained.ladders[0].levels[0]
    assert (explained.ladders[0].applies, level.state, level.note) == ("yes", state, note)


def test_a_level_the_ledger_recorded_as_done_is_already_fired() -> None:
    ticket = make_ticket(priority="urgent", subject="Site down")
    rule = "escalation:p1-first-reply/level:1"
    key = f"ticket:7/{rule}/notify"
    row = AuditRow(1, "2026-11-20T23:45:00+00:00", 7, key, rule, "NotifyChannel", "done",
                   "no first reply", {})
    ledger = Ledger("state.sqlite3", True, History(frozenset({key})), (row,))
    explained = explain_ticket(ticket, SOP, FRIDAY_NIGHT + timedelta(hours=2), ledger)
    level = explained.ladders[0].levels[0]
    assert (level.state, level.note) == ("fired", "already fired Fri 20 Nov 23:45 Europe/London")
    assert key not in {p.key for p in explained.plan.actions}
    text = render_explanation(explained)
    assert "Ledger (state.sqlite3):" in text
    assert "done     escalation:p1-first-reply/level:1 NotifyChannel: no first reply" in text


def test_the_jira_issues_a_ticket_hangs_off_and_what_flowed_back_are_shown() -> None:
    key = "sync:ENG-1/ticket:7/change:10001/note"
    row = AuditRow(2, "2026-11-21T09:00:00+00:00", 7, key, "sync:ENG-1", "AddInternalNote",
                   "done", "ENG-1 changed", {"issue_key": "ENG-1"})
    ledger = Ledger("state.sqlite3", True, History(frozenset({key})), (row,), ("ENG-1", "OPS-3"))
    explained = explain_ticket(make_ticket(), SOP, FRIDAY_NIGHT, ledger)
    text = render_explanation(explained)
    assert "hangs off Jira ENG-1, OPS-3: what flowed back either way is below" in text
    assert "done     sync:ENG-1 AddInternalNote: ENG-1 changed" in text
    assert explanation_to_json(explained)["ledger"]["linked_issues"] == ["ENG-1", "OPS-3"]


def test_a_business_clock_that_never_opens_has_no_deadline() -> None:
    policy = parse_policy(
        "version: 1\nschedule:\n  time_zone: UTC\n  hours: {}\nescalations:\n"
        "  - name: slow\n    levels:\n      - after_minutes: 30\n        until: solved\n"
        "        clock: business\n")
    explained = explain_ticket(make_ticket(), policy, FRIDAY_NIGHT, NO_LEDGER)
    level = explained.ladders[0].levels[0]
    assert (level.due, level.state) == (None, "never")


def test_the_text_report_answers_each_question() -> None:
    ticket = make_ticket(subject="Refund for double charge")
    text = render_explanation(explain_ticket(ticket, SOP, FRIDAY_NIGHT, NO_LEDGER))
    for expected in (
        "Ticket #7 “Refund for double charge”",
        "Arrival: AFTER HOURS, created Fri 20 Nov 22:40 Europe/London",
        "  because 22:40 is outside Friday's hours 09:00-17:30.",
        "Priority rules: the first rule that matches wins:",
        "  3. p2-normal: WON",
        "  1. billing: WON",
        "       yes: keyword 'refund' in subject",
        "  2. product-bug: not considered (billing won first; on its own it would not match)",
        "  unresolved-24h: applies once the planned changes below are made",
        "  - group Finance  [AssignGroup, route:billing]",
        "Ledger: no state file at state.sqlite3",
    ):
        assert expected in text, expected
    assert "Traceback" not in text


def test_a_solved_ticket_is_explained_but_nothing_is_planned() -> None:
    ticket = make_ticket(status="solved", subject="Site is down",
                         solved_at=FRIDAY_NIGHT + timedelta(hours=1))
    text = render_explanation(explain_ticket(ticket, SOP, FRIDAY_NIGHT, NO_LEDGER))
    assert "The ticket is solved: afterhours plans nothing for it" in text
    assert "  1. p1-urgent: WON" in text
    assert "nothing to do: the ticket is solved" in text


def test_a_business_hours_ticket_says_no_rule_applies() -> None:
    ticket = make_ticket(created_at=datetime(2026, 11, 18, 10, tzinfo=UTC))
    text = render_explanation(explain_ticket(ticket, SOP, FRIDAY_NIGHT, NO_LEDGER))
    assert "Arrival: in business hours" in text
    assert "=> no priority rule matches: nothing from this block" in text
    assert "nothing to do: no rule applies to this ticket" in text


def test_json_carries_every_section_and_round_trips() -> None:
    ticket = make_ticket(subject="Production API is down")
    data = explanation_to_json(explain_ticket(ticket, SOP, FRIDAY_NIGHT, NO_LEDGER))
    assert json.loads(json.dumps(data)) == data
    assert data["arrival"]["after_hours"] is True
    assert [r["status"] for r in data["priority_rules"]] == [
        "won", "not considered", "not considered"]
    assert data["escalations"][0]["levels"][0]["due_at"] == "2026-11-20T23:40:00+00:00"
    assert {a["kind"] for a in data["plan"]["actions"]} >= {"SetPriority"}
    assert data["ledger"] == {"state_db": "state.sqlite3", "found": False, "settled": [],
                              "jira_issue": None, "linked_issues": [], "audit": []}


SHIPPED = load_policy(Path(__file__).parents[2] / "config" / "policy.yaml").policy
EVERY_LEVEL = parse_policy("""
version: 1
schedule: {time_zone: Europe/London, hours: {mon: ["09:00-17:30"]}}
reply_promises: {urgent: {minutes: 60, clock: calendar}}
channels: {leads: {}}
templates: {sorry: "Sorry, {ticket_id}"}
escalations:
  - name: waiting
    acknowledged_by: {tags: [taken], assignee: true}
    levels:
      - from: last_customer_update
        after_minutes: 120
        clock: business
        until: answered
        priority: high
        assignee: lead@acme.example
        remove_tags: [quiet]
        reply: sorry
        note: "Still waiting on us"
""")


def level_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("level ")]


def test_levels_are_described_as_the_policy_says_them() -> None:
    # The shipped SOP: a P1 page at once, a repeating page, a promise missed, 24 hours.
    ticket = make_ticket(subject="Production API is down", priority="urgent")
    text = render_explanation(explain_ticket(ticket, SHIPPED, FRIDAY_NIGHT, NO_LEDGER))
    assert level_lines(text) == [
        "level 1: at creation, unless an agent's first public reply -> page support-leads"
        " (whoever is on call), tags escalated_oncall, internal note",
        "level 2: 30 calendar minutes after creation, then every 30 calendar minutes up to 3"
        " more times, unless an agent's first public reply -> page support-leads (whoever is"
        " on call), internal note",
        "level 1: at the promised first reply time, unless an agent's first public reply ->"
        " notify support-lead, tags reply_overdue, internal note",
        "level 1: 1440 calendar minutes after creation, unless solved -> notify support-lead,"
        " group Support Leads, tags escalated_team_lead, internal note",
    ]
    assert ("the whole ladder stops once acknowledged: tag oncall_ack or an agent's public"
            " reply") in text


def test_answered_assignee_priority_reply_and_the_start_point_are_all_shown() -> None:
    text = render_explanation(explain_ticket(make_ticket(), EVERY_LEVEL, FRIDAY_NIGHT,
                                             NO_LEDGER))
    assert level_lines(text) == [
        "level 1: 120 business minutes after the requester's last update, unless an answer"
        " (the ticket pending or solved) -> priority high, assignee lead@acme.example,"
        " remove tags quiet, public reply sorry, internal note “Still waiting on us”",
    ]
    assert "acknowledged: tag taken or an assignee is set" in text
    found = explanation_to_json(explain_ticket(make_ticket(), EVERY_LEVEL, FRIDAY_NIGHT,
                                               NO_LEDGER))
    [level] = found["escalations"][0]["levels"]
    assert (level["from"], level["until"], level["does"][0]) == (
        "last_customer_update", "answered", "priority high")
