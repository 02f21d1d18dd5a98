"""The state's view of PagerDuty pages on closed tickets: which ones may still have an
incident open. The planner resolves them (domain.pages); this only finds the tickets, as
closed tickets are otherwise never planned."""

from __future__ import annotations

from collections.abc import Iterable

from afterhours.adapters.state_base import StoreBase
from afterhours.adapters.state_tickets import ticket_from_json
from afterhours.domain.model import Ticket

_IDS_PER_QUERY = 500  # well under SQLite's and PostgreSQL's parameter limits


class PagesPart(StoreBase):
    """Closed tickets whose pages may need resolving."""

    def closed_with_pages(self, changed: Iterable[int]) -> list[Ticket]:
        """The solved, closed or deleted tickets that paged PagerDuty: those among `changed`
        (stored this pass) that ever paged, and those whose resolve is still to be done.
        Their snapshots, in id order."""
        ids = sorted(set(changed))
        found: dict[int, str] = {}
        for start in range(0, len(ids), _IDS_PER_QUERY):
            chunk = ids[start:start + _IDS_PER_QUERY]
            marks = ", ".join("?" * len(chunk))
            rows = self._db.fetchall(
                # `marks` is ours; the ids go in as parameters.
                "SELECT t.id, t.body FROM tickets t WHERE t.open = 0"  # noqa: S608
                f" AND t.id IN ({marks}) AND EXISTS (SELECT 1 FROM ledger l"
                " WHERE l.ticket_id = t.id AND l.action = 'TriggerPage')", chunk)
            found.update((int(i), str(body)) for i, body in rows)
        pending = self._db.fetchall(
            "SELECT t.id, t.body FROM tickets t WHERE t.open = 0 AND t.id IN (SELECT"
            " l.ticket_id FROM ledger l WHERE l.status = 'intended'"
            " AND l.action = 'ResolvePage')")
        found.update((int(i), str(body)) for i, body in pending)
        return [ticket_from_json(found[i]) for i in sorted(found)]
