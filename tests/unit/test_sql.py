"""The shared database layer's pure parts: placeholders, URLs, scripts, migration files."""

from __future__ import annotations

import psycopg
import pytest

from afterhours.adapters.migrations import migrations
from afterhours.adapters.sql import open_database
from afterhours.adapters.sql_errors import postgres_error
from afterhours.adapters.sql_text import redact_url, sqlite_statements, to_pyformat
from afterhours.errors import ConfigError


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = %s AND c = %s"),
        ("SELECT '?', \"odd?\" FROM t WHERE x = ?", "SELECT '?', \"odd?\" FROM t WHERE x = %s"),
        ("SELECT 'it''s ?' WHERE y LIKE '10%' AND z = ?",
         "SELECT 'it''s ?' WHERE y LIKE '10%%' AND z = %s"),
        ("SELECT 5 % 3", "SELECT 5 %% 3"),
    ],
)
def test_placeholders_become_psycopgs_and_quoted_text_is_kept(sql: str, expected: str) -> None:
    assert to_pyformat(sql) == expected


def test_a_urls_password_is_redacted_and_the_rest_kept() -> None:
    assert (redact_url("postgresql://ops:s3cr%40t@db.internal:5432/afterhours")
            == "postgresql://ops:***@db.internal:5432/afterhours")
    assert redact_url("postgresql://ops@db/afterhours") == "postgresql://ops@db/afterhours"
    assert redact_url("sqlite:////var/lib/afterhours/state.sqlite3") == (
        "sqlite:////var/lib/afterhours/state.sqlite3")


def test_a_script_splits_into_its_statements_with_their_comments() -> None:
    script = "-- first\nCREATE TABLE a (x TEXT DEFAULT ';');\nCREATE TABLE b (y INT);\n-- end\n"
    assert list(sqlite_statements(script)) == [
        "-- first\nCREATE TABLE a (x TEXT DEFAULT ';');\n", "CREATE TABLE b (y INT);\n"]
    with pytest.raises(ValueError, match="unfinished statement"):
        list(sqlite_statements("CREATE TABLE c (z INT)"))


def test_open_database_names_the_setting_for_an_unknown_scheme() -> None:
    with pytest.raises(ConfigError, match=r"AFTERHOURS_STATE_URL: unknown scheme 'mysql'"):
        open_database("mysql://ops:secret@db/afterhours")
    with pytest.raises(ConfigError, match="needs a file path"):
        open_database("sqlite:///")


def test_both_dialects_ship_the_same_migrations() -> None:
    sqlite = [(m.version, m.name) for m in migrations("sqlite")]
    assert sqlite == [(m.version, m.name) for m in migrations("postgresql")]
    assert sqlite[:2] == [(1, "initial"), (2, "lease")]


@pytest.mark.parametrize(
    ("error", "connecting", "said"),
    [
        (psycopg.errors.DiskFull("could not extend file: No space left on device"), False,
         "the server's disk is full: free space on its data volume"),
        (psycopg.errors.ReadOnlySqlTransaction("cannot execute INSERT in a read-only"
                                               " transaction"), False,
         "the database is read-only (a hot standby, or default_transaction_read_only): point"
         " AFTERHOURS_STATE_URL at the primary"),
        (psycopg.errors.InsufficientPrivilege("permission denied for table ledger"), False,
         "the role lacks a privilege"),
        (psycopg.OperationalError("server closed the connection unexpectedly\n\tThis probably"
                                  " means the server terminated abnormally"), False,
         "lost the connection to the server"),
        (psycopg.OperationalError("connection failed: Connection refused"), True,
         "cannot connect: check that the server is running"),
    ],
    ids=["disk-full", "read-only", "privilege", "lost", "refused"],
)
def test_postgresql_failures_are_one_line_naming_the_setting_and_what_to_do(
    error: psycopg.Error, connecting: bool, said: str,
) -> None:
    where = "postgresql://ops:***@db:5432/afterhours"
    message = str(postgres_error(error, where, "AFTERHOURS_STATE_URL", connecting=connecting))
    assert message.startswith(f"AFTERHOURS_STATE_URL={where}: {said}")
    assert "\n" not in message


def test_a_password_in_a_driver_message_is_never_repeated() -> None:
    error = psycopg.OperationalError('invalid option "password=hunter22"')
    message = str(postgres_error(error, "postgresql://ops:***@db/x", "AFTERHOURS_STATE_URL",
                                 connecting=True, password="hunter22"))
    assert "hunter22" not in message
    assert 'invalid option "password=***"' in message
