"""Rules that can never match: a lead's edit that silently does nothing is worth an error.

Only sure cases are reported, never guesses: a rule after one that matches every ticket in a
first-match block, a condition the schedule makes impossible, a status test that only passes
tickets afterhours never looks at, a `not` of nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time
from typing import TYPE_CHECKING

from afterhours.domain.model import CLOSED_STATUSES
from afterhours.policy.conditions import Condition
from afterhours.policy.rules import Escalation, PriorityRule, Route

if TYPE_CHECKING:
    from afterhours.policy.model import Policy, Schedule

Path = tuple[str | int, ...]


def never_matching(policy: Policy) -> list[tuple[Path, str]]:
    """Each rule that can never match, with the path to blame and why."""
    problems: list[tuple[Path, str]] = []
    blocks: list[tuple[str, str, Sequence[PriorityRule | Route | Escalation]]] = [
        ("priority_rules", policy.priority_rules.match, policy.priority_rules.rules),
        ("routes", policy.routes.match, policy.routes.rules),
        ("escalations", policy.escalations.match, policy.escalations.rules)]
    for block, match, rules in blocks:
        catch_all: str | None = None
        for i, rule in enumerate(rules):
            path: Path = (block, "rules", i)
            if catch_all is not None:
                problems.append(((*path, "name"), (
                    f"rule {rule.name!r} can never match: {catch_all!r} before it matches every "
                    "ticket and this block acts on the first match only")))
                continue
            found = impossible(rule.when, policy.schedule, (*path, "when"))
            if found is not None:
                problems.append((found[0], f"rule {rule.name!r} can never match: {found[1]}"))
            if match == "first" and rule.when.is_empty():
                catch_all = rule.name
    return problems


def impossible(condition: Condition, schedule: Schedule, path: Path) -> tuple[Path, str] | None:
    """Why `condition` can never hold, and where; None when it may."""
    found = _impossible_here(condition, schedule, path)
    for i, part in enumerate(condition.all_):
        found = found or impossible(part, schedule, (*path, "all", i))
    if found is None and condition.any_:
        branches = [impossible(part, schedule, (*path, "any", i))
                    for i, part in enumerate(condition.any_)]
        if all(branch is not None for branch in branches):
            found = (*path, "any"), "none of the any: branches can match"
    return found


def _impossible_here(condition: Condition, schedule: Schedule,
                     path: Path) -> tuple[Path, str] | None:
    if condition.after_hours is True and _always_open(schedule):
        return (*path, "after_hours"), "the schedule is open around the clock every day"
    if condition.after_hours is False and not any(schedule.hours.values()):
        return (*path, "after_hours"), "the schedule has no open hours"
    status = condition.status
    allowed = [] if status is None else (
        [status.equals] if status.equals is not None else status.in_ or [])
    if allowed and all(value.casefold() in CLOSED_STATUSES for value in allowed):
        return (*path, "status"), (
            f"status {', '.join(allowed)}: afterhours does nothing for solved, closed or "
            "deleted tickets")
    if condition.not_ is not None and condition.not_.is_empty():
        return (*path, "not"), "not: with no condition inside excludes every ticket"
    return None


def _always_open(schedule: Schedule) -> bool:
    if schedule.holidays or len(schedule.hours) < 7:
        return False
    return all(
        any(r.start == time(0, 0) and r.end == time(0, 0) for r in ranges)
        for ranges in schedule.hours.values()
    )
