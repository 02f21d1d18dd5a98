"""Every rule's verdict on one ticket, in policy order, with first-match semantics spelled out.

The planner keeps only the winners; a lead asking "why" also needs the losers and the rules
that were never looked at, so this walks the blocks the way the planner does and keeps all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Literal, TypeVar

from afterhours.domain.matching import Verdict, evaluate
from afterhours.domain.model import Ticket
from afterhours.domain.planner import Views
from afterhours.domain.schedule import describe_moment, is_business_time, local_time
from afterhours.policy.model import Policy, PriorityRule, Route, Schedule, Weekday
from afterhours.policy.rules import rule_key

R = TypeVar("R", PriorityRule, Route)
Status = Literal["won", "not matched", "not considered", "applies", "does not apply"]
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Arrival:
    """When the ticket came in, whether the desk was closed, and why."""

    after_hours: bool
    when: str  # as the planner writes it into reasons
    why: str


@dataclass(frozen=True)
class RuleVerdict:
    """One rule's outcome for one ticket; `rule` is the planner's name, e.g. 'route:billing'."""

    rule: str
    name: str
    status: Status
    verdict: Verdict
    shadowed_by: str | None = None  # for "not considered": the rule that won before it


@dataclass(frozen=True)
class Verdicts:
    """The arrival and every rule's verdict, block by block in policy order."""

    arrival: Arrival
    priority_rules: tuple[RuleVerdict, ...]
    routes: tuple[RuleVerdict, ...]
    escalations: tuple[RuleVerdict, ...]

    def winner(self, block: tuple[RuleVerdict, ...]) -> RuleVerdict | None:
        """The first rule that matched in a block, if any."""
        return next((v for v in block if v.status == "won"), None)


def judge(ticket: Ticket, policy: Policy, views: Views | None = None) -> Verdicts:
    """Evaluate every priority rule, route and escalation ladder of `policy` on `ticket`;
    `views` gives the ticket as routes and ladders see it (the planner's, after earlier blocks)."""
    arrived = arrival(ticket.created_at, policy.schedule)
    views = views or Views(ticket, ticket)
    ladders = []
    for ladder in policy.escalations.rules:
        verdict = evaluate(ladder.when, views.escalations, after_hours=arrived.after_hours,
                           when=arrived.when)
        status: Status = "applies" if verdict.matched else "does not apply"
        ladders.append(RuleVerdict(f"escalation:{rule_key(ladder)}", ladder.name, status,
                                   verdict))
    if policy.escalations.match == "first":
        ladders = _first_only(ladders)
    return Verdicts(
        arrived,
        _block(policy.priority_rules.rules, policy.priority_rules.match, "priority", ticket,
               arrived),
        _block(policy.routes.rules, policy.routes.match, "route", views.routes, arrived),
        tuple(ladders),
    )


def _first_only(ladders: list[RuleVerdict]) -> list[RuleVerdict]:
    winner: str | None = None
    found = []
    for judged in ladders:
        if winner is not None:
            found.append(RuleVerdict(judged.rule, judged.name, "not considered",
                                     judged.verdict, winner))
            continue
        if judged.status == "applies":
            winner = judged.name
        found.append(judged)
    return found


def _block(
    rules: Sequence[R], match: str, prefix: str, ticket: Ticket, arrived: Arrival
) -> tuple[RuleVerdict, ...]:
    found: list[RuleVerdict] = []
    winner: str | None = None
    for rule in rules:
        # Rules after the winner are still evaluated, so a lead sees the ones it shadows.
        verdict = evaluate(rule.when, ticket, after_hours=arrived.after_hours, when=arrived.when)
        name = f"{prefix}:{rule_key(rule)}"
        if winner is not None and match == "first":
            found.append(RuleVerdict(name, rule.name, "not considered", verdict, winner))
        elif verdict.matched:
            winner = winner or rule.name
            found.append(RuleVerdict(name, rule.name, "won", verdict))
        else:
            found.append(RuleVerdict(name, rule.name, "not matched", verdict))
    return tuple(found)


def arrival(moment: datetime, schedule: Schedule) -> Arrival:
    """Whether `moment` falls outside business hours, with the schedule fact that decides it."""
    after_hours = not is_business_time(moment, schedule)
    return Arrival(after_hours, describe_moment(moment, schedule),
                   hours_reason(moment, schedule, after_hours=after_hours))


def hours_reason(moment: datetime, schedule: Schedule, *, after_hours: bool) -> str:
    """The schedule fact behind `after_hours`: a holiday, a closed day or the day's hours."""
    local = local_time(moment, schedule)
    day_name = _DAY_NAMES[local.weekday()]
    if local.date() in schedule.holidays:
        return f"{local.date().isoformat()} is a holiday in the schedule: closed all day"
    ranges = next((r for d, r in schedule.hours.items() if d == _weekday(local.weekday())), [])
    if not ranges:
        return f"the desk is closed all day on {day_name}s"
    spans = ", ".join(
        f"{_clock(r.start)}-{_clock(r.end, end=True)}"
        for r in sorted(ranges, key=lambda r: r.start)
    )
    inside = "outside" if after_hours else "within"
    return f"{local.strftime('%H:%M')} is {inside} {day_name}'s hours {spans}"


def _weekday(number: int) -> Weekday:
    return list(Weekday)[number]


def _clock(moment: time, *, end: bool = False) -> str:
    # The policy writes a range that runs to midnight as 24:00; say it the same way back.
    return "24:00" if end and moment == time(0, 0) else moment.strftime("%H:%M")
