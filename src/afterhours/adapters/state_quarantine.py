"""The state's quarantine: tickets Zendesk answered that cannot be read, held until one read
of them parses (afterhours/quarantine.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from afterhours.adapters.state_base import StoreBase


@dataclass(frozen=True)
class QuarantinedTicket:
    """A ticket Zendesk answered in a shape that cannot be read, re-read every pass."""

    ticket_id: int
    first_seen: datetime
    last_tried: datetime
    attempts: int  # reads that failed to parse it, the first included
    error: str  # why the last one failed (short)


class QuarantinePart(StoreBase):
    """Holding, counting and releasing malformed tickets."""

    def quarantine(self, ticket_id: int, error: str, at: datetime) -> bool:
        """Hold the ticket (or count one more failed read of it); True when it is new here.
        Inside `batch()` with the page's snapshots and cursor, the cursor moves past the
        ticket only because it is held."""
        with self._transaction() as db:
            held = db.fetchone("SELECT 1 FROM quarantine WHERE ticket_id = ?", (ticket_id,))
            db.execute(
                "INSERT INTO quarantine (ticket_id, first_seen, last_tried, attempts, error)"
                " VALUES (?, ?, ?, 1, ?) ON CONFLICT(ticket_id) DO UPDATE SET"
                " last_tried = excluded.last_tried, attempts = quarantine.attempts + 1,"
                " error = excluded.error",
                (ticket_id, at.isoformat(), at.isoformat(), error),
            )
        return held is None

    def release(self, ticket_id: int) -> bool:
        """Stop holding the ticket (it was read after all); True when it was held."""
        with self._transaction() as db:
            gone = db.execute("DELETE FROM quarantine WHERE ticket_id = ?", (ticket_id,))
        return gone.rowcount > 0

    def quarantined(self) -> list[QuarantinedTicket]:
        """Every ticket held in quarantine, oldest first."""
        rows = self._db.fetchall(
            "SELECT ticket_id, first_seen, last_tried, attempts, error FROM quarantine"
            " ORDER BY first_seen, ticket_id")
        return [QuarantinedTicket(int(t), datetime.fromisoformat(first),
                                  datetime.fromisoformat(last), int(n), str(error))
                for t, first, last, n, error in rows]
