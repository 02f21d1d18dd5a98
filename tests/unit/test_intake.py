"""The read side of a pass with fakes of our own ports: malformed tickets and surprises."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from afterhours.adapters.one_by_one import EachTicket
from afterhours.adapters.ports import ExportPage, MalformedTicket
from afterhours.adapters.state import StateStore
from afterhours.clock import ManualClock
from afterhours.domain.actions import ZendeskAction
from afterhours.domain.model import Ticket
from afterhours.errors import MalformedTicketError, TransientError
from afterhours.policy import load_policy
from afterhours.service import Service
from factories import SATURDAY_NIGHT, make_ticket
from unit.test_service import FakeNotifier, FakeTracker

POLICY = load_policy(Path(__file__).parents[1] / "fixtures" / "classic_policy.yaml").policy
BAD = 9


class ReadDesk(EachTicket):
    """Serves `pages` once; `fetch_ticket` answers from `current` or raises `fetch_error`."""

    def __init__(self, *pages: ExportPage) -> None:
        self.pages = list(pages)
        self.current: dict[int, Ticket | None] = {}
        self.fetch_error: Exception | None = None
        self.export_error: Exception | None = None
        self.fetched: list[int] = []

    def export_page(self, cursor: str | None, start_time: datetime) -> ExportPage:
        if self.export_error is not None:
            raise self.export_error
        return self.pages.pop(0) if self.pages else ExportPage((), cursor or "", True)

    def fetch_ticket(self, ticket_id: int) -> Ticket | None:
        self.fetched.append(ticket_id)
        if self.fetch_error is not None:
            raise self.fetch_error
        return self.current.get(ticket_id, make_ticket(id=ticket_id))

    def has_note(self, ticket_id: int, marker: str) -> bool:
        return False

    def update_ticket(self, ticket: Ticket, changes: Sequence[ZendeskAction]) -> datetime:
        return ticket.updated_at + timedelta(seconds=1)

    def close(self) -> None:
        """Nothing to release."""



def service_for(desk: ReadDesk, state: StateStore) -> Service:
    return Service(desk=desk, tracker=FakeTracker(), notifier=FakeNotifier(),
                   state=state, policy=POLICY,
                   clock=ManualClock(SATURDAY_NIGHT + timedelta(minutes=5)))


def page_with_bad(*malformed: MalformedTicket) -> ExportPage:
    return ExportPage((make_ticket(id=1),), "cursor-1", True, malformed)


def test_a_ticket_that_cannot_be_reread_now_is_held_with_what_the_page_showed(
    state: StateStore
) -> None:
    desk = ReadDesk(page_with_bad(MalformedTicket(BAD, "created_at is missing")))
    desk.fetch_error = TransientError("zendesk", "503")
    service = service_for(desk, state)
    report = service.run_pass()
    assert (report.quarantined, report.tickets_read, report.clean) == (1, 1, False)
    (held,) = service.state.quarantined()
    assert (held.ticket_id, held.error, held.attempts) == (BAD, "created_at is missing", 1)
    assert service.state.export_cursor() == "cursor-1"

    report = service.run_pass()  # still unreadable: held, counted, not audited again
    assert report.quarantined == 1
    assert service.state.quarantined()[0].attempts == 1  # no read, no verdict on its shape
    assert [r.outcome for r in service.state.audit(ticket_id=BAD)] == ["ticket_quarantined"]


def test_a_ticket_the_reread_can_read_is_stored_and_never_held(state: StateStore) -> None:
    desk = ReadDesk(page_with_bad(MalformedTicket(BAD, "created_at is missing")))
    service = service_for(desk, state)
    report = service.run_pass()
    assert (report.quarantined, report.tickets_read) == (0, 2)
    assert service.state.ticket(BAD) is not None
    assert service.state.quarantined() == []


def test_a_held_ticket_deleted_meanwhile_is_let_go(state: StateStore) -> None:
    desk = ReadDesk(page_with_bad(MalformedTicket(BAD, "created_at is missing")))
    desk.fetch_error = MalformedTicketError("zendesk", "ticket 9 cannot be read: no created_at")
    service = service_for(desk, state)
    service.run_pass()
    assert service.state.quarantined()[0].error.endswith("no created_at")
    desk.fetch_error = None
    desk.current[BAD] = None
    report = service.run_pass()
    assert (report.quarantined, service.state.quarantined()) == (0, [])
    assert [r.outcome for r in service.state.audit(ticket_id=BAD)] == [
        "ticket_quarantined", "deleted"]


def test_every_ticket_without_an_id_is_audited_without_an_excerpt(state: StateStore) -> None:
    secret = "password=hunter2"
    desk = ReadDesk(page_with_bad(MalformedTicket(None, f"id is missing {secret}"),
                                  MalformedTicket(None, "a ticket on the page is not an object")))
    service = service_for(desk, state)
    report = service.run_pass()
    assert report.quarantined == 2
    rows = [r for r in service.state.audit() if r.outcome == "ticket_unreadable"]
    assert [r.ticket_id for r in rows] == [None, None]
    assert all(secret not in r.reason for r in rows)
    assert desk.fetched == []  # nothing to re-read them by
    assert report.tickets_planned == 1  # the rest of the page goes on


@pytest.mark.parametrize("surprise", [RuntimeError("bug"), KeyError("after_cursor")])
def test_a_surprise_on_the_read_side_still_plans_stored_tickets(
    state: StateStore, surprise: Exception
) -> None:
    urgent = make_ticket(id=1, subject="Checkout is down", priority="urgent",
                         tags=frozenset({"p1"}))
    desk = ReadDesk(ExportPage((urgent,), "cursor-1", True))
    service = service_for(desk, state)
    service.run_pass()
    desk.export_error = surprise
    assert isinstance(service.clock, ManualClock)
    service.clock.advance(timedelta(hours=1))
    with capture_logs() as logs:
        report = service.run_pass()
    assert report.export_failed
    assert report.tickets_planned == 1
    assert [e["event"] for e in logs if e["log_level"] == "error"][:1] == ["export.crashed"]
