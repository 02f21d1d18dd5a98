"""SQLite state: the export cursor, ticket snapshots, the action ledger and the audit trail.

One file, standard library only. The cursor and the snapshots of a page are written in
one transaction, so a crash never advances the cursor past tickets it has not stored.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing, contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from afterhours.adapters.state_guard import (
    GuardedConnection,
    StateFileLock,
    check_location,
    connect,
)
from afterhours.domain.model import History, JiraIssueRef, Ticket
from afterhours.errors import StateError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cursor (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tickets (
    id INTEGER PRIMARY KEY, open INTEGER NOT NULL, updated_at TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tickets_open ON tickets(open);
CREATE TABLE IF NOT EXISTS ledger (
    key TEXT PRIMARY KEY, ticket_id INTEGER NOT NULL, rule TEXT NOT NULL, action TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('intended', 'done', 'skipped', 'failed')),
    reason TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '{}', updated_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, attempted_at TEXT);
CREATE INDEX IF NOT EXISTS ledger_ticket ON ledger(ticket_id);
CREATE TABLE IF NOT EXISTS jira_issues (
    ticket_id INTEGER PRIMARY KEY, issue_key TEXT NOT NULL, url TEXT NOT NULL,
    created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, ticket_id INTEGER,
    key TEXT, rule TEXT, action TEXT, outcome TEXT NOT NULL, reason TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}');
CREATE INDEX IF NOT EXISTS audit_ticket ON audit(ticket_id);
CREATE TABLE IF NOT EXISTS config_fingerprint (part TEXT PRIMARY KEY, digest TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS quarantine (
    ticket_id INTEGER PRIMARY KEY, first_seen TEXT NOT NULL, last_tried TEXT NOT NULL,
    attempts INTEGER NOT NULL, error TEXT NOT NULL);
"""
_EXPORT_CURSOR = "tickets.export"
_HOLDER = "daemon.holder"  # who holds the exclusive handle: named when a second one is refused


def _describe_self() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"


def _holder(path: Path) -> str | None:
    """Who the state file says holds it, read without taking any lock; None if unknown."""
    try:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True)) as db:
            row = db.execute("SELECT value FROM cursor WHERE name = ?", (_HOLDER,)).fetchone()
    except sqlite3.Error:
        return None
    return None if row is None else str(row[0])


@dataclass(frozen=True)
class Attempt:
    """An action tried before and not settled: how often, and when last."""

    count: int
    last: datetime


@dataclass(frozen=True)
class ParkedAction:
    """An action that failed for good: kept out of every plan until it is released."""

    key: str
    ticket_id: int
    rule: str
    action: str
    reason: str
    failed_at: datetime


@dataclass(frozen=True)
class QuarantinedTicket:
    """A ticket Zendesk answered in a shape that cannot be read, re-read every pass."""

    ticket_id: int
    first_seen: datetime
    last_tried: datetime
    attempts: int  # reads that failed to parse it, the first included
    error: str  # why the last one failed (short)


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


class SqliteState:
    """The daemon's memory, in one SQLite file."""

    def __init__(
        self, path: str | Path, *, setting: str = "AFTERHOURS_STATE_DB", exclusive: bool = False,
        shown_as: Path | None = None,
    ) -> None:
        """Open (or create) the state file; StateError, one line naming `setting`, the path and
        what to do, when it cannot be used. `exclusive`: the daemon's own handle, which locks
        the file against a second daemon and proves it writable at once. `shown_as`: the path
        errors name, when this is a copy of the user's file."""
        self.path = Path(path)
        self._lock: StateFileLock | None = None
        check_location(self.path, setting)
        if exclusive:
            self._lock = StateFileLock(self.path, setting, partial(_holder, self.path))
        try:
            self._db = connect(self.path, setting, shown_as or self.path)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            self._migrate()
            if exclusive:
                # A read-only or full volume must fail now, with its one line, not on the
                # first write of a pass.
                with self._transaction() as db:
                    db.execute(
                        "INSERT INTO cursor (name, value) VALUES (?, ?) ON CONFLICT(name)"
                        " DO UPDATE SET value = excluded.value", (_HOLDER, _describe_self()))
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise

    def _migrate(self) -> None:
        # State files written before attempts were counted lack the two columns.
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(ledger)")}
        if "attempts" not in columns:
            self._db.execute(
                "ALTER TABLE ledger ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0")
            self._db.execute("ALTER TABLE ledger ADD COLUMN attempted_at TEXT")

    def close(self) -> None:
        """Close the database (and then release the lock: see StateFileLock)."""
        self._db.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group the writes inside into one transaction: one commit (and fsync) for all."""
        with self._transaction():
            yield

    @contextmanager
    def _transaction(self) -> Iterator[GuardedConnection]:
        if self._db.in_transaction:  # inside batch(): the outer transaction commits
            yield self._db
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
            self._db.execute("COMMIT")
        except BaseException:
            # Also when COMMIT itself fails: a connection left inside a transaction would
            # silently fold every later write into it, never committed.
            if self._db.in_transaction:
                with suppress(StateError):  # the first failure is the one to report
                    self._db.execute("ROLLBACK")
            raise

    # The export cursor and ticket snapshots

    def export_cursor(self) -> str | None:
        """The saved incremental-export cursor, or None before the first page."""
        row = self._db.execute("SELECT value FROM cursor WHERE name = ?", (_EXPORT_CURSOR,))
        found = row.fetchone()
        return None if found is None else str(found[0])

    def store_page(self, tickets: Iterable[Ticket], cursor: str) -> None:
        """Store a page's ticket snapshots and its cursor together."""
        with self._transaction() as db:
            for ticket in tickets:
                self._upsert_ticket(db, ticket)
            db.execute(
                "INSERT INTO cursor (name, value) VALUES (?, ?)"
                " ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (_EXPORT_CURSOR, cursor),
            )

    def _upsert_ticket(self, db: GuardedConnection, ticket: Ticket) -> None:
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
        rows = self._db.execute("SELECT body FROM tickets WHERE open = 1 ORDER BY id")
        return [ticket_from_json(body) for (body,) in rows]

    def ticket(self, ticket_id: int) -> Ticket | None:
        """The latest snapshot of one ticket."""
        row = self._db.execute("SELECT body FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        return None if row is None else ticket_from_json(row[0])

    # The ledger

    def history(self, ticket_id: int) -> History:
        """What is settled for a ticket, as the planner needs it."""
        rows = self._db.execute(
            "SELECT key FROM ledger WHERE ticket_id = ?"
            " AND status IN ('done', 'skipped', 'failed')",
            (ticket_id,),
        )
        issue = self._db.execute(
            "SELECT issue_key, url FROM jira_issues WHERE ticket_id = ?", (ticket_id,)
        ).fetchone()
        return History(
            frozenset(key for (key,) in rows),
            None if issue is None else JiraIssueRef(issue[0], issue[1]),
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
        text = json.dumps(detail or {}, sort_keys=True, default=str)
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
            db.execute(
                "INSERT INTO audit (at, ticket_id, key, rule, action, outcome, reason, detail)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (at.isoformat(), ticket_id, key, rule, action, outcome, reason, text),
            )

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
                " ON CONFLICT(key) DO UPDATE SET attempts = attempts + 1,"
                " attempted_at = excluded.attempted_at WHERE status = 'intended'",
                (key, ticket_id, rule, action, reason, at.isoformat(), at.isoformat()),
            )

    def attempts(self, ticket_id: int) -> dict[str, Attempt]:
        """Entries of a ticket still intended after an earlier attempt: possibly landed."""
        rows = self._db.execute(
            "SELECT key, attempts, attempted_at FROM ledger WHERE ticket_id = ?"
            " AND status = 'intended' AND attempts > 0",
            (ticket_id,),
        )
        return {
            key: Attempt(count, datetime.fromisoformat(at)) for key, count, at in rows if at
        }

    def forget_attempt(self, key: str) -> None:
        """The last attempt surely did not reach the service: nothing to reconcile for it."""
        with self._transaction() as db:
            db.execute("UPDATE ledger SET attempts = 0 WHERE key = ? AND status = 'intended'",
                       (key,))

    def intended(self, ticket_id: int) -> list[tuple[str, str, str]]:
        """Entries of a ticket intended and not yet settled: (key, rule, action)."""
        rows = self._db.execute(
            "SELECT key, rule, action FROM ledger WHERE ticket_id = ? AND status = 'intended'",
            (ticket_id,),
        )
        return [(str(k), str(r), str(a)) for k, r, a in rows]

    def intended_on_closed(self) -> list[tuple[int, str, str, str]]:
        """Entries still intended on tickets now solved, closed or deleted: (ticket, key, rule,
        action). The planner leaves closed tickets alone, so nothing else would settle them."""
        rows = self._db.execute(
            "SELECT l.ticket_id, l.key, l.rule, l.action FROM ledger l JOIN tickets t"
            " ON t.id = l.ticket_id WHERE l.status = 'intended' AND t.open = 0"
        )
        return [(int(t), str(k), str(r), str(a)) for t, k, r, a in rows]

    def unsettled(self) -> int:
        """How many ledger entries are intended and not yet settled."""
        row = self._db.execute("SELECT COUNT(*) FROM ledger WHERE status = 'intended'")
        return int(row.fetchone()[0])

    def record_jira_issue(self, ticket_id: int, issue: JiraIssueRef, at: datetime) -> None:
        """Remember the Jira issue filed for a ticket (the fact later links are planned from)."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO jira_issues (ticket_id, issue_key, url, created_at)"
                " VALUES (?, ?, ?, ?)",
                (ticket_id, issue.key, issue.url, at.isoformat()),
            )

    def ledger_status(self, key: str) -> str | None:
        """The ledger status of one action key."""
        row = self._db.execute("SELECT status FROM ledger WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    # The audit trail

    def audit(self, *, ticket_id: int | None = None, limit: int = 1000) -> list[AuditRow]:
        """Audit rows, oldest first, optionally for one ticket."""
        query = "SELECT id, at, ticket_id, key, rule, action, outcome, reason, detail FROM audit"
        args: tuple[Any, ...] = ()
        if ticket_id is not None:
            query += " WHERE ticket_id = ?"
            args = (ticket_id,)
        rows = self._db.execute(query + " ORDER BY id LIMIT ?", (*args, limit))
        return [
            AuditRow(
                id=row[0], at=row[1], ticket_id=row[2], key=row[3], rule=row[4], action=row[5],
                outcome=row[6], reason=row[7], detail=json.loads(row[8]),
            )
            for row in rows
        ]

    # Parked actions: ledger entries settled as 'failed'. Releasing one writes its audit row
    # and deletes the entry, so the planner plans the key afresh and its past stays audited.

    def parked(self, *, since: datetime | None = None) -> list[ParkedAction]:
        """Actions that failed for good, oldest failure first (only from `since` on, if given)."""
        rows = self._db.execute(
            "SELECT key, ticket_id, rule, action, reason, updated_at FROM ledger"
            " WHERE status = 'failed' ORDER BY updated_at, key")
        found = [ParkedAction(str(k), int(t), str(r), str(a), str(why), datetime.fromisoformat(at))
                 for k, t, r, a, why, at in rows]
        return [p for p in found if since is None or p.failed_at >= since]

    def parked_count(self) -> int:
        """How many actions are parked (failed for good, waiting for a fix and a retry)."""
        row = self._db.execute("SELECT COUNT(*) FROM ledger WHERE status = 'failed'")
        return int(row.fetchone()[0])

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
                text = json.dumps({**(detail or {}), "failed_reason": item.reason,
                                   "failed_at": item.failed_at.isoformat()},
                                  sort_keys=True, default=str)
                db.execute(
                    "INSERT INTO audit (at, ticket_id, key, rule, action, outcome, reason,"
                    " detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (at.isoformat(), item.ticket_id, item.key, item.rule, item.action, outcome,
                     reason, text),
                )
                db.execute("DELETE FROM ledger WHERE key = ? AND status = 'failed'", (item.key,))
        return released

    def ledger_entry(self, key: str) -> tuple[str, str] | None:
        """The ledger status of one action key and the reason it was given, if it has one."""
        row = self._db.execute("SELECT status, reason FROM ledger WHERE key = ?",
                               (key,)).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    def config_fingerprint(self) -> dict[str, str]:
        """The stored digests of the configuration actions depend on (empty before the first)."""
        rows = self._db.execute("SELECT part, digest FROM config_fingerprint")
        return {str(part): str(digest) for part, digest in rows}

    def store_config_fingerprint(self, fingerprint: Mapping[str, str]) -> None:
        """Replace the stored configuration digests with `fingerprint`."""
        with self._transaction() as db:
            db.execute("DELETE FROM config_fingerprint")
            db.executemany("INSERT INTO config_fingerprint (part, digest) VALUES (?, ?)",
                           sorted(fingerprint.items()))

    # Quarantine: tickets Zendesk answered that cannot be read, held until one read parses

    def quarantine(self, ticket_id: int, error: str, at: datetime) -> bool:
        """Hold the ticket (or count one more failed read of it); True when it is new here.
        Inside `batch()` with the page's snapshots and cursor, the cursor moves past the
        ticket only because it is held."""
        with self._transaction() as db:
            held = db.execute(
                "SELECT 1 FROM quarantine WHERE ticket_id = ?", (ticket_id,)).fetchone()
            db.execute(
                "INSERT INTO quarantine (ticket_id, first_seen, last_tried, attempts, error)"
                " VALUES (?, ?, ?, 1, ?) ON CONFLICT(ticket_id) DO UPDATE SET"
                " last_tried = excluded.last_tried, attempts = attempts + 1,"
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
        rows = self._db.execute(
            "SELECT ticket_id, first_seen, last_tried, attempts, error FROM quarantine"
            " ORDER BY first_seen, ticket_id")
        return [QuarantinedTicket(int(t), datetime.fromisoformat(first),
                                  datetime.fromisoformat(last), int(n), str(error))
                for t, first, last, n, error in rows]
