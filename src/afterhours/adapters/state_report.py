"""Reads of the state for `afterhours report` and the status page: every snapshot touched in
a period (open or closed), the Jira issues filed, the audit trail page by page, and the next
deadlines of the index. Read-only, on the store's own database (`StateStore.database`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from afterhours.adapters.sql import Database
from afterhours.adapters.state_audit import AuditRow
from afterhours.adapters.state_tickets import ticket_from_json
from afterhours.domain.model import Ticket

AUDIT_PAGE = 5000  # rows read at a time: a month of a busy desk is never held twice


@dataclass(frozen=True)
class FiledIssue:
    """A Jira issue afterhours filed for a ticket, when, and its state as sync-back last saw
    it (`resolved`, `open`; None: not seen)."""

    ticket_id: int
    key: str
    url: str
    created_at: datetime
    status: str | None = None
    joined: bool = False  # the ticket joined this known issue rather than filing it
    why: str = ""  # the planner's reason for the join (the conditions, or the score)


class AuditReader(Protocol):
    """What `audit_since` reads through: the store's `audit_rows`."""

    def audit_rows(self, *, ticket_id: int | None = None, outcomes: tuple[str, ...] = (),
                   since: datetime | None = None, after_id: int = 0, limit: int = 1000,
                   newest_first: bool = True) -> list[AuditRow]:
        """See AuditPart.audit_rows."""


def snapshots_since(db: Database, since: datetime) -> list[Ticket]:
    """The latest snapshot of every ticket that changed at or after `since`, open or closed,
    in id order (a ticket created in the period changed in it too)."""
    rows = db.fetchall("SELECT body FROM tickets WHERE updated_at >= ? ORDER BY id",
                       (since.astimezone(UTC).isoformat(),))
    return [ticket_from_json(body) for (body,) in rows]


def open_snapshots(db: Database) -> list[Ticket]:
    """The snapshot of every open ticket, whenever it was created: the backlog."""
    return [ticket_from_json(body)
            for (body,) in db.fetchall("SELECT body FROM tickets WHERE open = 1 ORDER BY id")]


def filed_issues(db: Database) -> list[FiledIssue]:
    """Every ticket's Jira issue, oldest first, with what sync-back last saw of it: resolved
    or open (None: never seen, as without a `sync_back:` policy), and whether the ticket
    joined it (a known issue) rather than filing it."""
    rows = db.fetchall(
        "SELECT j.ticket_id, j.issue_key, j.url, j.created_at, s.resolved FROM jira_issues j"
        " LEFT JOIN sync_issues s ON s.issue_key = j.issue_key"
        " ORDER BY j.created_at, j.ticket_id")
    joins = joined_issues(db)
    return [FiledIssue(int(t), str(k), str(u), datetime.fromisoformat(c),
                       None if r is None else "resolved" if r else "open",
                       (int(t), str(k)) in joins, joins.get((int(t), str(k)), ""))
            for t, k, u, c, r in rows]


def joined_issues(db: Database) -> dict[tuple[int, str], str]:
    """(ticket id, issue key) of every join of a known issue done (its ledger detail names
    the issue), with the planner's reason for it. An unlinked join is no longer the
    ticket's issue, so never paired with it."""
    rows = db.fetchall("SELECT ticket_id, detail, reason FROM ledger"
                       " WHERE action = 'JoinJiraIssue' AND status = 'done'")
    found = {}
    for ticket_id, detail, reason in rows:
        key = json.loads(detail or "{}").get("issue_key")
        if isinstance(key, str):
            found[int(ticket_id), key] = str(reason)
    return found


def audit_since(store: AuditReader, since: datetime) -> Iterator[AuditRow]:
    """Every audit row written at or after `since`, oldest first, read a page at a time."""
    after = 0
    while True:
        page = store.audit_rows(since=since, after_id=after, limit=AUDIT_PAGE,
                                newest_first=False)
        yield from page
        if len(page) < AUDIT_PAGE:
            return
        after = page[-1].id


def next_wakeups(db: Database, after: datetime, limit: int) -> list[tuple[int, datetime]]:
    """The open tickets the deadline index wakes next after `after` (a deadline, not a change
    already due), soonest first: (ticket id, when)."""
    rows = db.fetchall(
        "SELECT id, wake_at FROM tickets WHERE open = 1 AND wake_at > ?"
        " ORDER BY wake_at, id LIMIT ?", (int(after.timestamp()), limit))
    return [(int(i), datetime.fromtimestamp(int(w), UTC)) for i, w in rows]
