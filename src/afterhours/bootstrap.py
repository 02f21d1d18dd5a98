"""The one place that builds adapters and the service from settings."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from afterhours.adapters.dryrun import (
    DryRunIssueTracker,
    DryRunNotifier,
    DryRunTicketDesk,
    ThrowawayState,
)
from afterhours.adapters.jira import JiraIssueTracker
from afterhours.adapters.lease import Lease, LeaseKeeper
from afterhours.adapters.notify import WebhookNotifier
from afterhours.adapters.pagerduty import RATE_LIMIT as PAGERDUTY_RATE_LIMIT
from afterhours.adapters.pagerduty import SERVICE as PAGERDUTY
from afterhours.adapters.pagerduty import PagerDutyPager
from afterhours.adapters.ports import IssueTracker, Notifier, TicketDesk
from afterhours.adapters.slack_api import SlackWebApi
from afterhours.adapters.smtp import SmtpMailer
from afterhours.adapters.sql import open_database, sqlite_path
from afterhours.adapters.state import SqliteState, StateStore
from afterhours.adapters.targets import Targets
from afterhours.adapters.zendesk import ZenpyTicketDesk
from afterhours.breaker import Breakers
from afterhours.budget import RateBudget, zendesk_classes
from afterhours.budget_gate import BudgetGate, seconds_of
from afterhours.clock import Clock, utc_now
from afterhours.errors import ConfigError
from afterhours.meanings import check_meanings
from afterhours.ops.health import Health
from afterhours.ops.metrics import Metrics
from afterhours.parking import replan_on_change
from afterhours.policy import LoadedPolicy, Policy
from afterhours.reload import PolicyReloader
from afterhours.retrying import RetryPolicy
from afterhours.service import Service
from afterhours.settings import LocalSettings, Settings


def check_policy(settings: Settings, policy: Policy) -> None:
    """ConfigError if the policy needs something the settings do not provide."""
    missing = [c for c in sorted(policy.channels)
               if policy.channels[c].type == "webhook" and c not in settings.webhooks]
    if missing:
        raise ConfigError(
            "no webhook URL for policy channel(s) "
            + ", ".join(missing)
            + '; set AFTERHOURS_WEBHOOKS=\'{"channel": "https://..."}\''
        )
    posted = [c for c in sorted(policy.channels) if policy.channels[c].type == "slack"]
    if posted and settings.slack_bot_token is None:
        raise ConfigError("slack channel(s) " + ", ".join(posted) + " need"
                          " AFTERHOURS_SLACK_BOT_TOKEN (the Slack app's bot token, xoxb-...)")
    mailed = [c for c in sorted(policy.channels) if policy.channels[c].type == "email"]
    if mailed and (settings.smtp_url is None or not settings.smtp_from):
        raise ConfigError(
            "email channel(s) " + ", ".join(mailed) + " need AFTERHOURS_SMTP_URL"
            " (smtp://host:587 or smtps://host:465) and AFTERHOURS_SMTP_FROM (the sender)")
    unkeyed = [c for c in sorted(policy.channels) if policy.channels[c].type == "pagerduty"
               and c not in settings.pagerduty_routing_keys]
    if unkeyed:
        raise ConfigError(
            "no PagerDuty routing key for policy channel(s) " + ", ".join(unkeyed)
            + "; set AFTERHOURS_PAGERDUTY_ROUTING_KEYS='{\"channel\": \"<integration key>\"}'"
            " (the Events API v2 integration key of the service to page)"
        )
    check_meanings(policy, settings.similarity_model)


def state_file(settings: LocalSettings, db: Path | None = None) -> Path | None:
    """The SQLite file the state is in: `db` (a --db option) or the settings'; None when the
    state is on PostgreSQL."""
    if db is not None:
        return db
    return sqlite_path(settings.state_url.get_secret_value(), settings.state_setting)


def open_state(
    settings: LocalSettings, *, db: Path | None = None, exclusive: bool = False,
    dry_run: bool = False, existing: bool = False,
) -> StateStore:
    """The state store AFTERHOURS_STATE_URL names (by default the SQLite file
    AFTERHOURS_STATE_DB), or the SQLite file `db` a --db option names; migrated. `exclusive`:
    the daemon's own handle; `dry_run`: a throwaway copy, so nothing is ever written;
    `existing`: ConfigError rather than a new, empty SQLite file (the offline commands)."""
    url, setting = settings.state_url.get_secret_value(), settings.state_setting
    file = state_file(settings, db)
    if existing and file is not None and not file.exists():
        raise ConfigError(f"no state database at {file} (set AFTERHOURS_STATE_URL,"
                          " AFTERHOURS_STATE_DB or --state)")
    given_file = file if setting == "--state" else None
    if db is not None or setting == "AFTERHOURS_STATE_DB" or given_file is not None:
        # Messages name the file as the user wrote it, and the setting (or option) that did.
        path = db or given_file or settings.state_db
        if dry_run:
            return ThrowawayState(path)
        return SqliteState(path, exclusive=exclusive,
                           **({"setting": "--state"} if setting == "--state" else {}))
    if dry_run:
        return ThrowawayState(url=url, setting=setting)
    return StateStore(url, setting=setting, exclusive=exclusive)


def keep_lease(
    settings: Settings, state: StateStore, metrics: Metrics, health: Health,
) -> LeaseKeeper | None:
    """On PostgreSQL, the lease that lets one replica of many act, taken (if free) and kept
    from now on, with every write of `state` fenced by it; None on SQLite, whose file lock
    already makes this daemon the only one."""
    if state.database.dialect.name != "postgresql":
        return None
    # Its own connection: renewals go on while the loop's connection is busy.
    lease = Lease(open_database(settings.state_url.get_secret_value(),
                                setting=settings.state_setting),
                  seconds=settings.lease_seconds)

    def changed(leading: bool) -> None:
        metrics.set_leader(leading)
        health.leading(leading)

    keeper = LeaseKeeper(lease, on_change=changed)
    state.fence_with(lease)
    keeper.start()
    return keeper


def rate_gates(
    settings: Settings, clock: Clock, retry: RetryPolicy, metrics: Metrics,
) -> dict[str, BudgetGate]:
    """The rate budget of Zendesk (its account shared with the agents' tools, its export's
    own limit) and of Jira, on the daemon's clock, waiting with the retry policy's sleep."""
    zendesk = RateBudget("zendesk", per_minute=settings.zendesk_rate_limit,
                         share=settings.rate_share,
                         classes=zendesk_classes(settings.zendesk_export_rate_limit))
    jira = RateBudget("jira", per_minute=settings.jira_rate_limit)
    pagerduty = RateBudget(PAGERDUTY, per_minute=PAGERDUTY_RATE_LIMIT)
    return {budget.service: BudgetGate(budget, clock=seconds_of(clock), retry=retry,
                                       metrics=metrics) for budget in (zendesk, jira, pagerduty)}


def build_targets(settings: Settings, *, retry: RetryPolicy, breakers: Breakers | None = None,
                  metrics: Metrics | None = None, gate: BudgetGate | None = None,
                  clock: Clock = utc_now) -> Targets:
    """The escalation targets the settings set up: chat webhooks, PagerDuty when any
    routing key is set, SMTP when a server and a sender are."""
    chat = WebhookNotifier(settings.webhooks, timeout=settings.http_timeout, retry=retry,
                           breakers=breakers, metrics=metrics)
    pager = None
    if settings.pagerduty_routing_keys:
        pager = PagerDutyPager(settings.pagerduty_routing_keys,
                               events_url=str(settings.pagerduty_events_url),
                               timeout=settings.http_timeout, retry=retry, breakers=breakers,
                               metrics=metrics, gate=gate)
    mailer = None
    if settings.smtp_url is not None and settings.smtp_from:
        mailer = SmtpMailer(
            settings.smtp_url.get_secret_value(), sender=settings.smtp_from,
            user=settings.smtp_user,
            password=(settings.smtp_password.get_secret_value() if settings.smtp_password
                      else None),
            ca_file=str(settings.smtp_ca_file) if settings.smtp_ca_file else None,
            timeout=settings.http_timeout, retry=retry, breakers=breakers, metrics=metrics)
    slack = None
    if settings.slack_bot_token is not None:
        slack = SlackWebApi(settings.slack_bot_token.get_secret_value(),
                            api_url=str(settings.slack_api_url), timeout=settings.http_timeout,
                            retry=retry, breakers=breakers, metrics=metrics, clock=clock)
    return Targets(chat, pager, mailer, slack=slack,
                   buttons=settings.slack_signing_secret is not None)


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
    # The state first: a store that cannot be used stops start-up before any connection opens.
    # A dry run starts from a copy of the real ledger, so what is done is not shown as to do;
    # the daemon's own handle is one daemon per SQLite file, and a file it cannot write fails
    # now.
    state = open_state(settings, exclusive=not dry_run, dry_run=dry_run)
    stop = threading.Event()
    # One metrics registry for the daemon: every adapter, the retry policy and the loop count
    # into it, and /metrics serves it.
    metrics = Metrics(clock)
    # One stop event for the service and the retry policy: SIGTERM ends retry waits too.
    retry = (replace(retry, cancel=stop, metrics=metrics) if retry
             else RetryPolicy(sleep=stop.wait, cancel=stop, metrics=metrics))
    # One breaker per dependency (each chat channel its own), reset by the service each pass.
    breakers = Breakers()
    gates = rate_gates(settings, clock, retry, metrics)
    zendesk_url = str(settings.zendesk_url)
    desk: TicketDesk = ZenpyTicketDesk(
        zendesk_url,
        settings.zendesk_email,
        settings.zendesk_token.get_secret_value(),
        timeout=settings.http_timeout,
        retry=retry,
        breaker=breakers.get("zendesk"),
        metrics=metrics,
        gate=gates["zendesk"],
        clock=seconds_of(clock),
    )
    tracker: IssueTracker = JiraIssueTracker(
        str(settings.jira_url),
        settings.jira_email,
        settings.jira_token.get_secret_value(),
        ticket_namespace=urlsplit(zendesk_url).netloc,
        timeout=settings.http_timeout,
        retry=retry,
        breaker=breakers.get("jira"),
        metrics=metrics,
        gate=gates["jira"],
    )
    notifier: Notifier
    if dry_run:
        # Reads still go to Zendesk and Jira, so the plan is the one the daemon would make.
        desk = DryRunTicketDesk(desk)
        tracker = DryRunIssueTracker(tracker)
        notifier = DryRunNotifier()
    else:
        notifier = build_targets(settings, retry=retry, breakers=breakers, metrics=metrics,
                                 gate=gates[PAGERDUTY], clock=clock)
    health = Health(clock, poll_interval=settings.poll_interval, metrics=metrics,
                    store_probe=state.export_cursor, parked_count=state.parked_count)
    return Service(
        desk=desk,
        tracker=tracker,
        notifier=notifier,
        state=state,
        policy=policy,
        clock=clock,
        backfill=timedelta(hours=settings.backfill_hours),
        similarity_model=settings.similarity_model,
        search_lag=timedelta(seconds=settings.jira_search_lag),
        stop=stop,
        breakers=breakers,
        metrics=metrics,
        health=health,
        # Last: from here on the replicas' lease is kept (a dry run acts for nobody).
        lease=None if dry_run else keep_lease(settings, state, metrics, health),
    )


def build_reloader(settings: Settings, service: Service, loaded: LoadedPolicy) -> PolicyReloader:
    """A reloader for `service` that refuses a new policy the settings cannot serve, and
    releases parked actions when a new policy is taken."""
    return PolicyReloader(
        service, loaded, check=partial(check_policy, settings),
        on_reload=partial(replan_on_change, settings, service.state, service.clock))
