"""The Jira adapter's batched calls on the real jira client against the Jira twin: bulk create
(Cloud's v3 with ADF, Data Center's v2 with wiki markup) and one JQL search for many tickets."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from afterhours.adapters.jira import JiraIssueTracker
from afterhours.clock import ManualClock
from afterhours.domain.actions import CreateJiraIssue
from afterhours.domain.model import JiraIssueRef
from afterhours.errors import OutcomeUnknownError, PermanentError, TransientError
from afterhours.retrying import RetryPolicy
from afterhours.twins.faults import FaultRule
from afterhours.twins.jira import JiraTwin
from factories import issue_text

pytestmark = pytest.mark.integration

BULK_V3 = "POST /rest/api/3/issue/bulk"
BULK_V2 = "POST /rest/api/2/issue/bulk"
SEARCH = "GET /rest/api/2/search/jql"


def tracker_for(twin: JiraTwin, attempts: int = 1) -> JiraIssueTracker:
    return JiraIssueTracker(
        twin.base_url, "bot@example.com", "token", ticket_namespace="acme.zendesk.com",
        retry=RetryPolicy(attempts=attempts, sleep=lambda _: None))


def create(ticket_id: int) -> CreateJiraIssue:
    return CreateJiraIssue(ticket_id, "ENG", "Bug", f"Crash (Zendesk #{ticket_id})",
                           issue_text(ticket_id=ticket_id),
                           (f"zendesk-{ticket_id}", "from-zendesk"))


def test_120_issues_are_filed_in_3_bulk_creates_one_refused_alone(jira: JiraTwin) -> None:
    actions = [create(n) for n in range(1, 121)]
    actions[60] = replace(actions[60], components=("Backend",))  # ENG has no components

    results = tracker_for(jira).create_issues(actions)

    assert jira.server.requests[BULK_V3] == 3
    assert jira.server.requests["POST /rest/api/3/issue"] == 0
    refused = results[60]
    assert isinstance(refused, PermanentError)
    assert (str(refused), refused.status) == ("jira: Component name 'Backend' is not valid", 400)
    filed = [r for r in results if isinstance(r, JiraIssueRef)]
    assert len(filed) == 119
    for action, result in zip(actions, results, strict=True):
        if isinstance(result, JiraIssueRef):
            issue = jira.issue(result.key)
            assert issue["fields"]["labels"] == [f"zendesk-{action.ticket_id}", "from-zendesk"]
            assert issue["fields"]["description"]["type"] == "doc"  # ADF on Cloud
            assert result.url == f"{jira.base_url}/browse/{result.key}"


def test_data_center_files_in_bulk_on_v2_with_wiki_markup(clock: ManualClock) -> None:
    with JiraTwin(clock, deployment_type="Server") as data_center:
        data_center.add_project("ENG", "Engineering")
        results = tracker_for(data_center).create_issues([create(1), create(2)])
        assert data_center.server.requests[BULK_V2] == 1
        assert all(isinstance(r, JiraIssueRef) for r in results)
        assert isinstance(data_center.issues()[0]["fields"]["description"], str)


def test_a_bulk_create_with_every_element_refused_says_why_for_each(jira: JiraTwin) -> None:
    actions = [replace(create(1), project="NOPE"), replace(create(2), priority="Urgent")]

    results = tracker_for(jira).create_issues(actions)

    assert all(isinstance(r, PermanentError) for r in results)
    assert "project" in str(results[0]).lower()
    assert str(results[1]) == "jira: Priority name 'Urgent' is not valid"
    assert jira.issues() == []


def test_a_lost_bulk_answer_leaves_its_elements_unknown_and_is_not_resent(
    jira: JiraTwin,
) -> None:
    jira.server.faults.add(FaultRule(BULK_V3, drop_after_commit_rate=1.0))

    results = tracker_for(jira, attempts=3).create_issues([create(n) for n in range(1, 61)])

    assert all(isinstance(r, OutcomeUnknownError) for r in results)
    assert jira.server.requests[BULK_V3] == 2  # 50 then 10, each sent once
    assert len(jira.issues()) == 60  # they had landed: reconcile finds them by label


@pytest.mark.parametrize(("rule", "expected"), [
    pytest.param(FaultRule(BULK_V3, rate_limit_rate=1.0), TransientError, id="429"),
    pytest.param(FaultRule(BULK_V3, error_rate=1.0, error_status=503), OutcomeUnknownError,
                 id="503"),
])
def test_a_refused_or_failed_bulk_request_fails_each_of_its_elements(
    jira: JiraTwin, rule: FaultRule, expected: type[Exception]
) -> None:
    jira.server.faults.add(rule)

    results = tracker_for(jira).create_issues([create(1), create(2)])

    assert [type(r) for r in results] == [expected, expected]
    assert jira.issues() == []


def test_issues_of_120_tickets_are_found_by_3_searches_the_oldest_winning(
    jira: JiraTwin, clock: ManualClock
) -> None:
    tracker = tracker_for(jira)
    filed = tracker.create_issues([create(n) for n in range(1, 101)])
    clock.advance(timedelta(minutes=1))
    tracker.create_issue(create(7))  # a duplicate after a lost answer: the first counts
    searches = jira.server.requests[SEARCH]

    found = tracker.find_issues([*range(1, 121), 7])

    assert jira.server.requests[SEARCH] - searches == 3
    assert found == {n: filed[n - 1] for n in range(1, 101)}


def test_an_issue_not_yet_in_the_search_index_is_not_found(clock: ManualClock) -> None:
    with JiraTwin(clock, search_lag=timedelta(minutes=2)) as lagging:
        lagging.add_project("ENG", "Engineering")
        tracker = tracker_for(lagging)
        (filed,) = tracker.create_issues([create(7)])
        assert tracker.find_issues([7]) == {}
        clock.advance(timedelta(minutes=2, seconds=1))
        assert tracker.find_issues([7, 8]) == {7: filed}
