"""Which tickets sync-back must look at again, found from what changed, not from every link
(migration 0007's `sync_dirty`).

A ticket is marked in the very transaction that stores a fact that can make it worth
watching: its snapshot stored while linked, a link to it, its sync-back baseline written, a
sync-back ledger entry intended for it, an issue it hangs off seen open again after being
seen resolved. `watched_tickets` then reads the marked tickets only, and clears a mark once
the recorded facts say the ticket is not worth watching. A mark is a superset hint, never
the truth: the facts decide, so a mark too many costs a look, never a wrong answer, and a
crash between a fact and its mark cannot happen (one transaction).

Each mark carries a counter that every new mark bumps: a clear names the counter it read,
so a fact stored between that read and the clear keeps its mark.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from afterhours.adapters.sql import Database

_IDS_PER_QUERY = 500  # SQLite takes 32,766 parameters; PostgreSQL 65,535

# Each marked ticket, its mark's counter, and whether the facts make it watched: hanging off
# an issue not seen resolved, and stored since last seen (or never seen, or with sync-back
# entries unsettled). Every table but sync_dirty is read by key, through an index.
_WATCHED = (
    "SELECT d.ticket_id, d.mark, EXISTS (SELECT 1 FROM sync_links l"
    " JOIN tickets t ON t.id = l.ticket_id"
    " LEFT JOIN sync_issues i ON i.issue_key = l.issue_key"
    " LEFT JOIN sync_tickets s ON s.ticket_id = l.ticket_id"
    " WHERE l.ticket_id = d.ticket_id AND ((i.resolved IS NULL OR i.resolved = 0)"
    " AND (s.updated_at IS NULL OR s.updated_at <> t.updated_at)"
    # Entries still intended are looked at even once every issue is resolved: the plan no
    # longer holds them, so they are settled as skipped rather than left intended forever.
    " OR EXISTS (SELECT 1 FROM ledger g WHERE g.ticket_id = l.ticket_id"
    " AND g.status = 'intended' AND g.key LIKE ?)))"
    " FROM sync_dirty d{where} ORDER BY d.ticket_id")
WATCHED = _WATCHED.format(where="")
_WATCHED_ONE = _WATCHED.format(where=" WHERE d.ticket_id = ?")


def mark_watch(db: Database, ticket_id: int) -> None:
    """Have sync-back look at this ticket again (inside the caller's transaction)."""
    db.execute("INSERT INTO sync_dirty (ticket_id, mark) VALUES (?, 1)"
               " ON CONFLICT(ticket_id) DO UPDATE SET mark = sync_dirty.mark + 1", (ticket_id,))


def mark_linked(db: Database, ticket_ids: Iterable[int]) -> None:
    """Mark those of these tickets that hang off some issue (a stored snapshot): tickets
    nothing links are none of sync-back's business and stay unmarked."""
    ids = sorted(set(ticket_ids))
    for start in range(0, len(ids), _IDS_PER_QUERY):
        chunk = ids[start:start + _IDS_PER_QUERY]
        marks = ", ".join("?" * len(chunk))
        db.execute(
            # `marks` holds placeholders only: the ids go in as parameters.
            "INSERT INTO sync_dirty (ticket_id, mark) SELECT DISTINCT ticket_id, 1"  # noqa: S608
            f" FROM sync_links WHERE ticket_id IN ({marks})"
            " ON CONFLICT(ticket_id) DO UPDATE SET mark = sync_dirty.mark + 1", chunk)


def mark_filed_unlinked(db: Database) -> None:
    """Before the issues afterhours filed are linked: mark their tickets not linked yet."""
    db.execute(
        "INSERT INTO sync_dirty (ticket_id, mark) SELECT DISTINCT j.ticket_id, 1"
        " FROM jira_issues j WHERE NOT EXISTS (SELECT 1 FROM sync_links l"
        " WHERE l.issue_key = j.issue_key AND l.ticket_id = j.ticket_id)"
        " ON CONFLICT(ticket_id) DO UPDATE SET mark = sync_dirty.mark + 1")


def mark_issue_reopened(db: Database, issue_key: str) -> None:
    """Before an issue is stored as seen open: if it was seen resolved, mark every ticket
    hanging off it (they are watched again)."""
    db.execute(
        "INSERT INTO sync_dirty (ticket_id, mark) SELECT l.ticket_id, 1 FROM sync_links l"
        " WHERE l.issue_key = ? AND EXISTS (SELECT 1 FROM sync_issues i"
        " WHERE i.issue_key = l.issue_key AND i.resolved = 1)"
        " ON CONFLICT(ticket_id) DO UPDATE SET mark = sync_dirty.mark + 1", (issue_key,))


def clear_watch(db: Database, settled: Sequence[tuple[int, int]]) -> None:
    """Clear the marks of these (ticket, counter) pairs, unless marked again since."""
    for ticket_id, mark in settled:
        db.execute("DELETE FROM sync_dirty WHERE ticket_id = ? AND mark = ?", (ticket_id, mark))


def settle_watch(db: Database, ticket_id: int, like: str) -> None:
    """In the transaction that records what sync-back saw of a ticket: keep it marked if the
    facts still make it watched, else clear its mark now (not at the next pass's look).
    `like` is the LIKE pattern of sync-back's ledger keys."""
    mark_watch(db, ticket_id)
    row = db.fetchone(_WATCHED_ONE, (like, ticket_id))
    if row is not None and not row[2]:
        clear_watch(db, [(ticket_id, int(row[1]))])
