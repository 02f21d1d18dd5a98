"""The twins one benchmark run drives, on one manual clock, seeded like the demo night."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from afterhours.clock import ManualClock
from afterhours.demo.night import GROUPS, ORGANIZATIONS, PEOPLE
from afterhours.policy import load_policy
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.pagerduty import PagerDutyTwin
from afterhours.twins.zendesk import ZendeskTwin

# Friday 20 November 2026, 19:00 in London: the desk closed at 17:30.
EVENING = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)
POLICY = Path(__file__).resolve().parents[1] / "config" / "policy.yaml"
# One ticket in four is a P1, a billing question, a product bug, a general inquiry.
SUBJECTS = (
    "Refund for double charge", "Invoice missing", "App crashes on export", "Login error",
    "Production is down", "How do I add a user?", "Security question", "Feature request",
)
P1_SUBJECTS = ("Production is down", "Security question", "Outage in the EU region")
# Requesters outside Globex, whose tickets the SOP makes P1 whatever they say.
REQUESTERS = ("Bob Ortiz", "Carol Diaz", "Dave Kim", "Erin Walsh")
_MARKER = re.compile(r"\[afterhours (ticket:(\d+)/(escalation:\S+)/note)\]")


@dataclass(frozen=True)
class Update:
    """One ticket update the Zendesk twin applied, and when (monotonic seconds)."""

    ticket_id: int
    at: float
    priority: str | None
    escalation: str | None  # the rule of the escalation note it carried, if any


@dataclass
class UpdateLog:
    """Every update the Zendesk twin applies through its API, seen from inside the twin."""

    updates: list[Update] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, ticket_id: int, changes: Mapping[str, Any]) -> None:
        """Record one update (called by the twin, under its lock)."""
        comment = changes.get("comment")
        body = str(comment.get("body") or "") if isinstance(comment, Mapping) else ""
        marker = _MARKER.search(body)
        update = Update(ticket_id, time.monotonic(), changes.get("priority"),
                        marker[3] if marker else None)
        with self.lock:
            self.updates.append(update)

    def since(self, mark: int) -> list[Update]:
        """The updates after the first `mark` ones."""
        with self.lock:
            return self.updates[mark:]

    def __len__(self) -> int:
        with self.lock:
            return len(self.updates)


class World:
    """A Zendesk, a Jira and a chat twin on one ManualClock, with the demo's people."""

    def __init__(self, start: datetime = EVENING) -> None:
        self.clock = ManualClock(start)
        self.zendesk = ZendeskTwin(self.clock)
        self.jira = JiraTwin(self.clock)
        self.chat = ChatTwin()
        self.pagerduty = PagerDutyTwin(self.clock)  # for a policy whose on-call is paged there
        self.log = UpdateLog()
        self.requesters: list[int] = []
        self._watch_updates()

    def __enter__(self) -> World:
        for twin in (self.zendesk, self.jira, self.chat, self.pagerduty):
            twin.start()
        self.routing_key = self.pagerduty.add_service("Support on call")
        for name in GROUPS:
            self.zendesk.add_group(name)
        orgs = {name: self.zendesk.add_organization(name)["id"] for name in ORGANIZATIONS}
        people = {name: self.zendesk.add_user(name, email, organization_id=orgs.get(org or ""))
                  for name, (email, org) in PEOPLE.items()}
        self.requesters = [int(people[name]["id"]) for name in REQUESTERS]
        self.zendesk.add_user("Sam Agent", "sam@acme.example", role="agent")
        self.jira.add_project("ENG", "Engineering")
        return self

    def __exit__(self, *exc: object) -> None:
        for twin in (self.zendesk, self.jira, self.chat, self.pagerduty):
            twin.stop()

    def _watch_updates(self) -> None:
        # Wraps the twin's one write path for tickets: the API's PUTs and tag calls land here.
        state, log = self.zendesk.state, self.log
        apply = state.update_ticket

        def update_ticket(ticket_id: int, changes: Mapping[str, Any], *,
                          author_id: int | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
            result = apply(ticket_id, changes, author_id=author_id)
            log.note(ticket_id, changes)
            return result

        state.update_ticket = update_ticket  # type: ignore[method-assign]

    def file(self, subject: str, n: int, at: datetime | None = None) -> int:
        """A customer files ticket number `n` with `subject` (now, or back-dated to `at`)."""
        words = f"{subject}. Please help, this is ticket {n}."
        return int(self.zendesk.create_ticket(
            subject=f"{subject} {n}", description=words,
            requester_id=self.requesters[n % len(self.requesters)],
            created_at=at or self.clock())["id"])

    def file_mix(self, count: int) -> list[int]:
        """File `count` tickets, the SUBJECTS in turn: a quarter of them bugs, a quarter P1."""
        return [self.file(SUBJECTS[n % len(SUBJECTS)], n) for n in range(count)]

    def requests(self) -> dict[str, Counter[str]]:
        """What each twin has served so far, per endpoint."""
        return {"zendesk": Counter(self.zendesk.server.requests),
                "jira": Counter(self.jira.server.requests),
                "chat": Counter(self.chat.server.requests)}

    def daemon_environment(self, state_db: Path, policy: Path = POLICY) -> dict[str, str]:
        """AFTERHOURS_* settings for a daemon pointed at these twins (as `afterhours run`
        would read them), over a copy of this process' environment without its own. Its
        PagerDuty channels page the PagerDuty twin."""
        channels = load_policy(policy).policy.channels
        webhooks = {name: self.chat.webhook_url(name) for name, channel in channels.items()
                    if channel.type == "webhook"}
        paged = {name: self.routing_key for name, channel in channels.items()
                 if channel.type == "pagerduty"}
        env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERHOURS_")}
        env.update({
            "AFTERHOURS_ZENDESK_URL": self.zendesk.base_url,
            "AFTERHOURS_ZENDESK_EMAIL": "bot@example.com",
            "AFTERHOURS_ZENDESK_TOKEN": "bench-token",
            "AFTERHOURS_JIRA_URL": self.jira.base_url,
            "AFTERHOURS_JIRA_EMAIL": "bot@example.com",
            "AFTERHOURS_JIRA_TOKEN": "bench-token",
            "AFTERHOURS_WEBHOOKS": json.dumps(webhooks),
            "AFTERHOURS_STATE_DB": str(state_db),
            "AFTERHOURS_POLICY_FILE": str(policy),
            "AFTERHOURS_PAGERDUTY_ROUTING_KEYS": json.dumps(paged),
            "AFTERHOURS_PAGERDUTY_EVENTS_URL": self.pagerduty.base_url,
            "AFTERHOURS_BACKFILL_HOURS": "1",
            "AFTERHOURS_POLL_INTERVAL": "60",
            "AFTERHOURS_LOG_FORMAT": "json",
            "AFTERHOURS_LOG_LEVEL": "error",
            "NO_PROXY": "127.0.0.1,localhost",
        })
        return env


def diff(after: dict[str, Counter[str]], before: dict[str, Counter[str]]) -> dict[str, int]:
    """Requests per twin between two `World.requests` readings."""
    return {twin: sum((after[twin] - before[twin]).values()) for twin in after}


@contextmanager
def running(start: datetime = EVENING) -> Iterator[World]:
    """A started, seeded world, stopped on leaving."""
    with World(start) as world:
        yield world
