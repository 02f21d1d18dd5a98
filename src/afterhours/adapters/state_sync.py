"""The state's sync-back part: which tickets hang off which Jira issues, what was last seen of
each issue and ticket, and the poll's watermark (migration 0006).

A link is kept once per (issue, ticket): a ticket can hang off several issues and an issue
off several tickets. An issue afterhours filed is linked from the `jira_issues` table on
the next pass; one labelled zendesk-<ticket id> in Jira when a poll first sees the label.
The tickets to look at again are found from marks left as facts change (state_watch,
migration 0007), not by reading every link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from afterhours.adapters.state_base import StoreBase
from afterhours.adapters.state_tickets import set_cursor
from afterhours.adapters.state_watch import (
    WATCHED,
    clear_watch,
    mark_filed_unlinked,
    mark_issue_reopened,
    mark_watch,
    settle_watch,
)
from afterhours.domain.sync_model import SYNC_PREFIX, TicketBaseline

WATERMARK = "jira.sync_watermark"


def _time(value: object) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def _text(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


@dataclass(frozen=True)
class SeenIssue:
    """What sync-back last saw of an issue."""

    key: str
    url: str
    updated: datetime
    resolved: bool
    pending: bool


class SyncPart(StoreBase):
    """Links between tickets and Jira issues, what was seen of each, and the watermark."""

    _filed_linked = False  # link_filed_issues has looked, in this process

    def sync_watermark(self) -> datetime | None:
        """When the last complete poll of Jira started (on afterhours' clock)."""
        row = self._db.fetchone("SELECT value FROM cursor WHERE name = ?", (WATERMARK,))
        return None if row is None else _time(row[0])

    def set_sync_watermark(self, moment: datetime) -> None:
        """Remember that every change up to `moment` was polled."""
        with self._transaction() as db:
            set_cursor(db, WATERMARK, moment.isoformat())

    def link_filed_issues(self, at: datetime) -> int:
        """Link every issue afterhours filed that is not linked yet (all its changes flow);
        return how many. An issue is linked as it is recorded (record_jira_issue), so this
        looks once per process, for those filed before sync-back existed."""
        if self._filed_linked:
            return 0
        self._filed_linked = True
        with self._transaction() as db:
            mark_filed_unlinked(db)
            added = db.execute(
                "INSERT INTO sync_links (issue_key, ticket_id, source, since, created_at)"
                " SELECT issue_key, ticket_id, 'filed', NULL, ? FROM jira_issues j"
                " WHERE NOT EXISTS (SELECT 1 FROM sync_links l WHERE l.issue_key = j.issue_key"
                " AND l.ticket_id = j.ticket_id)", (at.isoformat(),))
        return max(0, added.rowcount)

    def add_sync_link(self, issue_key: str, ticket_id: int, *, source: str,
                      since: datetime | None, at: datetime) -> bool:
        """Hang `ticket_id` off `issue_key` (its changes flow from `since` on); False when
        it already was."""
        with self._transaction() as db:
            added = db.execute(
                "INSERT INTO sync_links (issue_key, ticket_id, source, since, created_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (issue_key, ticket_id, source, _text(since), at.isoformat()))
            if added.rowcount > 0:
                mark_watch(db, ticket_id)
        return added.rowcount > 0

    def sync_links(self, issue_key: str) -> list[tuple[int, datetime | None]]:
        """The tickets hanging off an issue, with when its changes start to flow to each."""
        rows = self._db.fetchall(
            "SELECT ticket_id, since FROM sync_links WHERE issue_key = ? ORDER BY ticket_id",
            (issue_key,))
        return [(int(ticket), _time(since)) for ticket, since in rows]

    def linked_issues(self, ticket_id: int) -> list[str]:
        """The issues a ticket hangs off."""
        rows = self._db.fetchall(
            "SELECT issue_key FROM sync_links WHERE ticket_id = ? ORDER BY issue_key",
            (ticket_id,))
        return [str(key) for (key,) in rows]

    def linked_issue_keys(self) -> set[str]:
        """Every issue some ticket hangs off."""
        return {str(key) for (key,) in self._db.fetchall(
            "SELECT DISTINCT issue_key FROM sync_links")}

    def watched_tickets(self) -> list[int]:
        """The tickets to look at for Jira: hanging off an issue not seen resolved and stored
        since last seen (or never seen), or with sync-back entries unsettled."""
        # Only the tickets marked since they were last found settled (state_watch): as many
        # rows as changed, not every link.
        rows = self._db.fetchall(WATCHED, (SYNC_PREFIX + "%",))
        settled = [(int(ticket), int(mark)) for ticket, mark, watched in rows if not watched]
        if settled:
            with self._transaction() as db:
                clear_watch(db, settled)
        return [int(ticket) for ticket, _, watched in rows if watched]

    def seen_issue(self, issue_key: str) -> SeenIssue | None:
        """What was last seen of an issue (None: never)."""
        row = self._db.fetchone(
            "SELECT url, updated, resolved, pending FROM sync_issues WHERE issue_key = ?",
            (issue_key,))
        if row is None:
            return None
        url, updated, resolved, pending = row
        return SeenIssue(issue_key, str(url), datetime.fromisoformat(str(updated)),
                         bool(resolved), bool(pending))

    def set_seen_issue(self, seen: SeenIssue, at: datetime) -> None:
        """Remember what was seen of an issue."""
        with self._transaction() as db:
            if not seen.resolved:
                mark_issue_reopened(db, seen.key)
            db.execute(
                "INSERT INTO sync_issues (issue_key, url, updated, resolved, pending, seen_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(issue_key) DO UPDATE SET"
                " url = excluded.url, updated = excluded.updated,"
                " resolved = excluded.resolved, pending = excluded.pending,"
                " seen_at = excluded.seen_at",
                (seen.key, seen.url, seen.updated.isoformat(), int(seen.resolved),
                 int(seen.pending), at.isoformat()))

    def pending_issues(self) -> list[str]:
        """Issues with flows still unsettled: read again each pass until they are."""
        return [str(key) for (key,) in self._db.fetchall(
            "SELECT issue_key FROM sync_issues WHERE pending = 1 ORDER BY issue_key")]

    def ticket_baseline(self, ticket_id: int) -> TicketBaseline | None:
        """What sync-back last saw of a ticket (None: never)."""
        row = self._db.fetchone(
            "SELECT status, solved_at, customer_update_at FROM sync_tickets"
            " WHERE ticket_id = ?", (ticket_id,))
        if row is None:
            return None
        return TicketBaseline(str(row[0]), _time(row[1]), _time(row[2]))

    def set_ticket_baseline(self, ticket_id: int, seen: TicketBaseline, at: datetime, *,
                            updated_at: datetime | None = None) -> None:
        """Remember what was seen of a ticket (in its snapshot stamped `updated_at`; None:
        look again next pass): its next events are what changes from here."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO sync_tickets (ticket_id, status, solved_at, customer_update_at,"
                " updated_at, seen_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(ticket_id) DO"
                " UPDATE SET status = excluded.status, solved_at = excluded.solved_at,"
                " customer_update_at = excluded.customer_update_at,"
                " updated_at = excluded.updated_at, seen_at = excluded.seen_at",
                (ticket_id, seen.status, _text(seen.solved_at), _text(seen.customer_update_at),
                 _text(updated_at), at.isoformat()))
            # Seen as stored: no longer watched, unless something else still holds it.
            settle_watch(db, ticket_id, SYNC_PREFIX + "%")

    def intended_sync(self, ticket_id: int) -> list[tuple[str, str, str]]:
        """A ticket's sync-back entries intended and not yet settled: (key, rule, action)."""
        rows = self._db.fetchall(
            "SELECT key, rule, action FROM ledger WHERE ticket_id = ? AND status = 'intended'"
            " AND key LIKE ?", (ticket_id, SYNC_PREFIX + "%"))
        return [(str(k), str(r), str(a)) for k, r, a in rows]
