"""The Zendesk adapter on the real zenpy client against the Zendesk twin."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from structlog.testing import capture_logs

from afterhours.adapters import zendesk as zendesk_adapter
from afterhours.adapters.dryrun import DryRunTicketDesk
from afterhours.adapters.ports import TicketDesk
from afterhours.adapters.zendesk import ZenpyTicketDesk
from afterhours.clock import ManualClock
from afterhours.domain.actions import (
    AddInternalNote,
    AddPublicReply,
    AddTags,
    AssignAgent,
    AssignGroup,
    RemoveTags,
    SetPriority,
)
from afterhours.domain.model import Ticket
from afterhours.errors import ConflictError, OutcomeUnknownError, PermanentError
from afterhours.retrying import RetryPolicy
from afterhours.twins.faults import FaultRule
from afterhours.twins.zendesk import ZendeskTwin

pytestmark = pytest.mark.integration


def desk_for(twin: ZendeskTwin, page_size: int = 1000) -> ZenpyTicketDesk:
    return ZenpyTicketDesk(
        twin.base_url, "bot@example.com", "token", retry=RetryPolicy.disabled(),
        page_size=page_size,
    )


def drain(
    desk: TicketDesk, cursor: str | None, clock: ManualClock
) -> tuple[list[Ticket], str]:
    tickets: list[Ticket] = []
    while True:
        page = desk.export_page(cursor, clock() - timedelta(hours=1))
        tickets += page.tickets
        cursor = page.cursor
        if page.end_of_stream:
            return tickets, cursor


@pytest.fixture
def world(zendesk: ZendeskTwin) -> dict[str, int]:
    org = zendesk.add_organization("Globex")["id"]
    return {
        "org": org,
        "finance": zendesk.add_group("Finance")["id"],
        "alice": zendesk.add_user("Alice", "alice@globex.com", organization_id=org)["id"],
        "agent": zendesk.add_user("Sam", "sam@acme.example", role="agent")["id"],
    }


def test_export_reads_every_page_and_resumes_from_the_saved_cursor(
    zendesk: ZendeskTwin, clock: ManualClock, world: dict[str, int]
) -> None:
    for n in range(5):
        zendesk.create_ticket(subject=f"t{n}", description="d", requester_id=world["alice"])
        clock.advance(timedelta(seconds=30))
    desk = desk_for(zendesk, page_size=2)

    tickets, cursor = drain(desk, None, clock)
    assert [t.subject for t in tickets] == [f"t{n}" for n in range(5)]
    assert {t.requester_email for t in tickets} == {"alice@globex.com"}
    assert {t.organization for t in tickets} == {"Globex"}

    again, same = drain(desk, cursor, clock)
    assert again == []
    assert same == cursor

    clock.advance(timedelta(minutes=5))
    zendesk.add_comment(tickets[1].id, "On it", author_id=world["agent"])
    changed, _ = drain(desk, cursor, clock)
    assert [t.id for t in changed] == [tickets[1].id]
    assert changed[0].first_reply_at is not None


def test_update_adds_tags_without_replacing_and_writes_a_private_note(
    zendesk: ZendeskTwin, clock: ManualClock, world: dict[str, int]
) -> None:
    zendesk.create_ticket(subject="Refund", description="d", requester_id=world["alice"],
                          tags=["agent_tag"])
    desk = desk_for(zendesk)
    (ticket,), _ = drain(desk, None, clock)
    clock.advance(timedelta(minutes=1))

    stamped = desk.update_ticket(ticket, [
        SetPriority(ticket.id, "urgent"), AddTags(ticket.id, ("p1", "billing")),
        AssignGroup(ticket.id, "Finance"), AddInternalNote(ticket.id, "routed to Finance"),
    ])

    stored = zendesk.ticket(ticket.id)
    assert stored["priority"] == "urgent"
    assert set(stored["tags"]) == {"agent_tag", "p1", "billing"}
    assert stored["group_id"] == world["finance"]
    note = zendesk.comments(ticket.id)[-1]
    assert (note["body"], note["public"]) == ("routed to Finance", False)
    assert stamped == clock()


def test_a_stale_ticket_is_not_overwritten(
    zendesk: ZendeskTwin, clock: ManualClock, world: dict[str, int]
) -> None:
    zendesk.create_ticket(subject="Refund", description="d", requester_id=world["alice"])
    desk = desk_for(zendesk)
    (ticket,), _ = drain(desk, None, clock)
    clock.advance(timedelta(minutes=1))
    zendesk.agent_update(ticket.id, priority="low")  # an agent edits after we read

    with pytest.raises(ConflictError):
        desk.update_ticket(ticket, [SetPriority(ticket.id, "urgent")])
    assert zendesk.ticket(ticket.id)["priority"] == "low"


def test_an_unknown_group_is_a_permanent_error(
    zendesk: ZendeskTwin, clock: ManualClock, world: dict[str, int]
) -> None:
    zendesk.create_ticket(subject="x", description="d", requester_id=world["alice"])
    desk = desk_for(zendesk)
    (ticket,), _ = drain(desk, None, clock)
    with pytest.raises(PermanentError, match="no group named 'Nowhere'"):
        desk.update_ticket(ticket, [AssignGroup(ticket.id, "Nowhere")])


# -- the new ticket data: custom fields, assignee, customer activity, replies ----------------


@pytest.fixture
def fields(zendesk: ZendeskTwin) -> dict[str, int]:
    """Custom fields of every kind a policy reads, by a short name."""
    declared = {
        "region": zendesk.add_ticket_field("Region"),
        "vip": zendesk.add_ticket_field("VIP", field_type="checkbox"),
        "seats": zendesk.add_ticket_field("Seats", field_type="integer"),
        "plan": zendesk.add_ticket_field("Plan", field_type="tagger", options=[
            ("Enterprise", "plan_enterprise"), ("Team", "Team")]),
        "products": zendesk.add_ticket_field("Products", field_type="multiselect", options=[
            ("Billing", "product_billing"), ("API", "product_api")]),
        "notes": zendesk.add_ticket_field("Notes", field_type="textarea"),
    }
    return {name: field["id"] for name, field in declared.items()}


def test_custom_fields_are_read_by_title_with_dropdown_names_and_values(
    zendesk: ZendeskTwin, clock: ManualClock, world: dict[str, int], fields: dict[str, int]
) -> None:
    zendesk.create_ticket(subject="Invoice", description="d", requester_id=world["alice"],
                          custom_fields={
                              fields["region"]: "EMEA", fields["vip"]: True,
                              fields["seats"]: "250", fields["plan"]: "plan_enterprise",
                              fields["products"]: ["product_billing", "product_api"],
                              fields["notes"]: ""})
    zendesk.create_ticket(subject="Question", description="d", requester_id=world["alice"],
                          custom_fields={fields["plan"]: "Team"})
    desk = desk_for(zendesk)

    (full, sparse), _ = drain(desk, None, clock)

    assert full.custom_fields == (
        ("Region", "EMEA"), ("VIP", "true"), ("Seats", "250"),
        ("Plan", "Enterprise"), ("Plan", "plan_enterprise"),
        ("Products", "Billing"), ("Products", "product_billing"),
        ("Products", "API"), ("Products", "product_api"),
    )
    assert full.field_values("plan") == ("Enterprise", "plan_enterprise")
    assert full.field_values("Notes") == ()  # "" is unset
    # An option whose name is its value gives one pair; an unchecked box reads "false".
    assert sparse.custom_fields == (("VIP", "false"), ("Plan", "Team"))
    assert zendesk.server.requests["GET /api/v2/ticket_fields.json"] == 1  # read once, kept


def test_an_unknown_field_is_read_again_once_then_skipped_without_failing_the_ticket(
    zendesk: ZendeskTwin, clock: ManualClock, world: dict[str, int], fields: dict[str, int]
) -> None:
    zendesk.create_ticket(subject="a", description="d", requester_id=world["alice"],
                          custom_fields={fields["region"]: "EMEA"})
    desk = desk_for(zendesk)
    (first,), cursor = drain(desk, None, clock)
    assert first.custom_fields == (("Region", "EMEA"), ("VIP", "false"))

    clock.advance(timedelta(minutes=1))
    tier = zendesk.add_ticket_field("Tier")["id"]  # added by an admin while we run
    zendesk.create_ticket(subject="b", description="d", requester_id=world["alice"],
                          custom_fields={tier: "gold", 999_999: "a field since deleted"})
    (second,), cursor = drain(desk, cursor, clock)
    assert second.custom_fields == (("VIP", "false"), ("Tier", "gold"))
    assert zendesk.server.requests["GET /api/v2/ticket_fields.json"] == 2

    clock.advance(timedelta(minutes=1))
    zendesk.create_ticket(subject="c", description="d", requester_id=world["alice"],
                          custom_fields={999_999: "still unknown"})
    (third,), _ = drain(desk, cursor, clock)
    assert third.subject == "c"
    # Known to be unknown: not a read per page.
    assert zendesk.server.requests["GET /api/v2/ticket_fields.json"] == 2


def test_assignee_customer_activity_and_replies_come_from_the_export_and_a_fresh_read(
    zendesk: ZendeskTwin, clock: ManualClock, world: dict[str, int]
) -> None:
    ticket_id = zendesk.create_ticket(subject="Refund", description="d",
                                      requester_id=world["alice"])["id"]
    clock.advance(timedelta(minutes=10))
    zendesk.agent_update(ticket_id, assignee_id=world["agent"])
    clock.advance(timedelta(minutes=10))
    zendesk.add_comment(ticket_id, "Looking into it", author_id=world["agent"])
    clock.advance(timedelta(minutes=10))
    customer_wrote = clock()
    zendesk.add_comment(ticket_id, "Any news?", author_id=world["alice"])
    clock.advance(timedelta(minutes=10))
    zendesk.add_comment(ticket_id, "Fixed", author_id=world["agent"])
    desk = desk_for(zendesk)

    (exported,), _ = drain(desk, None, clock)
    fresh = desk.fetch_ticket(ticket_id)

    for ticket in (exported, fresh):
        assert ticket is not None
        assert ticket.assignee == "sam@acme.example"
        assert ticket.last_customer_update_at == customer_wrote
        assert ticket.replies == 2


def test_an_assignee_missing_from_the_side_loads_is_looked_up(
    zendesk: ZendeskTwin, clock: ManualClock, world: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ticket_id = zendesk.create_ticket(subject="Refund", description="d",
                                      requester_id=world["alice"])["id"]
    zendesk.agent_update(ticket_id, assignee_id=world["agent"])
    monkeypatch.setattr(zendesk_adapter, "SIDELOADS", ["metric_sets", "groups"])
    desk = desk_for(zendesk)

    (ticket,), _ = drain(desk, None, clock)
    assert desk.fetch_ticket(ticket_id) == ticket

    assert ticket.assignee == "sam@acme.example"
    assert zendesk.server.requests["GET /api/v2/users/{id}.json"] == 1  # then cached


# -- lookups a live check uses ------------------------------------------------------------


def test_agent_id_finds_an_agent_by_exact_email_in_any_case_and_caches_it(
    zendesk: ZendeskTwin, world: dict[str, int]
) -> None:
    zendesk.add_user("Samantha", "samantha@acme.example", role="admin")
    desk = desk_for(zendesk)

    assert desk.agent_id("Sam@ACME.example") == world["agent"]
    assert desk.agent_id("sam@acme.example") == world["agent"]
    assert zendesk.server.requests["GET /api/v2/users/search.json"] == 1


@pytest.mark.parametrize("email", ["nobody@acme.example", "alice@globex.com", "sam@acme"])
def test_agent_id_refuses_an_email_no_agent_has(
    zendesk: ZendeskTwin, world: dict[str, int], email: str
) -> None:
    # alice is an end-user: a ticket cannot be assigned to her.
    refusal = re.escape(f"no agent or admin has the email '{email}'")
    with pytest.raises(PermanentError, match=refusal):
        desk_for(zendesk).agent_id(email)


def test_field_titles_are_the_custom_fields_only(
    zendesk: ZendeskTwin, fields: dict[str, int]
) -> None:
    desk = desk_for(zendesk)
    assert desk.field_titles() == {"Region", "VIP", "Seats", "Plan", "Products", "Notes"}
    zendesk.add_ticket_field("Tier")
    assert "Tier" in desk.field_titles()  # read fresh each time: a check wants today's fields


# -- the new actions: remove tags, assign an agent, reply in public ------------------------

TICKET_PUT = "PUT /api/v2/tickets/{id}.json"


def test_tags_are_removed_and_added_in_one_update_leaving_the_others(
    zendesk: ZendeskTwin, clock: ManualClock, world: dict[str, int]
) -> None:
    zendesk.create_ticket(subject="Refund", description="d", requester_id=world["alice"],
                          tags=["agent_tag", "afterhours_waiting", "stale"])
    desk = desk_for(zendesk)
    (ticket,), _ = drain(desk, None, clock)
    clock.advance(timedelta(minutes=1))

    desk.update_ticket(ticket, [
        RemoveTags(ticket.id, ("afterhours_waiting", "stale", "p1")),
        AddTags(ticket.id, ("p1", "afterhours_answered")),  # the later change to p1 wins
    ])

    assert zendesk.ticket(ticket.id)["tags"] == ["agent_tag", "p1", "afterhours_answered"]
    assert zendesk.server.requests[TICKET_PUT] == 1


def test_an_agent_is_assigned_by_email(
    zendesk: ZendeskTwin, clock: ManualClock, world: dict[str, int]
) -> None:
    zendesk.create_ticket(subject="Outage", description="d", requester_id=world["alice"])
    desk = desk_for(zendesk)
    (ticket,), cursor = drain(desk, None, clock)
    clock.advance(timedelta(minutes=1))

    desk.update_ticket(ticket, [AssignAgent(ticket.id, "SAM@acme.example")])

    stored = zendesk.ticket(ticket.id)
    assert (stored["assignee_id"], stored["status"]) == (world["agent"], "open")
    assert zendesk.metric_set(ticket.id)["assignee_stations"] == 1
    (reread,), _ = drain(desk, cursor, clock)
    assert reread.assignee == "sam@acme.example"


def test_an_unknown_agent_is_a_permanent_error_and_nothing_is_sent(
    zendesk: ZendeskTwin, clock: ManualClock, world: dict[str, int]
) -> None:
    zendesk.create_ticket(subject="Outage", description="d", requester_id=world["alice"])
    desk = desk_for(zendesk)
    (ticket,), _ = drain(desk, None, clock)

    with pytest.raises(PermanentError, match=re.escape("no agent or admin has the email 'x@")):
        desk.update_ticket(ticket, [AddTags(ticket.id, ("p1",)),
                                    AssignAgent(ticket.id, "x@acme.example")])
    assert zendesk.server.requests[TICKET_PUT] == 0
    assert zendesk.ticket(ticket.id)["tags"] == []


def test_a_reply_and_notes_go_in_two_updates_public_then_private(
    zendesk: ZendeskTwin, clock: ManualClock, world: dict[str, int]
) -> None:
    zendesk.create_ticket(subject="Refund", description="d", requester_id=world["alice"])
    desk = desk_for(zendesk)
    (ticket,), cursor = drain(desk, None, clock)
    clock.advance(timedelta(minutes=1))

    stamped = desk.update_ticket(ticket, [
        AddInternalNote(ticket.id, "routed to Finance"), AddTags(ticket.id, ("p2",)),
        AddPublicReply(ticket.id, "We got your message; Finance answers by 09:00."),
        AddInternalNote(ticket.id, "[afterhours:ack]"),
    ])

    assert zendesk.server.requests[TICKET_PUT] == 2
    reply, note = zendesk.comments(ticket.id)[-2:]
    assert (reply["body"], reply["public"]) == (
        "We got your message; Finance answers by 09:00.", True)
    assert (note["body"], note["public"]) == ("routed to Finance\n\n[afterhours:ack]", False)
    assert zendesk.ticket(ticket.id)["tags"] == ["p2"]
    assert stamped == clock()  # the second update's stamp: the one to update from next
    (reread,), _ = drain(desk, cursor, clock)
    assert reread.replies == 1  # the reply counts in the metric set; the note does not


def test_when_the_notes_fail_after_the_reply_landed_the_outcome_is_unknown(
    zendesk: ZendeskTwin, clock: ManualClock, world: dict[str, int]
) -> None:
    zendesk.create_ticket(subject="Refund", description="d", requester_id=world["alice"])
    desk = desk_for(zendesk)
    (ticket,), _ = drain(desk, None, clock)
    body = "We got your message."

    # The twin refuses a comment without a body (422): the notes' update fails on its own.
    with pytest.raises(OutcomeUnknownError, match="the public reply was added"):
        desk.update_ticket(ticket, [AddPublicReply(ticket.id, body),
                                    AddInternalNote(ticket.id, "")])
    assert [c["body"] for c in zendesk.comments(ticket.id)][1:] == [body]
    assert desk.has_note(ticket.id, body)  # what the next pass's reconcile looks for


def test_a_reply_whose_answer_is_lost_is_not_sent_again(
    zendesk: ZendeskTwin, clock: ManualClock, world: dict[str, int]
) -> None:
    zendesk.create_ticket(subject="Refund", description="d", requester_id=world["alice"])
    desk = ZenpyTicketDesk(zendesk.base_url, "bot@example.com", "token")  # retries on
    (ticket,), _ = drain(desk, None, clock)
    zendesk.server.faults.add(FaultRule(TICKET_PUT, drop_after_commit_rate=1.0))

    with pytest.raises(OutcomeUnknownError):
        desk.update_ticket(ticket, [AddPublicReply(ticket.id, "Thanks, we are on it.")])

    assert zendesk.server.requests[TICKET_PUT] == 1
    assert [c["public"] for c in zendesk.comments(ticket.id)] == [True, True]


def test_a_reply_is_found_whatever_whitespace_zendesk_kept(
    zendesk: ZendeskTwin, world: dict[str, int]
) -> None:
    ticket_id = zendesk.create_ticket(subject="Refund", description="d",
                                      requester_id=world["alice"])["id"]
    zendesk.add_comment(ticket_id, "Hello Alice,\r\n\r\n  we will answer   by 09:00. \n",
                        author_id=world["agent"])
    desk = desk_for(zendesk)

    assert desk.has_note(ticket_id, "Hello Alice,\n\nwe will answer by 09:00.")
    assert desk.has_note(ticket_id, "we will answer by 09:00.")
    assert not desk.has_note(ticket_id, "we will answer by 10:00.")
    assert not desk.has_note(ticket_id, "  ")


def test_a_dry_run_desk_takes_the_new_actions_and_writes_nothing(
    zendesk: ZendeskTwin, clock: ManualClock, world: dict[str, int]
) -> None:
    zendesk.create_ticket(subject="Refund", description="d", requester_id=world["alice"],
                          tags=["afterhours_waiting"])
    dry = DryRunTicketDesk(desk_for(zendesk))
    (ticket,), _ = drain(dry, None, clock)
    before = (zendesk.ticket(ticket.id), zendesk.comments(ticket.id))
    reply = "We got your message; we answer by 09:00."

    with capture_logs() as logs:
        dry.update_ticket(ticket, [
            RemoveTags(ticket.id, ("afterhours_waiting",)),
            AssignAgent(ticket.id, "sam@acme.example"), AddPublicReply(ticket.id, reply),
            AddInternalNote(ticket.id, "note")])

    assert (zendesk.ticket(ticket.id), zendesk.comments(ticket.id)) == before
    assert not [label for label in zendesk.server.requests if not label.startswith("GET ")]
    [logged] = [e for e in logs if e["event"] == "dryrun.would_update"]
    assert [c["action"] for c in logged["changes"]] == [
        "RemoveTags", "AssignAgent", "AddPublicReply", "AddInternalNote"]
    assert dry.has_note(ticket.id, reply)  # a reconcile in the same dry run finds the reply
    seen = dry.fetch_ticket(ticket.id)
    assert seen is not None
    assert (seen.tags, seen.assignee, seen.replies) == (frozenset(), "sam@acme.example", 1)
