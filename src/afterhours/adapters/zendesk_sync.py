"""Zendesk for sync-back: a ticket's requester's public comments, as Jira hears of them.

zenpy objects stay here; the rest sees `CustomerComment`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from zenpy import Zenpy

from afterhours.domain.sync_model import CustomerComment

Call = Callable[..., Any]  # ZenpyTicketDesk._call: (operation, fn) -> T


def _time(value: object) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def customer_comments(client: Zenpy, call: Call, ticket_id: int,
                      since: datetime | None) -> list[CustomerComment]:
    """The public comments of the ticket's requester after `since`, oldest first."""

    def read() -> list[CustomerComment]:
        requester = client.tickets(id=ticket_id).requester_id
        found = []
        for comment in client.tickets.comments(ticket=ticket_id):
            at = _time(comment.created_at)
            if comment.author_id != requester or not comment.public:
                continue
            if since is None or at > since:
                found.append(CustomerComment(int(comment.id), at, str(comment.body or "")))
        return sorted(found, key=lambda c: (c.at, c.comment_id))

    result: list[CustomerComment] = call("customer_comments", read)
    return result
