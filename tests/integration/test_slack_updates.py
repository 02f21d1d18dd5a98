"""An escalation's Slack message posted through the Web API is updated in place (chat.update)
once its level stops, saying why, over real HTTP on the twins; a message sent through an
incoming webhook cannot be changed and is left alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from afterhours.clock import ManualClock
from afterhours.service import Service
from afterhours.twins.chat import ChatTwin
from afterhours.twins.faults import FaultRule
from afterhours.twins.jira import JiraTwin
from afterhours.twins.pagerduty import PagerDutyTwin
from afterhours.twins.slack_api import SlackApiTwin
from afterhours.twins.zendesk import ZendeskTwin
from factories import daemon_on, killed_after_sending, paging_policy, slack_environment

pytestmark = pytest.mark.integration
ROOM = "C0ONCALL1"
# The level notifies `room` (Web API) and pages the leads, whose channel is the webhook `desk`.
POLICY = paging_policy(f"  room: {{type: slack, conversation: {ROOM}}}\n", "room").replace(
    "    channel: pager\n", "    channel: desk\n")
POSTED = "ticket:{id}/escalation:p1/level:page/notify"


@pytest.fixture
def daemon(  # noqa: PLR0917  (pytest fixtures)
    zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, pagerduty: PagerDutyTwin,
    slack_api: SlackApiTwin, clock: ManualClock, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Service]:
    environment = slack_environment(zendesk, jira, chat, pagerduty, slack_api, POLICY,
                                    tmp_path, ROOM)
    with daemon_on(environment, tmp_path, clock, monkeypatch) as built:
        yield built


def outage(zendesk: ZendeskTwin, clock: ManualClock) -> int:
    customer = int(zendesk.add_user("Carol", "carol@globex.com")["id"])
    return int(zendesk.create_ticket(subject="Checkout is down", description="500s",
                                     requester_id=customer, created_at=clock())["id"])


def answer(zendesk: ZendeskTwin, ticket: int) -> None:
    agent = int(zendesk.add_user("Sam Agent", "sam@acme.example", role="agent")["id"])
    zendesk.add_comment(ticket, "We are on it.", author_id=agent)


def test_a_p1_message_is_updated_once_when_the_ticket_is_answered(
        daemon: Service, zendesk: ZendeskTwin, slack_api: SlackApiTwin, chat: ChatTwin,
        clock: ManualClock) -> None:
    ticket = outage(zendesk, clock)
    clock.advance(timedelta(minutes=2))
    daemon.run_pass()
    key = POSTED.format(id=ticket)
    (posted,) = slack_api.messages(ROOM)
    assert len(chat.messages("desk")) == 1  # the page step, through the webhook
    answer(zendesk, ticket)
    clock.advance(timedelta(minutes=2))
    daemon.run_pass()
    (message,) = slack_api.messages(ROOM)
    assert message["ts"] == posted["ts"]  # the same message, changed in place
    assert message["text"].startswith(f"[afterhours] ticket #{ticket} ")
    assert "escalation p1 level 1 stopped: an agent has replied in public" in message["text"]
    assert all(b["type"] != "actions" for b in message["blocks"])  # no buttons left
    assert message["metadata"]["event_payload"] == {"key": key}
    assert daemon.state.ledger_status(key + "/update") == "done"
    clock.advance(timedelta(hours=2))
    daemon.run_pass()
    assert slack_api.updates_by_key == {key: 1}
    assert slack_api.posts_by_key == {key: 1}
    assert len(chat.messages("desk")) == 1  # a webhook's message: left alone
    assert chat.responses == {}
    audit = [r for r in daemon.state.audit(ticket_id=ticket) if r.key == key + "/update"]
    assert [r.outcome for r in audit] == ["done"]
    assert "an agent has replied in public" in audit[0].reason


def test_an_update_slack_refused_for_now_is_sent_later_and_once(
        daemon: Service, zendesk: ZendeskTwin, slack_api: SlackApiTwin,
        clock: ManualClock) -> None:
    ticket = outage(zendesk, clock)
    clock.advance(timedelta(minutes=2))
    daemon.run_pass()
    zendesk.agent_update(ticket, status="solved")
    slack_api.server.faults.add(FaultRule("POST /api/chat.update", error_rate=1.0,
                                          error_status=503))
    clock.advance(timedelta(minutes=2))
    daemon.run_pass()
    key = POSTED.format(id=ticket)
    assert daemon.state.ledger_status(key + "/update") == "intended"
    slack_api.server.faults.clear()
    clock.advance(timedelta(minutes=2))
    daemon.run_pass()  # the ticket is solved: still updated, once
    (message,) = slack_api.messages(ROOM)
    assert "stopped: the ticket is solved" in message["text"]
    assert slack_api.updates_by_key == {key: 1}
    assert daemon.state.ledger_status(key + "/update") == "done"


def test_a_kill_after_the_update_updates_again_harmlessly_then_never(
        daemon: Service, zendesk: ZendeskTwin, slack_api: SlackApiTwin,
        clock: ManualClock) -> None:
    ticket = outage(zendesk, clock)
    clock.advance(timedelta(minutes=2))
    daemon.run_pass()
    answer(zendesk, ticket)
    clock.advance(timedelta(minutes=2))
    killed_after_sending(daemon, "update_posted")
    clock.advance(timedelta(minutes=2))
    daemon.run_pass()
    clock.advance(timedelta(hours=1))
    daemon.run_pass()
    key = POSTED.format(id=ticket)
    assert slack_api.updates_by_key == {key: 2}  # chat.update again: the same message
    assert len(slack_api.messages(ROOM)) == 1
    assert daemon.state.ledger_status(key + "/update") == "done"
