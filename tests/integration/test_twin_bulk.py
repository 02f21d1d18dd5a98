"""The twins' bulk endpoints (for #13's batch pipeline), through the real clients: zenpy's
show_many, update_many and job statuses, and the jira client's bulk create."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from jira import JIRA
from zenpy.lib.api_objects import Ticket as ZenpyTicket

from afterhours.clock import ManualClock
from afterhours.twins.faults import FaultRule
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin

pytestmark = pytest.mark.integration

UPDATE_MANY = "/api/v2/tickets/update_many.json"


@pytest.fixture
def twin(zendesk: ZendeskTwin) -> ZendeskTwin:
    """The Zendesk twin under test (`zc` drives it with zenpy)."""
    return zendesk


@pytest.fixture
def tickets(twin: ZendeskTwin) -> list[int]:
    requester = twin.add_user("Homer", "homer@example.com")["id"]
    return [twin.create_ticket(subject=f"t{n}", description="d", requester_id=requester)["id"]
            for n in range(4)]


def test_show_many_in_the_order_asked_leaving_out_unknown_ids(
    zc: Any, zendesk_http: httpx.Client, tickets: list[int]
) -> None:
    shown = [t.id for t in zc.tickets(ids=[tickets[2], 999, tickets[0]])]
    answer = zendesk_http.get("/api/v2/tickets/show_many.json",
                      params={"ids": f"{tickets[1]},{tickets[3]}", "include": "metric_sets"})
    too_many = zendesk_http.get("/api/v2/tickets/show_many.json",
                        params={"ids": ",".join(str(n) for n in range(1, 102))})

    assert shown == [tickets[2], tickets[0]]
    assert [t["id"] for t in answer.json()["tickets"]] == tickets[1::2]
    assert [m["ticket_id"] for m in answer.json()["metric_sets"]] == tickets[1::2]
    assert too_many.status_code == 400


def test_update_many_settles_each_ticket_on_its_own(
    zc: Any, twin: ZendeskTwin, clock: ManualClock, tickets: list[int]
) -> None:
    stamps = {t: twin.ticket(t)["updated_at"] for t in tickets}
    clock.advance(timedelta(minutes=1))
    twin.agent_update(tickets[1], status="open")  # the stamp read for it is now stale
    changes = [
        ZenpyTicket(id=t, priority=priority, safe_update=True, updated_stamp=stamps[t])
        for t, priority in zip(tickets, ("urgent", "high", "highest", "low"), strict=True)
    ] + [ZenpyTicket(id=999, priority="low")]

    job = zc.tickets.update(changes)
    done = zc.job_status(id=job.id)

    assert (job.status, job.total, job.results) == ("queued", 5, None)
    assert done.status == "completed"
    results = [(r.id, r.success, r.status or r.error) for r in done.results]
    assert results == [(tickets[0], True, "Updated"), (tickets[1], False, "UpdateConflict"),
                       (tickets[2], False, "RecordInvalid"), (tickets[3], True, "Updated"),
                       (999, False, "RecordNotFound")]
    assert "Priority: is not valid" in done.results[2].details
    assert [twin.ticket(t)["priority"] for t in tickets] == ["urgent", None, None, "low"]


def test_a_job_works_for_a_while_before_it_completes(
    zendesk_http: httpx.Client, twin: ZendeskTwin, tickets: list[int]
) -> None:
    twin.jobs.polls_before_done = 2
    job = zendesk_http.put(UPDATE_MANY, params={"ids": f"{tickets[0]},{tickets[1]}"},
                   json={"ticket": {"additional_tags": ["bulk"]}}).json()["job_status"]

    polls = [zendesk_http.get(job["url"].removeprefix(twin.base_url)).json()["job_status"]
             for _ in range(3)]

    assert [p["status"] for p in polls] == ["working", "working", "completed"]
    assert [r["id"] for r in polls[-1]["results"]] == tickets[:2]
    assert "bulk" in twin.ticket(tickets[1])["tags"]
    assert zendesk_http.get("/api/v2/job_statuses/nosuchjob.json").status_code == 404


def test_update_many_refuses_more_than_100_tickets_and_bodies_without_ids(
    zendesk_http: httpx.Client,
) -> None:
    too_many = zendesk_http.put(UPDATE_MANY, json={"tickets": [{"id": n} for n in range(1, 102)]})
    no_ids = zendesk_http.put(UPDATE_MANY, json={"tickets": [{"priority": "low"}]})

    assert (too_many.status_code, no_ids.status_code) == (400, 400)


def test_a_lost_job_answer_leaves_the_changes_applied(
    zendesk_http: httpx.Client, twin: ZendeskTwin, tickets: list[int]
) -> None:
    twin.server.faults.add(FaultRule("PUT /api/v2/tickets/update_many.json",
                                     drop_after_commit_rate=1.0))

    with pytest.raises(httpx.TransportError):
        zendesk_http.put(UPDATE_MANY, json={"tickets": [{"id": tickets[0], "priority": "high"}]})

    assert twin.ticket(tickets[0])["priority"] == "high"


@pytest.fixture
def jira_client(jira: JiraTwin) -> Iterator[JIRA]:
    client = JIRA(server=jira.base_url, basic_auth=("bot@example.com", "x"),
                  get_server_info=True, options={"check_update": False}, max_retries=0,
                  timeout=5)
    yield client
    client.close()  # type: ignore[no-untyped-call]


def _bug(summary: str, project: str = "ENG") -> dict[str, Any]:
    return {"project": {"key": project}, "issuetype": {"name": "Bug"}, "summary": summary,
            "labels": [f"zendesk-{summary}"]}


def test_bulk_create_files_each_issue_or_says_why_not(jira_client: JIRA, jira: JiraTwin) -> None:
    created = jira_client.create_issues([_bug("1"), _bug("2", project="NOPE"), _bug("3")],
                                 prefetch=False)

    assert [c["status"] for c in created] == ["Success", "Error", "Success"]
    assert [c["issue"].key for c in created if c["issue"]] == ["ENG-1", "ENG-2"]
    assert "project" in created[1]["error"]
    assert jira.server.requests["POST /rest/api/2/issue/bulk"] == 1


def test_bulk_create_answers_400_when_none_is_created_or_too_many_are_asked(
    jira: JiraTwin,
) -> None:
    with httpx.Client(base_url=jira.base_url, auth=("bot@example.com", "x")) as http:
        none = http.post("/rest/api/2/issue/bulk",
                         json={"issueUpdates": [{"fields": _bug("x", "NOPE")}]})
        many = http.post("/rest/api/2/issue/bulk",
                         json={"issueUpdates": [{"fields": _bug(str(n))} for n in range(51)]})

    assert none.status_code == 400
    assert none.json()["errors"][0]["failedElementNumber"] == 0
    assert many.status_code == 400
    assert jira.server.requests["POST /rest/api/2/issue"] == 0
