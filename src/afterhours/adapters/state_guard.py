"""The state file's failures, said plainly: which setting, which path, what to do.

SQLite's own messages ("attempt to write a readonly database", "file is not a database")
name neither the file nor the setting that chose it. Every call into SQLite goes through
`GuardedConnection`, which turns any `sqlite3.Error` into a one-line `StateError`. The
single-instance lock lives here too: one daemon per state file.
"""

from __future__ import annotations

import errno
import fcntl
import os
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from afterhours.errors import StateError, StateLockedError

_ADVICE = {
    "SQLITE_CANTOPEN": "cannot open it: check that it is a file and that its directory exists"
    " and is writable by the daemon's user",
    "SQLITE_READONLY": "it is read-only: give the daemon's user write access to the file and"
    " its directory (SQLite writes -wal and -shm files beside it), or point {setting}"
    " at a writable volume",
    "SQLITE_NOTADB": "it is not a SQLite database, or it is corrupt: restore it from a backup,"
    " or move it aside to start afresh (the first pass then re-reads the last"
    " AFTERHOURS_BACKFILL_HOURS hours of tickets)",
    "SQLITE_FULL": "the disk is full: free space on its filesystem, or move the file to a"
    " larger volume",
    "SQLITE_IOERR": "the disk reported an I/O error: check the volume and its filesystem",
    "SQLITE_BUSY": "another process held it locked for too long: run one daemon per state"
    " file, and stop any tool holding it open",
}
_NEARLY_FULL = 64 * 1024  # bytes free below which an I/O error is taken for a full disk
_ADVICE["SQLITE_CORRUPT"] = _ADVICE["SQLITE_NOTADB"]
_ADVICE["SQLITE_LOCKED"] = _ADVICE["SQLITE_BUSY"]
_ADVICE["SQLITE_PERM"] = _ADVICE["SQLITE_READONLY"]


def state_error(error: sqlite3.Error | OSError, path: Path, setting: str) -> StateError:
    """The one-line StateError an SQLite or file error on the state file means."""
    name = getattr(error, "sqlite_errorname", None) or _errno_name(error)
    # Extended codes (SQLITE_READONLY_DBMOVED, SQLITE_IOERR_WRITE...) share their base advice.
    base = "_".join(name.split("_")[:2]) if name else ""
    if base == "SQLITE_IOERR" and _disk_full(path):
        # SQLite reports a full disk met while sizing its -shm file as a plain I/O error.
        base = "SQLITE_FULL"
    advice = _ADVICE.get(base, "").format(setting=setting)
    cause = str(error).splitlines()[0] if str(error) else type(error).__name__
    what = f"{advice} ({cause})" if advice else cause
    return StateError(f"{setting}={path}: {what}")


def _disk_full(path: Path) -> bool:
    try:
        found = os.statvfs(path.parent)
    except OSError:
        return False
    return found.f_bavail * found.f_frsize < _NEARLY_FULL


def _errno_name(error: BaseException) -> str:
    code = getattr(error, "errno", None)
    if code in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "SQLITE_READONLY"
    if code in (errno.ENOSPC, errno.EDQUOT):
        return "SQLITE_FULL"
    if code in (errno.ENOENT, errno.ENOTDIR, errno.EISDIR):
        return "SQLITE_CANTOPEN"
    return "SQLITE_IOERR" if code is not None else ""


class Rows(list[Any]):
    """A query's rows, read in full (so a corrupt page fails inside the guard, not later)."""

    rowcount: int = -1  # rows a write changed, as sqlite3 counts them

    def fetchone(self) -> Any:
        """The first row, or None."""
        return self[0] if self else None


class GuardedConnection:
    """An sqlite3 connection whose every failure is a StateError naming setting and path."""

    def __init__(self, db: sqlite3.Connection, path: Path, setting: str) -> None:
        self._db = db
        self.path = path
        self.setting = setting

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open."""
        return self._db.in_transaction

    def execute(self, sql: str, params: Iterable[Any] = ()) -> Rows:
        """Run one statement and return its rows."""
        try:
            cursor = self._db.execute(sql, tuple(params))
            rows = Rows(cursor.fetchall())
            rows.rowcount = cursor.rowcount
            return rows
        except sqlite3.Error as error:
            raise state_error(error, self.path, self.setting) from error

    def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        """Run one statement once per row of parameters."""
        try:
            self._db.executemany(sql, (tuple(row) for row in rows))
        except sqlite3.Error as error:
            raise state_error(error, self.path, self.setting) from error

    def executescript(self, script: str) -> None:
        """Run several statements (the schema)."""
        try:
            self._db.executescript(script)
        except sqlite3.Error as error:
            raise state_error(error, self.path, self.setting) from error

    def close(self) -> None:
        """Close the connection."""
        self._db.close()


def check_location(path: Path, setting: str) -> None:
    """StateError unless `path` can be a state file: afterhours creates no directories, so a
    mistyped path never quietly becomes a new, empty state somewhere else."""
    if not path.parent.is_dir():
        raise StateError(
            f"{setting}={path}: its directory {path.parent} does not exist: create it, or point"
            f" {setting} at an existing directory (afterhours creates none)")
    if path.is_dir():
        raise StateError(f"{setting}={path}: is a directory: name a file inside it instead")


def connect(path: Path, setting: str, shown_as: Path) -> GuardedConnection:
    """Open the state file; errors name `shown_as` (the user's path, when this is a copy)."""
    check_location(path, setting)
    try:
        # isolation_level=None: transactions are explicit, never implicit.
        db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    except sqlite3.Error as error:
        raise state_error(error, shown_as, setting) from error
    return GuardedConnection(db, shown_as, setting)


class StateFileLock:
    """An exclusive flock on the state file itself, held for the daemon's lifetime.

    flock and SQLite's own POSIX locks do not interact on Linux, but closing any descriptor
    of the file drops the process's POSIX locks: so this descriptor is closed only after the
    SQLite connection is (see SqliteState.close).
    """

    def __init__(self, path: Path, setting: str, holder: Callable[[], str | None]) -> None:
        try:
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise state_error(error, path, setting) from error
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            held_by = holder()
            who = f" ({held_by})" if held_by else ""
            raise StateLockedError(
                f"{setting}={path}: another afterhours daemon is using this state file{who}:"
                " run one daemon per SQLite file; for a second replica use PostgreSQL"
                " (AFTERHOURS_STATE_URL)") from None

    def release(self) -> None:
        """Let the next daemon in."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
