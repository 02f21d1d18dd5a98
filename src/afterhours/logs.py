"""structlog configuration: JSON lines in production, a console renderer on a TTY.

Log lines go to stderr, so that stdout carries only what a command prints for a person or a
script (a report, JSON), as `gh` and `kubectl` do.
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from structlog.typing import EventDict

from afterhours.redact import RedactingFilter, redact_data

# The libraries afterhours runs on that log through the standard library. Their debug lines
# hold whole requests and answers: ticket payloads (customer text) and URLs.
LIBRARY_LOGGERS = ("zenpy", "urllib3", "requests", "jira", "httpx", "httpcore", "uvicorn",
                   "uvicorn.error", "uvicorn.access", "starlette", "psycopg", "asyncio")
_SECRET_KEYS = frozenset({"token", "password", "authorization", "api_token", "webhook_url"})


def _drop_secrets(_: Any, __: str, event: EventDict) -> EventDict:
    # A last line of defence: settings hold secrets as SecretStr, but a stray field must not leak.
    for key in _SECRET_KEYS.intersection(event):
        event[key] = "**********"
    return event


class _LibraryFloor(logging.Filter):
    """A root handler's filter: the standard library's records below the libraries' level
    are dropped, whichever logger made them (the jira client sets its own logger to INFO
    when a client is made; zenpy logs on the root logger)."""

    level = logging.WARNING

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep records at or above the level."""
        return record.levelno >= self.level


_FLOOR = _LibraryFloor()


def _redact(_: Any, __: str, event: EventDict) -> EventDict:
    # Every value, the formatted exception among them: a registered secret never gets out.
    redacted: EventDict = redact_data(event)
    return redacted


def _stderr_logger(*_: Any) -> structlog.PrintLogger:
    return structlog.PrintLogger(sys.stderr)


def configure_logging(fmt: str = "auto", level: str = "info",
                      library_level: str = "warning") -> None:
    """Set up structlog for the process; `fmt` is auto, json or console. The libraries'
    loggers (LIBRARY_LOGGERS) log at `library_level`, whatever `level` is; any line that
    reaches a handler of the root logger has its secrets redacted."""
    console = sys.stderr.isatty() if fmt == "auto" else fmt == "console"
    renderer: Any = (
        structlog.dev.ConsoleRenderer() if console else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _drop_secrets,
            structlog.processors.format_exc_info,
            _redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        # Each logger finds sys.stderr when it is made, so a replaced stderr (a test's
        # capture, the CLI's redacting stream) is honoured.
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    # The libraries log through stdlib logging: at WARNING unless asked (library_log_level),
    # since their debug lines carry whole ticket payloads; afterhours' own debug is not that.
    libraries = logging.getLevelNamesMapping()[library_level.upper()]
    logging.basicConfig(level=libraries)
    root = logging.getLogger()
    root.setLevel(libraries)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(libraries)
    _FLOOR.level = libraries
    for handler in root.handlers:
        if _FLOOR not in handler.filters:
            handler.addFilter(_FLOOR)
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


@contextmanager
def correlated_pass() -> Iterator[None]:
    """Bind a fresh `pass_id` to every log line within (of this thread), unless one is bound
    already: a pass's lines can then be told from the next one's."""
    if "pass_id" in structlog.contextvars.get_contextvars():
        yield
        return
    with structlog.contextvars.bound_contextvars(pass_id=uuid.uuid4().hex[:12]):
        yield
