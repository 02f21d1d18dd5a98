"""Each ticket of the period as the report counts it, from its snapshot and the daemon's own
audit rows: after hours or not (the planner's own test of the schedule), the route and
priority the daemon recorded, its first action, its replies and its promise. Pure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from afterhours.domain.ladders import human_replied, reply_by
from afterhours.domain.model import Ticket
from afterhours.domain.planner import tally_rule
from afterhours.domain.schedule import is_business_time, local_time
from afterhours.policy.model import Policy
from afterhours.policy.rules import level_key, rule_key
from afterhours.report.model import Event

NO_ROUTE = "(no route)"
NO_PRIORITY = "none"
PRIORITIES = ("urgent", "high", "normal", "low", NO_PRIORITY)
REPLY_ACTION = "AddPublicReply"
# Zendesk's first reply time is afterhours' own when it is this close to it (whole minutes).
_SAME_REPLY = timedelta(minutes=1)
Sla = Literal["met", "missed", "not yet due", "unknown", "no promise"]
SLA_STATES: tuple[Sla, ...] = ("met", "missed", "not yet due", "unknown", "no promise")


@dataclass(frozen=True)
class Counted:
    """One ticket as the report counts it."""

    ticket: Ticket
    after_hours: bool
    night: str  # the local date of the evening a night begins, e.g. 'Fri 20 Nov'
    hour: int  # the local hour it arrived
    category: str  # the route the daemon applied
    priority: str
    first_action: datetime | None  # the daemon's first action that took effect
    own_replies: int
    first_reply: datetime | None  # Zendesk's first public reply, afterhours' own included
    human_reply: datetime | None  # a person's first reply, where the metrics say when
    human_replied: bool  # a person replied (maybe at a time the metrics do not give)
    reply_by: datetime | None  # when the policy promises the first reply
    promise_missed: bool  # the daemon recorded a level counted from that promise
    sla: Sla

    def minutes_to(self, moment: datetime | None) -> float | None:
        """Minutes from the ticket's arrival to `moment`."""
        if moment is None:
            return None
        return round((moment - self.ticket.created_at).total_seconds() / 60, 1)


def night_of(moment: datetime, policy: Policy) -> str:
    """The night a moment belongs to: from noon to noon, named by its evening's local date."""
    evening = local_time(moment, policy.schedule) - timedelta(hours=12)
    return evening.strftime("%a %d %b")


def by_ticket(events: Iterable[Event]) -> dict[int, list[Event]]:
    """The audit rows of each ticket, in the order given."""
    found: dict[int, list[Event]] = defaultdict(list)
    for event in events:
        if event.ticket_id is not None:
            found[event.ticket_id].append(event)
    return found


def promise_levels(policy: Policy) -> frozenset[str]:
    """The planner's names (`escalation:<ladder>/level:<level>`) of the levels that act when
    a first reply is late: counted from its promise, stopped by it."""
    return frozenset(
        f"escalation:{rule_key(ladder)}/level:{level_key(number, level)}"
        for ladder in policy.escalations.rules
        for number, level in enumerate(ladder.levels, start=1)
        if level.from_ == "first_reply_due" and level.until == "first_reply")


def level_of(rule: str) -> str:
    """A level's planner name without its cycle or repeat: `escalation:x/level:y`."""
    return tally_rule(rule)


def count_ticket(ticket: Ticket, events: Sequence[Event], policy: Policy, now: datetime,
                 promise_rules: frozenset[str]) -> Counted:
    """The report's view of one ticket, from its snapshot and its audit rows."""
    done = [e for e in events if e.outcome == "done"]
    own = [e.at for e in done if e.action == REPLY_ACTION]
    category = next((tally_rule(e.rule).removeprefix("route:") for e in events
                     if e.rule and e.rule.startswith("route:")), NO_ROUTE)
    first = ticket.first_reply_at
    # Zendesk counts every public agent comment: afterhours' acknowledgement too.
    ours = bool(own) and first is not None and first >= min(own) - _SAME_REPLY
    human = None if first is None or ours else first
    replied = human is not None or human_replied(ticket, len(own))
    due = reply_by(ticket, policy)
    missed = any(e.rule and level_of(e.rule) in promise_rules for e in done)
    sla = _sla(due, human, replied=replied, missed=missed, ticket=ticket, now=now)
    created = local_time(ticket.created_at, policy.schedule)
    return Counted(
        ticket=ticket,
        after_hours=not is_business_time(ticket.created_at, policy.schedule),
        night=night_of(ticket.created_at, policy),
        hour=created.hour,
        category=category,
        priority=ticket.priority or NO_PRIORITY,
        first_action=min((e.at for e in done), default=None),
        own_replies=len(own),
        first_reply=first,
        human_reply=human,
        human_replied=replied,
        reply_by=due,
        promise_missed=missed,
        sla=sla,
    )


def _sla(due: datetime | None, human: datetime | None, *, replied: bool, missed: bool,
         ticket: Ticket, now: datetime) -> Sla:
    if due is None:
        return "no promise"
    if human is not None:
        return "met" if human <= due else "missed"
    if missed:  # the daemon saw no reply by the promise, and said so
        return "missed"
    if replied:  # a person replied after afterhours did: Zendesk does not say when
        return "unknown"
    if ticket.is_closed:  # solved without a public reply: nothing was promised and missed
        return "unknown"
    return "missed" if now > due else "not yet due"
