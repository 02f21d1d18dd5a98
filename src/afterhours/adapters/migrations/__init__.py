"""Versioned schema of the state: numbered SQL files per dialect, applied in order.

`sqlite/NNNN_name.sql` and `postgresql/NNNN_name.sql` hold the same change in each dialect's
spelling. `migrate` applies the missing ones in one transaction and records each in
`schema_version`, so a crash leaves the schema at the version before or after, never between.
On PostgreSQL, replicas starting together queue on an advisory lock; on SQLite, BEGIN
IMMEDIATE does the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

import structlog

from afterhours.adapters.sql import Database
from afterhours.errors import ConfigError

log = structlog.get_logger(__name__)

_FILE_NAME = re.compile(r"^(\d{4})_(\w+)\.sql$")
# pg_advisory_xact_lock's key: any constant works, as long as every migrator takes the same.
_MIGRATION_LOCK = 0x61667468  # "afth"
_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Migration:
    """One numbered change of the schema, in one dialect."""

    version: int
    name: str
    sql: str


def migrations(dialect: str) -> list[Migration]:
    """The migrations shipped for a dialect, in order (numbered 1, 2, 3... without gaps)."""
    found = []
    for entry in (resources.files(__name__) / dialect).iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda migration: migration.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations/{dialect} is not numbered 1, 2, 3...: {found}")
    return found


def schema_version(db: Database) -> int:
    """The version the database's schema is at: 0 when empty or made before versioning."""
    if not db.table_exists("schema_version"):
        return 0
    row = db.fetchone("SELECT MAX(version) FROM schema_version")
    return 0 if row is None or row[0] is None else int(row[0])


def migrate(db: Database, *, target: int | None = None) -> int:
    """Apply the migrations the database lacks, up to `target` (default: all); the version."""
    known = migrations(db.dialect.name)
    target = len(known) if target is None else target
    if not db.in_transaction and schema_version(db) == target:
        return target  # every start after the first: no write lock taken, nothing to do
    with db.transaction():
        if db.dialect.name == "postgresql":
            # Held until this transaction ends: a second migrator waits, then finds it done.
            db.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
        db.execute_script(_VERSION_TABLE)
        current = start = schema_version(db)
        if current > len(known):
            raise ConfigError(
                f"the state database {db.where} is at schema version {current}, newer than"
                f" this afterhours knows ({len(known)}): run the newer afterhours"
            )
        for migration in known[current:target]:
            if migration.version == 1 and db.dialect.name == "sqlite":
                _add_attempts_columns(db)
            db.execute_script(migration.sql)
            db.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, datetime.now(UTC).isoformat()),
            )
            current = migration.version
    if current != start:
        log.info("state.migrated", database=db.where, from_version=start, to_version=current)
    return current


def _add_attempts_columns(db: Database) -> None:
    # State files older than the ledger's attempt counting lack its two columns; 0001's
    # CREATE TABLE IF NOT EXISTS keeps their ledger as it is (state.py's _migrate did this).
    if not db.table_exists("ledger"):
        return
    columns = {str(row[1]) for row in db.fetchall("PRAGMA table_info(ledger)")}
    if "attempts" not in columns:
        db.execute("ALTER TABLE ledger ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0")
        db.execute("ALTER TABLE ledger ADD COLUMN attempted_at TEXT")
