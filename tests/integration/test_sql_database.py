"""The shared database layer on a real SQLite file and a real PostgreSQL: the same tests, both."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from afterhours.adapters.sql import Database, open_database

pytestmark = pytest.mark.integration


@pytest.fixture
def db(state_url: str) -> Iterator[Database]:
    database = open_database(state_url)
    database.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    yield database
    database.close()


def test_question_mark_placeholders_and_rows(db: Database) -> None:
    db.execute("INSERT INTO notes (id, body) VALUES (?, ?)", (1, "50% done?"))
    db.execute("INSERT INTO notes (id, body) VALUES (?, ?)", (2, "it's ok"))
    assert db.fetchone("SELECT body FROM notes WHERE id = ?", (1,)) == ("50% done?",)
    assert db.fetchone("SELECT body FROM notes WHERE id = ?", (9,)) is None
    assert db.fetchall("SELECT id FROM notes WHERE body LIKE '%?' OR id = ? ORDER BY id",
                       (2,)) == [(1,), (2,)]
    assert db.execute("UPDATE notes SET body = ? WHERE id > ?", ("x", 0)).rowcount == 2


def test_insert_on_conflict_do_nothing_keeps_the_first(db: Database) -> None:
    for body in ("first", "second"):
        db.execute("INSERT INTO notes (id, body) VALUES (?, ?) ON CONFLICT DO NOTHING",
                   (1, body))
    assert db.fetchall("SELECT body FROM notes") == [("first",)]


def test_a_transaction_commits_or_rolls_back_whole(db: Database) -> None:
    with db.transaction():
        db.execute("INSERT INTO notes (id, body) VALUES (1, 'kept')")

    def fail_after_writing() -> None:
        with db.transaction():
            db.execute("INSERT INTO notes (id, body) VALUES (2, 'lost')")
            with db.transaction():  # an inner block joins the outer transaction
                db.execute("INSERT INTO notes (id, body) VALUES (3, 'lost too')")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail_after_writing()
    assert not db.in_transaction
    assert db.fetchall("SELECT id FROM notes ORDER BY id") == [(1,)]


def test_a_failed_statement_rolls_its_transaction_back(db: Database) -> None:

    def write_twice() -> None:
        with db.transaction():
            db.execute("INSERT INTO notes (id, body) VALUES (1, 'a')")
            db.execute("INSERT INTO notes (id, body) VALUES (1, 'b')")

    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        write_twice()
    assert not db.in_transaction
    db.execute("INSERT INTO notes (id, body) VALUES (1, 'c')")  # the connection goes on
    assert db.fetchall("SELECT body FROM notes") == [("c",)]


def test_another_connection_sees_a_write_only_once_committed(
    db: Database, state_url: str,
) -> None:
    other = open_database(state_url)
    try:
        with db.transaction():
            db.execute("INSERT INTO notes (id, body) VALUES (1, 'pending')")
            assert other.fetchall("SELECT id FROM notes") == []
        assert other.fetchall("SELECT id FROM notes") == [(1,)]
    finally:
        other.close()


def test_script_runs_every_statement(db: Database) -> None:
    with db.transaction():
        db.execute_script("-- two at once\nCREATE TABLE a (x INTEGER);\n"
                          "INSERT INTO a (x) VALUES (7);\n")
    assert db.table_exists("a")
    assert not db.table_exists("b")
    assert db.fetchall("SELECT x FROM a") == [(7,)]


@pytest.mark.postgres
def test_a_dropped_postgresql_connection_is_replaced_at_the_next_statement(
    postgres_url: str,
) -> None:
    db, admin = open_database(postgres_url), open_database(postgres_url)
    try:
        (pid,) = db.fetchone("SELECT pg_backend_pid()") or (0,)
        admin.execute("SELECT pg_terminate_backend(?)", (pid,))
        with pytest.raises(Exception, match=r"(?i)terminat|closed|connection"):
            db.execute("SELECT 1")  # the statement that finds out fails...
        assert db.fetchone("SELECT 1") == (1,)  # ...and the next one reconnects
    finally:
        db.close()
        admin.close()
