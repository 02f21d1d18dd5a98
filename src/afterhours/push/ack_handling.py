"""The daemon's side of acknowledgements: between passes, each one queued is recorded in the
ledger (the first for a ticket is the fact the planner reads; every one is audited with who,
when and from where) and its ticket made due now; the pass that follows stops the ladders
it stops, notes it on the ticket and resolves the pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from afterhours.push.queue import PushQueue

if TYPE_CHECKING:
    from afterhours.service import Service

log = structlog.get_logger()


def take_acks(service: Service, queue: PushQueue) -> int:
    """Record the acknowledgements waiting, in one transaction; return how many."""
    events = queue.take_acks()
    if not events:
        return 0
    now = service.clock()
    with service.state.batch():
        for event in events:
            first = service.state.record_acknowledgement(
                event.ticket_id, event.ack, at=now,
                detail={"page": event.page, "event_id": event.event_id})
            # The name is one cleaned line (push.acknowledgements); structlog quotes it.
            log.info("acknowledgement.recorded", ticket_id=event.ticket_id,
                     source=event.ack.source, who=event.ack.who, first=first)
    return len(events)
