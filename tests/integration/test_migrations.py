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
from afterhours.adapters.state import _SCHEMA, SqliteState
from afterhours.errors import ConfigError
from factories import make_ticket

pytestmark = pytest.mark.integration
LATEST = len(migrations("sqlite"))
TABLES = ("cursor", "tickets", "ledger", "jira_issues", "audit", "lease")
AT = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


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
        return {**{t: _columns(db, t) for t in TABLES[:-1]}, "indexes": indexes}
    finally:
        db.close()


def test_sqlite_0001_is_the_schema_state_py_makes(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "today.sqlite3") as today:
        today.executescript(_SCHEMA)
    today.close()
    versioned = open_database(f"sqlite:///{tmp_path / 'versioned.sqlite3'}")
    migrate(versioned, target=1)
    versioned.close()
    assert _sqlite_shape(tmp_path / "today.sqlite3") == _sqlite_shape(
        tmp_path / "versioned.sqlite3")


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


def test_a_state_file_made_by_todays_code_is_adopted_as_version_1(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    state = SqliteState(path)
    state.store_page([make_ticket(id=5, updated_at=AT)], "cursor-1")
    state.mark_intended(at=AT, ticket_id=5, key="k", rule="r", action="a", reason="why")
    state.close()

    db = open_database(f"sqlite:///{path}")
    assert schema_version(db) == 0
    assert migrate(db, target=1) == 1
    assert schema_version(db) == 1
    assert db.fetchall("SELECT value FROM cursor") == [("cursor-1",)]
    assert db.fetchall("SELECT key, attempts FROM ledger") == [("k", 1)]
    assert migrate(db) == LATEST
    db.close()
    assert SqliteState(path).export_cursor() == "cursor-1"  # today's code still reads it


def test_a_state_file_from_before_attempt_counting_gains_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:
        old.executescript(
            _SCHEMA.replace(",\n    attempts INTEGER NOT NULL DEFAULT 0, attempted_at TEXT", ""))
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


def _fresh(path: Path) -> Path:
    db = open_database(f"sqlite:///{path}")
    migrate(db)
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
