"""The Zendesk adapter against answers it cannot take as they are: malformed tickets, 200s
whose body is not JSON, and a twin slower than the configured timeout."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
import requests

from afterhours.adapters.zendesk import ZenpyTicketDesk
from afterhours.adapters.zendesk_parse import MAX_ERROR
from afterhours.clock import ManualClock
from afterhours.domain.actions import AddInternalNote, AddTags
from afterhours.errors import MalformedTicketError, OutcomeUnknownError, TransientError
from afterhours.retrying import RetryPolicy
from afterhours.twins.faults import FaultRule
from afterhours.twins.zendesk import ZendeskTwin

pytestmark = pytest.mark.integration

NOT_JSON = "Zendesk answered HTTP 200 with a body that is not JSON"


def desk_for(twin: ZendeskTwin, *, timeout: float = 30.0) -> ZenpyTicketDesk:
    return ZenpyTicketDesk(twin.base_url, "bot@example.com", "token", timeout=timeout,
                           retry=RetryPolicy.disabled())


@pytest.fixture
def tickets(zendesk: ZendeskTwin, clock: ManualClock) -> list[int]:
    requester = zendesk.add_user("Alice", "alice@globex.com")["id"]
    made = [int(zendesk.create_ticket(subject=f"t{n}", description="d", requester_id=requester,
                                      created_at=clock())["id"]) for n in range(3)]
    clock.advance(timedelta(minutes=2))
    return made


def test_the_export_lists_a_malformed_ticket_beside_the_others_with_a_short_reason(
    zendesk: ZendeskTwin, clock: ManualClock, tickets: list[int]
) -> None:
    first, bad, last = tickets
    zendesk.corrupt_ticket(bad, description="x" * 10_000, updated_at="x" * 10_000)
    page = desk_for(zendesk).export_page(None, clock() - timedelta(hours=1))
    assert [t.id for t in page.tickets] == [first, last]
    (malformed,) = page.malformed
    assert malformed.ticket_id == bad
    assert malformed.error == "updated_at is not an ISO 8601 time"
    assert len(malformed.error) <= MAX_ERROR
    assert page.end_of_stream


def test_a_malformed_ticket_read_alone_is_an_error_until_repaired(
    zendesk: ZendeskTwin, tickets: list[int]
) -> None:
    desk = desk_for(zendesk)
    zendesk.corrupt_ticket(tickets[0], remove=("created_at",))
    with pytest.raises(MalformedTicketError, match="created_at is missing"):
        desk.fetch_ticket(tickets[0])
    zendesk.repair_ticket(tickets[0])
    fresh = desk.fetch_ticket(tickets[0])
    assert fresh is not None
    assert fresh.id == tickets[0]


def test_integer_and_null_tags_are_read_as_strings(
    zendesk: ZendeskTwin, tickets: list[int]
) -> None:
    desk = desk_for(zendesk)
    zendesk.corrupt_ticket(tickets[0], tags=5)
    zendesk.corrupt_ticket(tickets[1], tags=None)
    first, second = desk.fetch_ticket(tickets[0]), desk.fetch_ticket(tickets[1])
    assert first is not None
    assert second is not None
    assert (first.tags, second.tags) == (frozenset({"5"}), frozenset())


def test_the_twin_answers_a_non_json_200_and_counts_it(
    zendesk: ZendeskTwin, tickets: list[int]
) -> None:
    zendesk.server.faults.add(FaultRule("GET /api/v2/tickets/*", not_json_rate=1.0))
    answer = requests.get(f"{zendesk.base_url}/api/v2/tickets/{tickets[0]}.json",
                          auth=("bot@example.com/token", "token"), timeout=5)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert answer.text.startswith("<!DOCTYPE html>")
    assert zendesk.server.faults.counts["not_json"] == 1
    assert zendesk.server.requests["GET /api/v2/tickets/{id}.json"] == 0  # never handled


@pytest.mark.parametrize("read", ["export_page", "fetch_ticket", "has_note"])
def test_a_non_json_200_on_a_read_is_transient(
    zendesk: ZendeskTwin, clock: ManualClock, tickets: list[int], read: str
) -> None:
    desk = desk_for(zendesk)
    reads = {
        "export_page": lambda: desk.export_page(None, clock() - timedelta(hours=1)),
        "fetch_ticket": lambda: desk.fetch_ticket(tickets[0]),
        # Through zenpy, which would call it "Could not handle response" (read as permanent).
        "has_note": lambda: desk.has_note(tickets[0], "marker"),
    }
    zendesk.server.faults.add(FaultRule("GET *", not_json_rate=1.0))
    with pytest.raises(TransientError, match=NOT_JSON):
        reads[read]()


def test_a_non_json_200_on_a_write_may_have_landed(
    zendesk: ZendeskTwin, tickets: list[int]
) -> None:
    desk = desk_for(zendesk)
    ticket = desk.fetch_ticket(tickets[0])
    assert ticket is not None
    zendesk.server.faults.add(FaultRule("PUT *", not_json_rate=1.0))
    with pytest.raises(OutcomeUnknownError, match=NOT_JSON):
        desk.update_ticket(ticket, [AddTags(ticket.id, ("p1",))])
    with pytest.raises(OutcomeUnknownError, match=NOT_JSON):
        desk.update_ticket(ticket, [AddInternalNote(ticket.id, "note")])


def test_the_configured_timeout_reaches_zenpy_and_the_raw_reads(
    zendesk: ZendeskTwin, tickets: list[int], request_threads_finish: Callable[[], None]
) -> None:
    zendesk.add_group("Finance")
    desk = desk_for(zendesk, timeout=0.3)
    zendesk.server.faults.add(FaultRule("GET *", latency=1.5))
    calls = {
        "zenpy groups": lambda: desk.group_id("Finance"),
        "zenpy comments": lambda: desk.has_note(tickets[0], "marker"),
        "raw ticket": lambda: desk.fetch_ticket(tickets[0]),
    }
    for name, call in calls.items():
        started = time.monotonic()
        with pytest.raises(TransientError, match="Timeout"):
            call()
        assert time.monotonic() - started < 1.2, name  # zenpy's own 60 s would wait it out
    request_threads_finish()  # the twin answers late into closed connections; let it
