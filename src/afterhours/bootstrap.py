"""The one place that builds adapters and the service from settings."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta
from functools import partial
from urllib.parse import urlsplit

from afterhours.adapters.dryrun import (
    DryRunIssueTracker,
    DryRunNotifier,
    DryRunTicketDesk,
    ThrowawayState,
)
from afterhours.adapters.jira import JiraIssueTracker
from afterhours.adapters.notify import WebhookNotifier
from afterhours.adapters.ports import IssueTracker, Notifier, TicketDesk
from afterhours.adapters.state import SqliteState
from afterhours.adapters.zendesk import ZenpyTicketDesk
from afterhours.clock import Clock, utc_now
from afterhours.errors import ConfigError
from afterhours.ops.health import Health
from afterhours.ops.metrics import Metrics
from afterhours.policy import LoadedPolicy, Policy
from afterhours.reload import PolicyReloader
from afterhours.retrying import RetryPolicy
from afterhours.service import Service
from afterhours.settings import Settings


def check_policy(settings: Settings, policy: Policy) -> None:
    """ConfigError if the policy needs something the settings do not provide."""
    missing = [c for c in sorted(policy.channels) if c not in settings.webhooks]
    if missing:
        raise ConfigError(
            "no webhook URL for policy channel(s) "
            + ", ".join(missing)
            + '; set AFTERHOURS_WEBHOOKS=\'{"channel": "https://..."}\''
        )


def build_service(
    settings: Settings,
    policy: Policy,
    *,
    clock: Clock = utc_now,
    retry: RetryPolicy | None = None,
    dry_run: bool = False,
) -> Service:
    """Wire the real adapters to a service; ConfigError if the policy and settings disagree.

    `dry_run`: Zendesk is read but nothing is written anywhere (Zendesk, Jira, chat, the
    state file); the would-be writes are logged as `dryrun.*` events instead.
    """
    # A dry run refuses the same policies as the real thing: it is a rehearsal of it.
    check_policy(settings, policy)
    stop = threading.Event()
    # One metrics registry for the daemon: every adapter, the retry policy and the loop count
    # into it, and /metrics serves it.
    metrics = Metrics(clock)
    # One stop event for the service and the retry policy: SIGTERM ends retry waits too.
    retry = (replace(retry, cancel=stop, metrics=metrics) if retry
             else RetryPolicy(sleep=stop.wait, cancel=stop, metrics=metrics))
    zendesk_url = str(settings.zendesk_url)
    desk: TicketDesk = ZenpyTicketDesk(
        zendesk_url,
        settings.zendesk_email,
        settings.zendesk_token.get_secret_value(),
        timeout=settings.http_timeout,
        retry=retry,
        metrics=metrics,
    )
    tracker: IssueTracker = JiraIssueTracker(
        str(settings.jira_url),
        settings.jira_email,
        settings.jira_token.get_secret_value(),
        ticket_namespace=urlsplit(zendesk_url).netloc,
        timeout=settings.http_timeout,
        retry=retry,
        metrics=metrics,
    )
    notifier: Notifier
    state: SqliteState
    if dry_run:
        # Reads still go to Zendesk and Jira, so the plan is the one the daemon would make.
        desk = DryRunTicketDesk(desk)
        tracker = DryRunIssueTracker(tracker)
        notifier = DryRunNotifier()
        # Starts from the real ledger, so what is already done is not shown as to do.
        state = ThrowawayState(settings.state_db)
    else:
        notifier = WebhookNotifier(settings.webhooks, timeout=settings.http_timeout, retry=retry,
                                   metrics=metrics)
        settings.state_db.parent.mkdir(parents=True, exist_ok=True)
        state = SqliteState(settings.state_db)
    return Service(
        desk=desk,
        tracker=tracker,
        notifier=notifier,
        state=state,
        policy=policy,
        clock=clock,
        backfill=timedelta(hours=settings.backfill_hours),
        search_lag=timedelta(seconds=settings.jira_search_lag),
        stop=stop,
        metrics=metrics,
        health=Health(clock, poll_interval=settings.poll_interval, metrics=metrics,
                      store_probe=state.export_cursor),
    )


def build_reloader(settings: Settings, service: Service, loaded: LoadedPolicy) -> PolicyReloader:
    """A reloader for `service` that refuses a new policy the settings cannot serve."""
    return PolicyReloader(service, loaded, check=partial(check_policy, settings))
