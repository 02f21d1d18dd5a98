"""What the daemon would have done with a ticket, worked out without touching anything.

`replay_plan` stands in for the daemon's passes over a ticket that has just arrived: a first
plan at creation, its Zendesk changes applied to a local copy (as the next pass would read
them back), then a second plan at `now` for whatever fell due since.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from afterhours.domain.actions import Plan, PlannedAction
from afterhours.domain.actions import apply_changes as domain_apply_changes
from afterhours.domain.ladders import ANSWERED
from afterhours.domain.model import History, Ticket
from afterhours.domain.planner import escalation_due, plan_actions, tally_rule
from afterhours.policy.model import EscalationLevel, Policy
from afterhours.policy.rules import level_key, rule_key


def as_arrived(ticket: Ticket) -> Ticket:
    """The ticket as the daemon first met it: open, with no reply yet and not solved."""
    return replace(ticket, status="new", first_reply_at=None, solved_at=None, replies=0,
                   assignee=None, last_customer_update_at=ticket.created_at)


def apply_changes(ticket: Ticket, planned: Iterable[PlannedAction]) -> Ticket:
    """`ticket` after the Zendesk field changes in `planned` (notes and outside actions aside)."""
    return domain_apply_changes(ticket, (item.action for item in planned))


def ladder_level(rule: str, policy: Policy) -> tuple[str, int, EscalationLevel] | None:
    """The ladder name, level number and level behind a planner rule name, if it is one."""
    base = tally_rule(rule)
    for ladder in policy.escalations.rules:
        for number, level in enumerate(ladder.levels, start=1):
            if base == f"escalation:{rule_key(ladder)}/level:{level_key(number, level)}":
                return ladder.name, number, level
    return None


def stopped_at(ticket: Ticket, level: EscalationLevel) -> datetime | None:
    """When the event that stops `level` happened for `ticket` (None: not yet)."""
    if level.until == "first_reply" and ticket.first_reply_at is not None:
        return ticket.first_reply_at
    if level.until == "answered" and ticket.status in ANSWERED:
        # The export says when the ticket last changed, not when it went pending.
        return ticket.updated_at
    if ticket.solved_at is not None:
        return ticket.solved_at
    # A closed ticket whose metric set lacks solved_at: its last change is the best guess.
    return ticket.updated_at if ticket.is_closed else None


def replay_plan(ticket: Ticket, policy: Policy, now: datetime) -> Plan:
    """The actions the daemon would have taken for `ticket` from its arrival until `now`.

    Levels whose stop event (the real first reply or solve) came before they fell due are
    left out: the daemon would have seen the reply first.
    """
    arrived = as_arrived(ticket)
    first = plan_actions(arrived, policy, arrived.created_at, History())
    settled = frozenset(p.key for p in first.actions) | {s.key for s in first.skips}
    later = plan_actions(apply_changes(arrived, first.actions), policy, now, History(settled))

    def fired(rule: str) -> bool:
        found = ladder_level(rule, policy)
        if found is None:
            return True
        due = escalation_due(ticket, found[2], policy)
        stop = stopped_at(ticket, found[2])
        return due is not None and (stop is None or stop > due)

    return Plan(
        ticket.id,
        first.actions + tuple(p for p in later.actions if fired(p.rule)),
        first.skips + tuple(s for s in later.skips if fired(s.rule)),
    )
