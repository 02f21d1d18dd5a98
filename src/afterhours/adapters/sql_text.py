"""The database layer's text helpers: placeholders for psycopg, statements of a SQLite
script, and URLs without their password (for logs and messages)."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterator
from urllib.parse import urlsplit


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
