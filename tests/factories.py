"""Literal test data shared by the test modules."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from afterhours.bootstrap import build_service
from afterhours.clock import ManualClock
from afterhours.domain.issue_text import IssueBody, issue_body
from afterhours.domain.model import Ticket
from afterhours.policy import load_policy
from afterhours.retrying import RetryPolicy
from afterhours.service import Service
from afterhours.settings import Settings
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.pagerduty import PagerDutyTwin
from afterhours.twins.slack_api import SlackApiTwin
from afterhours.twins.zendesk import ZendeskTwin

SATURDAY_NIGHT = datetime(2026, 1, 17, 2, tzinfo=UTC)  # 02:00 in London: after hours
# A rate limit (requests a minute) no test's daemon reaches: for twins that enforce none.
UNLIMITED = 1_000_000
# The rate settings (AFTERHOURS_ less) of a daemon on twins that enforce no limit.
UNLIMITED_RATES = {name: str(UNLIMITED) for name in (
    "ZENDESK_RATE_LIMIT", "ZENDESK_EXPORT_RATE_LIMIT", "JIRA_RATE_LIMIT")}

# A policy's start with a PagerDuty channel (`pager`, the leads' paging channel) and a chat
# one (`desk`); tests add the rules and ladders.
PAGERDUTY_HEAD = """\
version: 1
schedule: {time_zone: Europe/London, hours: {mon: ["09:00-17:30"]}}
channels:
  pager: {type: pagerduty}
  desk: {}
oncall:
  leads:
    time_zone: Europe/London
    starts: 2026-01-05
    handover: mon 09:00
    channel: pager
    rotation:
      - {primary: alice@acme.example, backup: bob@acme.example}
"""
# The P1 ladder paging PagerDuty at once, then every 30 minutes twice, until a first reply.
PAGING_LADDER = """\
escalations:
  - name: p1
    when: {priorities: [urgent]}
    acknowledged_by: {tags: [taken]}
    levels:
      - id: page
        after_minutes: 0
        until: first_reply
        page: leads
        notify: desk
        repeat_every_minutes: 30
        max_repeats: 2
"""



def paging_policy(channels: str = "", notify: str = "desk") -> str:
    """PAGERDUTY_HEAD with more `channels` (YAML lines), a rule making outages urgent, and
    PAGING_LADDER, its first level notifying `notify`."""
    return (PAGERDUTY_HEAD.replace("  desk: {}\n", "  desk: {}\n" + channels)
            + "priority_rules:\n  - name: outage\n    when: {keywords: [down]}\n"
            "    priority: urgent\n"
            + PAGING_LADDER.replace("        notify: desk\n", f"        notify: {notify}\n"))


def make_ticket(**overrides: Any) -> Ticket:
    """An open ticket with no priority, tags or group; override any field.

    `updated_at` follows `created_at` and `web_url` follows `id` unless given.
    """
    created = overrides.get("created_at", SATURDAY_NIGHT)
    ticket_id = overrides.get("id", 7)
    fields: dict[str, Any] = {
        "id": ticket_id,
        "subject": "A question",
        "description": "Please help.",
        "status": "new",
        "priority": None,
        "tags": frozenset(),
        "channel": "email",
        "requester_email": "ann@acme.example",
        "organization": "Acme",
        "group": None,
        "created_at": created,
        "updated_at": created,
        "web_url": f"https://acme.zendesk.com/agent/tickets/{ticket_id}",
    }
    return Ticket(**(fields | overrides))


def issue_text(text: str = "It crashes.", ticket_id: int = 7,
               reason: str = "keyword 'crashes' in subject") -> IssueBody:
    """A Jira description's content for a ticket whose description is `text`."""
    return issue_body(make_ticket(id=ticket_id, description=text), reason)


def twin_environment(  # noqa: PLR0917  (one of each twin, then the daemon's files)
    zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, channels: Iterable[str],
    policy: Path, state: Path,
) -> dict[str, str]:
    """The AFTERHOURS_* variables of a daemon on the twins, logging JSON lines."""
    settings = {
        "ZENDESK_URL": zendesk.base_url, "ZENDESK_EMAIL": "bot@example.com",
        "ZENDESK_TOKEN": "zd-secret-token", "JIRA_URL": jira.base_url,
        "JIRA_EMAIL": "bot@example.com", "JIRA_TOKEN": "jira-secret-token",
        "WEBHOOKS": json.dumps({c: chat.webhook_url(c) for c in channels}),
        "POLICY_FILE": str(policy), "STATE_DB": str(state), "LOG_FORMAT": "json",
        # The twins run on the test clock (a Friday evening); `run` on the real one, days
        # later: the backfill reaches back far enough to export that evening's tickets.
        "BACKFILL_HOURS": str(24 * 365 * 20),
        # The twins enforce no rate limit unless a test sets one: nor does the daemon here.
        **UNLIMITED_RATES,
    }
    return {f"AFTERHOURS_{name}": value for name, value in settings.items()}


def paging_environment(  # noqa: PLR0917  (one of each twin, then the daemon's files)
    zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, pagerduty: PagerDutyTwin,
    policy: str, folder: Path,
) -> dict[str, str]:
    """twin_environment for `policy` (written to `folder`) with its chat channel `desk`, and
    PagerDuty's twin for its channel `pager`."""
    policy_file = folder / "policy.yaml"
    policy_file.write_text(policy, encoding="utf-8")
    return {**twin_environment(zendesk, jira, chat, ["desk"], policy_file,
                               folder / "state.sqlite3"),
            "AFTERHOURS_PAGERDUTY_ROUTING_KEYS": json.dumps(
                {"pager": pagerduty.add_service("Support")}),
            "AFTERHOURS_PAGERDUTY_EVENTS_URL": pagerduty.base_url}


def slack_environment(  # noqa: PLR0917  (one of each twin, then the daemon's files)
    zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, pagerduty: PagerDutyTwin,
    slack_api: SlackApiTwin, policy: str, folder: Path, conversation: str,
) -> dict[str, str]:
    """paging_environment with Slack's Web API twin, the bot a member of `conversation`."""
    slack_api.add_conversation(conversation)
    return {**paging_environment(zendesk, jira, chat, pagerduty, policy, folder),
            "AFTERHOURS_SLACK_BOT_TOKEN": slack_api.token,
            "AFTERHOURS_SLACK_API_URL": slack_api.api_url}


@contextmanager
def daemon_on(environment: dict[str, str], folder: Path, clock: ManualClock,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    """The daemon `afterhours run` builds from `environment` (set for the test) and the
    policy in `folder` (as paging_environment writes it), retrying at once; closed after."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    policy = load_policy(folder / "policy.yaml").policy
    with closing(build_service(Settings(), policy, clock=clock,
                               retry=RetryPolicy(attempts=3, sleep=lambda _: None))) as built:
        yield built


def twin_settings(
    zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, channels: Iterable[str],
    state: Path, **overrides: Any,
) -> Settings:
    """The settings of a daemon on the twins (in-process), with `overrides`."""
    given: dict[str, Any] = {
        "zendesk_url": zendesk.base_url, "zendesk_email": "bot@example.com",
        "zendesk_token": SecretStr("zd-token"), "jira_url": jira.base_url,
        "jira_email": "bot@example.com", "jira_token": SecretStr("jira-token"),
        "webhooks": {c: SecretStr(chat.webhook_url(c)) for c in channels},
        "state_db": state, "backfill_hours": 1,
    }
    return Settings(**(given | overrides))


def wait_for(condition: Callable[[], object], *, timeout: float = 15.0) -> None:
    """Poll `condition` every few milliseconds until it holds; fail after `timeout` seconds
    (for what another thread or process does in its own time)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {condition}")
        time.sleep(0.02)


def killed_after_sending(service: Any, method: str) -> None:
    """Run a pass of `service` whose notifier dies right after `method` sends (a kill between
    the send and the ledger write): the pass raises KeyboardInterrupt, nothing is recorded."""
    notifier = service.notifier
    sent = getattr(notifier, method)

    def killed(*args: object, **kwargs: object) -> None:
        sent(*args, **kwargs)
        raise KeyboardInterrupt  # the daemon dies before the ledger says done

    setattr(notifier, method, killed)
    try:
        service.run_pass()
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError(f"{method} was never called")
    finally:
        delattr(notifier, method)
