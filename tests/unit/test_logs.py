"""Logging keeps secrets out, even at debug level."""

from __future__ import annotations

import logging

import structlog

from afterhours.logs import _drop_secrets, configure_logging


def test_http_clients_never_log_below_warning_because_urls_are_secrets() -> None:
    configure_logging("json", "debug")
    for name in ("httpx", "httpcore", "urllib3"):
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING


def test_secret_fields_are_masked_in_events() -> None:
    event = _drop_secrets(None, "info", {"event": "x", "token": "abc", "webhook_url": "https://h"})
    assert event == {"event": "x", "token": "**********", "webhook_url": "**********"}


def test_events_are_dotted_names_with_fields() -> None:
    with structlog.testing.capture_logs() as logs:
        structlog.get_logger().info("jira.issue_created", ticket_id=7, issue_key="ENG-1")
    assert logs == [{"event": "jira.issue_created", "ticket_id": 7, "issue_key": "ENG-1",
                     "log_level": "info"}]
