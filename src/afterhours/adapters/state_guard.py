"""A SQLite state file's own guards: where it may be, and one daemon per file.

Its failures are said plainly by adapters/sql_errors.py, through adapters/sql.py's
`SqliteDatabase`; here are the checks before it is opened: no directory is ever created, and
an exclusive lock refuses a second daemon on the same file.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from afterhours.adapters.sql_errors import sqlite_error
from afterhours.errors import StateError, StateLockedError


def check_location(path: Path, setting: str, shown: str | None = None) -> None:
    """StateError unless `path` can be a state file: afterhours creates no directories, so a
    mistyped path never quietly becomes a new, empty state somewhere else."""
    shown = shown or str(path)
    if not path.parent.is_dir():
        raise StateError(
            f"{setting}={shown}: its directory {path.parent} does not exist: create it, or point"
            f" {setting} at an existing directory (afterhours creates none)")
    if path.is_dir():
        raise StateError(f"{setting}={shown}: is a directory: name a file inside it instead")


def read_holder(path: Path, key: str) -> str | None:
    """Who the state file says holds it (the cursor row `key`), read without taking any lock;
    None if unknown."""
    try:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True)) as db:
            row = db.execute("SELECT value FROM cursor WHERE name = ?", (key,)).fetchone()
    except sqlite3.Error:
        return None
    return None if row is None else str(row[0])


class StateFileLock:
    """An exclusive flock on the state file itself, held for the daemon's lifetime.

    flock and SQLite's own POSIX locks do not interact on Linux, but closing any descriptor
    of the file drops the process's POSIX locks: so this descriptor is closed only after the
    SQLite connection is (see StateStore.close).
    """

    def __init__(
        self, path: Path, setting: str, holder: Callable[[], str | None], shown: str | None = None,
    ) -> None:
        shown = shown or str(path)
        try:
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise sqlite_error(error, path, setting, shown) from error
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            held_by = holder()
            who = f" ({held_by})" if held_by else ""
            raise StateLockedError(
                f"{setting}={shown}: another afterhours daemon is using this state file{who}:"
                " run one daemon per SQLite file; for a second replica use PostgreSQL"
                " (AFTERHOURS_STATE_URL)") from None

    def release(self) -> None:
        """Let the next daemon in."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
