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


class EachTicket:
    """The batched desk methods on top of a desk's single ones."""

    def fetch_ticket(self, ticket_id: int) -> Ticket | None:
        """The ticket as it is now (the subclass's own)."""
        raise NotImplementedError

    def update_ticket(self, ticket: Ticket, changes: Sequence[ZendeskAction]) -> datetime:
        """Apply the changes in one safe update (the subclass's own)."""
        raise NotImplementedError

    def fetch_tickets(self, ticket_ids: Sequence[int]) -> dict[int, Ticket | None]:
        """Several tickets as they are now, one read each."""
        return fetch_each(self.fetch_ticket, ticket_ids)

    def update_tickets(self, writes: Sequence[TicketWrite]) -> list[WriteResult]:
        """Apply each write, one update each."""
        return update_each(self.update_ticket, writes)


class EachIssue:
    """The batched tracker methods on top of a tracker's single ones."""

    def find_issue(self, ticket_id: int) -> JiraIssueRef | None:
        """The issue filed for the ticket (the subclass's own)."""
        raise NotImplementedError

    def create_issue(self, action: CreateJiraIssue) -> JiraIssueRef:
        """File the issue (the subclass's own)."""
        raise NotImplementedError

    def find_issues(self, ticket_ids: Sequence[int]) -> dict[int, JiraIssueRef]:
        """The issues filed for these tickets, one search each."""
        return find_each(self.find_issue, ticket_ids)

    def create_issues(
        self, actions: Sequence[CreateJiraIssue]
    ) -> list[JiraIssueRef | ServiceError]:
        """File each issue, one create each."""
        return create_each(self.create_issue, actions)
