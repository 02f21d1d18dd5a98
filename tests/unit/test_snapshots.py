"""Ticket snapshots survive the state store: every field comes back as the planner needs it,
from a SQLite file and from PostgreSQL alike."""

from __future__ import annotations

from dataclasses import fields
from datetime import timedelta

from afterhours.adapters.state import StateStore, ticket_from_json, ticket_to_json
from factories import SATURDAY_NIGHT, make_ticket


def test_every_field_round_trips_with_its_type() -> None:
    ticket = make_ticket(
        assignee="lead@acme.example",
        custom_fields=(("Plan", "enterprise"), ("Area", "billing"), ("Area", "api")),
        first_reply_at=SATURDAY_NIGHT + timedelta(minutes=5),
        solved_at=SATURDAY_NIGHT + timedelta(hours=1),
        last_customer_update_at=SATURDAY_NIGHT + timedelta(minutes=30),
        replies=2,
    )
    back = ticket_from_json(ticket_to_json(ticket))
    assert back == ticket
    for field in fields(ticket):
        assert type(getattr(back, field.name)) is type(getattr(ticket, field.name)), field.name


def test_a_snapshot_from_before_custom_fields_still_loads() -> None:
    text = ticket_to_json(make_ticket()).replace(', "custom_fields": []', "")
    assert "custom_fields" not in text
    assert ticket_from_json(text).custom_fields == ()



def test_a_snapshot_round_trips_through_the_store_on_both_databases(state: StateStore) -> None:
    # A ticket id beyond 32 bits: Zendesk's ids are the vendor's, and grow.
    ticket = make_ticket(id=4_000_000_001, custom_fields=(("Plan", "enterprise"),),
                         first_reply_at=SATURDAY_NIGHT + timedelta(minutes=5), replies=1)
    state.store_page([ticket, make_ticket(id=8, status="solved")], "cursor-1")
    assert state.export_cursor() == "cursor-1"
    assert state.ticket(ticket.id) == ticket
    assert state.open_tickets() == [ticket]  # the solved one is kept, but not open


def test_an_older_read_never_rolls_a_snapshot_back(state: StateStore) -> None:
    fresh = make_ticket(id=3, priority="high", updated_at=SATURDAY_NIGHT + timedelta(hours=1))
    state.store_ticket(fresh)
    state.store_page([make_ticket(id=3)], "cursor-2")  # a page read before the fresh fetch
    assert state.ticket(3) == fresh
    assert state.export_cursor() == "cursor-2"
