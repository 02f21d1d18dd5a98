"""`explain`: everything afterhours thinks about one ticket at one moment, as plain data.

Pure: the ticket, the ledger's history and audit rows come in; an `Explanation` goes out,
which `explain_text` prints for a lead and `explanation_to_json` for a machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from afterhours.adapters.state import AuditRow
from afterhours.domain.actions import Plan
from afterhours.domain.matching import evaluate
from afterhours.domain.model import History, Ticket
from afterhours.domain.planner import (
    escalation_due,
    level_rule,
    plan_with_views,
    tally_rule,
)
from afterhours.domain.schedule import describe_moment
from afterhours.inspect.simulate import stopped_at
from afterhours.inspect.verdicts import RuleVerdict, Verdicts, judge
from afterhours.inspect.words import describe_action, describe_delta, iso, level_actions
from afterhours.policy.model import Escalation, EscalationLevel, Policy

LevelState = Literal["fired", "settled", "stopped", "due", "pending", "never"]
Applies = Literal["yes", "after this plan", "no"]


@dataclass(frozen=True)
class LevelView:
    """One escalation level's deadline and where the ticket stands against it."""

    number: int
    level: EscalationLevel
    due: datetime | None
    state: LevelState
    note: str


@dataclass(frozen=True)
class LadderView:
    """One ladder: whether it applies (now, or once the planned changes land) and its levels."""

    verdict: RuleVerdict
    applies: Applies
    levels: tuple[LevelView, ...]
    ladder: Escalation


@dataclass(frozen=True)
class Ledger:
    """What the state file says about the ticket; `found` is False when there is no file."""

    path: str
    found: bool
    history: History = field(default_factory=History)
    audit: tuple[AuditRow, ...] = ()
    linked_issues: tuple[str, ...] = ()  # the Jira issues it hangs off (sync-back)


@dataclass(frozen=True)
class Explanation:
    """The whole answer to "what would you do with this ticket, and why?"."""

    ticket: Ticket
    policy: Policy
    now: datetime
    verdicts: Verdicts
    ladders: tuple[LadderView, ...]
    plan: Plan
    ledger: Ledger


def explain_ticket(ticket: Ticket, policy: Policy, now: datetime, ledger: Ledger) -> Explanation:
    """Judge every rule on `ticket`, plan at `now` against the ledger, and place each deadline."""
    plan, views = plan_with_views(ticket, policy, now, ledger.history)
    verdicts = judge(ticket, policy, views)
    # Ladders are matched on the ticket as this plan's earlier changes leave it; a ladder
    # keyed on the priority this plan sets applies "after this plan", and says so.
    ladders = []
    for ladder, judged in zip(policy.escalations.rules, verdicts.escalations, strict=True):
        applies: Applies = "no"
        if judged.status == "applies":
            applies = "yes" if evaluate(
                ladder.when, ticket, after_hours=verdicts.arrival.after_hours,
                when=verdicts.arrival.when,
            ).matched else "after this plan"
        levels = () if applies == "no" else _levels(
            views.escalations, ladder, policy, now=now, ledger=ledger, applies=applies)
        ladders.append(LadderView(judged, applies, levels, ladder))
    return Explanation(ticket, policy, now, verdicts, tuple(ladders), plan, ledger)


def _levels(
    ticket: Ticket, ladder: Escalation, policy: Policy, *, now: datetime, ledger: Ledger,
    applies: Applies,
) -> tuple[LevelView, ...]:
    views = []
    for number, level in enumerate(ladder.levels, start=1):
        rule = level_rule(ladder, number, level, ticket)
        due = escalation_due(ticket, level, policy)
        done = [row for row in ledger.audit
                if tally_rule(row.rule or "") == tally_rule(rule) and row.outcome == "done"]
        stop = stopped_at(ticket, level)
        state: LevelState
        if done:
            state, note = "fired", f"already fired {local_stamp(done[0].at, policy)}"
        elif any(key.startswith(f"ticket:{ticket.id}/{rule}/") for key in ledger.history.settled):
            state, note = "settled", "already settled in the ledger (skipped or failed)"
        elif stop is not None:
            event = {"first_reply": "the first reply", "answered": "an answer",
                     "solved": "solving"}[level.until]
            state, note = "stopped", f"stopped by {event} {describe_moment(stop, policy.schedule)}"
        elif due is None:
            state, note = "never", "never: the schedule has no open hours to count"
        elif now >= due:
            fires = "once the planned changes are made" if applies == "after this plan" else "now"
            state, note = "due", f"due {describe_delta(now - due)} ago: fires {fires}"
        else:
            state, note = "pending", f"not yet due: in {describe_delta(due - now)}"
        views.append(LevelView(number, level, due, state, note))
    return tuple(views)


def local_stamp(stamp: str, policy: Policy) -> str:
    """An audit row's ISO time in the schedule's zone, as the rest of the report writes times."""
    try:
        return describe_moment(datetime.fromisoformat(stamp), policy.schedule)
    except ValueError:  # an audit row written by hand or by an older version
        return stamp


def explanation_to_json(explained: Explanation) -> dict[str, Any]:
    """The explanation as JSON-ready data (times in ISO 8601 UTC, plus local text)."""
    ticket, schedule = explained.ticket, explained.policy.schedule
    arrival = explained.verdicts.arrival
    return {
        "ticket": {
            "id": ticket.id, "subject": ticket.subject, "status": ticket.status,
            "priority": ticket.priority, "group": ticket.group, "tags": sorted(ticket.tags),
            "channel": ticket.channel, "organization": ticket.organization,
            "requester_email": ticket.requester_email, "web_url": ticket.web_url,
            "created_at": iso(ticket.created_at), "first_reply_at": iso(ticket.first_reply_at),
            "solved_at": iso(ticket.solved_at), "closed": ticket.is_closed,
        },
        "now": iso(explained.now),
        "time_zone": schedule.time_zone,
        "arrival": {"after_hours": arrival.after_hours, "when": arrival.when, "why": arrival.why},
        "priority_rules": [_verdict_json(v) for v in explained.verdicts.priority_rules],
        "routes": [_verdict_json(v) for v in explained.verdicts.routes],
        "escalations": [
            {
                **_verdict_json(ladder.verdict), "applies": ladder.applies,
                "levels": [
                    {
                        "level": view.number, "after_minutes": view.level.after_minutes,
                        "clock": view.level.clock, "from": view.level.from_,
                        "until": view.level.until,
                        "repeat_every_minutes": view.level.repeat_every_minutes,
                        "max_repeats": view.level.max_repeats if view.level.repeat_every_minutes
                        else 0,
                        "does": level_actions(view.level),
                        "due_at": iso(view.due),
                        "due_local": None if view.due is None else describe_moment(
                            view.due, schedule),
                        "state": view.state, "note": view.note,
                    }
                    for view in ladder.levels
                ],
            }
            for ladder in explained.ladders
        ],
        "plan": {
            "actions": [
                {"key": p.key, "rule": p.rule, "kind": p.kind, "what": describe_action(p.action),
                 "reason": p.reason}
                for p in explained.plan.actions
            ],
            "skips": [
                {"key": s.key, "rule": s.rule, "reason": s.reason} for s in explained.plan.skips
            ],
        },
        "ledger": _ledger_json(explained.ledger),
    }


def _verdict_json(judged: RuleVerdict) -> dict[str, Any]:
    return {
        "rule": judged.rule, "name": judged.name, "status": judged.status,
        "matched": judged.verdict.matched, "held": list(judged.verdict.held),
        "failed": list(judged.verdict.failed), "shadowed_by": judged.shadowed_by,
    }


def _ledger_json(ledger: Ledger) -> dict[str, Any]:
    issue = ledger.history.jira_issue
    return {
        "state_db": ledger.path, "found": ledger.found,
        "settled": sorted(ledger.history.settled),
        "jira_issue": None if issue is None else {"key": issue.key, "url": issue.url},
        "linked_issues": list(ledger.linked_issues),
        "audit": [row.__dict__ for row in ledger.audit],
    }
