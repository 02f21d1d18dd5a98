"""The validator itself: it rejects what the specs reject, and allowances stay narrow."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from afterhours.adapters.jira import issue_fields
from afterhours.contract.specs import Spec
from afterhours.contract.validate import Checked, check
from afterhours.domain.actions import CreateJiraIssue
from afterhours.twins._http import Exchange, Request, Response
from afterhours.twins.zendesk import ZendeskTwin
from factories import issue_text

AUTH = {"authorization": "Basic " + base64.b64encode(b"bot@example.com/token:x").decode(),
        "content-type": "application/json"}


def exchange(method: str, path: str, body: Any = None, *, status: int = 200,
             answer: Any = None, query: dict[str, list[str]] | None = None,
             headers: dict[str, str] | None = None) -> Exchange:
    sent = Request(method, path, query or {}, AUTH if headers is None else headers, body)
    return Exchange(sent, Response(status, answer))


@pytest.fixture
def ticket() -> dict[str, Any]:
    """A ticket as the Zendesk twin shapes it (no type, no assignee: nulls the API has)."""
    twin = ZendeskTwin()
    requester = twin.add_user("Alice", "alice@example.com")["id"]
    return twin.create_ticket(subject="Help", description="Broken", requester_id=requester)


def messages(checked: Checked) -> list[str]:
    return [str(v) for v in checked.violations]


def test_the_daemons_ticket_update_passes_with_its_allowances(
    zendesk_spec: Spec, ticket: dict[str, Any]
) -> None:
    body = {"ticket": {"id": ticket["id"], "priority": "urgent", "group_id": 7,
                       "additional_tags": ["p1"], "safe_update": True,
                       "updated_stamp": ticket["updated_at"],
                       "comment": {"body": "note", "public": False}}}
    checked = check(zendesk_spec, exchange("PUT", f"/api/v2/tickets/{ticket['id']}.json", body,
                                           answer={"ticket": ticket}))
    assert checked.endpoint == "PUT /api/v2/tickets/{ticket_id}"
    assert messages(checked) == []
    assert {"zendesk-json-suffix", "zendesk-ticket-update-tag-lists-and-id",
            "zendesk-null-ticket-fields"} <= set(checked.allowed)


def test_a_misspelt_field_in_a_request_body_is_a_violation(
    zendesk_spec: Spec, ticket: dict[str, Any]
) -> None:
    body = {"ticket": {"additonal_tags": ["p1"]}}
    checked = check(zendesk_spec, exchange("PUT", "/api/v2/tickets/1.json", body,
                                           answer={"ticket": ticket}))
    assert messages(checked) == ["request body.ticket: properties: Additional properties are "
                                 "not allowed ('additonal_tags' was unexpected)"]


def test_an_unknown_side_load_is_a_violation_a_known_one_is_not(
    zendesk_spec: Spec, ticket: dict[str, Any]
) -> None:
    page = {"tickets": [ticket], "after_cursor": "x", "after_url": None, "before_cursor": None,
            "before_url": None, "end_of_stream": True}
    good = exchange("GET", "/api/v2/incremental/tickets/cursor.json", answer=page,
                    query={"start_time": ["0"], "include": ["metric_sets,users"]})
    bad = exchange("GET", "/api/v2/incremental/tickets/cursor.json", answer=page,
                   query={"start_time": ["0"], "include": ["metric_set"]})
    assert messages(check(zendesk_spec, good)) == []
    assert messages(check(zendesk_spec, bad)) == [
        "request query.include: not declared by the spec: 'metric_set'"]


def test_nullable_allowances_name_fields_not_endpoints(
    zendesk_spec: Spec, ticket: dict[str, Any]
) -> None:
    broken = ticket | {"status": None}
    checked = check(zendesk_spec, exchange("GET", "/api/v2/tickets/1.json",
                                           answer={"ticket": broken}))
    assert messages(checked)
    assert all(m.startswith("response body.ticket.status:") for m in messages(checked))


def test_unknown_paths_are_violations_and_missing_endpoints_are_listed(
    zendesk_spec: Spec,
) -> None:
    unknown = check(zendesk_spec, exchange("GET", "/api/v2/tickets/1/nonsense.json"))
    assert [v.where for v in unknown.violations] == ["path"]
    schedules = check(zendesk_spec, exchange("GET", "/api/v2/business_hours/schedules.json"))
    assert (schedules.in_spec, schedules.violations) == (False, ())


def test_jira_rest_v2_is_validated_as_v3(jira_spec: Spec) -> None:
    body = {"globalId": "zendesk:acme:ticket:1", "relationship": "Zendesk ticket",
            "application": {"type": "com.zendesk", "name": "Zendesk"},
            "object": {"url": "https://acme.zendesk.com/agent/tickets/1", "title": "ZD #1"}}
    answer = {"id": 10000, "self": "https://x/rest/api/2/issue/ENG-1/remotelink/10000"}
    checked = check(jira_spec, exchange("POST", "/rest/api/2/issue/ENG-1/remotelink", body,
                                        status=201, answer=answer))
    assert checked.endpoint == "POST /rest/api/3/issue/{issueIdOrKey}/remotelink"
    assert (messages(checked), checked.allowed) == ([], ("jira-rest-v2-as-v3",))
    # RemoteIssueLinkRequest allows extra fields; a link without its title is refused.
    untitled = body | {"object": {"url": "https://acme.zendesk.com/agent/tickets/1"}}
    refused = check(jira_spec, exchange("POST", "/rest/api/2/issue/ENG-1/remotelink", untitled,
                                        status=201, answer=answer))
    assert messages(refused) == [
        "request body.object: required: 'title' is a required property"]


def test_the_v3_create_with_an_adf_description_is_validated_against_the_spec_as_sent(
    jira_spec: Spec,
) -> None:
    # What adapters/jira.py sends to Jira Cloud: REST v3 itself, no v2 path rewritten.
    version, fields = issue_fields(
        CreateJiraIssue(7, "ENG", "Bug", "Crash (Zendesk #7)", issue_text("<!here> {noformat}"),
                        ("zendesk-7",), "High", ("API",)), cloud=True)
    answer = {"id": "10000", "key": "ENG-1", "self": "https://x/rest/api/3/issue/10000"}
    checked = check(jira_spec, exchange("POST", "/rest/api/3/issue", {"fields": fields},
                                        status=201, answer=answer))
    assert version == "3"
    assert fields["description"]["type"] == "doc"
    assert checked.endpoint == "POST /rest/api/3/issue"
    assert (checked.request_validated, checked.response_validated) == (True, True)
    assert (messages(checked), checked.allowed) == ([], ())
    # The body is checked, not waved through: IssueUpdateDetails.fields must be an object.
    refused = check(jira_spec, exchange("POST", "/rest/api/3/issue", {"fields": "x"},
                                        status=201, answer=answer))
    assert messages(refused) == ["request body.fields: type: 'x' is not of type 'object'"]


def test_a_request_without_credentials_is_named_as_such(zendesk_spec: Spec) -> None:
    checked = check(zendesk_spec, exchange("GET", "/api/v2/groups/1.json", headers={},
                                           status=404, answer={"error": "RecordNotFound"}))
    assert "test-probe-without-credentials" in checked.allowed


def test_a_ticket_broken_on_purpose_passes_only_where_it_was_broken(
    zendesk_spec: Spec, ticket: dict[str, Any]
) -> None:
    broken = {key: value for key, value in ticket.items() if key != "created_at"}
    page = {"tickets": [broken | {"tags": 5, "status": None}], "after_cursor": "x",
            "after_url": None, "before_cursor": None, "before_url": None, "end_of_stream": True}
    sent = Request("GET", "/api/v2/incremental/tickets/cursor.json", {"start_time": ["0"]},
                   AUTH, None)
    injected = ("body.tickets.0.created_at", "body.tickets.0.tags")
    checked = check(zendesk_spec, Exchange(sent, Response(200, page, injected=injected)))
    # The status nobody broke on purpose is still a violation; tags is let through as injected.
    assert messages(checked)
    assert all(m.startswith("response body.tickets.0.status:") for m in messages(checked))
    assert {f.where for f in checked.injected} == {"body.tickets.0.tags"}
    # Unmarked, the same page is a violation at tags too.
    unmarked = check(zendesk_spec, Exchange(sent, Response(200, page)))
    assert any(m.startswith("response body.tickets.0.tags:") for m in messages(unmarked))
