"""`replay`: a policy run over a period's tickets, tallied per rule, and two policies compared.

Pure: tickets, policies and the moment of evaluation come in; plain reports go out.
Each ticket is replayed as it arrived (see `simulate.replay_plan`), so tickets solved or
closed since are counted like the open ones; deleted tickets are left out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from afterhours.domain.actions import Plan
from afterhours.domain.model import OpenIssues, Ticket
from afterhours.domain.planner import tally_rule
from afterhours.inspect.replay_joins import Join, NearJoin, plans_with_joins
from afterhours.inspect.simulate import replay_with_verdicts
from afterhours.inspect.words import describe_action
from afterhours.policy.model import Policy
from afterhours.policy.rules import level_key, rule_key

SAMPLE_SIZE = 5
_SPAN = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# A step the planner skips because the ticket already has its result still counts as that
# action in the tally: the ticket would have needed it had it arrived without it.
_SKIPPED_STEP_KINDS = {
    "set_priority": "SetPriority", "add_tags": "AddTags", "jira_tag": "AddTags",
    "assign_group": "AssignGroup", "assign_agent": "AssignAgent",
}


def parse_span(text: str) -> timedelta:
    """'7d', '36h', '90m' or '2w' as a duration; ValueError otherwise."""
    found = _SPAN.match(text)
    if found is None or int(found[1]) == 0:
        raise ValueError(f"expected a duration such as 7d, 36h, 90m or 2w, got {text!r}")
    return timedelta(**{_UNITS[found[2]]: int(found[1])})


@dataclass(frozen=True)
class Period:
    """Tickets created from `start` (inclusive) to `end` (exclusive)."""

    start: datetime
    end: datetime

    def __contains__(self, moment: object) -> bool:
        return isinstance(moment, datetime) and self.start <= moment < self.end


@dataclass(frozen=True)
class Selection:
    """The export's tickets sorted into those to replay and those left out."""

    tickets: tuple[Ticket, ...]
    read: int
    deleted: int
    outside: int


def select_period(exported: Iterable[Ticket], period: Period) -> Selection:
    """Keep each ticket once (its latest version) if it was created in `period` and not deleted."""
    latest = {ticket.id: ticket for ticket in exported}  # a ticket changed mid-read shows twice
    chosen = [t for t in latest.values() if t.created_at in period]
    deleted = [t for t in chosen if t.status == "deleted"]
    return Selection(
        tuple(sorted((t for t in chosen if t.status != "deleted"), key=lambda t: t.id)),
        len(latest), len(deleted), len(latest) - len(chosen),
    )


@dataclass(frozen=True)
class Outcome:
    """One ticket's replay under one policy: the rules that matched and the plan."""

    ticket_id: int
    rules: frozenset[str]
    held_by_hours: frozenset[str]
    plan: Plan

    @property
    def steps(self) -> frozenset[str]:
        """The plan's actions and already-done steps as comparable phrases, such as
        'route:billing: group Finance' or 'route:billing: already in group 'Finance''."""
        return frozenset(f"{p.rule}: {describe_action(p.action)}" for p in self.plan.actions) | {
            f"{s.rule}: {s.reason}" for s in self.plan.skips if not _held_by_hours(s.key)}


def replay_ticket(ticket: Ticket, policy: Policy, now: datetime,
                  open_issues: OpenIssues | None = None) -> Outcome:
    """What `policy` would have done with `ticket` from its arrival until `now` (with the
    open issues it could have joined, given)."""
    plan, verdicts = replay_with_verdicts(ticket, policy, now, open_issues)
    winners = {v.rule for v in (*verdicts.priority_rules, *verdicts.routes) if v.status == "won"}
    ladders = {v.judged.rule for v in verdicts.escalations if v.judged.status == "applies"}
    hours = {s.rule for s in plan.skips if _held_by_hours(s.key)}
    acted = {tally_rule(p.rule) for p in plan.actions} | {
        tally_rule(s.rule) for s in plan.skips if not _held_by_hours(s.key)}
    return Outcome(ticket.id, frozenset(winners | ladders | acted), frozenset(hours), plan)


@dataclass
class RuleTally:
    """How one rule fared over the period."""

    rule: str
    tickets: list[int] = field(default_factory=list)
    actions: Counter[str] = field(default_factory=Counter)
    already: int = 0  # of `actions`, those the ticket already had in place
    held_by_hours: list[int] = field(default_factory=list)

    @property
    def sample(self) -> list[int]:
        """A few of the ticket ids it matched."""
        return self.tickets[:SAMPLE_SIZE]


@dataclass(frozen=True)
class Replay:
    """One policy over the selection: each ticket's outcome and each rule's tally."""

    outcomes: tuple[Outcome, ...]
    tallies: tuple[RuleTally, ...]
    untouched: tuple[int, ...]  # tickets no rule matched
    joins: tuple[Join, ...] = ()  # tickets that would have joined an issue, and why
    near_joins: tuple[NearJoin, ...] = ()  # those that filed closest below the threshold


def _held_by_hours(key: str) -> bool:
    # The planner's note that a rule matched all but its hours condition (step "hours").
    return key.endswith("/hours")


def rule_names(policy: Policy) -> list[str]:
    """Every rule of `policy` as the planner names it, in policy order, levels after ladders."""
    names = [f"priority:{rule_key(r)}" for r in policy.priority_rules.rules]
    names += [f"route:{rule_key(r)}" for r in policy.routes.rules]
    for ladder in policy.escalations.rules:
        names.append(f"escalation:{rule_key(ladder)}")
        names += [f"escalation:{rule_key(ladder)}/level:{level_key(n, level)}"
                  for n, level in enumerate(ladder.levels, start=1)]
    return names


def replay_policy(tickets: Sequence[Ticket], policy: Policy, now: datetime,
                  meanings: Mapping[str, bytes] | None = None) -> Replay:
    """Replay every ticket under `policy` at `now` (with what the tickets mean, for
    similar_issues: matcher: meaning) and tally the outcomes per rule."""
    replayed: dict[int, Outcome] = {}

    def replay(ticket: Ticket, policy: Policy, now: datetime,
               open_issues: OpenIssues | None) -> Plan:
        replayed[ticket.id] = replay_ticket(ticket, policy, now, open_issues)
        return replayed[ticket.id].plan

    _, joins, near = plans_with_joins(tickets, policy, now, replay, meanings)
    outcomes = tuple(replayed[ticket.id] for ticket in tickets)
    tallies = {name: RuleTally(name) for name in rule_names(policy)}
    for outcome in outcomes:
        for rule in sorted(outcome.rules):
            tallies.setdefault(rule, RuleTally(rule)).tickets.append(outcome.ticket_id)
        for rule in sorted(outcome.held_by_hours):
            tallies.setdefault(rule, RuleTally(rule)).held_by_hours.append(outcome.ticket_id)
        for planned in outcome.plan.actions:
            rule = tally_rule(planned.rule)
            tallies.setdefault(rule, RuleTally(rule)).actions[planned.kind] += 1
        for skip in outcome.plan.skips:
            kind = _SKIPPED_STEP_KINDS.get(skip.key.rpartition("/")[2])
            if kind is not None:
                rule = tally_rule(skip.rule)
                tally = tallies.setdefault(rule, RuleTally(rule))
                tally.actions[kind] += 1
                tally.already += 1
    untouched = tuple(o.ticket_id for o in outcomes if not o.rules)
    return Replay(outcomes, tuple(tallies.values()), untouched, joins, near)


@dataclass(frozen=True)
class TicketChange:
    """A ticket the two policies handle differently."""

    ticket_id: int
    rules_gained: tuple[str, ...]
    rules_lost: tuple[str, ...]
    steps_gained: tuple[str, ...]
    steps_lost: tuple[str, ...]


@dataclass(frozen=True)
class RuleShift:
    """Tickets a rule matches under the new policy but not the old (gained), and the reverse."""

    rule: str
    gained: tuple[int, ...]
    lost: tuple[int, ...]


@dataclass(frozen=True)
class PolicyDiff:
    """Where the new policy's replay differs from the old one's."""

    changed: tuple[TicketChange, ...]
    shifts: tuple[RuleShift, ...]


def compare(new: Replay, old: Replay) -> PolicyDiff:
    """The tickets whose plan differs and, per rule, the tickets gained and lost."""
    order = list(dict.fromkeys([t.rule for t in new.tallies] + [t.rule for t in old.tallies]))
    rank = {rule: index for index, rule in enumerate(order)}

    def in_policy_order(items: Iterable[str]) -> tuple[str, ...]:
        # Steps read "rule: what"; rules and steps alike are listed as the policy lists them.
        return tuple(sorted(items, key=lambda item: (rank.get(item.split(": ")[0], 0), item)))

    before = {o.ticket_id: o for o in old.outcomes}
    changed = []
    for after in new.outcomes:
        was = before[after.ticket_id]
        if after.rules != was.rules or after.steps != was.steps:
            changed.append(TicketChange(
                after.ticket_id, in_policy_order(after.rules - was.rules),
                in_policy_order(was.rules - after.rules),
                in_policy_order(after.steps - was.steps),
                in_policy_order(was.steps - after.steps),
            ))
    shifts = []
    for rule in order:
        gained = tuple(c.ticket_id for c in changed if rule in c.rules_gained)
        lost = tuple(c.ticket_id for c in changed if rule in c.rules_lost)
        if gained or lost:
            shifts.append(RuleShift(rule, gained, lost))
    return PolicyDiff(tuple(changed), tuple(shifts))
