"""The state database's failures, said plainly: which setting, where, what to do.

Neither driver's messages name the setting that chose the database ("attempt to write a
readonly database", "connection refused"). Every call of adapters/sql.py's `Database` turns
any sqlite3 or psycopg error into a one-line `StateError` here: the setting, the file or the
URL (its password never shown), what to do, and the driver's own first line.
"""

from __future__ import annotations

import errno
import os
import re
import sqlite3
from pathlib import Path

import psycopg

from afterhours.errors import StateError

_SQLITE_ADVICE = {
    "SQLITE_CANTOPEN": "cannot open it: check that it is a file and that its directory exists"
    " and is writable by the daemon's user",
    "SQLITE_READONLY": "it is read-only: give the daemon's user write access to the file and"
    " its directory (SQLite writes -wal and -shm files beside it), or point {setting}"
    " at a writable volume",
    "SQLITE_NOTADB": "it is not a SQLite database, or it is corrupt: restore it from a backup,"
    " or move it aside to start afresh (the first pass then re-reads the last"
    " AFTERHOURS_BACKFILL_HOURS hours of tickets)",
    "SQLITE_FULL": "the disk is full: free space on its filesystem, or move the file to a"
    " larger volume",
    "SQLITE_IOERR": "the disk reported an I/O error: check the volume and its filesystem",
    "SQLITE_BUSY": "another process held it locked for too long: run one daemon per state"
    " file, and stop any tool holding it open",
}
_NEARLY_FULL = 64 * 1024  # bytes free below which an I/O error is taken for a full disk
_SQLITE_ADVICE["SQLITE_CORRUPT"] = _SQLITE_ADVICE["SQLITE_NOTADB"]
_SQLITE_ADVICE["SQLITE_LOCKED"] = _SQLITE_ADVICE["SQLITE_BUSY"]
_SQLITE_ADVICE["SQLITE_PERM"] = _SQLITE_ADVICE["SQLITE_READONLY"]

_POSTGRES_ADVICE = {
    "connect": "cannot connect: check that the server is running and reachable at the URL's"
    " host and port",
    "lost": "lost the connection to the server (restarted, or the network dropped): the next"
    " statement connects again; check the server if this repeats",
    "auth": "authentication failed: check the user and password in {setting} (and the"
    " server's pg_hba.conf)",
    "database": "the database does not exist: create it (CREATE DATABASE ... OWNER ...), or"
    " fix its name in {setting}",
    "full": "the server's disk is full: free space on its data volume",
    "readonly": "the database is read-only (a hot standby, or default_transaction_read_only):"
    " point {setting} at the primary",
    "privilege": "the role lacks a privilege: grant it CREATE on the schema and ownership of"
    " afterhours' tables (migrations create and alter them)",
    "busy": "the server refuses more connections: raise max_connections, or close idle ones",
}
_POSTGRES_STATES = {
    "28P01": "auth", "28000": "auth", "3D000": "database", "53100": "full",
    "25006": "readonly", "42501": "privilege", "53300": "busy", "57P03": "connect",
}
_NO_DATABASE = re.compile(r'database "[^"]*" does not exist')


def sqlite_error(
    error: sqlite3.Error | OSError, path: Path, setting: str, shown: str | None = None,
) -> StateError:
    """The one-line StateError an SQLite or file error on the state file `path` means;
    the message names `shown` (default: the path), e.g. the user's file when this is a copy."""
    name = getattr(error, "sqlite_errorname", None) or _errno_name(error)
    # Extended codes (SQLITE_READONLY_DBMOVED, SQLITE_IOERR_WRITE...) share their base advice.
    base = "_".join(name.split("_")[:2]) if name else ""
    if base == "SQLITE_IOERR" and _disk_full(path):
        # SQLite reports a full disk met while sizing its -shm file as a plain I/O error.
        base = "SQLITE_FULL"
    advice = _SQLITE_ADVICE.get(base, "").format(setting=setting)
    return StateError(f"{setting}={shown or path}: {_with_cause(advice, error)}")


def postgres_error(
    error: psycopg.Error, where: str, setting: str, *, connecting: bool, password: str = "",
) -> StateError:
    """The one-line StateError a psycopg error means; `where` is the URL without its
    password, `connecting` whether it came from opening the connection."""
    state = error.sqlstate or ""
    text = str(error)
    kind = _POSTGRES_STATES.get(state, "")
    if not kind and "authentication failed" in text:
        kind = "auth"  # libpq's own connection errors carry no SQLSTATE
    elif not kind and _NO_DATABASE.search(text):
        kind = "database"
    elif not kind and (state[:2] == "08" or state[:3] == "57P"
                       or (not state and isinstance(error, psycopg.OperationalError))):
        kind = "connect" if connecting else "lost"
    advice = _POSTGRES_ADVICE.get(kind, "").format(setting=setting)
    message = _with_cause(advice, error)
    if password:
        message = message.replace(password, "***")
    return StateError(f"{setting}={where}: {message}")


def _with_cause(advice: str, error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    cause = lines[0] if lines else type(error).__name__
    return f"{advice} ({cause})" if advice else cause


def _disk_full(path: Path) -> bool:
    try:
        found = os.statvfs(path.parent)
    except OSError:
        return False
    return found.f_bavail * found.f_frsize < _NEARLY_FULL


def _errno_name(error: BaseException) -> str:
    code = getattr(error, "errno", None)
    if code in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "SQLITE_READONLY"
    if code in (errno.ENOSPC, errno.EDQUOT):
        return "SQLITE_FULL"
    if code in (errno.ENOENT, errno.ENOTDIR, errno.EISDIR):
        return "SQLITE_CANTOPEN"
    return "SQLITE_IOERR" if code is not None else ""
