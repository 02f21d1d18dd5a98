"""Every rule's verdict on one ticket, in policy order, with first-match semantics spelled out.

The planner keeps only the winners; a lead asking "why" also needs the losers and the rules
that were never looked at, so this walks the blocks the way the planner does and keeps all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Literal, TypeVar

from afterhours.domain.matching import Verdict, evaluate
from afterhours.domain.model import Ticket
from afterhours.domain.schedule import describe_moment, is_business_time, local_time
from afterhours.policy.model import Policy, PriorityRule, Route, Schedule, Weekday

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
        """The rule that won a first-match block, if any."""
        return next((v for v in block if v.status == "won"), None)


def judge(ticket: Ticket, policy: Policy) -> Verdicts:
    """Evaluate every priority rule, route and escalation ladder of `policy` on `ticket`."""
    arrived = arrival(ticket.created_at, policy.schedule)
    ladders = []
    for ladder in policy.escalations:
        verdict = evaluate(ladder.when, ticket, after_hours=arrived.after_hours, when=arrived.when)
        status: Status = "applies" if verdict.matched else "does not apply"
        ladders.append(RuleVerdict(f"escalation:{ladder.name}", ladder.name, status, verdict))
    return Verdicts(
        arrived,
        _first_match(policy.priority_rules, "priority", ticket, arrived),
        _first_match(policy.routes, "route", ticket, arrived),
        tuple(ladders),
    )


def _first_match(
    rules: list[R], prefix: str, ticket: Ticket, arrived: Arrival
) -> tuple[RuleVerdict, ...]:
    found: list[RuleVerdict] = []
    winner: str | None = None
    for rule in rules:
        # Rules after the winner are still evaluated, so a lead sees the ones it shadows.
        verdict = evaluate(rule.when, ticket, after_hours=arrived.after_hours, when=arrived.when)
        name = f"{prefix}:{rule.name}"
        if winner is not None:
            found.append(RuleVerdict(name, rule.name, "not considered", verdict, winner))
        elif verdict.matched:
            winner = rule.name
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
