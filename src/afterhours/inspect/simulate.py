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
from afterhours.domain.ladders import level_stop
from afterhours.domain.model import History, OpenIssues, Ticket
from afterhours.domain.planner import plan_with_verdicts
from afterhours.domain.ticket_changes import apply_changes as domain_apply_changes
from afterhours.domain.verdicts import LevelVerdict, Verdicts
from afterhours.policy.model import Policy


def as_arrived(ticket: Ticket) -> Ticket:
    """The ticket as the daemon first met it: open, with no reply yet and not solved."""
    return replace(ticket, status="new", first_reply_at=None, solved_at=None, replies=0,
                   assignee=None, last_customer_update_at=ticket.created_at)


def apply_changes(ticket: Ticket, planned: Iterable[PlannedAction]) -> Ticket:
    """`ticket` after the Zendesk field changes in `planned` (notes and outside actions aside)."""
    return domain_apply_changes(ticket, (item.action for item in planned))


def replay_plan(ticket: Ticket, policy: Policy, now: datetime) -> Plan:
    """The actions the daemon would have taken for `ticket` from its arrival until `now`."""
    return replay_with_verdicts(ticket, policy, now)[0]


def replay_with_verdicts(ticket: Ticket, policy: Policy, now: datetime,
                         open_issues: OpenIssues | None = None) -> tuple[Plan, Verdicts]:
    """`replay_plan`, and the planner's verdicts on the ticket as it arrived.

    Levels whose stop event (the real first reply or solve) came before they fell due are
    left out: the daemon would have seen the reply first. Which event stops a level, and
    when, is the planner's own answer (`level_stop`) on the ticket as it is now.
    """
    arrived = as_arrived(ticket)
    first, verdicts = plan_with_verdicts(arrived, policy, arrived.created_at,
                                         History(open_issues=open_issues))
    settled = frozenset(p.key for p in first.actions) | {s.key for s in first.skips}
    # The open issues again: a ticket that joined one is still about it, not a bug to file.
    later, seen = plan_with_verdicts(apply_changes(arrived, first.actions), policy, now,
                                     History(settled, open_issues=open_issues))
    unseen = {level.rule for level in seen.levels() if not _before_stop(ticket, level)}
    plan = Plan(
        ticket.id,
        first.actions + tuple(p for p in later.actions if p.rule not in unseen),
        first.skips + tuple(s for s in later.skips if s.rule not in unseen),
    )
    return plan, verdicts


def _before_stop(ticket: Ticket, level: LevelVerdict) -> bool:
    """Whether `level` fell due before the event that stops it on the real `ticket`."""
    # The export does not say which replies were afterhours' own: all count as people's.
    stop = level_stop(ticket, level.level, 0)
    return level.due is not None and (stop is None or stop.at is None or stop.at > level.due)
