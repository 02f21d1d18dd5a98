"""The Zendesk twin, driven by the real zenpy client over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from zenpy.lib.api_objects import Comment
from zenpy.lib.exception import APIException, RecordNotFoundException

from afterhours.clock import ManualClock
from afterhours.twins.zendesk import ZendeskTwin

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 23, 4, 42, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def twin(clock: ManualClock) -> Iterator[ZendeskTwin]:
    with ZendeskTwin(clock) as running:
        yield running


@pytest.fixture
def seeded(twin: ZendeskTwin) -> dict[str, Any]:
    org = twin.add_organization("Globex", tags=["vip"])
    tier1, tier2 = twin.add_group("Tier 1"), twin.add_group("Tier 2")
    requester = twin.add_user("Homer", "homer@globex.example", organization_id=org["id"])
    agent = twin.add_user("Marge", "marge@acme.example", role="agent")
    ticket = twin.create_ticket(
        subject="Reactor alarm", description="The alarm will not stop", channel="web",
        requester_id=requester["id"], priority="normal", tags=["alarm", "night"],
        group_id=tier1["id"], custom_fields={360001: "eu"})
    return {"org": org, "tier1": tier1, "tier2": tier2, "requester": requester,
            "agent": agent, "ticket": ticket}


def _get(twin: ZendeskTwin, path: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{twin.base_url}{path}") as answer:  # noqa: S310
        body: dict[str, Any] = json.load(answer)
    return body


def _error(raised: pytest.ExceptionInfo[APIException]) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = json.loads(str(raised.value))
    return raised.value.response.status_code, body


def test_users_me_is_the_twins_admin(zc: Any, twin: ZendeskTwin) -> None:
    me = zc.users.me()
    assert (me.name, me.role, me.id) == ("afterhours bot", "admin", twin.me["id"])
    assert twin.server.requests["GET /api/v2/users/me.json"] == 1


def test_show_ticket_and_its_people(zc: Any, seeded: dict[str, Any]) -> None:
    ticket = zc.tickets(id=seeded["ticket"]["id"])
    assert ticket.subject == ticket.raw_subject == "Reactor alarm"
    assert (ticket.status, ticket.priority, ticket.type) == ("new", "normal", None)
    assert ticket.tags == ["alarm", "night"]
    assert ticket.requester_id == ticket.submitter_id == seeded["requester"]["id"]
    assert ticket.organization_id == seeded["org"]["id"]
    assert ticket.group_id == seeded["tier1"]["id"]
    assert ticket.via.channel == "web"
    assert ticket.custom_fields == [{"id": 360001, "value": "eu"}]
    assert ticket.created_at == ticket.updated_at == "2026-11-23T04:42:00Z"
    assert ticket.generated_timestamp == int(START.timestamp())
    assert zc.users(id=seeded["requester"]["id"]).email == "homer@globex.example"
    assert zc.organizations(id=seeded["org"]["id"]).tags == ["vip"]
    assert zc.groups(id=seeded["tier2"]["id"]).name == "Tier 2"
    [description] = zc.tickets.comments(ticket.id)
    assert (description.body, description.public) == ("The alarm will not stop", True)


def test_update_tags_private_comment_priority_and_group(
    zc: Any, twin: ZendeskTwin, clock: ManualClock, seeded: dict[str, Any]
) -> None:
    ticket = zc.tickets(id=seeded["ticket"]["id"])
    ticket.priority = "urgent"
    ticket.group_id = seeded["tier2"]["id"]
    ticket.additional_tags = ["afterhours_triaged"]
    ticket.remove_tags = ["night"]
    ticket.comment = Comment(body="Paged the on-call engineer.", public=False)
    clock.advance(timedelta(minutes=5))

    audit = zc.tickets.update(ticket)

    assert audit.ticket.tags == ["alarm", "afterhours_triaged"]
    assert audit.ticket.updated_at == "2026-11-23T04:47:00Z"
    changed = {e["field_name"] for e in audit.audit.events if e["type"] == "Change"}
    assert {"priority", "group_id", "tags"} <= changed
    stored = twin.ticket(ticket.id)
    assert (stored["priority"], stored["group_id"]) == ("urgent", seeded["tier2"]["id"])
    assert stored["generated_timestamp"] == int(clock().timestamp())
    note = twin.comments(ticket.id)[-1]
    assert (note["body"], note["public"], note["author_id"]) == (
        "Paged the on-call engineer.", False, twin.me["id"])
    metrics = twin.metric_set(ticket.id)
    assert metrics["replies"] == 0  # a private note by the API user is no reply
    assert metrics["reply_time_in_minutes"] == {"calendar": None, "business": None}
    assert metrics["group_stations"] == 2


def test_tag_endpoints(zc: Any, twin: ZendeskTwin, seeded: dict[str, Any]) -> None:
    ticket_id = seeded["ticket"]["id"]
    zc.tickets.add_tags(ticket_id, ["escalated"])
    assert twin.ticket(ticket_id)["tags"] == ["alarm", "night", "escalated"]
    zc.tickets.delete_tags(ticket_id, ["alarm"])
    assert twin.ticket(ticket_id)["tags"] == ["night", "escalated"]
    zc.tickets.set_tags(ticket_id, ["only"])
    assert _get(twin, f"/api/v2/tickets/{ticket_id}/tags.json") == {"tags": ["only"]}


def test_safe_update_conflicts_on_a_stale_stamp(
    zc: Any, twin: ZendeskTwin, clock: ManualClock, seeded: dict[str, Any]
) -> None:
    stale = zc.tickets(id=seeded["ticket"]["id"])
    clock.advance(timedelta(minutes=3))
    twin.agent_update(stale.id, status="open", author_id=seeded["agent"]["id"])

    stale.safe_update = True
    stale.updated_stamp = stale.updated_at
    stale.priority = "high"
    with pytest.raises(APIException) as raised:
        zc.tickets.update(stale)
    status, body = _error(raised)
    assert (status, body["error"]) == (409, "UpdateConflict")
    assert twin.ticket(stale.id)["priority"] == "normal"

    fresh = zc.tickets(id=stale.id)
    fresh.safe_update = True
    fresh.updated_stamp = fresh.updated_at
    fresh.priority = "high"
    clock.advance(timedelta(minutes=1))
    assert zc.tickets.update(fresh).ticket.priority == "high"
    assert twin.ticket(stale.id)["updated_at"] == "2026-11-23T04:46:00Z"


def test_unknown_ticket_is_404_and_invalid_values_are_422(
    zc: Any, twin: ZendeskTwin, seeded: dict[str, Any]
) -> None:
    with pytest.raises(RecordNotFoundException) as missing:
        zc.tickets(id=999)
    assert _error(missing) == (404, {"error": "RecordNotFound", "description": "Not found"})

    ticket = zc.tickets(id=seeded["ticket"]["id"])
    ticket.priority = "apocalyptic"
    ticket.group_id = 424242
    with pytest.raises(APIException) as invalid:
        zc.tickets.update(ticket)
    status, body = _error(invalid)
    assert (status, body["error"], body["description"]) == (
        422, "RecordInvalid", "Record validation errors")
    assert set(body["details"]) == {"priority", "group"}
    assert twin.ticket(ticket.id)["updated_at"] == seeded["ticket"]["updated_at"]


def test_groups_are_cursor_paginated(zc: Any, twin: ZendeskTwin) -> None:
    for n in range(150):
        twin.add_group(f"Group {n}")
    names = [group.name for group in zc.groups()]
    assert names == [f"Group {n}" for n in range(150)]
    assert twin.server.requests["GET /api/v2/groups.json"] == 2


def test_incremental_export_pages_sideloads_and_resumes(
    zc: Any, twin: ZendeskTwin, clock: ManualClock, seeded: dict[str, Any]
) -> None:
    requester = seeded["requester"]
    others = []
    for n in range(4):
        clock.advance(timedelta(minutes=10))
        others.append(twin.create_ticket(subject=f"Issue {n}", description="help",
                                         requester_id=requester["id"]))
    ids = [seeded["ticket"]["id"], *(t["id"] for t in others)]
    label = "GET /api/v2/incremental/tickets/cursor.json"

    export = zc.tickets.incremental(start_time=int(START.timestamp()), per_page=2,
                                    include=["metric_sets", "users", "organizations", "groups"])
    assert [t.id for t in export] == ids
    assert twin.server.requests[label] == 3
    assert export.end_of_stream is True
    saved = export.after_cursor

    first = _get(twin, "/api/v2/incremental/tickets/cursor.json?start_time=0&per_page=2"
                       "&include=metric_sets,users,organizations,groups")
    assert first["end_of_stream"] is False
    assert first["after_url"].startswith(twin.base_url)
    assert [m["ticket_id"] for m in first["metric_sets"]] == ids[:2]
    assert [u["id"] for u in first["users"]] == [requester["id"]]
    assert [o["id"] for o in first["organizations"]] == [seeded["org"]["id"]]
    assert [g["id"] for g in first["groups"]] == [seeded["tier1"]["id"]]

    quiet = zc.tickets.incremental(cursor=saved)
    assert list(quiet) == []
    assert quiet.after_cursor == saved  # an empty page keeps the position

    clock.advance(timedelta(minutes=30))
    twin.add_comment(others[2]["id"], "Any news?", author_id=requester["id"])
    twin.agent_update(seeded["ticket"]["id"], status="pending")
    resumed = zc.tickets.incremental(cursor=saved, include=["metric_sets"])
    assert [t.id for t in resumed] == [others[2]["id"], seeded["ticket"]["id"]]
    assert resumed.end_of_stream is True
    assert resumed.after_cursor != saved


def test_incremental_export_rejects_a_bad_cursor(zc: Any) -> None:
    with pytest.raises(APIException) as raised:
        list(zc.tickets.incremental(cursor="not-a-cursor"))
    status, body = _error(raised)
    assert (status, body["error"]) == (400, "InvalidPaginationParameter")


def test_metric_set_counts_the_first_public_agent_reply(
    zc: Any, twin: ZendeskTwin, clock: ManualClock, seeded: dict[str, Any]
) -> None:
    ticket_id = seeded["ticket"]["id"]
    clock.advance(timedelta(minutes=20))
    twin.add_comment(ticket_id, "Still ringing!", author_id=seeded["requester"]["id"])
    assert twin.metric_set(ticket_id)["replies"] == 0

    clock.advance(timedelta(minutes=70))
    ticket = zc.tickets(id=ticket_id)
    ticket.comment = Comment(body="We are on it.", public=True)
    zc.tickets.update(ticket)

    export = _get(twin, "/api/v2/incremental/tickets/cursor.json?start_time=0"
                        "&include=metric_sets")
    [metrics] = export["metric_sets"]
    assert metrics["ticket_id"] == ticket_id
    assert metrics["replies"] == 1
    assert metrics["reply_time_in_minutes"] == {"calendar": 90, "business": 90}
    assert metrics["requester_updated_at"] == "2026-11-23T05:02:00Z"
    assert metrics["latest_comment_added_at"] == "2026-11-23T06:12:00Z"
    assert metrics["solved_at"] is None

    clock.advance(timedelta(minutes=30))
    twin.agent_update(ticket_id, status="solved", assignee_id=seeded["agent"]["id"])
    solved = twin.metric_set(ticket_id)
    assert solved["solved_at"] == "2026-11-23T06:42:00Z"
    assert solved["first_resolution_time_in_minutes"]["calendar"] == 120
    assert (solved["assignee_stations"], solved["assigned_at"]) == (1, solved["solved_at"])


def test_ticket_fields_list_system_fields_and_declared_custom_ones(
    zc: Any, twin: ZendeskTwin
) -> None:
    plan = twin.add_ticket_field("Plan", field_type="tagger", options=[
        ("Enterprise", "plan_enterprise"), ("Team", "plan_team")])
    twin.add_ticket_field("VIP", field_type="checkbox")

    listed = {field.title: field.to_dict() for field in zc.ticket_fields()}

    assert list(listed) == ["Subject", "Description", "Status", "Type", "Priority", "Group",
                            "Assignee", "Plan", "VIP"]
    assert {t for t, f in listed.items() if f["removable"]} == {"Plan", "VIP"}
    assert listed["Plan"]["id"] == plan["id"]
    assert listed["Plan"]["type"] == "tagger"
    assert [(o["name"], o["value"]) for o in listed["Plan"]["custom_field_options"]] == [
        ("Enterprise", "plan_enterprise"), ("Team", "plan_team")]
    assert "custom_field_options" not in listed["VIP"]
    assert [o["value"] for o in listed["Priority"]["system_field_options"]] == [
        "urgent", "high", "normal", "low"]
    with pytest.raises(ValueError, match="options are required"):
        twin.add_ticket_field("Tier", field_type="tagger")
    with pytest.raises(ValueError, match="exists"):
        twin.add_ticket_field("plan")


def test_custom_fields_are_set_on_create_and_by_update(
    zc: Any, twin: ZendeskTwin, clock: ManualClock, seeded: dict[str, Any]
) -> None:
    region = twin.add_ticket_field("Region")["id"]
    products = twin.add_ticket_field("Products", field_type="multiselect", options=[
        ("Billing", "product_billing"), ("API", "product_api")])["id"]
    vip = twin.add_ticket_field("VIP", field_type="checkbox")["id"]
    # A field added later shows, unset, on the tickets already there.
    assert twin.ticket(seeded["ticket"]["id"])["custom_fields"] == [
        {"id": 360001, "value": "eu"}, {"id": region, "value": None},
        {"id": products, "value": None}, {"id": vip, "value": False}]
    created = twin.create_ticket(subject="x", description="d",
                                 requester_id=seeded["requester"]["id"],
                                 custom_fields={region: "EMEA"})
    assert created["custom_fields"] == [{"id": region, "value": "EMEA"},
                                        {"id": products, "value": None},
                                        {"id": vip, "value": False}]

    ticket = zc.tickets(id=created["id"])
    ticket.custom_fields = [{"id": products, "value": ["product_api"]},
                            {"id": vip, "value": True}]
    clock.advance(timedelta(minutes=1))
    audit = zc.tickets.update(ticket)

    assert twin.ticket(created["id"])["custom_fields"] == [
        {"id": region, "value": "EMEA"}, {"id": products, "value": ["product_api"]},
        {"id": vip, "value": True}]
    assert twin.ticket(created["id"])["fields"] == twin.ticket(created["id"])["custom_fields"]
    changes = {e["field_name"]: (e["previous_value"], e["value"]) for e in audit.audit.events
               if e["type"] == "Change"}
    assert changes == {str(products): (None, ["product_api"]), str(vip): (False, True)}


def test_users_are_searched_by_any_part_of_name_or_email(
    zc: Any, twin: ZendeskTwin, seeded: dict[str, Any]
) -> None:
    twin.add_user("Bart", "bart@globex.example")

    assert [u.email for u in zc.users.search(query="MARGE@acme.example")] == [
        "marge@acme.example"]
    assert [u.email for u in zc.users.search(query="email:marge@acme.example")] == [
        "marge@acme.example"]
    assert sorted(u.name for u in zc.users.search(query="globex")) == ["Bart", "Homer"]
    assert list(zc.users.search(query="nobody@acme.example")) == []


def test_update_assigns_an_agent_and_removes_tags(
    zc: Any, twin: ZendeskTwin, clock: ManualClock, seeded: dict[str, Any]
) -> None:
    ticket = zc.tickets(id=seeded["ticket"]["id"])
    ticket.assignee_id = seeded["agent"]["id"]
    ticket.remove_tags = ["night", "not_there"]
    clock.advance(timedelta(minutes=7))

    audit = zc.tickets.update(ticket)

    assert (audit.ticket.assignee_id, audit.ticket.status) == (seeded["agent"]["id"], "open")
    assert audit.ticket.tags == ["alarm"]
    metrics = twin.metric_set(ticket.id)
    assert (metrics["assignee_stations"], metrics["assigned_at"]) == (1, "2026-11-23T04:49:00Z")
    assert metrics["initially_assigned_at"] == "2026-11-23T04:49:00Z"

    again = zc.tickets(id=ticket.id)
    again.assignee_id = seeded["requester"]["id"]  # an end-user cannot own a ticket
    with pytest.raises(APIException) as refused:
        zc.tickets.update(again)
    status, body = _error(refused)
    assert (status, set(body["details"])) == (422, {"assignee"})
