"""Tickets Zendesk answers in a shape that cannot be read: re-read, held, re-tried, released.

A malformed ticket on an export page is re-read on its own first. If it still cannot be read
it is held in the state file's quarantine, in the same transaction as the page's snapshots and
cursor: the cursor moves past it only because it is tracked. Every pass re-reads each held
ticket before planning; one that parses is stored, released and planned as usual. A ticket
without a usable id can be neither re-read nor tracked: it is recorded loudly instead.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

import structlog

from afterhours.adapters.ports import ExportPage, TicketDesk
from afterhours.adapters.state import StateStore
from afterhours.clock import Clock
from afterhours.domain.model import Ticket
from afterhours.errors import MalformedTicketError, ServiceError
from afterhours.outcomes import PassReport, Recorder

log = structlog.get_logger()
UNTRACKABLE = ("an export page carried a ticket without a usable id: it can be neither re-read"
               " nor tracked; look for tickets changed at this time in Zendesk")


@dataclass
class Intake:
    """Stores export pages and keeps the quarantine, for one pass."""

    desk: TicketDesk
    state: StateStore
    recorder: Recorder
    clock: Clock
    _counted: set[int] = field(default_factory=set)  # held tickets already in the report

    def retry_held(self, report: PassReport, stop: threading.Event) -> None:
        """Re-read every held ticket: store and release those that can be read now."""
        for held in self.state.quarantined():
            if stop.is_set():
                return
            try:
                fresh = self.desk.fetch_ticket(held.ticket_id)
            except MalformedTicketError as error:
                self.state.quarantine(held.ticket_id, str(error), self.clock())
                self._still_held(report, held.ticket_id, held.attempts + 1, str(error))
                continue
            except ServiceError as error:  # not read at all: no verdict on its shape
                self._still_held(report, held.ticket_id, held.attempts, str(error))
                continue
            except Exception:  # a surprise here must not keep the export from running
                log.exception("ticket.retry_crashed", ticket_id=held.ticket_id)
                self._count(report, held.ticket_id)
                continue
            with self.state.batch():
                self._release(held.ticket_id, fresh)

    def store_page(self, page: ExportPage, report: PassReport) -> int:
        """Store the page's tickets and cursor; re-read each malformed one and hold those that
        still cannot be read, in the same transaction. Return how many tickets were stored."""
        readable = list(page.tickets)
        hold: list[tuple[int, str]] = []
        gone: list[int] = []
        untrackable = 0
        for bad in page.malformed:
            if bad.ticket_id is None:
                untrackable += 1
                continue
            try:
                fresh = self.desk.fetch_ticket(bad.ticket_id)
            except MalformedTicketError as error:
                hold.append((bad.ticket_id, str(error)))
                continue
            except ServiceError as error:
                # Held with what the page showed; the next pass reads it again.
                log.warning("ticket.reread_failed", ticket_id=bad.ticket_id, error=str(error))
                hold.append((bad.ticket_id, bad.error))
                continue
            if fresh is None:
                gone.append(bad.ticket_id)
            else:
                readable.append(fresh)
        held = {q.ticket_id for q in self.state.quarantined()} if readable else set()
        with self.state.batch():
            self.state.store_page(readable, page.cursor)
            for ticket in readable:
                if ticket.id in held:
                    self._release(ticket.id, ticket)
            for ticket_id in gone:
                self._release(ticket_id, None)
            for ticket_id, reason in hold:
                self._hold(report, ticket_id, reason)
            for _ in range(untrackable):
                self.state.record(at=self.clock(), ticket_id=None, outcome="ticket_unreadable",
                                  reason=UNTRACKABLE)
                log.error("ticket.unreadable", reason=UNTRACKABLE)
                report.quarantined += 1
        return len(readable)

    def _hold(self, report: PassReport, ticket_id: int, error: str) -> None:
        if self.state.quarantine(ticket_id, error, self.clock()):
            self.state.record(
                at=self.clock(), ticket_id=ticket_id, outcome="ticket_quarantined",
                reason=f"Zendesk answered the ticket in a shape that cannot be read ({error}); "
                "it is read again every pass until it can be", detail={"error": error})
            log.error("ticket.quarantined", ticket_id=ticket_id, error=error)
        else:
            log.warning("ticket.still_quarantined", ticket_id=ticket_id, error=error)
        self._count(report, ticket_id)

    def _still_held(self, report: PassReport, ticket_id: int, attempts: int, error: str) -> None:
        log.warning("ticket.still_quarantined", ticket_id=ticket_id, attempts=attempts,
                    error=error)
        self._count(report, ticket_id)

    def _count(self, report: PassReport, ticket_id: int) -> None:
        if ticket_id not in self._counted:
            self._counted.add(ticket_id)
            report.quarantined += 1

    def _release(self, ticket_id: int, fresh: Ticket | None) -> None:
        """Let a held ticket go: stored when it can be read now, settled when it is deleted."""
        self.state.release(ticket_id)
        if fresh is None:
            stored = self.state.ticket(ticket_id)
            if stored is not None:
                self.state.store_ticket(replace(stored, status="deleted"))
            self.recorder.record(ticket_id, "deleted", "the ticket no longer exists in Zendesk")
            return
        self.state.store_ticket(fresh)
        self.state.record(at=self.clock(), ticket_id=ticket_id, outcome="ticket_released",
                          reason="the ticket can be read again; it is planned as usual")
        log.info("ticket.released", ticket_id=ticket_id)
