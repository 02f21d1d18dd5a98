"""Secrets known to the process, and their removal from anything it prints or records.

Settings register their secrets as they are read (tokens, webhook URLs, the state URL); the
CLI also registers those in the environment before any command runs, so `audit`, `check`,
`explain` and `replay` hide them even in rows an older run wrote. `redact` then replaces each
with `REDACTED` wherever it appears: structlog's lines (logs.py), the standard library's
(third-party loggers, through `RedactingFilter`), exception messages (errors.py), the audit
trail (outcomes.py) and the CLI's output (cli.py).
"""

from __future__ import annotations

import base64
import contextlib
import io
import logging
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import Any, TextIO
from urllib.parse import quote, urlsplit

from pydantic import SecretStr

REDACTED = "**********"
# Shorter values are not taken for secrets: redacting "x" everywhere would hide the log itself.
MIN_LENGTH = 6
_lock = threading.Lock()
_secrets: tuple[str, ...] = ()  # longest first, so a secret inside another goes second


def _forms(value: str) -> Iterable[str]:
    """`value` and the forms it may be printed in: URL-quoted, and for a URL its path and
    password (a webhook's path is its secret; a database URL's password is)."""
    yield value
    yield quote(value, safe="")
    parts = urlsplit(value)
    if parts.scheme and parts.netloc:
        if len(parts.path) > 1:
            yield parts.path
        if parts.password:
            yield parts.password


def register(*values: SecretStr | str | None, user: str | None = None) -> None:
    """Remember secrets to redact; with `user`, also the Basic credentials they make."""
    global _secrets  # noqa: PLW0603  (one registry for the process, read on every line)
    found: set[str] = set()
    for value in values:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not text:
            continue
        found.update(form for form in _forms(text) if len(form) >= MIN_LENGTH)
        if user:
            found.add(base64.b64encode(f"{user}:{text}".encode()).decode())
            found.add(base64.b64encode(f"{user}/token:{text}".encode()).decode())
    with _lock:
        _secrets = tuple(sorted(set(_secrets) | found, key=len, reverse=True))


def forget_all() -> None:
    """Forget every registered secret (for tests)."""
    global _secrets  # noqa: PLW0603
    with _lock:
        _secrets = ()


def redact(text: str) -> str:
    """`text` with every registered secret replaced by REDACTED."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact_data(value: Any) -> Any:
    """`value` (strings, lists, tuples, dicts of them) with every string redacted."""
    if not _secrets:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_data(item) for item in value)
    return value


class RedactingFilter(logging.Filter):
    """A handler filter: a standard-library record leaves with its secrets redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the formatted message (and drop the arguments it was made from)."""
        if _secrets:
            message = record.getMessage()
            cleaned = redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
            if record.exc_info and not record.exc_text:
                # Formatted here, once: handlers then print this text as it is.
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


class RedactingStream(io.TextIOBase):
    """A text stream that writes to `stream` with every registered secret redacted."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream

    def write(self, text: str) -> int:
        """Write `text`, redacted; return its length as given."""
        self.stream.write(redact(text))
        return len(text)

    def flush(self) -> None:
        """Flush the stream underneath."""
        self.stream.flush()

    def fileno(self) -> int:
        """The stream underneath's file descriptor."""
        return self.stream.fileno()

    def isatty(self) -> bool:
        """Whether the stream underneath is a terminal (logs.py picks its format by it)."""
        return self.stream.isatty()

    def writable(self) -> bool:
        """A stream to write to."""
        return True

    def close(self) -> None:
        """Nothing: the stream underneath is not ours to close, and a flush here (IOBase
        closes, so flushes, when collected) would raise again on a pipe its reader closed."""

    @property
    def encoding(self) -> str:  # type: ignore[override]  # read-only on TextIOBase
        """The stream underneath's encoding."""
        return self.stream.encoding


@contextlib.contextmanager
def redacted_output() -> Iterator[None]:
    """Within, sys.stdout and sys.stderr redact every registered secret."""
    with (contextlib.redirect_stdout(RedactingStream(sys.stdout)),
          contextlib.redirect_stderr(RedactingStream(sys.stderr))):
        yield
