"""Literal test data shared by the test modules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from afterhours.domain.model import Ticket

SATURDAY_NIGHT = datetime(2026, 1, 17, 2, tzinfo=UTC)  # 02:00 in London: after hours


def make_ticket(**overrides: Any) -> Ticket:
    """An open ticket with no priority, tags or group; override any field.

    `updated_at` follows `created_at` and `web_url` follows `id` unless given.
    """
    created = overrides.get("created_at", SATURDAY_NIGHT)
    ticket_id = overrides.get("id", 7)
    fields: dict[str, Any] = {
        "id": ticket_id,
        "subject": "A question",
        "description": "Please help.",
        "status": "new",
        "priority": None,
        "tags": frozenset(),
        "channel": "email",
        "requester_email": "ann@acme.example",
        "organization": "Acme",
        "group": None,
        "created_at": created,
        "updated_at": created,
        "web_url": f"https://acme.zendesk.com/agent/tickets/{ticket_id}",
    }
    return Ticket(**(fields | overrides))
