"""Planner throughput: the pure `plan_actions` over literal tickets and the SOP policy, on one
core, with no I/O at all (no twin, no state file, no clock read inside the loop)."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from afterhours.domain.model import History, JiraIssueRef, Ticket
from afterhours.domain.planner import plan_actions
from afterhours.policy import Policy

NIGHT = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)  # Friday 21:00 in London: after hours


def _ticket(ticket_id: int, subject: str, **fields: object) -> Ticket:
    created = NIGHT - timedelta(minutes=ticket_id * 7)
    base = Ticket(
        id=ticket_id, subject=subject, description=f"{subject}. Please help us.",
        status="new", priority=None, tags=frozenset(), channel="email",
        requester_email="bob@initech.com", organization="Initech", group=None,
        created_at=created, updated_at=created,
        web_url=f"https://acme.zendesk.com/agent/tickets/{ticket_id}",
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def literal_tickets(policy: Policy) -> list[tuple[Ticket, History]]:
    """A night's mix, new and already handled: what a pass plans, in the proportions of the
    benchmark's tickets (a quarter each P1, billing, product bug, general inquiry)."""
    issue = JiraIssueRef("ENG-7", "https://acme.atlassian.net/browse/ENG-7")
    bug = _ticket(3, "App crashes on export")
    # Handled when it came in: every key its first plan held is settled.
    handled = frozenset(p.key for p in plan_actions(bug, policy, bug.created_at,
                                                    History()).actions)
    return [
        (_ticket(1, "Production is down"), History()),
        (_ticket(2, "Refund for double charge"), History()),
        (_ticket(3, "App crashes on export", priority="normal", tags=frozenset({"p2"}),
                 group="Engineering"), History(handled, issue)),
        (_ticket(4, "How do I add a user?", status="open", priority="normal",
                 group="Support", replies=1), History()),
        (_ticket(5, "Security question", priority="urgent", tags=frozenset({"p1"}),
                 created_at=NIGHT - timedelta(hours=2)), History()),
        (_ticket(6, "Invoice missing", organization="Globex",
                 requester_email="alice@globex.com"), History()),
        (_ticket(7, "Login error", custom_fields=(("Region", "eu"),)), History()),
        (_ticket(8, "Feature request", status="pending", priority="low",
                 first_reply_at=NIGHT - timedelta(hours=1), replies=2), History()),
    ]


def throughput(policy: Policy, seconds: float) -> tuple[float, int]:
    """Tickets planned per CPU second over at least `seconds` of CPU, and how many."""
    tickets = literal_tickets(policy)
    planned, started = 0, time.process_time()
    while (spent := time.process_time() - started) < seconds:
        for ticket, history in tickets:
            plan_actions(ticket, policy, NIGHT, history)
        planned += len(tickets)
    return planned / spent, planned
