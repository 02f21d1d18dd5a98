"""The batched port methods done one request per item: what the adapters did before batching,
kept for test fakes and dry runs, whose single calls cost nothing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from afterhours.adapters.ports import TicketWrite, WriteResult
from afterhours.domain.actions import CreateJiraIssue, ZendeskAction
from afterhours.domain.model import JiraIssueRef, Ticket
from afterhours.errors import MalformedTicketError, ServiceError


def fetch_each(
    fetch: Callable[[int], Ticket | None], ticket_ids: Sequence[int]
) -> dict[int, Ticket | None]:
    """`fetch_tickets` by one `fetch_ticket` per id; an unreadable ticket is left out."""
    found: dict[int, Ticket | None] = {}
    for ticket_id in dict.fromkeys(ticket_ids):
        try:
            found[ticket_id] = fetch(ticket_id)
        except MalformedTicketError:
            continue
    return found


def update_each(
    update: Callable[[Ticket, Sequence[ZendeskAction]], datetime],
    writes: Sequence[TicketWrite],
) -> list[WriteResult]:
    """`update_tickets` by one `update_ticket` per write."""
    results = []
    for write in writes:
        try:
            stamp = update(write.ticket, write.changes)
        except ServiceError as error:
            results.append(WriteResult(write.ticket.id, error=error))
            continue
        results.append(WriteResult(write.ticket.id, updated_at=stamp))
    return results


def find_each(
    find: Callable[[int], JiraIssueRef | None], ticket_ids: Sequence[int]
) -> dict[int, JiraIssueRef]:
    """`find_issues` by one `find_issue` per ticket."""
    found = {ticket_id: find(ticket_id) for ticket_id in dict.fromkeys(ticket_ids)}
    return {ticket_id: issue for ticket_id, issue in found.items() if issue is not None}


def create_each(
    create: Callable[[CreateJiraIssue], JiraIssueRef], actions: Sequence[CreateJiraIssue]
) -> list[JiraIssueRef | ServiceError]:
    """`create_issues` by one `create_issue` per action."""
    results: list[JiraIssueRef | ServiceError] = []
    for action in actions:
        try:
            results.append(create(action))
        except ServiceError as error:
            results.append(error)
    return results
