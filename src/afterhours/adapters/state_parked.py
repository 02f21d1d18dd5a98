"""Parked actions and the configuration fingerprint that releases them.

A parked action is a ledger entry settled as 'failed'. Releasing one writes its audit row,
deletes the entry and makes its ticket due, so the next pass plans the key afresh and its
past stays audited.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from afterhours.adapters.state_audit import detail_text, insert_audit
from afterhours.adapters.state_base import StoreBase
from afterhours.adapters.state_tickets import mark_due


@dataclass(frozen=True)
class ParkedAction:
    """An action that failed for good: kept out of every plan until it is released."""

    key: str
    ticket_id: int
    rule: str
    action: str
    reason: str
    failed_at: datetime


class ParkedPart(StoreBase):
    """Listing and releasing parked actions; the stored configuration fingerprint."""

    def parked(self, *, since: datetime | None = None) -> list[ParkedAction]:
        """Actions that failed for good, oldest failure first (only from `since` on, if given)."""
        rows = self._db.fetchall(
            "SELECT key, ticket_id, rule, action, reason, updated_at FROM ledger"
            " WHERE status = 'failed' ORDER BY updated_at, key")
        found = [ParkedAction(str(k), int(t), str(r), str(a), str(why), datetime.fromisoformat(at))
                 for k, t, r, a, why, at in rows]
        return [p for p in found if since is None or p.failed_at >= since]

    def parked_count(self) -> int:
        """How many actions are parked (failed for good, waiting for a fix and a retry)."""
        row = self._db.fetchone("SELECT COUNT(*) FROM ledger WHERE status = 'failed'")
        return 0 if row is None else int(row[0])

    def release_parked(
        self, keys: Iterable[str] | None, *, at: datetime, outcome: str, reason: str,
        detail: dict[str, Any] | None = None,
    ) -> list[ParkedAction]:
        """Release parked actions (every one when `keys` is None) for the next pass to plan
        again; each gets an audit row `outcome`. Keys that are not parked are left alone."""
        wanted = None if keys is None else set(keys)
        with self._transaction() as db:  # read and release at once: a key is released once
            released = [p for p in self.parked() if wanted is None or p.key in wanted]
            for item in released:
                text = detail_text({**(detail or {}), "failed_reason": item.reason,
                                    "failed_at": item.failed_at.isoformat()})
                insert_audit(db, at=at, ticket_id=item.ticket_id, key=item.key, rule=item.rule,
                             action=item.action, outcome=outcome, reason=reason, detail=text)
                db.execute("DELETE FROM ledger WHERE key = ? AND status = 'failed'", (item.key,))
            # Planned again by the next pass, though nothing about their tickets changed.
            mark_due(db, (item.ticket_id for item in released))
        return released

    def config_fingerprint(self) -> dict[str, str]:
        """The stored digests of the configuration actions depend on (empty before the first)."""
        rows = self._db.fetchall("SELECT part, digest FROM config_fingerprint")
        return {str(part): str(digest) for part, digest in rows}

    def store_config_fingerprint(self, fingerprint: Mapping[str, str]) -> None:
        """Replace the stored configuration digests with `fingerprint`."""
        with self._transaction() as db:
            db.execute("DELETE FROM config_fingerprint")
            for part, digest in sorted(fingerprint.items()):
                db.execute("INSERT INTO config_fingerprint (part, digest) VALUES (?, ?)",
                           (part, digest))
