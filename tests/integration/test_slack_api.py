"""Slack's Web API on its twin, over real HTTP: a message carries its ledger key in its
metadata, and one whose answer was lost (or sent before a kill) is found in the channel's
history instead of being posted twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from afterhours.adapters.slack_api import EVENT_TYPE, SlackWebApi
from afterhours.clock import ManualClock
from afterhours.errors import AccessError, PermanentError, TransientError
from afterhours.retrying import RetryPolicy
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
KEY = "ticket:7/escalation:p1/level:page/notify"
_opened: list[SlackWebApi] = []


@pytest.fixture(autouse=True)
def _close() -> Iterator[None]:
    yield
    while _opened:
        _opened.pop().close()


def api(twin: SlackApiTwin, clock: ManualClock, token: str | None = None,
        attempts: int = 3) -> SlackWebApi:
    twin.add_conversation(ROOM)
    opened = SlackWebApi(token or twin.token, api_url=twin.api_url, clock=clock,
                         retry=RetryPolicy(attempts=attempts, sleep=lambda _: None))
    _opened.append(opened)
    return opened


def test_a_message_carries_its_key_and_is_posted_once(slack_api: SlackApiTwin,
                                                      clock: ManualClock) -> None:
    poster = api(slack_api, clock)
    first = poster.post(ROOM, "P1 ticket #7", key=KEY)
    assert poster.post(ROOM, "P1 ticket #7 (planned again)", key=KEY) == first
    (message,) = slack_api.messages(ROOM)
    assert message["metadata"] == {"event_type": EVENT_TYPE, "event_payload": {"key": KEY}}
    assert slack_api.posts_by_key[KEY] == 1


def test_an_answer_lost_after_the_post_is_found_not_posted_again(
        slack_api: SlackApiTwin, clock: ManualClock) -> None:
    poster = api(slack_api, clock)
    slack_api.server.faults.add(FaultRule("POST /api/chat.postMessage",
                                          drop_after_commit_rate=1.0))
    poster.post(ROOM, "P1 ticket #7", key=KEY)  # retried: the lookup finds the first
    assert slack_api.posts_by_key[KEY] == 1


def test_slacks_errors_are_sorted_by_their_code(slack_api: SlackApiTwin,
                                                clock: ManualClock) -> None:
    with pytest.raises(AccessError, match="invalid_auth"):
        api(slack_api, clock, token="xoxb-revoked").post(ROOM, "x", key=KEY)
    with pytest.raises(PermanentError, match="channel_not_found"):
        api(slack_api, clock).post("C0NOWHERE", "x", key=KEY)
    slack_api.server.faults.add(FaultRule("GET /api/conversations.history", error_rate=1.0,
                                          error_status=503))
    with pytest.raises(TransientError, match="HTTP 503"):
        api(slack_api, clock, attempts=2).post(ROOM, "x", key=KEY)
    assert slack_api.messages(ROOM) == []


POLICY = paging_policy(f"  room: {{type: slack, conversation: {ROOM}}}\n", "room")


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


def test_a_kill_between_the_post_and_its_record_posts_one_message(
        daemon: Service, zendesk: ZendeskTwin, slack_api: SlackApiTwin,
        clock: ManualClock) -> None:
    customer = int(zendesk.add_user("Carol", "carol@globex.com")["id"])
    ticket = int(zendesk.create_ticket(subject="Checkout is down", description="500s",
                                       requester_id=customer, created_at=clock())["id"])
    clock.advance(timedelta(minutes=2))
    killed_after_sending(daemon, "post_message")
    clock.advance(timedelta(minutes=1))
    daemon.run_pass()  # the message is looked up by its key, not posted again
    key = f"ticket:{ticket}/escalation:p1/level:page/notify"
    assert daemon.state.ledger_status(key) == "done"
    assert slack_api.posts_by_key == {key: 1}
    (message,) = slack_api.messages(ROOM)
    assert f"ticket #{ticket}" in message["text"]
