"""The shared database layer's pure parts: placeholders, URLs, scripts, migration files."""

from __future__ import annotations

import pytest

from afterhours.adapters.migrations import migrations
from afterhours.adapters.sql import open_database
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
