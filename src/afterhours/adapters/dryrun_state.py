"""A dry run's state: a private SQLite copy of the real state, made without writing a byte to
it, that the dry run writes to freely and that disappears on close."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

from afterhours.adapters.migrations import schema_version
from afterhours.adapters.sql import Database, open_database, sqlite_path
from afterhours.adapters.sql_text import redact_url
from afterhours.adapters.state import SqliteState


class ThrowawayState(SqliteState):
    """A private SQLite copy of the state: the dry run starts from the real ledger (so it does
    not repeat what is done) and its own writes vanish on close. Nothing is ever written to
    the real state: a SQLite file is copied through a read-only handle, a PostgreSQL database
    (`url`) read in one read-only transaction (see `copy_from_database`)."""

    def __init__(
        self, real: str | Path | None = None, *, url: str | None = None,
        setting: str = "AFTERHOURS_STATE_DB",
    ) -> None:
        """Copy the SQLite file `real`, or the state database `url` names (a sqlite:/// URL
        is copied as its file); errors name `setting` and the real file or URL."""
        file = sqlite_path(url, setting) if url is not None else real
        self._scratch = Path(tempfile.mkdtemp(prefix="afterhours-dryrun-"))
        copy = self._scratch / "state.sqlite3"
        try:
            if file is not None and Path(file).exists():
                snapshot(Path(file), copy)
            # Errors on the copy name the user's file, or the database it is a copy of.
            shown = file if file is not None else f"{redact_url(url or '')} (a dry run's copy)"
            super().__init__(copy, setting=setting, shown_as=shown)
            if file is None and url is not None:
                copy_from_database(url, self.database, setting)
        except BaseException:
            shutil.rmtree(self._scratch, ignore_errors=True)
            raise

    def close(self) -> None:
        """Close the copy and delete it."""
        try:
            super().close()
        finally:
            shutil.rmtree(self._scratch, ignore_errors=True)


# What a dry run does not read: the audit trail (often the largest table) only grows, the
# lease and the schema's version belong to the real database.
_NOT_COPIED = frozenset({"audit", "lease", "schema_version"})
# Closed tickets matter only while something is still intended on them (see close-out).
_ROWS_COPIED = {"tickets": " WHERE open = 1 OR id IN"
                " (SELECT ticket_id FROM ledger WHERE status = 'intended')"}


def copy_from_database(url: str, copy: Database, setting: str) -> None:
    """Copy into the migrated SQLite `copy` what the planner reads from the state database
    `url`, in one read-only transaction: one consistent snapshot, and not a byte written."""
    source = open_database(url, setting=setting)
    try:
        if schema_version(source) == 0:
            return  # never used by a daemon: the dry run starts from nothing, as it would
        source.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            with copy.transaction():
                for (table,) in copy.fetchall(
                        "SELECT name FROM sqlite_master WHERE type = 'table'"
                        " AND name NOT LIKE 'sqlite_%' ORDER BY name"):
                    if table not in _NOT_COPIED:
                        _copy_table(source, copy, str(table))
        finally:
            source.execute("ROLLBACK")
    finally:
        source.close()


def _copy_table(source: Database, copy: Database, table: str) -> None:
    # Only columns both have: the real database may be at an older schema version.
    columns = [c for c in copy.columns(table) if c in set(source.columns(table))]
    if not columns:
        return
    names = ", ".join(columns)
    places = ", ".join("?" for _ in columns)
    # Table and column names come from the schema itself, never from input.
    rows = source.fetchall(f"SELECT {names} FROM {table}{_ROWS_COPIED.get(table, '')}")  # noqa: S608
    for row in rows:
        copy.execute(f"INSERT INTO {table} ({names}) VALUES ({places})", row)  # noqa: S608


def snapshot(real: Path, copy: Path) -> None:
    """Copy the SQLite file `real` to `copy` consistently, without changing a byte of `real`."""
    if not Path(f"{real}-wal").exists():
        # In WAL mode a -wal file sits beside the database while anyone has it open; without
        # one, no writer is running and the file alone is the whole database.
        shutil.copyfile(real, copy)
        return
    # A daemon may be writing right now (or died with commits still in the -wal): the backup
    # API reads one consistent snapshot through SQLite's own locking, and a read-only
    # connection can never checkpoint the -wal into the real file.
    source_uri = f"{real.resolve().as_uri()}?mode=ro"
    with (
        closing(sqlite3.connect(source_uri, uri=True)) as source,
        closing(sqlite3.connect(copy)) as target,
    ):
        source.backup(target)
