"""The daemon's memory: the export cursor, ticket snapshots, the action ledger, the audit
trail, parked actions and quarantined tickets, in one SQLite file or one PostgreSQL database
(AFTERHOURS_STATE_URL); and the meanings of ticket texts, kept as a cache (state_meanings).

`StateStore` opens it by URL and brings its schema up to date first (adapters/migrations:
numbered files, in one transaction). Its parts are in state_tickets, state_ledger,
state_audit, state_parked, state_quarantine, state_sync; every failure is a one-line StateError
(adapters/sql_errors.py). On SQLite the daemon's own handle (`exclusive`) locks the file: one
daemon per file. On PostgreSQL replicas share the database, a lease decides which one acts,
and `fence_with(lease)` makes every write transaction prove this replica still holds it.
"""

from __future__ import annotations

import os
import socket
from functools import partial
from pathlib import Path

from afterhours.adapters.migrations import migrate
from afterhours.adapters.sql import (
    SQLITE_PREFIX,
    STATE_URL_SETTING,
    Database,
    open_database,
    sqlite_path,
)
from afterhours.adapters.sql_text import redact_url
from afterhours.adapters.state_audit import AuditPart, AuditRow
from afterhours.adapters.state_guard import StateFileLock, check_location, read_holder
from afterhours.adapters.state_known import KnownIssuesPart
from afterhours.adapters.state_ledger import Attempt, LedgerPart
from afterhours.adapters.state_meanings import MeaningsPart
from afterhours.adapters.state_pages import PagesPart
from afterhours.adapters.state_parked import ParkedAction, ParkedPart
from afterhours.adapters.state_quarantine import QuarantinedTicket, QuarantinePart
from afterhours.adapters.state_sync import SyncPart
from afterhours.adapters.state_tickets import (
    TicketsPart,
    set_cursor,
    ticket_from_json,
    ticket_to_json,
)

__all__ = [
    "Attempt", "AuditRow", "ParkedAction", "QuarantinedTicket", "SqliteState", "StateStore",
    "ticket_from_json", "ticket_to_json",
]
_HOLDER = "daemon.holder"  # who holds a SQLite file's lock: named when a second one is refused


def _describe_self() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"


class StateStore(TicketsPart, LedgerPart, AuditPart, ParkedPart, QuarantinePart, SyncPart,
                 KnownIssuesPart, PagesPart, MeaningsPart):
    """The daemon's memory, on SQLite or PostgreSQL: the same methods, the same SQL."""

    def __init__(
        self, url: str, *, setting: str = STATE_URL_SETTING, exclusive: bool = False,
        shown_as: str | None = None,
    ) -> None:
        """Open the state database `url` names and migrate it; StateError, one line naming
        `setting`, where and what to do, when it cannot be used. `exclusive`: the daemon's
        own handle, which on SQLite locks the file against a second daemon and proves it
        writable at once. `shown_as`: what errors name instead of the URL (the user's path)."""
        self._lock: StateFileLock | None = None
        self.where = shown_as or redact_url(url)  # safe to log and print
        path = sqlite_path(url, setting)
        if exclusive and path is not None:
            check_location(path, setting, self.where)
            self._lock = StateFileLock(path, setting, partial(read_holder, path, _HOLDER),
                                       self.where)
        try:
            self._db = open_database(url, setting=setting, shown_as=shown_as)
            migrate(self._db)
            if self._lock is not None:
                # A read-only or full volume must fail now, with its one line, not on the
                # first write of a pass.
                with self._transaction() as db:
                    set_cursor(db, _HOLDER, _describe_self())
        except BaseException:
            self.close()
            raise

    @property
    def database(self) -> Database:
        """The connection underneath, for what reads the schema directly (a dry run's copy)."""
        return self._db

    def close(self) -> None:
        """Close the database (and then release the lock: see StateFileLock)."""
        if hasattr(self, "_db"):
            self._db.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None


class SqliteState(StateStore):
    """The state in one SQLite file, opened by its path (AFTERHOURS_STATE_DB, or --db)."""

    def __init__(
        self, path: str | Path, *, setting: str = "AFTERHOURS_STATE_DB", exclusive: bool = False,
        shown_as: str | Path | None = None,
    ) -> None:
        """See StateStore; errors name the path (`shown_as`, when this is a copy of it)."""
        self.path = Path(path)
        super().__init__(SQLITE_PREFIX + str(self.path), setting=setting, exclusive=exclusive,
                         shown_as=str(shown_as or self.path))
