"""One database layer for the state on SQLite and on PostgreSQL.

Opened by URL (`sqlite:///relative/path`, `sqlite:////absolute/path`,
`postgresql://user:password@host:port/db`). Statements use `?` placeholders on both; writes
go in explicit transactions (`transaction()`), every other statement commits on its own.
Every driver error is a one-line StateError (adapters/sql_errors.py).
What the two dialects spell differently is in `Dialect` here and in the migration files;
everything else is written in SQL both accept (e.g. `ON CONFLICT ... DO NOTHING`, not
`INSERT OR IGNORE`; `RETURNING` needs SQLite 3.35).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from afterhours.adapters.sql_errors import postgres_error, sqlite_error
from afterhours.adapters.sql_text import redact_url, sqlite_statements, to_pyformat
from afterhours.adapters.state_guard import check_location
from afterhours.errors import ConfigError, StateError

Row = tuple[Any, ...]
SQLITE_PREFIX = "sqlite:///"
POSTGRESQL_PREFIXES = ("postgresql://", "postgres://")
STATE_URL_SETTING = "AFTERHOURS_STATE_URL"


class Result(list[Row]):
    """A statement's rows, read in full (so a failure is met inside the database layer, where
    it becomes a StateError, not later), and how many rows it changed."""

    def __init__(self, rows: list[Row], rowcount: int) -> None:
        super().__init__(rows)
        self.rowcount = rowcount  # rows changed by an INSERT, UPDATE or DELETE

    def fetchone(self) -> Row | None:
        """The first row, or None."""
        return self[0] if self else None

    def fetchall(self) -> list[Row]:
        """Every row."""
        return list(self)


@dataclass(frozen=True)
class Dialect:
    """The few things SQLite and PostgreSQL spell differently."""

    name: Literal["sqlite", "postgresql"]
    begin: str
    now_seconds: str
    lock_for_share: str
    table_exists: str
    columns: str


SQLITE = Dialect(
    name="sqlite",
    # IMMEDIATE takes the write lock at BEGIN: two writers never deadlock upgrading a read lock.
    begin="BEGIN IMMEDIATE",
    # The database's clock, seconds since the epoch ('now' is fixed within one statement).
    now_seconds="((julianday('now') - 2440587.5) * 86400.0)",
    # BEGIN IMMEDIATE already holds the one write lock: a concurrent writer waits anyway.
    lock_for_share="",
    table_exists="SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
    columns="SELECT name FROM pragma_table_info(?) ORDER BY cid",
)
POSTGRESQL = Dialect(
    name="postgresql",
    begin="BEGIN",
    # Like SQLite's 'now', fixed within a statement (now() would be fixed at the start of a
    # transaction, and a lease granted late in a long one would expire sooner than it says).
    now_seconds="CAST(extract(epoch FROM statement_timestamp()) AS DOUBLE PRECISION)",
    # Another transaction's UPDATE of the row waits until this one ends.
    lock_for_share=" FOR SHARE",
    table_exists="SELECT 1 FROM information_schema.tables"
    " WHERE table_schema = current_schema() AND table_name = ?",
    columns="SELECT column_name FROM information_schema.columns"
    " WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
)


class Database:
    """One connection to the state database, SQLite or PostgreSQL, used the same way.

    Every failure of the driver is a one-line StateError naming `setting` and `where` and
    what to do (adapters/sql_errors.py). One thread's at a time: a second thread's
    `transaction()` would join the first's.
    """

    dialect: Dialect

    def __init__(self, where: str, setting: str) -> None:
        self.where = where  # the file, or the URL without its password: safe to log
        self.setting = setting  # the setting that chose it, for messages

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        """Run one statement with `?` placeholders; its rows, read in full."""
        raise NotImplementedError

    def execute_script(self, script: str) -> None:
        """Run several `;`-separated statements without parameters (a migration's DDL)."""
        raise NotImplementedError

    @property
    def in_transaction(self) -> bool:
        """True inside a transaction that has not ended."""
        raise NotImplementedError

    def close(self) -> None:
        """Close the connection."""
        raise NotImplementedError

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row of a statement's result, or None."""
        return self.execute(sql, params).fetchone()

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row of a statement's result."""
        return self.execute(sql, params).fetchall()

    def table_exists(self, name: str) -> bool:
        """True when the schema has a table of that name."""
        return self.fetchone(self.dialect.table_exists, (name,)) is not None

    def columns(self, table: str) -> list[str]:
        """The names of a table's columns, in order (none if there is no such table)."""
        return [str(name) for (name,) in self.fetchall(self.dialect.columns, (table,))]

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """One transaction around the block; inside another one, the block joins it."""
        if self.in_transaction:  # the outer transaction commits
            yield self
            return
        self.execute(self.dialect.begin)
        try:
            yield self
            self.execute("COMMIT")
        except BaseException:
            # Also when COMMIT itself fails: a connection left inside a transaction would
            # silently fold every later write into it, never committed.
            if self.in_transaction:
                with suppress(StateError):  # the first failure is the one to report
                    self.execute("ROLLBACK")
            raise


class SqliteDatabase(Database):
    """A SQLite file, set up as the state has always been (WAL, full fsync).

    Its directory must exist (none is ever created). `shown_as`: what messages name instead
    of the URL (the user's file, when this is a copy; the path, for AFTERHOURS_STATE_DB).
    """

    dialect = SQLITE

    def __init__(
        self, path: str, *, setting: str = STATE_URL_SETTING, shown_as: str | None = None,
    ) -> None:
        super().__init__(shown_as or SQLITE_PREFIX + path, setting)
        self.path = Path(path)
        check_location(self.path, setting, self.where)
        try:
            # isolation_level=None: transactions are explicit (`transaction`), never implicit.
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as error:
            raise self._error(error) from error
        try:
            self.execute("PRAGMA journal_mode=WAL")
            self.execute("PRAGMA synchronous=FULL")
        except BaseException:
            self._db.close()
            raise

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        """Run one statement with `?` placeholders; its rows, read in full."""
        try:
            cursor = self._db.execute(sql, tuple(params))
            return Result(cursor.fetchall(), cursor.rowcount)
        except sqlite3.Error as error:
            raise self._error(error) from error

    def execute_script(self, script: str) -> None:
        """Run several statements one by one (sqlite3's executescript would COMMIT first)."""
        for statement in sqlite_statements(script):
            self.execute(statement)

    def _error(self, error: sqlite3.Error) -> StateError:
        return sqlite_error(error, self.path, self.setting, self.where)

    @property
    def in_transaction(self) -> bool:
        """True inside a transaction that has not ended."""
        return self._db.in_transaction

    def close(self) -> None:
        """Close the connection."""
        self._db.close()


_OPEN_TRANSACTION = frozenset({pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR})
_SHORTEST_SCRUBBED = 3
IDLE_IN_TRANSACTION = "15s"  # a shorter password would blank out ordinary words of a message


class PostgresDatabase(Database):
    """A PostgreSQL database through psycopg 3; outside `transaction()` each statement commits."""

    dialect = POSTGRESQL

    def __init__(self, url: str, *, setting: str = STATE_URL_SETTING) -> None:
        super().__init__(redact_url(url), setting)
        password = unquote(urlsplit(url).password or "")
        self._password = password if len(password) >= _SHORTEST_SCRUBBED else ""
        try:
            options = conninfo_to_dict(url)
        except psycopg.Error as error:
            raise self._error(error, connecting=True) from error
        options.setdefault("connect_timeout", 10)
        options.setdefault("application_name", "afterhours")
        # Our transactions never wait on anything but the database: one idle this long belongs
        # to a paused or hung process, whose locks (the lease row's too) must not outlive it.
        options["options"] = (f"{options.get('options') or ''}"
                              f" -c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION}"
                              ).strip()
        self._conninfo = make_conninfo("", **options)
        self._db = self._connect()

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(self._conninfo, autocommit=True)
        except psycopg.Error as error:
            raise self._error(error, connecting=True) from error

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        """Run one statement with `?` placeholders; its rows, read in full."""
        db = self._live()
        try:
            cursor = db.execute(to_pyformat(sql), tuple(params))
            rows = cursor.fetchall() if cursor.description is not None else []
        except psycopg.Error as error:
            raise self._error(error) from error
        return Result(rows, cursor.rowcount)

    def execute_script(self, script: str) -> None:
        """Run several statements in one round trip (no parameters: the simple protocol)."""
        db = self._live()
        try:
            db.execute(script.encode())
        except psycopg.Error as error:
            raise self._error(error) from error

    def _live(self) -> psycopg.Connection[Any]:
        if self._db.broken:
            # The server restarted or the network dropped: the statement that found out
            # failed (and its transaction with it); the next one gets a new connection.
            self._db = self._connect()
        return self._db

    def _error(self, error: psycopg.Error, *, connecting: bool = False) -> StateError:
        return postgres_error(error, self.where, self.setting, connecting=connecting,
                              password=self._password)

    @property
    def in_transaction(self) -> bool:
        """True inside a transaction that has not ended (also one that failed)."""
        return self._db.info.transaction_status in _OPEN_TRANSACTION

    def close(self) -> None:
        """Close the connection."""
        self._db.close()


def open_database(
    url: str, *, setting: str = STATE_URL_SETTING, shown_as: str | None = None,
) -> Database:
    """Connect to the state database a URL names (see the module docstring); its failures
    name `setting` (and, for a SQLite file, `shown_as` instead of the URL when given)."""
    path = sqlite_path(url, setting)
    if path is not None:
        return SqliteDatabase(str(path), setting=setting, shown_as=shown_as)
    if url.startswith(POSTGRESQL_PREFIXES):
        return PostgresDatabase(url, setting=setting)
    raise ConfigError(
        f"{setting}: unknown scheme {url.split(':', 1)[0]!r}; use"
        " sqlite:///path/to/file or postgresql://user:password@host:port/database"
    )


def sqlite_path(url: str, setting: str = STATE_URL_SETTING) -> Path | None:
    """The file a sqlite:/// URL names; None for any other URL."""
    if not url.startswith(SQLITE_PREFIX):
        return None
    path = url.removeprefix(SQLITE_PREFIX).split("?", 1)[0]
    if not path:
        raise ConfigError(f"{setting}: sqlite:/// needs a file path after it")
    return Path(path)
