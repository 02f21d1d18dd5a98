"""The state's export cursor, ticket snapshots and the deadline index on them.

The cursor and the snapshots of a page are written in one transaction, so a crash never
advances the cursor past tickets it has not stored. Storing a snapshot makes its ticket due
(`wake_at` 0): whatever changed is planned by the next pass, even after a crash.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from afterhours.adapters.sql import Database
from afterhours.adapters.state_base import StoreBase
from afterhours.adapters.state_watch import mark_linked
from afterhours.domain.model import Ticket

EXPORT_CURSOR = "tickets.export"
INDEX_BUILT_FOR = "wakeups.built_for"  # the digest of the policy the index was built for
DUE = 0  # a wake-up long past: planned by the next pass
_IDS_PER_QUERY = 500  # SQLite takes 32,766 parameters; PostgreSQL 65,535
_SET_CURSOR = ("INSERT INTO cursor (name, value) VALUES (?, ?)"
               " ON CONFLICT(name) DO UPDATE SET value = excluded.value")


def ticket_to_json(ticket: Ticket) -> str:
    """Serialise a ticket snapshot."""
    data = asdict(ticket)
    data["tags"] = sorted(ticket.tags)
    return json.dumps(data, default=datetime.isoformat, sort_keys=True)


def ticket_from_json(text: str) -> Ticket:
    """Rebuild a ticket snapshot written by `ticket_to_json`."""
    data = json.loads(text)
    for name in ("created_at", "updated_at", "first_reply_at", "solved_at",
                 "last_customer_update_at"):
        if data.get(name):
            data[name] = datetime.fromisoformat(data[name])
    data["tags"] = frozenset(data["tags"])
    # JSON has no tuples; snapshots written before custom fields existed have none.
    data["custom_fields"] = tuple(tuple(pair) for pair in data.get("custom_fields", ()))
    return Ticket(**data)


def set_cursor(db: Database, name: str, value: str) -> None:
    """Save one named cursor value (inside the caller's transaction, if any)."""
    db.execute(_SET_CURSOR, (name, value))


def epoch_seconds(moment: datetime) -> int:
    """`moment` as whole seconds since the epoch, rounded down: a wake-up stored a fraction
    early is only ever due a little early, never late."""
    return math.floor(moment.timestamp())


def stored_open(db: Database, ids: Iterable[int]) -> dict[int, bool]:
    """Whether each of the tickets `ids` that is stored is open."""
    return {i: bool(is_open) for i, is_open, _ in _by_id(db, sorted(set(ids)), "NULL")}


def _by_id(db: Database, ids: Sequence[int], column: str) -> list[tuple[int, int, Any]]:
    # Looked up by primary key, a few hundred at a time: a planner given `open = 1` and a
    # short list of ids may well read every open ticket instead.
    found: list[tuple[int, int, Any]] = []
    for start in range(0, len(ids), _IDS_PER_QUERY):
        chunk = ids[start:start + _IDS_PER_QUERY]
        marks = ", ".join("?" * len(chunk))
        found += [(int(i), int(o), c) for i, o, c in db.fetchall(
            # `column` and `marks` are ours; the ids go in as parameters.
            f"SELECT id, open, {column} FROM tickets WHERE id IN ({marks})",  # noqa: S608
            chunk)]
    return sorted(found, key=lambda row: row[0])


def mark_due(db: Database, ticket_ids: Iterable[int]) -> None:
    """Make these tickets due at the next pass (inside the caller's transaction)."""
    for ticket_id in sorted(set(ticket_ids)):
        db.execute("UPDATE tickets SET wake_at = ? WHERE id = ? AND open = 1", (DUE, ticket_id))


class TicketsPart(StoreBase):
    """The export cursor and the latest snapshot of every ticket read."""

    def export_cursor(self) -> str | None:
        """The saved incremental-export cursor, or None before the first page."""
        found = self._db.fetchone("SELECT value FROM cursor WHERE name = ?", (EXPORT_CURSOR,))
        return None if found is None else str(found[0])

    def store_page(self, tickets: Iterable[Ticket], cursor: str) -> None:
        """Store a page's ticket snapshots and its cursor together."""
        with self._transaction() as db:
            stored = []
            for ticket in tickets:
                self._upsert_ticket(db, ticket)
                stored.append(ticket.id)
            mark_linked(db, stored)  # sync-back compares the linked ones with what it saw
            set_cursor(db, EXPORT_CURSOR, cursor)

    def _upsert_ticket(self, db: Database, ticket: Ticket) -> None:
        db.execute(
            "INSERT INTO tickets (id, open, updated_at, body, wake_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(id) DO UPDATE SET open = excluded.open,"
            " updated_at = excluded.updated_at, body = excluded.body,"
            " wake_at = excluded.wake_at"
            # A page read before a fresher fetch_ticket must not roll the snapshot back.
            " WHERE excluded.updated_at >= tickets.updated_at",
            (ticket.id, int(not ticket.is_closed), ticket.updated_at.isoformat(),
             ticket_to_json(ticket), None if ticket.is_closed else DUE),
        )

    def store_ticket(self, ticket: Ticket) -> None:
        """Keep a freshly read ticket as its snapshot (unless a newer one is stored)."""
        with self._transaction() as db:
            self._upsert_ticket(db, ticket)
            mark_linked(db, (ticket.id,))

    def open_tickets(self) -> list[Ticket]:
        """Snapshots of every ticket not yet solved or closed, oldest first."""
        rows = self._db.fetchall("SELECT body FROM tickets WHERE open = 1 ORDER BY id")
        return [ticket_from_json(body) for (body,) in rows]

    def tickets(self, ids: Sequence[int]) -> list[Ticket]:
        """The latest snapshots of the open tickets among `ids` (those stored), in id order."""
        return [ticket_from_json(body) for _, is_open, body in _by_id(self._db, ids, "body")
                if is_open]

    def due_tickets(self, now: datetime) -> list[int]:
        """Ids of the open tickets to plan at `now`, in order: those whose wake-up has come
        (stored, released, marked due, or a deadline reached) and those with unsettled
        ledger entries. Read through the indexes: as many rows as are due, not every open
        ticket."""
        due = self._db.fetchall("SELECT id, open FROM tickets WHERE wake_at <= ?",
                                (epoch_seconds(now),))
        unsettled = self._db.fetchall(  # sync-back's own entries (sync:...) make no plan
            "SELECT DISTINCT ticket_id FROM ledger WHERE status = 'intended'"
            " AND key NOT LIKE 'sync:%'")
        stored = stored_open(self._db, (int(i) for (i,) in unsettled))
        return sorted({int(i) for i, is_open in due if is_open}
                      | {i for i, is_open in stored.items() if is_open})

    def set_wake(self, ticket_id: int, wake_at: datetime | None) -> None:
        """When to plan the ticket again if nothing changes (None: only when it changes);
        inside the transaction that records its plan's outcomes."""
        with self._transaction() as db:
            db.execute("UPDATE tickets SET wake_at = ? WHERE id = ? AND open = 1",
                       (None if wake_at is None else epoch_seconds(wake_at), ticket_id))

    def wake_at(self, ticket_id: int) -> datetime | None:
        """When the ticket is next to be planned (whole seconds); None when only a change
        makes it due."""
        row = self._db.fetchone("SELECT wake_at FROM tickets WHERE id = ?", (ticket_id,))
        if row is None or row[0] is None:
            return None
        return datetime.fromtimestamp(int(row[0]), UTC)

    def index_built_for(self) -> str | None:
        """The digest of what the deadline index was built for (afterhours.wakeups)."""
        found = self._db.fetchone("SELECT value FROM cursor WHERE name = ?", (INDEX_BUILT_FOR,))
        return None if found is None else str(found[0])

    def rebuild_index(self, built_for: str) -> int:
        """Make every open ticket due, for `built_for` (a new policy): one transaction, so
        a crash leaves the old digest and the next start rebuilds again. How many."""
        with self._transaction() as db:
            marked = db.execute("UPDATE tickets SET wake_at = ? WHERE open = 1", (DUE,))
            set_cursor(db, INDEX_BUILT_FOR, built_for)
        return marked.rowcount

    def ticket(self, ticket_id: int) -> Ticket | None:
        """The latest snapshot of one ticket."""
        row = self._db.fetchone("SELECT body FROM tickets WHERE id = ?", (ticket_id,))
        return None if row is None else ticket_from_json(row[0])
