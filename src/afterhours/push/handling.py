"""The daemon's side of push mode: between passes, the pushed tickets are read from Zendesk
(metric sets side-loaded, in as few requests as it allows), stored and made due now; the pass
that follows plans them through the same ledger as any other, so a duplicate or reordered
push changes nothing that is done. What cannot be read now is left to the cursor poll,
which still runs on its interval and brings every changed ticket."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from afterhours.errors import ServiceError
from afterhours.push.queue import PushQueue

if TYPE_CHECKING:
    from afterhours.service import Service

log = structlog.get_logger()


def take_pushed(service: Service, pushes: PushQueue) -> int:
    """Store the pushed tickets waiting, each due now; return how many were stored."""
    ids = pushes.take_tickets()
    if not ids:
        return 0
    try:
        found = service.desk.fetch_tickets(ids)
    except ServiceError as error:  # the poll brings them: nothing is lost by waiting
        log.warning("push.read_failed", tickets=len(ids), error=str(error))
        return 0
    now = service.clock()
    stored = 0
    with service.state.batch():
        for ticket_id in ids:
            ticket = found.get(ticket_id)
            if ticket is None:  # deleted, or unreadable: the export says which
                log.info("push.not_read", ticket_id=ticket_id,
                         deleted=ticket_id in found)
                continue
            service.state.store_ticket(ticket)
            # Due now even when a snapshot as new was stored already (the export's).
            service.state.set_wake(ticket_id, now)
            # The pass that plans it follows at once: push mode's lag, beside the poll's.
            service.metrics.ticket_handled(ticket.updated_at)
            stored += 1
    log.info("push.taken", tickets=len(ids), stored=stored)
    return stored
