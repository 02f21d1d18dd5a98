"""Joins of known issues in the state: which route joined a ticket to an issue, and undoing
one (`afterhours unlink`)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from afterhours.adapters.sql import Database
from afterhours.adapters.state_audit import detail_text, insert_audit
from afterhours.adapters.state_base import StoreBase
from afterhours.adapters.state_tickets import mark_due, ticket_from_json
from afterhours.domain.join_refusals import refused_key
from afterhours.domain.known_issues import CREATE_STEP, JOIN_STEP, SHARED_STEPS, unlink_key
from afterhours.domain.model import OpenIssue, OpenIssues

UNLINKED = "unlinked"  # the audit outcome of `afterhours unlink`
REFUSED_ACTION = "JoinRefused"  # the ledger's name for a refused join's remembered issue


class KnownIssuesPart(StoreBase):
    """Looking up and undoing a ticket's join of a known issue."""

    def joined_by(self, ticket_id: int, issue_key: str) -> str | None:
        """The rule whose join of `issue_key` is done for the ticket and is still its issue;
        None when the ticket did not join it (or was unlinked from it)."""
        row = self._db.fetchone(
            "SELECT l.rule FROM ledger l JOIN jira_issues j ON j.ticket_id = l.ticket_id"
            " WHERE l.ticket_id = ? AND j.issue_key = ? AND l.status = 'done'"
            " AND l.action = 'JoinJiraIssue' AND l.key LIKE ?",
            (ticket_id, issue_key, f"ticket:{ticket_id}/%/{JOIN_STEP}"))
        return None if row is None else str(row[0])

    def open_issues(self, since: datetime) -> OpenIssues:
        """The issues afterhours filed or linked since `since` that sync-back has not seen
        resolved, each with the subject and description of every ticket it has."""
        rows = self._db.fetchall(
            "SELECT k.issue_key, t.body FROM (SELECT issue_key, ticket_id, created_at FROM"
            " jira_issues UNION SELECT issue_key, ticket_id, created_at FROM sync_links) k"
            " JOIN tickets t ON t.id = k.ticket_id"
            " LEFT JOIN sync_issues i ON i.issue_key = k.issue_key"
            " WHERE (i.resolved IS NULL OR i.resolved = 0) AND k.created_at >= ?"
            " ORDER BY k.issue_key, k.ticket_id", (since.isoformat(),))
        texts: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for key, body in rows:
            ticket = ticket_from_json(str(body))
            texts[str(key)].append((ticket.subject, ticket.description))
        return OpenIssues(tuple(OpenIssue(key, tuple(found)) for key, found in texts.items()))

    def unlink(self, ticket_id: int, issue_key: str, rule: str, *, at: datetime,
               reason: str) -> None:
        """Undo the join in one transaction: the issue is no longer the ticket's, nor linked
        for sync-back; the join's entry is settled as skipped (undone); the steps a filed
        issue shares with the join are forgotten (planned again for the issue it files);
        the ticket never joins that issue again, is due at the next pass, and the audit
        says who unlinked it."""
        key = unlink_key(ticket_id, issue_key)
        with self._transaction() as db:
            db.execute("DELETE FROM jira_issues WHERE ticket_id = ? AND issue_key = ?",
                       (ticket_id, issue_key))
            db.execute("DELETE FROM sync_links WHERE ticket_id = ? AND issue_key = ?",
                       (ticket_id, issue_key))
            for step in SHARED_STEPS:
                db.execute("DELETE FROM ledger WHERE key = ?",
                           (f"ticket:{ticket_id}/{rule}/{step}",))
            _forget_skipped_create(db, ticket_id, rule)
            # The join itself is settled as undone, not left done: no later plan, report
            # or explain takes the ticket for joined (it is never tried again either).
            db.execute("UPDATE ledger SET status = 'skipped', reason = ?, updated_at = ?"
                       " WHERE key = ? AND status = 'done'",
                       (reason, at.isoformat(), f"ticket:{ticket_id}/{rule}/{JOIN_STEP}"))
            text = detail_text({"issue_key": issue_key, "joined_by": rule})
            _remember(db, key, ticket_id=ticket_id, rule="unlink", action="UnlinkJiraIssue",
                      reason=reason, detail=text, at=at)
            insert_audit(db, at=at, ticket_id=ticket_id, key=key, rule="unlink",
                         action="UnlinkJiraIssue", outcome=UNLINKED, reason=reason, detail=text)
            mark_due(db, (ticket_id,))

    def refuse_join(self, ticket_id: int, issue_key: str, rule: str, *, at: datetime,
                    reason: str) -> None:
        """Remember that the ticket's join of `issue_key` was refused for good (it never
        joins that issue again and files its own), and make it due for that filing."""
        with self._transaction() as db:
            _remember(db, refused_key(ticket_id, issue_key), ticket_id=ticket_id, rule=rule,
                      action=REFUSED_ACTION, reason=reason,
                      detail=detail_text({"issue_key": issue_key}), at=at)
            _forget_skipped_create(db, ticket_id, rule)
            mark_due(db, (ticket_id,))


def _forget_skipped_create(db: Database, ticket_id: int, rule: str) -> None:
    """Forget the ticket's own filing under `rule` if it was settled unfiled: a create
    intended (say, waiting out a 429) and skipped when a join replaced it. Left settled, the
    ticket whose join is refused or undone could never file its own issue. One that was done
    stays: that issue exists."""
    db.execute("DELETE FROM ledger WHERE key = ? AND status = 'skipped'",
               (f"ticket:{ticket_id}/{rule}/{CREATE_STEP}",))


def _remember(db: Database, key: str, *, ticket_id: int, rule: str, action: str,
              reason: str, detail: str, at: datetime) -> None:
    """Settle `key` as done: a fact about the ticket's joins later plans read."""
    db.execute(
        "INSERT INTO ledger (key, ticket_id, rule, action, status, reason, detail,"
        " updated_at) VALUES (?, ?, ?, ?, 'done', ?, ?, ?) ON CONFLICT(key) DO UPDATE"
        " SET status = 'done', updated_at = excluded.updated_at",
        (key, ticket_id, rule, action, reason, detail, at.isoformat()))
