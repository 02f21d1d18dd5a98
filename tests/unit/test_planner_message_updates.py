"""Slack Web API messages in the planner: once an escalation level stops, each message it
posted through the Web API is planned one update (chat.update) saying why; a webhook's
message, which cannot be changed, is planned none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from afterhours.adapters.state import StateStore
from afterhours.clock import ManualClock
from afterhours.domain.actions import Plan, UpdateChatMessage
from afterhours.domain.model import History, Ticket
from afterhours.domain.planner import plan_actions, plan_with_verdicts
from afterhours.inspect.words import describe_action
from afterhours.outcomes import Recorder
from afterhours.policy import parse_policy
from factories import PAGERDUTY_HEAD, PAGING_LADDER
from factories import make_ticket as base_ticket

CREATED = datetime(2026, 1, 17, 2, tzinfo=UTC)  # Saturday night in London
POLICY = parse_policy(PAGERDUTY_HEAD.replace(
    "  desk: {}\n", "  desk: {}\n  room: {type: slack, conversation: C0ONCALL1}\n")
    + PAGING_LADDER.replace("        notify: desk\n", "        notify: room\n"))
POSTED = "ticket:9/escalation:p1/level:page/notify"
REPEATED = "ticket:9/escalation:p1/level:page/repeat:1/notify"


def make_ticket(**overrides: Any) -> Ticket:
    """An urgent open ticket created Saturday 02:00 London."""
    return base_ticket(**{"id": 9, "subject": "Production is down", "status": "open",
                          "priority": "urgent", "created_at": CREATED} | overrides)


def updates(ticket: Ticket, minutes: float, settled: set[str]) -> list[Any]:
    result = plan_actions(ticket, POLICY, CREATED + timedelta(minutes=minutes),
                          History(settled=frozenset(settled)))
    return [p for p in result.actions if isinstance(p.action, UpdateChatMessage)]


def test_a_live_level_updates_nothing() -> None:
    assert not updates(make_ticket(), 5, {POSTED})


def test_the_reply_that_stops_the_level_updates_each_message_once() -> None:
    answered = make_ticket(replies=1, first_reply_at=CREATED + timedelta(minutes=40))
    found = updates(answered, 41, {POSTED, REPEATED})
    assert [p.key for p in found] == [POSTED + "/update", REPEATED + "/update"]
    first = found[0].action
    assert first == UpdateChatMessage(9, "room", "C0ONCALL1", POSTED, first.text)
    assert first.text == ("[afterhours] ticket #9 <https://acme.zendesk.com/agent/tickets/9>:"
                          " escalation p1 level 1 stopped: an agent has replied in public"
                          " (02:40 UTC). Nothing more will be sent for it.")
    assert "Production is down" not in first.text  # afterhours' own words only
    assert found[0].reason.startswith("an agent has replied in public (02:40 UTC)")
    settled = {POSTED, REPEATED, POSTED + "/update", REPEATED + "/update"}
    assert not updates(answered, 42, settled)  # once: never planned again


def test_an_acknowledgement_and_a_solve_say_so() -> None:
    (acked,) = updates(make_ticket(tags=frozenset({"taken"})), 5, {POSTED})
    assert "stopped: acknowledged: tag 'taken'." in acked.action.text
    solved = make_ticket(status="solved", solved_at=CREATED + timedelta(minutes=90))
    (closed,) = updates(solved, 91, {POSTED})
    assert "stopped: the ticket is solved (03:30 UTC)." in closed.action.text


def test_a_level_never_posted_and_a_webhook_channel_update_nothing() -> None:
    answered = make_ticket(replies=1, first_reply_at=CREATED + timedelta(minutes=1))
    assert not updates(answered, 2, set())
    webhook = parse_policy(PAGERDUTY_HEAD + PAGING_LADDER)  # notify: desk, a webhook
    result = plan_actions(answered, webhook, CREATED + timedelta(minutes=2),
                          History(settled=frozenset({POSTED})))
    assert not [p for p in result.actions if isinstance(p.action, UpdateChatMessage)]


def test_explain_shows_the_update_in_words() -> None:
    answered = make_ticket(replies=1, first_reply_at=CREATED + timedelta(minutes=10))
    plan, _ = plan_with_verdicts(answered, POLICY, CREATED + timedelta(minutes=11),
                                 History(settled=frozenset({POSTED})))
    (update,) = [p for p in plan.actions if isinstance(p.action, UpdateChatMessage)]
    assert describe_action(update.action) == ("update the Slack message on room: the"
                                              " escalation stopped")


def test_an_update_a_fresher_plan_drops_is_withdrawn_not_settled(state: StateStore) -> None:
    at = CREATED + timedelta(minutes=11)
    state.mark_intended(at=at, ticket_id=9, key=POSTED + "/update",
                        rule="escalation:p1/level:page", action="UpdateChatMessage",
                        reason="the level stopped")
    Recorder(state, ManualClock(at)).supersede(9, Plan(9))
    assert POSTED + "/update" not in state.history(9).settled  # a later plan may intend it
    assert state.intended(9) == []
