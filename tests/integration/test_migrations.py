"""Versioned migrations on SQLite and PostgreSQL; SQLite state files made before versioning."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from afterhours.adapters import migrations as migrations_module
from afterhours.adapters.migrations import Migration, migrate, migrations, schema_version
from afterhours.adapters.sql import Database, open_database
from afterhours.adapters.state import SqliteState
from afterhours.errors import ConfigError

pytestmark = pytest.mark.integration
LATEST = len(migrations("sqlite"))
TABLES = ("cursor", "tickets", "ledger", "jira_issues", "audit", "config_fingerprint",
          "quarantine", "lease")
LEGACY_TABLES = TABLES[:-1]  # what state files made before versioning have: no lease
LEGACY_VERSION = 4  # the migrations that make what those files have (0005 came after them)
AT = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
# The schema adapters/state.py made before versioning, word for word: files made by it are
# adopted by the migrations.
LEGACY_SCHEMA = """
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


@pytest.fixture
def db(state_url: str) -> Iterator[Database]:
    database = open_database(state_url)
    yield database
    database.close()


def test_an_empty_database_migrates_to_the_latest_version_once(db: Database) -> None:
    assert schema_version(db) == 0
    assert migrate(db) == LATEST
    assert schema_version(db) == LATEST
    assert all(db.table_exists(table) for table in TABLES)
    assert migrate(db) == LATEST  # again: nothing to do
    assert db.fetchall("SELECT version, name FROM schema_version ORDER BY version") == [
        (m.version, m.name) for m in migrations(db.dialect.name)]


def test_migrating_stops_at_a_target(db: Database) -> None:
    assert migrate(db, target=1) == 1
    assert db.table_exists("ledger")
    assert not db.table_exists("lease")
    assert migrate(db) == LATEST


def test_a_failing_migration_leaves_the_version_before(
    db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    migrate(db, target=1)
    broken = Migration(2, "broken", "CREATE TABLE half (x INTEGER);\nSELECT * FROM missing;\n")
    monkeypatch.setattr(migrations_module, "migrations",
                        lambda dialect: [*migrations(dialect)[:1], broken])
    with pytest.raises(Exception, match=r"(?i)missing"):
        migrate(db)
    assert schema_version(db) == 1
    assert not db.table_exists("half")


def test_a_schema_newer_than_this_afterhours_is_refused(db: Database) -> None:
    migrate(db)
    db.execute("INSERT INTO schema_version (version, name, applied_at) VALUES (99, 'x', 'y')")
    with pytest.raises(ConfigError, match=f"schema version 99, newer than this afterhours knows"
                                          f" \\({LATEST}\\)"):
        migrate(db)


def test_the_state_written_by_todays_code_reads_back_on_both(db: Database) -> None:
    migrate(db)
    # The statements adapters/state.py runs, word for word, with ON CONFLICT for OR IGNORE.
    db.execute("INSERT INTO ledger (key, ticket_id, rule, action, status, reason, updated_at,"
               " attempts, attempted_at) VALUES (?, ?, ?, ?, 'intended', ?, ?, 1, ?)"
               " ON CONFLICT(key) DO UPDATE SET attempts = ledger.attempts + 1,"
               " attempted_at = excluded.attempted_at WHERE ledger.status = 'intended'",
               ("k1", 4_000_000_001, "rule", "tag", "why", AT.isoformat(), AT.isoformat()))
    db.execute("INSERT INTO audit (at, ticket_id, key, rule, action, outcome, reason, detail)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               (AT.isoformat(), 4_000_000_001, "k1", "rule", "tag", "done", "why", "{}"))
    db.execute("INSERT INTO jira_issues (ticket_id, issue_key, url, created_at)"
               " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", (7, "ENG-1", "u", AT.isoformat()))
    assert db.fetchall("SELECT key, ticket_id, attempts FROM ledger") == [
        ("k1", 4_000_000_001, 1)]
    assert db.fetchall("SELECT id, outcome FROM audit") == [(1, "done")]


def _columns(db: Database, table: str) -> list[str]:
    if db.dialect.name == "sqlite":
        return [str(row[1]) for row in db.fetchall(f"PRAGMA table_info({table})")]
    return [str(row[0]) for row in db.fetchall(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?"
        " ORDER BY ordinal_position", (table,))]


def _sqlite_shape(path: Path) -> dict[str, object]:
    db = open_database(f"sqlite:///{path}")
    try:
        indexes = db.fetchall("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'"
                              " AND name NOT LIKE 'sqlite_autoindex%' ORDER BY name")
        return {**{t: _columns(db, t) for t in LEGACY_TABLES}, "indexes": indexes}
    finally:
        db.close()


def test_sqlite_migrations_make_the_schema_state_files_had_before_versioning(
    tmp_path: Path,
) -> None:
    with sqlite3.connect(tmp_path / "legacy.sqlite3") as legacy:
        legacy.executescript(LEGACY_SCHEMA)
    legacy.close()
    assert _sqlite_shape(tmp_path / "legacy.sqlite3") == _sqlite_shape(
        _fresh(tmp_path / "versioned.sqlite3", target=LEGACY_VERSION))


def test_postgresql_0001_has_the_same_columns_as_sqlite(postgres_url: str, tmp_path: Path) -> None:
    pg, lite = open_database(postgres_url), open_database(f"sqlite:///{tmp_path / 's.sqlite3'}")
    try:
        migrate(pg)
        migrate(lite)
        for table in TABLES:
            assert _columns(pg, table) == _columns(lite, table), table
    finally:
        pg.close()
        lite.close()


def test_a_state_file_made_before_versioning_is_adopted(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    with sqlite3.connect(path) as legacy:
        legacy.executescript(LEGACY_SCHEMA)
        legacy.execute("INSERT INTO cursor (name, value) VALUES ('tickets.export', 'cursor-1')")
        legacy.execute("INSERT INTO ledger (key, ticket_id, rule, action, status, reason,"
                       " updated_at, attempts, attempted_at) VALUES ('k', 5, 'r', 'a',"
                       " 'intended', 'why', 'then', 1, ?)", (AT.isoformat(),))
        legacy.execute("INSERT INTO config_fingerprint (part, digest) VALUES ('policy', 'd')")
    legacy.close()

    db = open_database(f"sqlite:///{path}")
    assert schema_version(db) == 0
    assert migrate(db, target=1) == 1
    assert schema_version(db) == 1
    assert db.fetchall("SELECT value FROM cursor") == [("cursor-1",)]
    assert db.fetchall("SELECT key, attempts FROM ledger") == [("k", 1)]
    assert migrate(db) == LATEST
    db.close()
    state = SqliteState(path)  # the store reads what it had
    assert state.export_cursor() == "cursor-1"
    assert set(state.attempts(5)) == {"k"}
    assert state.config_fingerprint() == {"policy": "d"}
    state.close()


def test_a_state_file_from_before_attempt_counting_gains_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:
        before_attempts = ",\n    attempts INTEGER NOT NULL DEFAULT 0, attempted_at TEXT"
        old.executescript(LEGACY_SCHEMA.replace(before_attempts, ""))
        old.execute("INSERT INTO ledger (key, ticket_id, rule, action, status, reason,"
                    " updated_at) VALUES ('k', 5, 'r', 'a', 'done', 'why', 'then')")
    old.close()
    db = open_database(f"sqlite:///{path}")
    assert "attempts" not in _columns(db, "ledger")
    assert migrate(db) == LATEST
    assert db.fetchall("SELECT key, status, attempts, attempted_at FROM ledger") == [
        ("k", "done", 0, None)]
    db.close()
    assert _sqlite_shape(path) == _sqlite_shape(_fresh(tmp_path / "fresh.sqlite3"))


def _fresh(path: Path, target: int | None = None) -> Path:
    db = open_database(f"sqlite:///{path}")
    migrate(db, target=target)
    db.close()
    return path


@pytest.mark.postgres
def test_replicas_migrating_at_once_on_postgresql_do_not_race(postgres_url: str) -> None:
    databases = [open_database(postgres_url) for _ in range(4)]
    start = threading.Barrier(len(databases))
    reached: list[int] = []
    failed: list[BaseException] = []

    def run(db: Database) -> None:
        start.wait(timeout=30)
        try:
            reached.append(migrate(db))
        except BaseException as error:
            failed.append(error)

    threads = [threading.Thread(target=run, args=(db,)) for db in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert failed == []
        assert reached == [LATEST] * len(databases)
        assert databases[0].fetchall("SELECT version FROM schema_version ORDER BY version") == [
            (v,) for v in range(1, LATEST + 1)]
    finally:
        for db in databases:
            db.close()
