"""PagerDuty pages in the planner: a level pages a channel of type pagerduty with one dedup
key for all its repeats, and resolves the incident once the level is no longer needed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from afterhours.domain.actions import NotifyChannel, Plan, ResolvePage, TriggerPage
from afterhours.domain.model import History, Ticket
from afterhours.domain.pages import SUMMARY_LIMIT, severity
from afterhours.domain.planner import plan_actions, plan_with_verdicts
from afterhours.errors import PolicyError
from afterhours.policy import parse_policy
from afterhours.policy.model import Policy
from factories import PAGERDUTY_HEAD, PAGING_LADDER
from factories import make_ticket as base_ticket

CREATED = datetime(2026, 1, 17, 2, tzinfo=UTC)  # Saturday night in London
HEAD = PAGERDUTY_HEAD
PAGING = parse_policy(HEAD + PAGING_LADDER + """\
      - id: lead
        after_minutes: 60
        until: solved
        notify: pager
""")
TRIGGER = "ticket:9/escalation:p1/level:page/page"


def make_ticket(**overrides: Any) -> Ticket:
    """An urgent open ticket created Saturday 02:00 London."""
    return base_ticket(**{"id": 9, "subject": "Production is down", "status": "open",
                          "priority": "urgent", "created_at": CREATED} | overrides)


def plan(ticket: Ticket, minutes: float, settled: set[str] | frozenset[str] = frozenset(),
         policy: Policy = PAGING) -> Plan:
    return plan_actions(ticket, policy, CREATED + timedelta(minutes=minutes),
                        History(settled=frozenset(settled)))


def actions(result: Plan, kind: type) -> list[Any]:
    return [p for p in result.actions if isinstance(p.action, kind)]


def test_a_level_pages_pagerduty_with_its_ledger_key_as_dedup_key() -> None:
    result = plan(make_ticket(), 1)
    (page,) = actions(result, TriggerPage)
    assert page.key == TRIGGER
    assert page.action.dedup_key == TRIGGER
    assert page.action.channel == "pager"
    assert page.action.severity == "critical"
    assert page.action.summary == ("Zendesk #9 (urgent) escalation p1 level 1: "
                                   "Production is down")
    assert page.action.link == "https://acme.zendesk.com/agent/tickets/9"
    # No customer text beyond the subject: the details are afterhours' own.
    assert dict(page.action.details) == {"ticket": "9", "priority": "urgent",
                                         "rule": "escalation:p1/level:page"}
    # The chat channel of the same level still gets its message.
    assert [p.action.channel for p in actions(result, NotifyChannel)] == ["desk"]


def test_a_repeat_pages_the_same_incident() -> None:
    first = plan(make_ticket(), 1)
    settled = {p.key for p in first.actions}
    (repeat,) = actions(plan(make_ticket(), 31, settled), TriggerPage)
    assert repeat.key == "ticket:9/escalation:p1/level:page/repeat:1/page"
    assert repeat.action.dedup_key == TRIGGER


def test_a_settled_page_is_not_sent_again() -> None:
    assert not actions(plan(make_ticket(), 5, {TRIGGER}), TriggerPage)


def test_the_reply_that_stops_the_level_resolves_its_incident_once() -> None:
    answered = make_ticket(replies=1, first_reply_at=CREATED + timedelta(minutes=10))
    result = plan(answered, 12, {TRIGGER})
    (resolve,) = actions(result, ResolvePage)
    assert resolve.key == TRIGGER + "/resolve"
    assert resolve.action == ResolvePage(9, "pager", TRIGGER)
    assert "an agent has replied in public" in resolve.reason
    assert not actions(plan(answered, 13, {TRIGGER, TRIGGER + "/resolve"}), ResolvePage)


def test_the_latest_repeat_is_what_a_resolve_is_keyed_on() -> None:
    repeated = {TRIGGER, "ticket:9/escalation:p1/level:page/repeat:1/page"}
    answered = make_ticket(replies=1, first_reply_at=CREATED + timedelta(minutes=40))
    (resolve,) = actions(plan(answered, 41, repeated), ResolvePage)
    assert resolve.key == "ticket:9/escalation:p1/level:page/repeat:1/page/resolve"
    assert resolve.action.dedup_key == TRIGGER  # one incident for all the repeats


def test_a_level_never_paged_resolves_nothing() -> None:
    answered = make_ticket(replies=1, first_reply_at=CREATED + timedelta(minutes=1))
    assert not actions(plan(answered, 2), ResolvePage)


def test_an_acknowledgement_resolves_the_incident() -> None:
    taken = make_ticket(tags=frozenset({"taken"}))
    (resolve,) = actions(plan(taken, 5, {TRIGGER}), ResolvePage)
    assert "acknowledged: tag 'taken'" in resolve.reason
    assert not actions(plan(taken, 5, {TRIGGER}), TriggerPage)


def test_a_solved_ticket_resolves_every_incident_its_levels_opened() -> None:
    lead = "ticket:9/escalation:p1/level:lead/notify"
    solved = make_ticket(status="solved", solved_at=CREATED + timedelta(minutes=90))
    result = plan(solved, 91, {TRIGGER, lead})
    assert sorted(p.key for p in result.actions) == [lead + "/resolve", TRIGGER + "/resolve"]
    assert all(isinstance(p.action, ResolvePage) for p in result.actions)
    assert result.wake_at is not None  # acted: plan again at once


def test_a_ladder_that_no_longer_applies_resolves_its_incident() -> None:
    lowered = make_ticket(priority="normal")
    (resolve,) = actions(plan(lowered, 5, {TRIGGER}), ResolvePage)
    assert "the ladder p1 no longer applies" in resolve.reason


def test_a_new_cycle_from_the_requester_resolves_the_last_one() -> None:
    policy = parse_policy(HEAD + """\
escalations:
  - name: waiting
    levels:
      - id: nudge
        after_minutes: 30
        from: last_customer_update
        until: answered
        notify: pager
""")
    first = make_ticket(last_customer_update_at=CREATED)
    (page,) = actions(plan(first, 31, policy=policy), TriggerPage)
    later = make_ticket(last_customer_update_at=CREATED + timedelta(minutes=40))
    result = plan(later, 41, {page.key}, policy)
    (resolve,) = actions(result, ResolvePage)
    assert resolve.action.dedup_key == page.key
    assert "wrote again" in resolve.reason
    assert not actions(result, TriggerPage)  # the new cycle is not due yet


def test_explain_shows_the_resolves_of_a_closed_ticket() -> None:
    solved = make_ticket(status="solved", solved_at=CREATED + timedelta(minutes=5))
    result, _ = plan_with_verdicts(solved, PAGING, CREATED + timedelta(minutes=6),
                                   History(settled=frozenset({TRIGGER})))
    assert [p.key for p in result.actions] == [TRIGGER + "/resolve"]


def test_a_long_subject_is_cut_to_pagerdutys_limit() -> None:
    (page,) = actions(plan(make_ticket(subject="x" * 5000), 1), TriggerPage)
    assert len(page.action.summary) == SUMMARY_LIMIT
    assert page.action.summary.endswith("…")


@pytest.mark.parametrize(("priority", "expected"), [
    ("urgent", "critical"), ("high", "error"), ("normal", "warning"), ("low", "info"),
    (None, "warning")])
def test_severity_follows_the_priority(priority: str | None, expected: str) -> None:
    assert severity(priority) == expected


def test_a_route_may_not_page_pagerduty() -> None:
    with pytest.raises(PolicyError, match="only escalation levels may page it"):
        parse_policy(HEAD + "routes:\n  - {name: all, notify: pager}\n")
    with pytest.raises(PolicyError, match="only escalation levels may page it"):
        parse_policy(HEAD + "routes:\n  - {name: all, page: leads}\n")


def test_a_pagerduty_channel_takes_no_mentions() -> None:
    with pytest.raises(PolicyError, match="mentions: is for chat channels"):
        parse_policy(HEAD.replace("{type: pagerduty}", "{type: pagerduty, mentions: [U123]}"))
