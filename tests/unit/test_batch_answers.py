"""The pure parts of the batched calls: how jobs are cut and polled, and what odd answers of
update_many and bulk create mean for each ticket or issue."""

from __future__ import annotations

from typing import Any

import pytest

from afterhours.adapters.jira_bulk import bulk_results, first_by_ticket, labels_query
from afterhours.adapters.zendesk_jobs import JobPolling, TicketPut, jobs_of, result_error
from afterhours.domain.model import JiraIssueRef
from afterhours.errors import ConflictError, OutcomeUnknownError, PermanentError


def test_job_polls_wait_longer_each_time_up_to_a_cap_and_a_total() -> None:
    assert list(JobPolling().waits()) == [0.5, 1, 2, 4, 8, 8, 8, 8, 8, 8]
    assert sum(JobPolling().waits()) <= 60
    assert list(JobPolling(first_wait=1, growth=3, max_wait=5, total=10).waits()) == [1, 3, 5]


def test_jobs_hold_at_most_100_tickets_and_never_one_ticket_twice() -> None:
    puts = [TicketPut(n, n, {}) for n in range(250)]
    puts.insert(30, TicketPut(250, 5, {}))  # a second write of ticket 5

    jobs = list(jobs_of(puts))

    assert [len(job) for job in jobs] == [30, 100, 100, 21]
    assert [p.index for job in jobs for p in job] == [p.index for p in puts]
    assert all(len({p.ticket_id for p in job}) == len(job) for job in jobs)


@pytest.mark.parametrize(("result", "expected"), [
    ({"id": 1, "action": "update", "success": True, "status": "Updated"}, None),
    ({"id": 1, "action": "update", "success": False, "error": "UpdateConflict",
      "details": "Safe Update prevented the update"}, ConflictError),
    ({"id": 1, "success": False, "error": "RecordInvalid",
      "details": "updated_stamp is older than the ticket"}, ConflictError),
    ({"id": 1, "success": False, "error": "RecordInvalid", "details": "Group: is invalid"},
     PermanentError),
    ({"id": 1, "status": "Failed", "error": "TicketUpdateError", "details": "closed"},
     PermanentError),
    ({"id": 1, "action": "update"}, OutcomeUnknownError),
    (None, OutcomeUnknownError),
])
def test_each_job_result_means_applied_conflict_refused_or_unknown(
    result: Any, expected: type[Exception] | None
) -> None:
    error = result_error(result, 1, "abc")
    assert (None if error is None else type(error)) is expected


def test_a_refused_value_names_zendesks_details() -> None:
    error = result_error({"id": 9, "success": False, "error": "RecordInvalid",
                          "details": "Priority: is not valid"}, 9, "abc")
    assert str(error) == "zendesk: ticket 9 refused: RecordInvalid: Priority: is not valid"


def test_labels_are_quoted_in_one_query_oldest_first() -> None:
    assert labels_query([1, 22]) == (
        'labels in ("zendesk-1", "zendesk-22") ORDER BY created ASC')


def test_each_ticket_gets_the_first_issue_carrying_its_label() -> None:
    found = [("ENG-1", ["zendesk-1", "x"]), ("ENG-2", ["zendesk-2"]), ("ENG-3", ["zendesk-1"]),
             ("ENG-4", ["zendesk-99", None])]
    assert first_by_ticket(found, [1, 2, 3]) == {1: "ENG-1", 2: "ENG-2"}


def url(key: str) -> str:
    return f"https://jira.example/browse/{key}"


def test_created_issues_fill_the_elements_not_refused_in_order() -> None:
    body = {"issues": [{"key": "ENG-1"}, {"key": "ENG-2"}], "errors": [
        {"status": 400, "failedElementNumber": 1,
         "elementErrors": {"errorMessages": [], "errors": {"components": "no such"}}}]}

    results = bulk_results(201, body, 3, url)

    assert results[0] == JiraIssueRef("ENG-1", url("ENG-1"))
    assert isinstance(results[1], PermanentError)
    assert str(results[1]) == "jira: no such"
    assert results[2] == JiraIssueRef("ENG-2", url("ENG-2"))


@pytest.mark.parametrize("body", [
    {"issues": [{"key": "ENG-1"}], "errors": []},  # two elements, one issue: which one?
    {"issues": [{"key": "ENG-1"}, {"id": "2"}], "errors": []},
    {"unexpected": True},
    ["not", "an", "object"],
])
def test_a_bulk_answer_that_does_not_add_up_leaves_its_elements_unknown(body: Any) -> None:
    results = bulk_results(201, body, 2, url)
    assert all(isinstance(r, OutcomeUnknownError) for r in results)


def test_a_400_refusing_the_request_as_a_whole_refuses_every_element() -> None:
    body = {"issues": [], "errors": [{"status": 400, "elementErrors": {
        "errorMessages": ["issueUpdates must list the issues"], "errors": {}}}]}
    results = bulk_results(400, body, 2, url)
    assert [str(r) for r in results] == ["jira: issueUpdates must list the issues"] * 2
