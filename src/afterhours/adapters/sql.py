"""One database layer for the state on SQLite and on PostgreSQL.

Opened by URL (`sqlite:///relative/path`, `sqlite:////absolute/path`,
`postgresql://user:password@host:port/db`). Statements use `?` placeholders on both; writes
go in explicit transactions (`transaction()`), every other statement commits on its own.
What the two dialects spell differently is in `Dialect` here and in the migration files;
everything else is written in SQL both accept (e.g. `ON CONFLICT ... DO NOTHING`, not
`INSERT OR IGNORE`; `RETURNING` needs SQLite 3.35).
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import psycopg
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from afterhours.errors import ConfigError

Row = tuple[Any, ...]
SQLITE_PREFIX = "sqlite:///"
POSTGRESQL_PREFIXES = ("postgresql://", "postgres://")


class Rows(Protocol):
    """What `Database.execute` returns: the rows of a statement (a cursor of either driver)."""

    @property
    def rowcount(self) -> int:
        """Rows changed by an INSERT, UPDATE or DELETE."""

    def fetchone(self) -> Row | None:
        """The next row, or None."""

    def fetchall(self) -> list[Row]:
        """The remaining rows."""

    def __iter__(self) -> Iterator[Row]:
        """Iterate over the remaining rows."""


@dataclass(frozen=True)
class Dialect:
    """The few things SQLite and PostgreSQL spell differently."""

    name: Literal["sqlite", "postgresql"]
    begin: str
    now_seconds: str
    lock_for_share: str
    table_exists: str


SQLITE = Dialect(
    name="sqlite",
    # IMMEDIATE takes the write lock at BEGIN: two writers never deadlock upgrading a read lock.
    begin="BEGIN IMMEDIATE",
    # The database's clock, seconds since the epoch ('now' is fixed within one statement).
    now_seconds="((julianday('now') - 2440587.5) * 86400.0)",
    # BEGIN IMMEDIATE already holds the one write lock: a concurrent writer waits anyway.
    lock_for_share="",
    table_exists="SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
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
)


class Database:
    """One connection to the state database, SQLite or PostgreSQL, used the same way.

    One thread's at a time: a second thread's `transaction()` would join the first's.
    """

    dialect: Dialect

    def __init__(self, where: str) -> None:
        self.where = where  # the URL without its password: safe to log

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        """Run one statement with `?` placeholders."""
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
        rows = self.execute(sql, params).fetchall()
        return rows[0] if rows else None

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row of a statement's result."""
        return self.execute(sql, params).fetchall()

    def table_exists(self, name: str) -> bool:
        """True when the schema has a table of that name."""
        return self.fetchone(self.dialect.table_exists, (name,)) is not None

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
                self.execute("ROLLBACK")
            raise


class SqliteDatabase(Database):
    """A SQLite file, set up as the state has always been (WAL, full fsync)."""

    dialect = SQLITE

    def __init__(self, path: str) -> None:
        super().__init__(SQLITE_PREFIX + path)
        # isolation_level=None: transactions are explicit (`transaction`), never implicit.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        """Run one statement with `?` placeholders."""
        return self._db.execute(sql, tuple(params))

    def execute_script(self, script: str) -> None:
        """Run several statements one by one (sqlite3's executescript would COMMIT first)."""
        for statement in sqlite_statements(script):
            self._db.execute(statement)

    @property
    def in_transaction(self) -> bool:
        """True inside a transaction that has not ended."""
        return self._db.in_transaction

    def close(self) -> None:
        """Close the connection."""
        self._db.close()


_OPEN_TRANSACTION = frozenset({pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR})


class PostgresDatabase(Database):
    """A PostgreSQL database through psycopg 3; outside `transaction()` each statement commits."""

    dialect = POSTGRESQL

    def __init__(self, url: str) -> None:
        super().__init__(redact_url(url))
        options = conninfo_to_dict(url)
        options.setdefault("connect_timeout", 10)
        options.setdefault("application_name", "afterhours")
        self._conninfo = make_conninfo("", **options)
        self._db = psycopg.connect(self._conninfo, autocommit=True)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        """Run one statement with `?` placeholders."""
        return self._live().execute(to_pyformat(sql), tuple(params))

    def execute_script(self, script: str) -> None:
        """Run several statements in one round trip (no parameters: the simple protocol)."""
        self._live().execute(script.encode())

    def _live(self) -> psycopg.Connection[Any]:
        if self._db.broken:
            # The server restarted or the network dropped: the statement that found out
            # failed (and its transaction with it); the next one gets a new connection.
            self._db = psycopg.connect(self._conninfo, autocommit=True)
        return self._db

    @property
    def in_transaction(self) -> bool:
        """True inside a transaction that has not ended (also one that failed)."""
        return self._db.info.transaction_status in _OPEN_TRANSACTION

    def close(self) -> None:
        """Close the connection."""
        self._db.close()


def open_database(url: str) -> Database:
    """Connect to the state database a URL names (see the module docstring)."""
    if url.startswith(SQLITE_PREFIX):
        path = url.removeprefix(SQLITE_PREFIX).split("?", 1)[0]
        if not path:
            raise ConfigError("AFTERHOURS_STATE_URL: sqlite:/// needs a file path after it")
        return SqliteDatabase(path)
    if url.startswith(POSTGRESQL_PREFIXES):
        return PostgresDatabase(url)
    raise ConfigError(
        f"AFTERHOURS_STATE_URL: unknown scheme {url.split(':', 1)[0]!r}; use"
        " sqlite:///path/to/file or postgresql://user:password@host:port/database"
    )


def redact_url(url: str) -> str:
    """The URL with its password replaced by `***`, for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user, _, host = parts.netloc.rpartition("@")
    name = user.split(":", 1)[0]
    return parts._replace(netloc=f"{name}:***@{host}").geturl()


@functools.lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """`?` placeholders as psycopg's `%s` (and a literal `%` doubled); quoted text is kept."""
    out: list[str] = []
    quote = ""
    for char in sql:
        if char == "%":
            out.append("%%")  # psycopg reads % everywhere, inside quotes too
        elif quote:
            quote = "" if char == quote else quote
            out.append(char)
        elif char in "'\"":
            quote = char
            out.append(char)
        else:
            out.append("%s" if char == "?" else char)
    return "".join(out)


def sqlite_statements(script: str) -> Iterator[str]:
    """The complete statements of a script, one by one (comments travel with the next)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending
            pending = ""
    if any(line.strip() and not line.lstrip().startswith("--")
           for line in pending.splitlines()):
        raise ValueError(f"an unfinished statement at the end of a script: {pending.strip()!r}")
