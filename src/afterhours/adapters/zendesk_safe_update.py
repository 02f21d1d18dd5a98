"""One ticket's changes sent through zenpy by safe_update: one update, or two when a public
reply and internal notes go together.

Apart from the desk, which only hands its client, `_call` and lookups here, as it does to
zendesk_batch for many tickets at once; zenpy objects stay here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import structlog
from zenpy import Zenpy
from zenpy.lib.api_objects import Comment
from zenpy.lib.api_objects import Ticket as ZenpyTicket

from afterhours.adapters.zendesk_lookup import Caller
from afterhours.adapters.zendesk_update import TicketUpdate, build_updates
from afterhours.domain.actions import ZendeskAction
from afterhours.domain.model import Ticket
from afterhours.errors import NotesUnknownError, OutcomeUnknownError, PermanentError, ServiceError

log = structlog.get_logger()
_SERVICE = "zendesk"


def _parse_time(value: str | None) -> datetime | None:
    return None if not value else datetime.fromisoformat(value.replace("Z", "+00:00"))


def update_ticket(client: Zenpy, call: Caller, ticket: Ticket, changes: Sequence[ZendeskAction],
                  *, group_id: Callable[[str], int], agent_id: Callable[[str], int]) -> datetime:
    """Apply `changes` with safe_update, so an agent's newer edit is never lost; return the
    ticket's new updated_at (the stamp for a following update). One update, or two when a
    public reply and internal notes go together (Zendesk takes one comment per update)."""
    updates = build_updates(changes, group_id=group_id, agent_id=agent_id)
    stamp = ticket.updated_at
    for sent, update in enumerate(updates):
        try:
            stamp = _send(client, call, ticket.id, update, stamp)
        except ServiceError as error:
            if not sent or isinstance(error, OutcomeUnknownError):
                raise
            # The reply is on the ticket, the notes may not be: the next pass must look
            # (reconcile) before sending anything again, never repeat the reply.
            log.warning("zendesk.update_partly_applied", ticket_id=ticket.id,
                        error=str(error))
            raise NotesUnknownError(
                _SERVICE, f"the public reply was added; the notes after it failed: {error}",
                status=error.status) from error
    return stamp


def _send(client: Zenpy, call: Caller, ticket_id: int, update: TicketUpdate,
          stamp: datetime) -> datetime:
    """One safe update; return the ticket's new updated_at."""
    put = ZenpyTicket(id=ticket_id)
    for name, value in update.fields.items():
        setattr(put, name, value)
    if update.comment is not None:
        put.comment = Comment(body=update.comment.body, public=update.comment.public)
    put.safe_update = True
    put.updated_stamp = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    # A comment is the one change that is not idempotent: safe_update cannot refuse a
    # retry when the lost first write landed within the same second (updated_at has whole
    # seconds), so an update carrying one is sent once and reconciled by its text.
    audit = call("update_ticket", lambda: client.tickets.update(put),
                 once=update.comment is not None)
    stamped = _parse_time(audit.ticket.to_dict()["updated_at"])
    if stamped is None:
        raise PermanentError(_SERVICE, "update answered without updated_at")
    return stamped
