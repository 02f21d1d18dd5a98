"""The Jira adapter on the real jira client against the Jira twin; the chat adapter with respx."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
import requests
import respx
from pydantic import SecretStr
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter

from afterhours.adapters.jira import JiraIssueTracker
from afterhours.adapters.notify import WebhookNotifier, payload
from afterhours.adapters.ports import ProjectFacts
from afterhours.clock import ManualClock
from afterhours.domain.actions import CreateJiraIssue, LinkJiraIssue
from afterhours.domain.model import JiraIssueRef
from afterhours.errors import AccessError, OutcomeUnknownError, PermanentError, TransientError
from afterhours.retrying import RetryPolicy
from afterhours.twins.jira import JiraTwin
from factories import issue_text

HOOK = "https://hooks.example.com/services/T000/B000/SECRET"


def tracker_for(twin: JiraTwin) -> JiraIssueTracker:
    return JiraIssueTracker(
        twin.base_url, "bot@example.com", "token", ticket_namespace="acme.zendesk.com",
        retry=RetryPolicy.disabled(),
    )


def create(ticket_id: int) -> CreateJiraIssue:
    return CreateJiraIssue(ticket_id, "ENG", "Bug", f"Crash (Zendesk #{ticket_id})",
                           issue_text(ticket_id=ticket_id),
                           (f"zendesk-{ticket_id}", "from-zendesk"))


@pytest.mark.integration
def test_the_issue_filed_for_a_ticket_is_found_by_its_label(jira: JiraTwin) -> None:
    tracker = tracker_for(jira)
    assert tracker.find_issue(7) is None
    first = tracker.create_issue(create(7))

    assert tracker.find_issue(7) == first  # e.g. after a crash before the key was recorded
    assert tracker.find_issue(8) is None
    assert first.url == f"{jira.base_url}/browse/{first.key}"
    assert jira.issue(first.key)["fields"]["labels"] == ["zendesk-7", "from-zendesk"]


class AnswerLostOnce(HTTPAdapter):
    """Lets the first issue create reach the server, then drops its answer."""

    def __init__(self) -> None:
        super().__init__(max_retries=0)
        self.dropped = False

    def send(self, request: PreparedRequest, **kwargs: Any) -> Response:  # type: ignore[override]
        response = super().send(request, **kwargs)
        if request.method == "POST" and (request.url or "").endswith("/issue") and not self.dropped:
            self.dropped = True
            raise requests.ReadTimeout("the answer never came")
        return response


@pytest.mark.integration
def test_a_create_whose_answer_was_lost_is_reported_as_unknown_not_retried(
    jira: JiraTwin,
) -> None:
    tracker = JiraIssueTracker(
        jira.base_url, "bot@example.com", "token", ticket_namespace="acme.zendesk.com",
        retry=RetryPolicy(attempts=3, sleep=lambda _: None),
    )
    # The adapter's client is private; the test reaches in only to cut the connection.
    lossy = AnswerLostOnce()
    tracker._client()._session.mount(jira.base_url, lossy)

    with pytest.raises(OutcomeUnknownError):
        tracker.create_issue(create(7))

    assert lossy.dropped
    (filed,) = jira.issues()  # it landed, and was not sent a second time
    assert tracker.find_issue(7) == JiraIssueRef(filed["key"], tracker.issue_url(filed["key"]))


@pytest.mark.integration
def test_search_does_not_show_a_new_issue_until_the_index_catches_up(clock: ManualClock) -> None:
    with JiraTwin(clock, search_lag=timedelta(minutes=2)) as lagging:
        lagging.add_project("ENG", "Engineering")
        tracker = tracker_for(lagging)
        filed = tracker.create_issue(create(7))
        assert tracker.find_issue(7) is None  # why "search before create" alone is not enough
        clock.advance(timedelta(minutes=2, seconds=1))
        assert tracker.find_issue(7) == filed


@pytest.mark.integration
def test_the_remote_link_is_upserted_by_global_id(jira: JiraTwin) -> None:
    tracker = tracker_for(jira)
    issue = tracker.create_issue(create(7))
    link = LinkJiraIssue(7, issue.key, "https://acme.zendesk.com/agent/tickets/7", "Zendesk #7")
    tracker.link_issue(link)
    tracker.link_issue(link)

    (stored,) = jira.remote_links(issue.key)
    assert stored["globalId"] == "zendesk:acme.zendesk.com:ticket:7"
    assert stored["object"]["url"] == "https://acme.zendesk.com/agent/tickets/7"


@pytest.mark.integration
def test_an_invalid_issue_is_a_permanent_error(jira: JiraTwin) -> None:
    bad = CreateJiraIssue(7, "NOPE", "Bug", "s", issue_text(), ("zendesk-7",))
    with pytest.raises(PermanentError) as raised:
        tracker_for(jira).create_issue(bad)
    assert raised.value.status == 400


@pytest.mark.integration
def test_priority_and_components_land_on_the_issue(jira: JiraTwin) -> None:
    jira.add_project("APP", "Mobile app", components=("Backend", "iOS", "Android"))
    action = CreateJiraIssue(7, "APP", "Bug", "Crash (Zendesk #7)", issue_text(), ("zendesk-7",),
                             priority="Highest", components=("Backend", "iOS"))
    filed = tracker_for(jira).create_issue(action)

    fields = jira.issue(filed.key)["fields"]
    assert fields["priority"]["name"] == "Highest"
    assert [c["name"] for c in fields["components"]] == ["Backend", "iOS"]


@pytest.mark.integration
def test_without_priority_or_components_jira_applies_its_defaults(jira: JiraTwin) -> None:
    filed = tracker_for(jira).create_issue(create(7))
    fields = jira.issue(filed.key)["fields"]
    assert fields["priority"]["name"] == "Medium"
    assert fields["components"] == []


@pytest.mark.integration
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"components": ("Backend",)}, "jira: Component name 'Backend' is not valid"),
        ({"priority": "Urgent"}, "jira: Priority name 'Urgent' is not valid"),
    ],
    ids=["component", "priority"],
)
def test_an_unknown_component_or_priority_is_a_permanent_error_in_jiras_words(
    jira: JiraTwin, change: dict[str, Any], message: str
) -> None:
    action = replace(create(7), **change)
    with pytest.raises(PermanentError) as raised:
        tracker_for(jira).create_issue(action)
    assert raised.value.status == 400
    assert str(raised.value) == message
    assert jira.issues() == []


@pytest.mark.integration
def test_project_facts_name_the_issue_types_and_components(jira: JiraTwin) -> None:
    jira.add_project("APP", "Mobile app", issue_types=("Bug", "Task"), components=("iOS",))
    tracker = tracker_for(jira)
    assert tracker.project_facts("APP") == ProjectFacts(
        "APP", "Mobile app", frozenset({"Bug", "Task"}), frozenset({"iOS"}))
    assert tracker.project_facts("NOPE") is None
    assert tracker.priority_names() == {"Highest", "High", "Medium", "Low", "Lowest"}


def notifier(sleeps: list[float]) -> WebhookNotifier:
    retry = RetryPolicy(attempts=3, sleep=sleeps.append)
    return WebhookNotifier({"finance": SecretStr(HOOK)}, retry=retry)


@respx.mock
def test_a_message_is_posted_as_slack_json() -> None:
    route = respx.post(HOOK).mock(return_value=httpx.Response(200, text="ok"))
    notifier([]).notify("finance", "ticket #7 routed")
    assert route.call_count == 1
    assert json.loads(route.calls[0].request.content) == payload("ticket #7 routed")
    assert json.loads(route.calls[0].request.content)["text"] == "ticket #7 routed"


@respx.mock
def test_429_is_retried_after_the_servers_retry_after() -> None:
    route = respx.post(HOOK).mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, text="ok"),
    ])
    sleeps: list[float] = []
    notifier(sleeps).notify("finance", "hello")
    assert route.call_count == 2
    assert sleeps[0] >= 7


@respx.mock
def test_a_rejected_message_is_permanent_and_never_names_the_secret_url() -> None:
    respx.post(HOOK).mock(return_value=httpx.Response(400, text="invalid_payload"))
    with pytest.raises(PermanentError) as raised:
        notifier([]).notify("finance", "hello")
    assert "SECRET" not in str(raised.value)


@pytest.mark.parametrize("status", [401, 403])
@respx.mock
def test_a_refused_webhook_needs_an_operator_and_is_not_given_up(status: int) -> None:
    route = respx.post(HOOK).mock(return_value=httpx.Response(status, text="invalid_token"))
    with pytest.raises(AccessError):
        notifier([]).notify("finance", "hello")
    assert route.call_count == 1  # not retried now: it will not heal in seconds


@pytest.mark.parametrize("status", [404, 410])
@respx.mock
def test_a_mistyped_or_deleted_webhook_is_parked_with_the_receivers_reason(status: int) -> None:
    # Parked, not lost: fixing the URL in AFTERHOURS_WEBHOOKS releases it (afterhours.parking).
    route = respx.post(HOOK).mock(return_value=httpx.Response(status, text="no_service"))
    with pytest.raises(PermanentError, match=f"finance: HTTP {status}: no_service"):
        notifier([]).notify("finance", "hello")
    assert route.call_count == 1


@respx.mock
def test_a_webhook_that_stays_down_gives_up_after_the_capped_attempts() -> None:
    route = respx.post(HOOK).mock(side_effect=httpx.ConnectError("refused"))
    sleeps: list[float] = []
    with pytest.raises(TransientError):
        notifier(sleeps).notify("finance", "hello")
    assert route.call_count == 3
    assert len(sleeps) == 2


def test_an_unconfigured_channel_is_permanent() -> None:
    with pytest.raises(PermanentError, match="no webhook URL configured for channel 'ops'"):
        notifier([]).notify("ops", "hello")
