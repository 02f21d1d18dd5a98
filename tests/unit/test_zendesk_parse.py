"""Reading Zendesk's ticket JSON: lenient where Zendesk is, strict where a decision needs it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from afterhours.adapters.zendesk_parse import (
    MAX_ERROR,
    read_ticket,
    required_time,
    short_error,
    tags_of,
    ticket_id_of,
)

RAW = {"id": 7, "created_at": "2026-11-20T18:00:00Z", "updated_at": "2026-11-20T18:05:00Z"}


def read(raw: dict[str, Any]) -> Any:
    return read_ticket(raw, web_url=lambda i: f"https://acme.zendesk.com/agent/tickets/{i}",
                       emails={}, orgs={}, groups={}, metrics={}, fields={})


@pytest.mark.parametrize(
    ("value", "tags"),
    [
        (None, set()),
        (5, {"5"}),
        ("vip", {"vip"}),
        ([5, None, "", "vip", 2.5], {"5", "vip", "2.5"}),
        (("a", "a"), {"a"}),
    ],
)
def test_tags_are_coerced_to_strings(value: object, tags: set[str]) -> None:
    assert tags_of(value) == frozenset(tags)


@pytest.mark.parametrize(
    ("value", "found"),
    [(7, 7), ("7", 7), (0, None), (-3, None), (True, None), (None, None), ("seven", None),
     ("\u0667", None), (7.0, None)],
)
def test_only_a_positive_integer_is_a_usable_id(value: object, found: int | None) -> None:
    assert ticket_id_of({"id": value}) == found


def test_a_ticket_with_only_its_id_and_times_is_read_with_defaults() -> None:
    ticket = read(dict(RAW))
    assert (ticket.subject, ticket.description, ticket.status, ticket.priority) == (
        "", "", "new", None)
    assert (ticket.channel, ticket.tags, ticket.custom_fields) == ("unknown", frozenset(), ())
    assert ticket.created_at == datetime(2026, 11, 20, 18, tzinfo=UTC)


def test_odd_shapes_of_optional_fields_are_defaulted() -> None:
    ticket = read(RAW | {"via": "email", "custom_fields": 3, "requester_id": [1],
                         "priority": "", "subject": 42})
    assert (ticket.channel, ticket.custom_fields, ticket.requester_email) == (
        "unknown", (), None)
    assert (ticket.priority, ticket.subject) == (None, "42")


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"created_at": None}, "created_at is missing"),
        ({"updated_at": 1700000000}, "updated_at is not a time (a int)"),
        ({"created_at": "yesterday"}, "created_at is not an ISO 8601 time"),
        ({"created_at": "2026-11-20T18:00:00"}, "created_at has no time zone"),
        ({"id": "abc"}, "id is missing or not a positive integer"),
    ],
)
def test_a_ticket_without_what_a_decision_needs_is_malformed(
    change: dict[str, object], error: str
) -> None:
    with pytest.raises(ValueError, match="^" + error.replace("(", r"\(").replace(")", r"\)")):
        read(RAW | change)


def test_a_reason_is_short_and_one_line() -> None:
    text = short_error(ValueError("bad\n" + "x" * 1000))
    assert len(text) == MAX_ERROR
    assert "\n" not in text
    assert short_error(KeyError("id")) == "KeyError: 'id'"
    with pytest.raises(ValueError, match="created_at is missing"):
        required_time({}, "created_at")
