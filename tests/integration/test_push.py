"""Push mode over real HTTP: the Zendesk and Jira twins sign and POST deliveries to the daemon's
server while its loop runs on the twins; the poll interval is an hour, the clock never moves,
so whatever is done was done by the push."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from afterhours import daemon
from afterhours.bootstrap import build_service
from afterhours.clock import ManualClock
from afterhours.ops.server import HttpServer, build_app, start_server
from afterhours.policy import load_policy
from afterhours.push.mode import push_mode
from afterhours.push.queue import PushQueue
from afterhours.push.routes import Receiver
from afterhours.push.verify import JiraEvent, Limits
from afterhours.retrying import RetryPolicy
from afterhours.service import Service
from afterhours.settings import Settings
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.webhooks import ZendeskWebhook
from afterhours.twins.zendesk import ZendeskTwin
from afterhours.twins.zendesk_export import PATH as EXPORT_PATH
from factories import twin_settings, wait_for

pytestmark = pytest.mark.integration
POLICY = Path(__file__).parents[2] / "config" / "policy.yaml"
ZENDESK_SECRET = "zd-signing-secret"
JIRA_SECRET = "jira-webhook-secret"
HOUR = 3600.0  # the poll interval: nothing here waits for it
EXPORTS = f"GET {EXPORT_PATH}"


@dataclass
class Push:
    """A daemon in push mode on the twins: its service, server, queue and webhook URLs."""

    service: Service
    server: HttpServer
    queue: PushQueue
    zendesk: ZendeskTwin
    loop: threading.Thread | None = None

    @property
    def zendesk_url(self) -> str:
        return f"{self.server.url}/webhooks/zendesk"

    @property
    def jira_url(self) -> str:
        return f"{self.server.url}/webhooks/jira"

    def hook(self, kind: str = "events") -> ZendeskWebhook:
        return self.zendesk.webhook(self.zendesk_url, ZENDESK_SECRET, kind=kind)

    def start_loop(self) -> None:
        """The daemon's loop in a thread, after its first pass (a poll) has finished."""
        self.loop = threading.Thread(target=daemon.run_forever, args=(self.service, HOUR),
                                     kwargs={"pushes": self.queue})
        self.loop.start()
        wait_for(lambda: self.passes() == 1)

    def stop_loop(self) -> None:
        if self.loop is not None:
            self.service.stop.set()
            self.loop.join(10)
            assert not self.loop.is_alive()
            self.loop = None
            self.service.stop.clear()  # a pass may still be run by hand

    def passes(self) -> float:
        return sum(self.service.metrics.registry.get_sample_value(
            "afterhours_passes_total", {"result": r}) or 0 for r in ("ok", "deferred", "failed"))

    def deliveries(self, source: str, result: str) -> float:
        return self.service.metrics.registry.get_sample_value(
            "afterhours_webhook_deliveries_total", {"source": source, "result": result}) or 0


@pytest.fixture
def settings(tmp_path: Path, zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin) -> Settings:
    policy = tmp_path / "policy.yaml"
    shutil.copy(POLICY, policy)
    return twin_settings(
        zendesk, jira, chat, load_policy(policy).policy.channels, tmp_path / "state.sqlite3",
        policy_file=policy, http_listen="127.0.0.1:0",
        zendesk_webhook_secret=SecretStr(ZENDESK_SECRET),
        jira_webhook_secret=SecretStr(JIRA_SECRET))


@pytest.fixture
def make_push(settings: Settings, clock: ManualClock, zendesk: ZendeskTwin,
              ) -> Iterator[Callable[..., Push]]:
    """Builds the daemon in push mode (settings overridden by keywords) with its server up."""
    made: list[Push] = []

    def make(**overrides: Any) -> Push:
        given = settings.model_copy(update=overrides)
        service = build_service(given, load_policy(given.policy_file).policy, clock=clock,
                                retry=RetryPolicy(attempts=2, sleep=lambda _: None))
        mode = push_mode(given, service)
        assert mode.queue is not None
        server = start_server("127.0.0.1:0", service.health, service.metrics, mode.routes)
        made.append(Push(service, server, mode.queue, zendesk))
        return made[-1]

    yield make
    for push in made:
        push.stop_loop()
        push.server.stop()
        push.service.close()


@pytest.fixture
def push(make_push: Callable[..., Push]) -> Push:
    """The daemon in push mode with its loop running, its first poll done."""
    running = make_push()
    running.start_loop()
    return running


def people(zendesk: ZendeskTwin) -> int:
    for group in ("Finance", "Engineering", "Support Leads", "Support"):
        zendesk.add_group(group)
    return int(zendesk.add_user("Bob", "bob@initech.com")["id"])


def p1(zendesk: ZendeskTwin, requester: int) -> int:
    return int(zendesk.create_ticket(subject="Production is down", description="all of it",
                                     requester_id=requester)["id"])


def bug(zendesk: ZendeskTwin, requester: int) -> int:
    return int(zendesk.create_ticket(subject="App crashes on login", description="every time",
                                     requester_id=requester)["id"])


def test_a_signed_delivery_is_handled_at_once_without_the_export(
    push: Push, zendesk: ZendeskTwin, clock: ManualClock,
) -> None:
    requester = people(zendesk)
    exports = zendesk.server.requests[EXPORTS]
    started = clock()
    ticket = p1(zendesk, requester)  # after the poll: only a push can bring it now

    answer = push.hook().send(ticket)

    assert (answer.status_code, answer.json()) == (202, {"result": "accepted"})
    wait_for(lambda: zendesk.ticket(ticket)["priority"] == "urgent", timeout=10)
    assert clock() == started  # no accelerated time passed at all, let alone the interval
    assert zendesk.server.requests[EXPORTS] == exports  # the push pass skipped the export
    assert push.deliveries("zendesk", "accepted") == 1
    assert push.service.metrics.registry.get_sample_value(
        "afterhours_ticket_handling_lag_seconds_bucket", {"le": "5.0"}) == 1


def test_a_trigger_body_is_handled_as_well(push: Push, zendesk: ZendeskTwin) -> None:
    ticket = p1(zendesk, people(zendesk))
    assert push.hook("trigger").send(ticket).status_code == 202
    wait_for(lambda: zendesk.ticket(ticket)["priority"] == "urgent", timeout=10)


def test_duplicate_deliveries_do_each_action_once(
    push: Push, zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin,
) -> None:
    ticket = bug(zendesk, people(zendesk))
    hook = push.hook()
    body = hook.body(ticket)
    answers = [hook.deliver(body).status_code for _ in range(3)]  # Zendesk retried, twice
    assert set(answers) == {202}
    wait_for(lambda: len(jira.issues()) == 1, timeout=10)
    passes = push.passes()
    assert hook.deliver(body).status_code == 202  # and once more, after it was handled
    wait_for(lambda: push.passes() > passes, timeout=10)
    assert push.deliveries("zendesk", "accepted") + push.deliveries("zendesk", "duplicate") == 4
    assert len(jira.issues()) == 1
    assert len(chat.messages("engineering")) == 1


def test_a_late_reordered_delivery_does_not_undo_what_an_agent_did_since(
    push: Push, zendesk: ZendeskTwin,
) -> None:
    ticket = p1(zendesk, people(zendesk))
    hook = push.hook()
    stale = hook.body(ticket)  # says: no priority
    hook.send(ticket)
    wait_for(lambda: zendesk.ticket(ticket)["priority"] == "urgent", timeout=10)
    zendesk.agent_update(ticket, priority="low")  # a person decided otherwise
    passes = push.passes()
    assert hook.deliver(stale).status_code == 202  # the older event arrives last
    wait_for(lambda: push.passes() > passes, timeout=10)
    assert zendesk.ticket(ticket)["priority"] == "low"


def refusals(push: Push, hook: ZendeskWebhook, ticket: int, clock: ManualClock,
             ) -> dict[str, httpx.Response]:
    body = hook.body(ticket)
    late = clock() - timedelta(minutes=10)
    return {
        "unsigned": hook.deliver(body, signature=""),
        "bad_signature": hook.deliver(body, secret="not-the-secret"),
        "tampered": hook.deliver(body, headers={"X-Zendesk-Webhook-Signature-Timestamp":
                                                "2026-11-20T18:00:01Z"}),
        "replayed": hook.deliver(body, signed_at=late),
        "oversized": hook.deliver(b" " * 1_000_001),
        "malformed": hook.deliver(b'{"ticket_id": "<script>alert(1)</script>\\u001b[31m"}'),
        "not_json": hook.deliver(b"\x00\xff<html>"),
    }


def test_bad_deliveries_are_refused_with_the_right_status_and_no_side_effect(
    push: Push, zendesk: ZendeskTwin, clock: ManualClock,
) -> None:
    ticket = p1(zendesk, people(zendesk))
    passes, reads = push.passes(), dict(zendesk.server.requests)
    with capture_logs() as logs:
        answers = refusals(push, push.hook(), ticket, clock)
    assert {what: a.status_code for what, a in answers.items()} == {
        "unsigned": 401, "bad_signature": 401, "tampered": 401, "replayed": 401,
        "oversized": 413, "malformed": 400, "not_json": 400}
    assert answers["replayed"].json()["result"] == "stale"
    assert push.queue.take_tickets() == []
    assert push.passes() == passes  # the loop was not even woken
    assert dict(zendesk.server.requests) == reads  # nobody read or wrote Zendesk
    assert zendesk.ticket(ticket)["priority"] is None
    refused = [e for e in logs if e["event"] == "webhook.refused"]
    assert len(refused) == len(answers)
    assert not any("script" in str(e) or "\x1b" in str(e) or "html" in str(e) for e in logs)
    assert push.deliveries("zendesk", "bad_signature") == 2
    assert push.deliveries("zendesk", "stale") == 1


def test_an_event_about_no_ticket_is_answered_200_and_ignored(push: Push) -> None:
    user_event = (b'{"type": "zen:event-type:user.active_changed", "subject": "zen:user:7",'
                  b' "detail": {"id": "7"}}')
    answer = push.hook().deliver(user_event)
    assert (answer.status_code, answer.json()) == (200, {"result": "ignored"})
    assert push.queue.take_tickets() == []


def test_a_full_queue_answers_429_and_queues_nothing_more(
    make_push: Callable[..., Push], zendesk: ZendeskTwin,
) -> None:
    push = make_push(webhook_queue=1)  # no loop: nothing takes the queue
    requester = people(zendesk)
    first, second = p1(zendesk, requester), p1(zendesk, requester)
    hook = push.hook()
    assert hook.send(first).status_code == 202
    assert hook.send(first).status_code == 202  # already waiting: a duplicate, not a refusal
    full = hook.send(second)
    assert full.status_code == 429
    assert full.headers["Retry-After"] == "10"
    assert push.queue.take_tickets() == [first]
    assert push.deliveries("zendesk", "queue_full") == 1


def test_pushes_switched_off_mid_night_leave_every_ticket_to_the_poll(
    push: Push, zendesk: ZendeskTwin, jira: JiraTwin, clock: ManualClock,
) -> None:
    requester = people(zendesk)
    pushed = p1(zendesk, requester)
    push.hook().send(pushed)
    wait_for(lambda: zendesk.ticket(pushed)["priority"] == "urgent", timeout=10)
    # Deliveries stop (a webhook deactivated, a circuit breaker open): nothing more arrives.
    lost = [p1(zendesk, requester), bug(zendesk, requester)]
    push.stop_loop()
    clock.advance(timedelta(minutes=2))  # past the export's holdback: the next poll
    push.service.run_pass()
    assert [zendesk.ticket(t)["priority"] for t in lost] == ["urgent", "normal"]
    assert len(jira.issues()) == 1


def test_a_standby_answers_202_and_queues_nothing(
    make_push: Callable[..., Push], zendesk: ZendeskTwin, clock: ManualClock,
) -> None:
    push = make_push()
    standby = Receiver(PushQueue(), push.service.metrics, clock, lambda: False, Limits(),
                       zendesk_secret=ZENDESK_SECRET)
    server = HttpServer(build_app(push.service.health, push.service.metrics,
                                  standby.routes()), "127.0.0.1:0").start()
    try:
        ticket = p1(zendesk, people(zendesk))
        hook = zendesk.webhook(f"{server.url}/webhooks/zendesk", ZENDESK_SECRET)
        answer = hook.send(ticket)
        assert (answer.status_code, answer.json()) == (202, {"result": "standby"})
        assert standby.queue.take_tickets() == []
        assert hook.send(ticket, secret="wrong").status_code == 401  # verified all the same
    finally:
        server.stop()


def test_jira_issue_events_are_verified_and_queued_for_the_sync_back(
    make_push: Callable[..., Push], zendesk: ZendeskTwin, jira: JiraTwin,
) -> None:
    push = make_push()
    bug(zendesk, people(zendesk))
    push.service.run_pass()
    key = jira.issues()[0]["key"]
    jira.transition(key, "Done")
    hook = jira.webhook(push.jira_url, JIRA_SECRET)
    assert hook.send(key).status_code == 202
    assert hook.send(key).status_code == 202  # duplicates tolerated
    assert hook.send(key, secret="wrong").status_code == 401
    assert hook.deliver(hook.body(key), signature="").status_code == 401
    assert hook.deliver(b'{"webhookEvent": "project_created"}').status_code == 200
    assert push.queue.drain_jira() == [JiraEvent(key, "jira:issue_updated")]
    assert push.deliveries("jira", "duplicate") == 1
    assert push.queue.take_tickets() == []  # an issue event plans no ticket by itself


def test_a_jira_webhook_brings_the_issues_progress_to_the_ticket_without_a_poll(
    make_push: Callable[..., Push], zendesk: ZendeskTwin, jira: JiraTwin,
) -> None:
    push = make_push()
    ticket = bug(zendesk, people(zendesk))
    push.start_loop()  # its first pass (a poll) files the issue
    key = jira.issues()[0]["key"]
    searches = jira.server.requests["GET /rest/api/2/search/jql"]
    jira.transition(key, "In Progress", author="Dana Engineer")
    assert jira.webhook(push.jira_url, JIRA_SECRET).send(key).status_code == 202

    def noted() -> bool:
        return any(f"Jira {key} changed" in c["body"] for c in zendesk.comments(ticket))

    # The loop woke for it (the next poll is an hour away); the note lands before its pass
    # is counted as completed.
    wait_for(lambda: noted() and push.passes() == 2)
    # Read by its key: no export, no Jira search.
    assert zendesk.server.requests["GET /api/v2/incremental/tickets/cursor.json"] == 1
    assert jira.server.requests["GET /rest/api/2/search/jql"] == searches


def test_without_a_secret_the_routes_are_not_there(
    make_push: Callable[..., Push],
) -> None:
    push = make_push(jira_webhook_secret=None)
    assert httpx.post(push.jira_url, content=b"{}").status_code == 404
    assert httpx.get(push.zendesk_url).status_code == 405
