"""The state's export cursor and ticket snapshots.

The cursor and the snapshots of a page are written in one transaction, so a crash never
advances the cursor past tickets it has not stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime

from afterhours.adapters.sql import Database
from afterhours.adapters.state_base import StoreBase
from afterhours.domain.model import Ticket

EXPORT_CURSOR = "tickets.export"
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


class TicketsPart(StoreBase):
    """The export cursor and the latest snapshot of every ticket read."""

    def export_cursor(self) -> str | None:
        """The saved incremental-export cursor, or None before the first page."""
        found = self._db.fetchone("SELECT value FROM cursor WHERE name = ?", (EXPORT_CURSOR,))
        return None if found is None else str(found[0])

    def store_page(self, tickets: Iterable[Ticket], cursor: str) -> None:
        """Store a page's ticket snapshots and its cursor together."""
        with self._transaction() as db:
            for ticket in tickets:
                self._upsert_ticket(db, ticket)
            set_cursor(db, EXPORT_CURSOR, cursor)

    def _upsert_ticket(self, db: Database, ticket: Ticket) -> None:
        db.execute(
            "INSERT INTO tickets (id, open, updated_at, body) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(id) DO UPDATE SET open = excluded.open,"
            " updated_at = excluded.updated_at, body = excluded.body"
            # A page read before a fresher fetch_ticket must not roll the snapshot back.
            " WHERE excluded.updated_at >= tickets.updated_at",
            (ticket.id, int(not ticket.is_closed), ticket.updated_at.isoformat(),
             ticket_to_json(ticket)),
        )

    def store_ticket(self, ticket: Ticket) -> None:
        """Keep a freshly read ticket as its snapshot (unless a newer one is stored)."""
        with self._transaction() as db:
            self._upsert_ticket(db, ticket)

    def open_tickets(self) -> list[Ticket]:
        """Snapshots of every ticket not yet solved or closed, oldest first."""
        rows = self._db.fetchall("SELECT body FROM tickets WHERE open = 1 ORDER BY id")
        return [ticket_from_json(body) for (body,) in rows]

    def ticket(self, ticket_id: int) -> Ticket | None:
        """The latest snapshot of one ticket."""
        row = self._db.fetchone("SELECT body FROM tickets WHERE id = ?", (ticket_id,))
        return None if row is None else ticket_from_json(row[0])
