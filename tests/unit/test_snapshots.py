"""Ticket snapshots survive the state file: every field comes back as the planner needs it."""

from __future__ import annotations

from dataclasses import fields
from datetime import timedelta

from afterhours.adapters.state import ticket_from_json, ticket_to_json
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
