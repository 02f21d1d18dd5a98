"""`check --live` through the real adapters against the Zendesk, Jira and chat twins."""

from __future__ import annotations

import socket
from collections.abc import Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from afterhours.adapters.jira import JiraIssueTracker
from afterhours.adapters.notify import WebhookNotifier
from afterhours.adapters.zendesk import ZenpyTicketDesk
from afterhours.clock import ManualClock
from afterhours.inspect.live import (
    LiveResult,
    Reference,
    check_live,
    live_exit_code,
    render_live,
)
from afterhours.retrying import RetryPolicy
from afterhours.twins.chat import ChatTwin
from afterhours.twins.faults import FaultRule
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin

pytestmark = pytest.mark.integration

GOOD = [
    Reference("channel", "finance", "routes.billing.notify"),
    Reference("channel", "engineering", "routes.bugs.notify"),
    Reference("channel", "finance", "escalations.p1.levels.0.notify"),
    Reference("group", "Finance", "routes.billing.group"),
    Reference("agent", "lead@acme.example", "escalations.p1.levels.0.assign"),
    Reference("field", "Plan tier", "priority_rules.vip.when.fields"),
    Reference("jira_project", "APP", "routes.bugs.jira.project"),
    Reference("jira_issue_type", "Bug", "routes.bugs.jira.issue_type", project="APP"),
    Reference("jira_component", "iOS", "routes.bugs.jira.components.0", project="APP"),
    Reference("jira_priority", "Highest", "routes.bugs.jira.priority"),
]


@pytest.fixture
def world(zendesk: ZendeskTwin, jira: JiraTwin) -> None:
    zendesk.add_group("Finance")
    zendesk.add_user("Lee Lead", "lead@acme.example", role="agent")
    zendesk.add_user("Eve Customer", "eve@globex.example")  # not an agent
    zendesk.add_ticket_field("Plan tier")
    jira.add_project("APP", "Mobile app", issue_types=("Bug", "Task"),
                     components=("iOS", "Android"))


@pytest.fixture
def desk(zendesk: ZendeskTwin, world: None) -> Iterator[ZenpyTicketDesk]:
    adapter = ZenpyTicketDesk(zendesk.base_url, "bot@example.com", "token",
                              retry=RetryPolicy.disabled())
    yield adapter
    adapter.close()


def tracker_at(base_url: str) -> JiraIssueTracker:
    return JiraIssueTracker(base_url, "bot@example.com", "token",
                            ticket_namespace="acme.zendesk.com", retry=RetryPolicy.disabled())


@pytest.fixture
def tracker(jira: JiraTwin, world: None) -> Iterator[JiraIssueTracker]:
    adapter = tracker_at(jira.base_url)
    yield adapter
    adapter.close()


def notifier_for(hooks: Mapping[str, str], *, attempts: int = 1) -> WebhookNotifier:
    return WebhookNotifier({channel: SecretStr(url) for channel, url in hooks.items()},
                           retry=RetryPolicy(attempts=attempts, sleep=lambda _: None))


@pytest.fixture
def notifier(chat: ChatTwin) -> Iterator[WebhookNotifier]:
    adapter = notifier_for({c: chat.webhook_url(c) for c in ("finance", "engineering")})
    yield adapter
    adapter.close()


@dataclass(frozen=True)
class Ports:
    desk: ZenpyTicketDesk
    tracker: JiraIssueTracker
    notifier: WebhookNotifier

    def check(self, refs: list[Reference], clock: ManualClock, *, run_id: str | None = None,
              ) -> list[LiveResult]:
        return check_live(refs, desk=self.desk, tracker=self.tracker, notifier=self.notifier,
                          now=clock(), run_id=run_id)


@pytest.fixture
def ports(desk: ZenpyTicketDesk, tracker: JiraIssueTracker, notifier: WebhookNotifier) -> Ports:
    return Ports(desk, tracker, notifier)


def failures(results: list[LiveResult]) -> dict[str, str]:
    return {r.reference.where: r.detail for r in results if not r.ok}


def test_a_wired_up_policy_checks_out_and_each_channel_gets_one_test_message(
    ports: Ports, chat: ChatTwin, jira: JiraTwin, clock: ManualClock,
) -> None:
    results = ports.check(GOOD, clock)

    assert failures(results) == {}
    assert live_exit_code(results) == 0
    assert [r.reference for r in results] == GOOD
    message = ("[afterhours] test message from `afterhours check --live` at "
               "2026-11-20 18:00:00 UTC: this channel is wired up")
    assert chat.messages("finance") == [message]  # named twice, posted once
    assert chat.messages("engineering") == [message]
    # One project read serves the project, its issue type and its component.
    assert jira.server.requests["GET /rest/api/2/project/{key}"] == 1
    text = render_live(results)
    assert text.splitlines()[0] == "ok   channel finance: test message delivered"
    assert "ok   Jira component 'iOS' in APP: component found in Jira project APP\n" in text
    assert len(text.splitlines()) == len(GOOD)


def test_names_that_do_not_exist_are_reported_with_where_they_are_used(
    ports: Ports, clock: ManualClock,
) -> None:
    refs = [
        Reference("group", "Finanse", "routes.billing.group"),
        Reference("agent", "eve@globex.example", "escalations.p1.levels.0.assign"),
        Reference("field", "Plan", "priority_rules.vip.when.fields"),
        Reference("jira_project", "NOPE", "routes.ops.jira.project"),
        Reference("jira_issue_type", "Epic", "routes.bugs.jira.issue_type", project="APP"),
        Reference("jira_component", "Backend", "routes.bugs.jira.components.0", project="ENG"),
        Reference("jira_component", "iOS", "routes.ops.jira.components.0", project="NOPE"),
        Reference("jira_priority", "Urgent", "routes.bugs.jira.priority"),
        Reference("group", "Finance", "routes.refunds.group"),
    ]
    results = ports.check(refs, clock)

    assert failures(results) == {
        "routes.billing.group": "no Zendesk group named 'Finanse'",
        "escalations.p1.levels.0.assign":
            "no Zendesk agent or admin has the email 'eve@globex.example'",
        "priority_rules.vip.when.fields": "no Zendesk ticket field titled 'Plan' "
                                          "(it has: Plan tier)",
        "routes.ops.jira.project": "no Jira project NOPE (or the Jira account may not browse it)",
        "routes.bugs.jira.issue_type": "Jira project APP has no issue type 'Epic' "
                                       "(it has: Bug, Task)",
        "routes.bugs.jira.components.0": "Jira project ENG has no component 'Backend' "
                                         "(it has none)",
        "routes.ops.jira.components.0": "no Jira project NOPE (or the Jira account may not "
                                        "browse it)",
        "routes.bugs.jira.priority": "no Jira priority named 'Urgent' "
                                     "(it has: High, Highest, Low, Lowest, Medium)",
    }
    assert results[-1].ok  # checked after all those failures
    assert live_exit_code(results) == 2
    lines = render_live(results).splitlines()
    assert lines[0] == ("FAIL group 'Finanse' (routes.billing.group): "
                        "no Zendesk group named 'Finanse'")
    assert lines[5] == ("FAIL Jira component 'Backend' in ENG (routes.bugs.jira.components.0): "
                        "Jira project ENG has no component 'Backend' (it has none)")
    assert lines[-1] == "ok   group 'Finance': Zendesk group id " + results[-1].detail.split()[-1]


def test_a_revoked_or_unconfigured_webhook_fails_its_channel_only(
    ports: Ports, chat: ChatTwin, clock: ManualClock,
) -> None:
    # Slack answers a revoked hook with 404; the chat twin does for any path but /hooks/...
    hooks = {"finance": f"{chat.server.base_url}/revoked/finance",
             "engineering": chat.webhook_url("engineering")}
    refs = [Reference("channel", "finance", "routes.billing.notify"),
            Reference("channel", "oncall-lead", "escalations.p1.levels.0.notify"),
            Reference("channel", "engineering", "routes.bugs.notify")]
    with closing(notifier_for(hooks)) as notifier:
        results = replace(ports, notifier=notifier).check(refs, clock)

    assert failures(results) == {
        "routes.billing.notify": "webhook answered 404",
        "escalations.p1.levels.0.notify": "no webhook URL configured for channel 'oncall-lead'",
    }
    assert render_live(results).splitlines()[0] == (
        "FAIL channel finance (routes.billing.notify): webhook answered 404")
    assert len(chat.messages("engineering")) == 1


def test_jira_failing_one_call_fails_only_what_needed_that_call(
    ports: Ports, jira: JiraTwin, chat: ChatTwin, clock: ManualClock,
) -> None:
    jira.server.faults.add(FaultRule("GET /rest/api/2/priority", error_rate=1.0))
    refs = [*GOOD, Reference("jira_priority", "High", "routes.outage.jira.priority")]
    results = ports.check(refs, clock)

    assert failures(results) == {
        "routes.bugs.jira.priority": "Jira answered 503: Service Unavailable.",
        "routes.outage.jira.priority": "Jira answered 503: Service Unavailable.",
    }
    assert jira.server.faults.counts == {"503": 1}  # asked once, not once per reference
    assert len(chat.messages()) == 2


def test_jira_unreachable_fails_every_jira_name_and_nothing_else(
    ports: Ports, clock: ManualClock,
) -> None:
    with socket.socket() as closed:  # a port nobody listens on once the socket is closed
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with closing(tracker_at(f"http://127.0.0.1:{port}")) as down:
        results = replace(ports, tracker=down).check(GOOD, clock)

    failed = failures(results)
    assert set(failed) == {r.where for r in GOOD if r.kind.startswith("jira_")}
    assert all(d.startswith("Jira did not answer: ConnectionError") for d in failed.values())
    assert "Traceback" not in render_live(results)


def test_a_retried_test_message_is_posted_once(
    ports: Ports, chat: ChatTwin, clock: ManualClock,
) -> None:
    # Seed 1 draws 0.13 then 0.85: the first POST lands and its answer is lost, the retry
    # (same idempotency key) is answered.
    chat.server.faults.reseed(1)
    chat.server.faults.add(FaultRule("POST /hooks/{channel}", drop_after_commit_rate=0.5))
    refs = [Reference("channel", "finance", "routes.billing.notify")]
    hooks = {"finance": chat.webhook_url("finance")}
    with closing(notifier_for(hooks, attempts=3)) as notifier:
        (result,) = replace(ports, notifier=notifier).check(refs, clock)

    assert result.ok
    assert chat.server.faults.counts == {"drop_after_commit": 1}
    assert len(chat.messages("finance")) == 1
    assert chat.duplicates_suppressed == 1


def test_each_run_is_a_new_message_and_a_repeated_run_is_not(
    ports: Ports, chat: ChatTwin, clock: ManualClock,
) -> None:
    refs = [Reference("channel", "finance", "routes.billing.notify")]
    ports.check(refs, clock, run_id="shift-1")
    ports.check(refs, clock, run_id="shift-1")
    ports.check(refs, clock, run_id="shift-2")
    assert len(chat.messages("finance")) == 2


def test_no_references_is_a_pass_with_nothing_to_say(ports: Ports, chat: ChatTwin) -> None:
    results = check_live([], desk=ports.desk, tracker=ports.tracker, notifier=ports.notifier,
                         now=datetime(2026, 11, 20, 18, 0, tzinfo=UTC))
    assert results == []
    assert render_live(results) == ""
    assert live_exit_code(results) == 0
    assert chat.messages() == []
