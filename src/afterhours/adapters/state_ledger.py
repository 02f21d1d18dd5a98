"""The state's action ledger: what each planned action's key came to, and the Jira issues
filed, written ahead of every side effect so that nothing is done twice."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from afterhours.adapters.state_audit import detail_text, insert_audit
from afterhours.adapters.state_base import StoreBase
from afterhours.adapters.state_tickets import stored_open
from afterhours.adapters.state_watch import mark_watch
from afterhours.domain.ladders import REPLY_STEP
from afterhours.domain.model import Acknowledged, History, JiraIssueRef
from afterhours.domain.sync_model import SYNC_PREFIX

ACKNOWLEDGEMENT = "Acknowledgement"  # the ledger action of an acknowledgement's entry


def acknowledgement_key(ticket_id: int) -> str:
    """The ledger key of a ticket's acknowledgement: one, the first."""
    return f"ticket:{ticket_id}/acknowledged"


def acknowledged_from(detail: str) -> Acknowledged:
    """An acknowledgement as its ledger entry's detail holds it."""
    data = json.loads(detail)
    return Acknowledged(str(data["who"]), str(data["source"]),
                        datetime.fromisoformat(data["at"]), data.get("assignee"))


@dataclass(frozen=True)
class Attempt:
    """An action tried before and not settled: how often, and when last."""

    count: int
    last: datetime


class LedgerPart(StoreBase):
    """Ledger entries (intended, done, skipped, failed) and the Jira issue of each ticket."""

    def history(self, ticket_id: int) -> History:
        """What is settled for a ticket, as the planner needs it."""
        rows = self._db.fetchall(
            # The detail of an acknowledgement only: who, from where, when (the planner's).
            f"SELECT key, CASE WHEN action = '{ACKNOWLEDGEMENT}' THEN detail END,"  # noqa: S608
            " status = 'intended' FROM ledger WHERE ticket_id = ?"
            " AND status IN ('done', 'skipped', 'failed', 'intended')",
            (ticket_id,),
        )
        issue = self._db.fetchone(
            "SELECT issue_key, url FROM jira_issues WHERE ticket_id = ?", (ticket_id,))
        return History(
            frozenset(str(key) for key, _, intended in rows if not intended),
            None if issue is None else JiraIssueRef(issue[0], issue[1]),
            acknowledgement=next((acknowledged_from(str(d)) for _, d, _ in rows if d), None),
            replies_in_doubt=sum(1 for key, _, intended in rows
                                 if intended and str(key).endswith(f"/{REPLY_STEP}")),
        )

    def record(
        self,
        *,
        at: datetime,
        ticket_id: int | None,
        outcome: str,
        reason: str,
        key: str | None = None,
        rule: str | None = None,
        action: str | None = None,
        status: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Write an audit row and, when `status` is given, move the ledger entry for `key` to it."""
        text = detail_text(detail)
        with self._transaction() as db:
            if status is not None and key is not None:
                db.execute(
                    "INSERT INTO ledger (key, ticket_id, rule, action, status, reason, detail,"
                    " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
                    " status = excluded.status, reason = excluded.reason,"
                    " detail = excluded.detail, updated_at = excluded.updated_at",
                    (key, ticket_id, rule or "", action or "", status, reason, text,
                     at.isoformat()),
                )
                if status == "intended" and ticket_id is not None and key.startswith(
                        SYNC_PREFIX):
                    mark_watch(db, ticket_id)  # sync-back looks until it is settled
            insert_audit(db, at=at, ticket_id=ticket_id, key=key, rule=rule, action=action,
                         outcome=outcome, reason=reason, detail=text)

    def mark_intended(
        self, *, at: datetime, ticket_id: int, key: str, rule: str, action: str, reason: str
    ) -> None:
        """Write ahead: the action is about to be attempted (no audit row; the outcome adds one).

        Each call counts an attempt: an entry still intended with attempts > 0 may have
        reached the service already, so it is reconciled before it is tried again.
        """
        with self._transaction() as db:
            db.execute(
                "INSERT INTO ledger (key, ticket_id, rule, action, status, reason, updated_at,"
                " attempts, attempted_at) VALUES (?, ?, ?, ?, 'intended', ?, ?, 1, ?)"
                " ON CONFLICT(key) DO UPDATE SET attempts = ledger.attempts + 1,"
                " attempted_at = excluded.attempted_at WHERE ledger.status = 'intended'",
                (key, ticket_id, rule, action, reason, at.isoformat(), at.isoformat()),
            )
            if key.startswith(SYNC_PREFIX):
                mark_watch(db, ticket_id)  # sync-back looks until it is settled

    def attempts(self, ticket_id: int) -> dict[str, Attempt]:
        """Entries of a ticket still intended after an earlier attempt: possibly landed."""
        rows = self._db.fetchall(
            "SELECT key, attempts, attempted_at FROM ledger WHERE ticket_id = ?"
            " AND status = 'intended' AND attempts > 0",
            (ticket_id,),
        )
        return {
            str(key): Attempt(int(count), datetime.fromisoformat(at))
            for key, count, at in rows if at
        }

    def forget_attempt(self, key: str) -> None:
        """The last attempt surely did not reach the service: nothing to reconcile for it."""
        with self._transaction() as db:
            db.execute("UPDATE ledger SET attempts = 0 WHERE key = ? AND status = 'intended'",
                       (key,))

    def withdraw(self, key: str) -> None:
        """Take back an intended entry no plan holds now, leaving its key unsettled, so a
        later plan may intend it again (an incident's resolve: see Recorder.supersede)."""
        with self._transaction() as db:
            db.execute("DELETE FROM ledger WHERE key = ? AND status = 'intended'", (key,))

    def intended(self, ticket_id: int) -> list[tuple[str, str, str]]:
        """Entries of a ticket intended and not yet settled: (key, rule, action)."""
        # Sync-back's entries (sync:...) are settled by sync-back, never by a ticket's plan.
        rows = self._db.fetchall(
            "SELECT key, rule, action FROM ledger WHERE ticket_id = ? AND status = 'intended'"
            " AND key NOT LIKE 'sync:%'",
            (ticket_id,),
        )
        return [(str(k), str(r), str(a)) for k, r, a in rows]

    def intended_on_closed(self) -> list[tuple[int, str, str, str]]:
        """Entries still intended on tickets now solved, closed or deleted: (ticket, key, rule,
        action). The planner leaves closed tickets alone, so nothing else would settle them."""
        rows = self._db.fetchall(
            "SELECT ticket_id, key, rule, action FROM ledger WHERE status = 'intended'"
            " AND key NOT LIKE 'sync:%'")
        # The unsettled entries first (a few), then which of their tickets are open: a join
        # would have the database read every closed ticket to find them.
        stored = stored_open(self._db, (int(t) for t, _, _, _ in rows))
        return [(int(t), str(k), str(r), str(a)) for t, k, r, a in rows
                if stored.get(int(t)) is False]

    def unsettled(self) -> int:
        """How many ledger entries are intended and not yet settled."""
        row = self._db.fetchone("SELECT COUNT(*) FROM ledger WHERE status = 'intended'")
        return 0 if row is None else int(row[0])

    def record_jira_issue(self, ticket_id: int, issue: JiraIssueRef, at: datetime) -> None:
        """Remember the Jira issue filed for a ticket (the fact later links are planned from)."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO jira_issues (ticket_id, issue_key, url, created_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (ticket_id, issue.key, issue.url, at.isoformat()),
            )
            # Sync-back follows it from now on: linked in the same transaction, so a pass
            # need not look for filed issues not linked yet (see link_filed_issues).
            db.execute(
                "INSERT INTO sync_links (issue_key, ticket_id, source, since, created_at)"
                " VALUES (?, ?, 'filed', NULL, ?) ON CONFLICT DO NOTHING",
                (issue.key, ticket_id, at.isoformat()),
            )
            mark_watch(db, ticket_id)

    def ledger_status(self, key: str) -> str | None:
        """The ledger status of one action key."""
        entry = self.ledger_entry(key)
        return None if entry is None else entry[0]

    def ledger_entry(self, key: str) -> tuple[str, str] | None:
        """The ledger status of one action key and the reason it was given, if it has one."""
        row = self._db.fetchone("SELECT status, reason FROM ledger WHERE key = ?", (key,))
        return None if row is None else (str(row[0]), str(row[1]))
