"""structlog configuration: JSON lines in production, a console renderer on a TTY."""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from structlog.typing import EventDict

_SECRET_KEYS = frozenset({"token", "password", "authorization", "api_token", "webhook_url"})


def _drop_secrets(_: Any, __: str, event: EventDict) -> EventDict:
    # A last line of defence: settings hold secrets as SecretStr, but a stray field must not leak.
    for key in _SECRET_KEYS.intersection(event):
        event[key] = "**********"
    return event


def configure_logging(fmt: str = "auto", level: str = "info") -> None:
    """Set up structlog for the process; `fmt` is auto, json or console."""
    console = sys.stdout.isatty() if fmt == "auto" else fmt == "console"
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
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        # No file argument: each logger finds sys.stdout when it is made, so a replaced
        # stdout (a test's capture, a redirected stream) is honoured.
        logger_factory=structlog.PrintLoggerFactory(),
        cache_logger_on_first_use=False,
    )
    # zenpy, jira and urllib3 log through stdlib logging; keep their chatter out unless debugging.
    logging.basicConfig(level=logging.WARNING if level != "debug" else logging.DEBUG)
    # httpx and urllib3 log request URLs, and a webhook URL is a secret: never below WARNING.
    for name in ("httpx", "httpcore", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)


@contextmanager
def correlated_pass() -> Iterator[None]:
    """Bind a fresh `pass_id` to every log line within (of this thread), unless one is bound
    already: a pass's lines can then be told from the next one's."""
    if "pass_id" in structlog.contextvars.get_contextvars():
        yield
        return
    with structlog.contextvars.bound_contextvars(pass_id=uuid.uuid4().hex[:12]):
        yield
