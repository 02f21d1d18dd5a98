"""Acknowledge and Take it from the chat message: the escalation message carries the buttons,
Slack's twin posts a signed click to the daemon's server over real HTTP, and the ladder stops,
the ticket is noted (and assigned), the PagerDuty incident resolved and the message replaced.
Forged, replayed, malformed and unknown clicks do nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from afterhours.clock import ManualClock
from afterhours.domain.chat import ACKNOWLEDGE, TAKE
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.pagerduty import PagerDutyTwin
from afterhours.twins.slack_interactions import SlackInteractions
from afterhours.twins.zendesk import ZendeskTwin
from integration.ack_daemon import POLICY as ACK_POLICY
from integration.ack_daemon import AckDaemon, ack_daemon, ack_settings

pytestmark = pytest.mark.integration
SECRET = "slack-signing-secret"
ALICE = "U0ALICE01"
POLICY = ACK_POLICY.replace("    channel: pager\n",
                            f"    channel: pager\n    slack_ids: {{alice@acme.example: {ALICE}}}\n")


@pytest.fixture
def running(  # noqa: PLR0917  (pytest fixtures)
    zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, pagerduty: PagerDutyTwin,
    clock: ManualClock, tmp_path: Path,
) -> Iterator[AckDaemon]:
    settings = ack_settings(zendesk, jira, chat, pagerduty, POLICY, tmp_path,
                            slack_signing_secret=SecretStr(SECRET))
    with ack_daemon(settings, clock, lambda url: SlackInteractions(
            chat, f"{url}/slack/interactions", SECRET, clock)) as started:
        yield started


def paged(running: AckDaemon, zendesk: ZendeskTwin, clock: ManualClock) -> int:
    """An after-hours outage, paged at once: in PagerDuty and in the chat channel."""
    zendesk.add_user("Alice Chen", "alice@acme.example", role="agent")
    customer = int(zendesk.add_user("Carol", "carol@globex.com")["id"])
    ticket = int(zendesk.create_ticket(subject="Production API is down", description="503s",
                                       requester_id=customer, created_at=clock())["id"])
    clock.advance(timedelta(minutes=2))
    running.service.run_pass()
    return ticket


def test_the_escalation_message_carries_both_buttons(
    running: AckDaemon, zendesk: ZendeskTwin, chat: ChatTwin, clock: ManualClock,
) -> None:
    ticket = paged(running, zendesk, clock)
    (message,) = chat.bodies("desk")
    (actions,) = [b for b in message["blocks"] if b["type"] == "actions"]
    assert [(e["action_id"], e["text"]["text"], e["value"]) for e in actions["elements"]] == [
        (ACKNOWLEDGE, "Acknowledge", f"ticket:{ticket}/escalation:p1/level:page/notify"),
        (TAKE, "Take it", f"ticket:{ticket}/escalation:p1/level:page/notify")]


def test_acknowledge_stops_the_ladder_notes_resolves_and_updates_the_message(
    running: AckDaemon, zendesk: ZendeskTwin, chat: ChatTwin, pagerduty: PagerDutyTwin,
    clock: ManualClock,
) -> None:
    ticket = paged(running, zendesk, clock)
    (message,) = chat.bodies("desk")
    answer, token = running.sender.click(message, ACKNOWLEDGE)
    assert (answer.status_code, answer.json()) == (200, {"result": "accepted"})
    running.settle()
    notes = [c["body"] for c in zendesk.comments(ticket) if not c["public"]]
    assert any(n.startswith("Acknowledged by dana.lead in Slack at ") for n in notes)
    assert [i.status for i in pagerduty.incidents()] == ["resolved"]
    (update,) = chat.responses[token]
    assert update["replace_original"] is True
    assert "acknowledged by <@U0DANA001>" in update["text"]
    assert zendesk.ticket(ticket)["assignee_id"] is None  # Acknowledge assigns nobody
    clock.advance(timedelta(minutes=40))
    running.service.run_pass()
    assert len(chat.messages("desk")) == 1  # the next level never fires


def test_take_it_assigns_the_ticket_to_the_agent_of_the_slack_user(
    running: AckDaemon, zendesk: ZendeskTwin, chat: ChatTwin, clock: ManualClock,
) -> None:
    ticket = paged(running, zendesk, clock)
    (message,) = chat.bodies("desk")
    _, token = running.sender.click(message, TAKE, user_id=ALICE, user_name="alice")
    running.settle()
    alice = next(u for u in zendesk.state.users.values() if u["email"] == "alice@acme.example")
    assert zendesk.ticket(ticket)["assignee_id"] == alice["id"]
    assert "Taken: assigned to <@U0ALICE01>" in chat.responses[token][0]["text"]


def test_take_it_by_someone_not_in_the_roster_assigns_nothing(
    running: AckDaemon, zendesk: ZendeskTwin, chat: ChatTwin, clock: ManualClock,
) -> None:
    ticket = paged(running, zendesk, clock)
    (message,) = chat.bodies("desk")
    _, token = running.sender.click(message, TAKE, user_id="U0STRANGER")
    running.settle()
    assert zendesk.ticket(ticket)["assignee_id"] is None
    assert "not in the on-call roster" in chat.responses[token][0]["text"]


def test_refused_clicks_have_no_effect(
    running: AckDaemon, zendesk: ZendeskTwin, chat: ChatTwin, clock: ManualClock,
) -> None:
    ticket = paged(running, zendesk, clock)
    (message,) = chat.bodies("desk")
    slack = running.sender
    body, _ = slack.body(message, ACKNOWLEDGE)
    answers = {
        "unsigned": slack.deliver(body, signature=""),
        "bad_signature": slack.deliver(body, secret="not-the-secret"),
        "stale": slack.deliver(body, signed_at=clock() - timedelta(minutes=6)),
        "malformed": slack.deliver(b"payload=%7Bnot-json"),
        "not a form": slack.deliver(b"\xff\xfe"),
        "unknown": slack.deliver(body.replace(f"ticket%3A{ticket}%2F".encode(),
                                              b"ticket%3A424242%2F")),
    }
    assert {name: a.status_code for name, a in answers.items()} == {
        "unsigned": 401, "bad_signature": 401, "stale": 401, "malformed": 400,
        "not a form": 400, "unknown": 404}
    assert running.queue.take_acks() == []
    assert running.service.state.ledger_status(f"ticket:{ticket}/acknowledged") is None
    assert chat.responses == {}
