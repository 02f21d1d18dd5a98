"""The state's audit trail: one row per outcome, never changed once written.

Its ids come from SQLite's AUTOINCREMENT or PostgreSQL's identity column, so they only grow.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from afterhours.adapters.sql import Database
from afterhours.adapters.state_base import StoreBase


@dataclass(frozen=True)
class AuditRow:
    """One line of the audit trail."""

    id: int
    at: str
    ticket_id: int | None
    key: str | None
    rule: str | None
    action: str | None
    outcome: str
    reason: str
    detail: dict[str, Any]


def detail_text(detail: dict[str, Any] | None) -> str:
    """An audit row's detail as stored: JSON with sorted keys."""
    return json.dumps(detail or {}, sort_keys=True, default=str)


def insert_audit(
    db: Database, *, at: datetime, ticket_id: int | None, key: str | None, rule: str | None,
    action: str | None, outcome: str, reason: str, detail: str,
) -> None:
    """Append one audit row (inside the caller's transaction); `detail` is JSON text."""
    db.execute(
        "INSERT INTO audit (at, ticket_id, key, rule, action, outcome, reason, detail)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (at.isoformat(), ticket_id, key, rule, action, outcome, reason, detail),
    )


class AuditPart(StoreBase):
    """Reading the audit trail."""

    def audit(self, *, ticket_id: int | None = None, limit: int = 1000) -> list[AuditRow]:
        """Audit rows, oldest first, optionally for one ticket."""
        return self.audit_rows(ticket_id=ticket_id, limit=limit, newest_first=False)

    def audit_rows(
        self, *, ticket_id: int | None = None, outcomes: tuple[str, ...] = (),
        since: datetime | None = None, after_id: int = 0, limit: int = 1000,
        newest_first: bool = True,
    ) -> list[AuditRow]:
        """Audit rows newest first (or oldest first), chosen by ticket, outcome, time (`since`,
        an aware moment) and id (those after `after_id`, for following the trail)."""
        where: list[str] = ["id > ?"]
        args: list[Any] = [after_id]
        if ticket_id is not None:
            where.append("ticket_id = ?")
            args.append(ticket_id)
        if outcomes:
            where.append(f"outcome IN ({', '.join('?' for _ in outcomes)})")
            args.extend(outcomes)
        if since is not None:
            # Stored as ISO 8601 in UTC, which sorts as text in time order.
            where.append("at >= ?")
            args.append(since.astimezone(UTC).isoformat())
        order = "DESC" if newest_first else "ASC"
        # Only placeholders and fixed words are put into the query; values go as arguments.
        query = ("SELECT id, at, ticket_id, key, rule, action, outcome, reason, detail"  # noqa: S608
                 f" FROM audit WHERE {' AND '.join(where)} ORDER BY id {order} LIMIT ?")
        rows = self._db.fetchall(query, (*args, limit))
        return [
            AuditRow(
                id=int(row[0]), at=row[1], ticket_id=row[2], key=row[3], rule=row[4],
                action=row[5], outcome=row[6], reason=row[7], detail=json.loads(row[8]),
            )
            for row in rows
        ]
