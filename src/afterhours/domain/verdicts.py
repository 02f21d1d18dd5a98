"""The planner's verdicts: every rule and every ladder level, matched or not and why, with
what each did to the plan. `planner.plan_with_verdicts` collects them as it plans, from the
very decisions `plan_actions` makes, so `explain` and `replay` cannot drift from the daemon
(whose audit rows carry the same planner's reasons). The daemon's own path (`plan_actions`)
collects nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from afterhours.domain.actions import Plan, PlannedAction, SkippedAction
from afterhours.domain.known_issues import KnownIssueVerdict
from afterhours.domain.ladders import (
    Occurrence,
    Stop,
    escalation_due,
    level_anchor,
    level_rule,
    reply_by,
)
from afterhours.domain.matching import Prepared, Verdict
from afterhours.domain.model import Ticket
from afterhours.policy.model import Policy
from afterhours.policy.rules import Escalation, EscalationLevel, PriorityRule, Route, rule_key

Status = Literal["won", "not matched", "not considered", "applies", "does not apply"]
Applies = Literal["yes", "after this plan", "no"]
# What a level does in this plan: `acts` (some step planned now), `done` (due, but every step
# is settled already), `acknowledged` (due, skipped: a person took the ticket), `pending`
# (not due yet), `stopped` (its `until` or the ticket's closing happened), `never` (no
# deadline can be counted), `not applied` (its ladder does not apply).
LevelState = Literal["acts", "done", "acknowledged", "pending", "stopped", "never",
                     "not applied"]


@dataclass(frozen=True)
class Views:
    """The ticket as each block saw it: routes see the priority block's changes made, and
    ladders the routes' too."""

    routes: Ticket
    escalations: Ticket


@dataclass(frozen=True)
class Arrival:
    """Whether the ticket was created after hours, and its creation time in words."""

    after_hours: bool
    when: str


@dataclass(frozen=True)
class Steps:
    """What one rule or level did to the plan: actions planned, skips (with their reason),
    and the ledger keys it would have acted on that are settled already."""

    actions: tuple[PlannedAction, ...] = ()
    skips: tuple[SkippedAction, ...] = ()
    settled: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleVerdict:
    """One rule's outcome; `rule` is the planner's name, e.g. 'route:billing'. `verdict` says
    every condition, held or failed, even where the planner stopped at the first failure."""

    rule: str
    name: str
    status: Status
    verdict: Verdict
    shadowed_by: str | None = None  # for "not considered": the rule that matched before it
    steps: Steps = Steps()


@dataclass(frozen=True)
class LevelVerdict:
    """One escalation level at this plan's moment.

    `start` is the moment its minutes count from (`level.from_` says which), `due` its first
    deadline, `occurrence` the one due now (0 the first, then each repeat), `next_due` the
    deadline after it; `stop` the event that ended it; `acknowledged` what stops its ladder;
    `why` the planner's words for a due occurrence, or why it can never fall due.
    """

    number: int
    level: EscalationLevel
    rule: str  # the planner's name for the occurrence due now (the first when none is)
    state: LevelState
    start: datetime | None
    due: datetime | None
    occurrence: Occurrence | None = None
    next_due: datetime | None = None
    stop: Stop | None = None
    acknowledged: str | None = None
    why: str = ""
    steps: Steps = Steps()


@dataclass(frozen=True)
class LadderVerdict:
    """A ladder: its rule verdict, whether it applies (now, or once this plan's earlier
    changes land) and each of its levels."""

    ladder: Escalation
    judged: RuleVerdict
    applies: Applies
    levels: tuple[LevelVerdict, ...]


@dataclass(frozen=True)
class Verdicts:
    """Every verdict of one plan, block by block in policy order."""

    arrival: Arrival
    views: Views
    priority_rules: tuple[RuleVerdict, ...]
    routes: tuple[RuleVerdict, ...]
    escalations: tuple[LadderVerdict, ...]
    # Every known issue (policy known_issues:) judged on the routes' view; the chosen one is
    # the one a ticket filed in Jira joins instead.
    known_issues: tuple[KnownIssueVerdict, ...] = ()

    def winner(self, block: Sequence[RuleVerdict]) -> RuleVerdict | None:
        """The first rule that matched in a block, if any."""
        return next((v for v in block if v.status == "won"), None)

    def levels(self) -> tuple[LevelVerdict, ...]:
        """Every level of every ladder, in policy order."""
        return tuple(level for ladder in self.escalations for level in ladder.levels)


@dataclass
class Seen:
    """What one planning run saw, written down as the planner decides (the verdict path
    only); `verdicts` turns it into `Verdicts` once the plan is made."""

    ticket: Ticket
    policy: Policy
    arrival: Arrival = Arrival(after_hours=False, when="")  # set by the planner first
    views: Views = field(init=False)
    blocks: dict[str, list[RuleVerdict]] = field(default_factory=lambda: defaultdict(list))
    applies: dict[str, Applies] = field(default_factory=dict)  # by the ladder's rule name
    levels: dict[str, list[LevelVerdict]] = field(default_factory=lambda: defaultdict(list))
    settled: list[tuple[str, str]] = field(default_factory=list)  # (rule, key)

    def __post_init__(self) -> None:
        self.views = Views(self.ticket, self.ticket)

    def judged(self, prefix: str, rule: PriorityRule | Route | Escalation, condition: Prepared,
               verdict: Verdict, shadowed_by: str | None) -> None:
        """Note one rule's full verdict; `shadowed_by` when a first match came before it."""
        name = f"{prefix}:{rule_key(rule)}"
        ladder = prefix == "escalation"
        status: Status
        if shadowed_by is not None:
            status = "not considered"
        elif verdict.matched:
            status = "applies" if ladder else "won"
        else:
            status = "does not apply" if ladder else "not matched"
        if ladder:
            self.applies[name] = "no" if status != "applies" else (
                "yes" if self._matches_as_it_came(condition) else "after this plan")
        self.blocks[prefix].append(RuleVerdict(name, rule.name, status, verdict, shadowed_by))

    def _matches_as_it_came(self, condition: Prepared) -> bool:
        # A ladder keyed on what this plan changes (a priority it sets) applies only after it.
        found = condition.verdict(self.ticket, self.arrival.after_hours, self.arrival.when,
                                  every=True)
        return found is not None and found.matched

    def level(self, ladder: Escalation, number: int, level: EscalationLevel, view: Ticket,  # noqa: PLR0917
              state: LevelState, occurrence: Occurrence | None = None,
              next_due: datetime | None = None, *, stop: Stop | None = None,
              acknowledged: str | None = None, why: str = "") -> None:
        """Note one level as the planner left it, on the ticket as the ladder saw it."""
        if state == "never":
            why = never_why(view, level, self.policy)
        rule = level_rule(ladder, number, level, view,
                          occurrence=0 if occurrence is None else occurrence.number)
        self.levels[f"escalation:{rule_key(ladder)}"].append(LevelVerdict(
            number, level, rule, state, level_anchor(view, level, self.policy),
            escalation_due(view, level, self.policy), occurrence, next_due, stop, acknowledged,
            why))

    def verdicts(self, plan: Plan) -> Verdicts:
        """The verdicts, each rule and level with the steps it took in `plan`."""
        actions: dict[str, list[PlannedAction]] = defaultdict(list)
        skips: dict[str, list[SkippedAction]] = defaultdict(list)
        settled: dict[str, list[str]] = defaultdict(list)
        for planned in plan.actions:
            actions[planned.rule].append(planned)
        for skip in plan.skips:
            skips[skip.rule].append(skip)
        for rule, key in self.settled:
            settled[rule].append(key)

        def steps(rule: str) -> Steps:
            return Steps(tuple(actions[rule]), tuple(skips[rule]), tuple(settled[rule]))

        def with_steps(block: str) -> tuple[RuleVerdict, ...]:
            return tuple(replace(v, steps=steps(v.rule)) for v in self.blocks[block])

        ladders = []
        for ladder, judged in zip(self.policy.escalations.rules, with_steps("escalation"),
                                  strict=True):
            levels = (self.levels.get(judged.rule)
                      or _not_applied(self.views.escalations, ladder, self.policy))
            ladders.append(LadderVerdict(ladder, judged, self.applies[judged.rule], tuple(
                _settle_level(level, steps(level.rule)) for level in levels)))
        return Verdicts(self.arrival, self.views, with_steps("priority"), with_steps("route"),
                        tuple(ladders))


def _settle_level(level: LevelVerdict, steps: Steps) -> LevelVerdict:
    # A due level whose every step was settled before plans nothing: it is done.
    state: LevelState = "done" if level.state == "acts" and not steps.actions else level.state
    return replace(level, state=state, steps=steps)


def _not_applied(ticket: Ticket, ladder: Escalation, policy: Policy) -> list[LevelVerdict]:
    """The levels of a ladder that does not apply: their deadlines, and nothing done."""
    return [LevelVerdict(number, level, level_rule(ladder, number, level, ticket), "not applied",
                         level_anchor(ticket, level, policy),
                         escalation_due(ticket, level, policy),
                         why=f"the ladder {ladder.name} does not apply")
            for number, level in enumerate(ladder.levels, start=1)]


def never_why(ticket: Ticket, level: EscalationLevel, policy: Policy) -> str:
    """Why a level can never fall due for `ticket`, in words."""
    if level.from_ == "first_reply_due" and reply_by(ticket, policy) is None:
        return f"no first reply is promised for priority {ticket.priority or 'none'}"
    return "the schedule has no open hours to count"
