"""The Zendesk adapter on the real zenpy client against the Zendesk twin."""

from __future__ import annotations

from datetime import timedelta

import pytest

from afterhours.adapters.zendesk import ZenpyTicketDesk
from afterhours.clock import ManualClock
from afterhours.domain.actions import AddInternalNote, AddTags, AssignGroup, SetPriority
from afterhours.domain.model import Ticket
from afterhours.errors import ConflictError, PermanentError
from afterhours.retrying import RetryPolicy
from afterhours.twins.zendesk import ZendeskTwin

pytestmark = pytest.mark.integration


def desk_for(twin: ZendeskTwin, page_size: int = 1000) -> ZenpyTicketDesk:
    return ZenpyTicketDesk(
        twin.base_url, "bot@example.com", "token", retry=RetryPolicy.disabled(),
        page_size=page_size,
    )


def drain(
    desk: ZenpyTicketDesk, cursor: str | None, clock: ManualClock
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
