"""The state's part in pages and their acknowledgements: which closed tickets may still have
an incident open (the planner resolves them, domain.pages; closed tickets are otherwise
never planned), and the acknowledgement a person gave from a page or a message."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from afterhours.adapters.state_audit import detail_text, insert_audit
from afterhours.adapters.state_base import StoreBase
from afterhours.adapters.state_ledger import (
    ACKNOWLEDGEMENT,
    acknowledged_from,
    acknowledgement_key,
)
from afterhours.adapters.state_tickets import mark_due, ticket_from_json
from afterhours.domain.actions import ISSUE_SIDE, LEVEL_ENDINGS
from afterhours.domain.model import Acknowledged, Ticket

_IDS_PER_QUERY = 500  # well under SQLite's and PostgreSQL's parameter limits


# A ledger entry that paged PagerDuty, posted through Slack's Web API (its detail keeps the
# conversation), or filed or joined a Jira issue: once the ticket closes, the page is
# resolved, the message updated, and the issue gets its link (and a join its comment).
_SENT = ("(l.action = 'TriggerPage' OR (l.action = 'NotifyChannel'"
         " AND l.detail LIKE '%\"conversation\": %') OR (l.status = 'done'"
         " AND l.action IN ('CreateJiraIssue', 'JoinJiraIssue')))")

ACKNOWLEDGED = "acknowledged"  # the audit outcome of each acknowledgement received


def acknowledgement_detail(ack: Acknowledged) -> dict[str, Any]:
    """What an acknowledgement's ledger entry and audit row hold (the planner reads it)."""
    return {"who": ack.who, "source": ack.source, "at": ack.at.isoformat(),
            "assignee": ack.assignee}


class PagesPart(StoreBase):
    """Closed tickets whose pages may need resolving; acknowledgements."""

    def record_acknowledgement(self, ticket_id: int, ack: Acknowledged, *, at: datetime,
                               detail: dict[str, Any] | None = None) -> bool:
        """Settle the ticket's acknowledgement, audit it and make the ticket due now, in one
        transaction; True when it is the first. The first is the fact the planner reads
        (done once); a later one is audited too, and only a Take it (with an assignee) may
        add the assignee the first lacked."""
        key = acknowledgement_key(ticket_id)
        said = ack.said()
        data = acknowledgement_detail(ack) | (detail or {})
        with self._transaction() as db:
            row = db.fetchone("SELECT detail FROM ledger WHERE key = ?", (key,))
            first = row is None
            if row is None or (ack.assignee is not None
                               and acknowledged_from(str(row[0])).assignee is None):
                db.execute(
                    "INSERT INTO ledger (key, ticket_id, rule, action, status, reason, detail,"
                    " updated_at) VALUES (?, ?, ?, ?, 'done', ?, ?, ?) ON CONFLICT(key) DO"
                    " UPDATE SET reason = excluded.reason, detail = excluded.detail,"
                    " updated_at = excluded.updated_at",
                    (key, ticket_id, "acknowledgement", ACKNOWLEDGEMENT, said,
                     detail_text(data), at.isoformat()))
            insert_audit(db, at=at, ticket_id=ticket_id, key=key, rule="acknowledgement",
                         action=ACKNOWLEDGEMENT, outcome=ACKNOWLEDGED,
                         reason=said if first else f"{said} (acknowledged before)",
                         detail=detail_text(data))
            mark_due(db, [ticket_id])
        return first

    def posted_ts(self, key: str) -> str | None:
        """The ts of the message posted through Slack's Web API under `key`, as its entry
        holds it; None when it does not (not posted, or posted before ts were kept)."""
        row = self._db.fetchone("SELECT detail FROM ledger WHERE key = ? AND status = 'done'",
                                (key,))
        try:
            ts = json.loads(str(row[0])).get("ts") if row is not None and row[0] else None
        except (ValueError, AttributeError):  # an entry's detail is ours: never, but harmless
            return None
        return ts if isinstance(ts, str) and ts else None

    def closed_with_pages(self, changed: Iterable[int] | None,
                          since: datetime | None = None) -> list[Ticket]:
        """The solved, closed or deleted tickets that paged PagerDuty: those among `changed`
        (stored this pass) that ever paged, and those whose resolve, message update, or
        issue link or join comment (domain.known_issues.plan_issue_side) is still to be done;
        with `changed` None, every one that changed `since` instead (a daemon's first pass:
        one killed between storing a closed ticket and resolving its page left it so).
        Their snapshots, in id order."""
        found: dict[int, str] = {}
        if changed is None:
            rows = self._db.fetchall(
                # _SENT is ours; the moment goes in as a parameter.
                "SELECT t.id, t.body FROM tickets t WHERE t.open = 0 AND t.updated_at >= ?"  # noqa: S608
                " AND EXISTS (SELECT 1 FROM ledger l WHERE l.ticket_id = t.id"
                " AND " + _SENT + ")",
                ((since or datetime.min).isoformat(),))
            found.update((int(i), str(body)) for i, body in rows)
        ids = sorted(set(changed or ()))
        for start in range(0, len(ids), _IDS_PER_QUERY):
            chunk = ids[start:start + _IDS_PER_QUERY]
            marks = ", ".join("?" * len(chunk))
            rows = self._db.fetchall(
                # `marks` is ours; the ids go in as parameters.
                "SELECT t.id, t.body FROM tickets t WHERE t.open = 0"  # noqa: S608
                f" AND t.id IN ({marks}) AND EXISTS (SELECT 1 FROM ledger l"
                " WHERE l.ticket_id = t.id AND " + _SENT + ")", chunk)
            found.update((int(i), str(body)) for i, body in rows)
        pending = self._db.fetchall(
            # The action names are ours (class names); nothing else goes into the text.
            "SELECT t.id, t.body FROM tickets t WHERE t.open = 0 AND t.id IN (SELECT"  # noqa: S608
            " l.ticket_id FROM ledger l WHERE l.status = 'intended'"
            f" AND (l.action IN ({_names(LEVEL_ENDINGS)}) OR (l.action IN"
            f" ({_names(ISSUE_SIDE)}) AND l.key NOT LIKE 'sync:%')))")
        found.update((int(i), str(body)) for i, body in pending)
        return [ticket_from_json(found[i]) for i in sorted(found)]


def _names(actions: frozenset[str]) -> str:
    """Action names as an SQL list of literals, in a stable order."""
    return ", ".join(f"'{name}'" for name in sorted(actions))
