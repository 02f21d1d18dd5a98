"""The one place that builds adapters and the service from settings."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlsplit

from afterhours.adapters.jira import JiraIssueTracker
from afterhours.adapters.notify import WebhookNotifier
from afterhours.adapters.state import SqliteState
from afterhours.adapters.zendesk import ZenpyTicketDesk
from afterhours.clock import Clock, utc_now
from afterhours.errors import ConfigError
from afterhours.policy import Policy
from afterhours.retrying import RetryPolicy
from afterhours.service import Service
from afterhours.settings import Settings


def build_service(
    settings: Settings,
    policy: Policy,
    *,
    clock: Clock = utc_now,
    retry: RetryPolicy | None = None,
) -> Service:
    """Wire the real adapters to a service; ConfigError if the policy and settings disagree."""
    stop = threading.Event()
    # One stop event for the service and the retry policy: SIGTERM ends retry waits too.
    retry = replace(retry, cancel=stop) if retry else RetryPolicy(sleep=stop.wait, cancel=stop)
    notifier = WebhookNotifier(settings.webhooks, timeout=settings.http_timeout, retry=retry)
    missing = notifier.missing(sorted(policy.channels))
    if missing:
        raise ConfigError(
            "no webhook URL for policy channel(s) "
            + ", ".join(missing)
            + '; set AFTERHOURS_WEBHOOKS=\'{"channel": "https://..."}\''
        )
    zendesk_url = str(settings.zendesk_url)
    desk = ZenpyTicketDesk(
        zendesk_url,
        settings.zendesk_email,
        settings.zendesk_token.get_secret_value(),
        timeout=settings.http_timeout,
        retry=retry,
    )
    tracker = JiraIssueTracker(
        str(settings.jira_url),
        settings.jira_email,
        settings.jira_token.get_secret_value(),
        ticket_namespace=urlsplit(zendesk_url).netloc,
        timeout=settings.http_timeout,
        retry=retry,
    )
    settings.state_db.parent.mkdir(parents=True, exist_ok=True)
    return Service(
        desk=desk,
        tracker=tracker,
        notifier=notifier,
        state=SqliteState(settings.state_db),
        policy=policy,
        clock=clock,
        backfill=timedelta(hours=settings.backfill_hours),
        stop=stop,
    )
