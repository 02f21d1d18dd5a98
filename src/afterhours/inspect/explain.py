"""`explain`: everything afterhours thinks about one ticket at one moment, as plain data.

Pure: the ticket, the ledger's history and audit rows come in; an `Explanation` goes out,
which `explain_text` prints for a lead and `explanation_to_json` for a machine. Every verdict
in it is the planner's own (`plan_with_verdicts`): nothing here decides again whether a rule
matches, a level is due or what stopped it; only the ledger's rows are added.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from afterhours.adapters.state import AuditRow
from afterhours.domain.actions import Plan
from afterhours.domain.model import History, Ticket
from afterhours.domain.planner import plan_with_verdicts, tally_rule
from afterhours.domain.schedule import describe_moment
from afterhours.domain.verdicts import (
    Applies,
    LadderVerdict,
    LevelVerdict,
    RuleVerdict,
    Steps,
    Verdicts,
)
from afterhours.inspect.verdicts import hours_reason
from afterhours.inspect.words import describe_action, describe_delta, iso, level_actions
from afterhours.policy.model import Escalation, EscalationLevel, Policy

LevelState = Literal["fired", "settled", "stopped", "acknowledged", "due", "pending", "never"]


@dataclass(frozen=True)
class LevelView:
    """One escalation level's deadline and where the ticket stands against it."""

    number: int
    level: EscalationLevel
    due: datetime | None
    state: LevelState
    note: str
    verdict: LevelVerdict


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
    arrival_why: str  # the schedule fact behind the planner's after-hours verdict
    ladders: tuple[LadderView, ...]
    plan: Plan
    ledger: Ledger


def explain_ticket(ticket: Ticket, policy: Policy, now: datetime, ledger: Ledger) -> Explanation:
    """Plan `ticket` at `now` against the ledger, keeping the planner's verdict on every rule
    and level, and place each level against the ledger's record."""
    plan, verdicts = plan_with_verdicts(ticket, policy, now, ledger.history)
    why = hours_reason(ticket.created_at, policy.schedule,
                       after_hours=verdicts.arrival.after_hours)
    ladders = tuple(_ladder(ladder, policy, now, ledger) for ladder in verdicts.escalations)
    return Explanation(ticket, policy, now, verdicts, why, ladders, plan, ledger)


def _ladder(ladder: LadderVerdict, policy: Policy, now: datetime, ledger: Ledger) -> LadderView:
    levels = () if ladder.applies == "no" else tuple(
        _level(level, ladder.applies, policy, now, ledger) for level in ladder.levels)
    return LadderView(ladder.judged, ladder.applies, levels, ladder.ladder)


def _level(verdict: LevelVerdict, applies: Applies, policy: Policy, now: datetime,
           ledger: Ledger) -> LevelView:
    """The planner's verdict on a level in words, with what the ledger recorded of it."""
    state, note = _standing(verdict, applies, policy, now, ledger)
    if state in ("fired", "settled", "acknowledged") and verdict.next_due is not None:
        note += f"; next repeat in {describe_delta(verdict.next_due - now)}"
    return LevelView(verdict.number, verdict.level, verdict.due, state, note, verdict)


def _standing(verdict: LevelVerdict, applies: Applies, policy: Policy, now: datetime,
              ledger: Ledger) -> tuple[LevelState, str]:
    done = [row for row in ledger.audit if row.outcome == "done"]
    stop, occurrence = verdict.stop, verdict.occurrence
    if stop is not None:
        said = (f"stopped by {stop.event} {describe_moment(stop.at, policy.schedule)}"
                if stop.at is not None else f"stopped: {stop.reason}")
        fired = [row for row in done if tally_rule(row.rule or "") == tally_rule(verdict.rule)]
        return "stopped", said + (f" (it fired {local_stamp(fired[0].at, policy)})"
                                  if fired else "")
    if verdict.state in ("never", "acknowledged"):
        return verdict.state, (f"never: {verdict.why}" if verdict.state == "never" else
                               f"{verdict.acknowledged}: nothing is sent while it holds")
    if occurrence is None:  # pending: the planner says when it falls due
        left = "" if verdict.next_due is None else f" in {describe_delta(verdict.next_due - now)}"
        return "pending", f"not yet due:{left}"
    this = [row for row in done if row.rule == verdict.rule]
    if this:  # this very occurrence (a repeat counts on its own) did act
        return "fired", f"already fired {local_stamp(this[0].at, policy)}"
    if verdict.state == "done":
        return "settled", "already settled in the ledger (skipped or failed)"
    fires = "once the planned changes are made" if applies == "after this plan" else "now"
    repeat = f"repeat {occurrence.number} " if occurrence.number else ""
    return "due", f"{repeat}due {describe_delta(now - occurrence.due)} ago: fires {fires}"


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
        "arrival": {"after_hours": arrival.after_hours, "when": arrival.when,
                    "why": explained.arrival_why},
        "priority_rules": [_verdict_json(v) for v in explained.verdicts.priority_rules],
        "routes": [_verdict_json(v) for v in explained.verdicts.routes],
        "known_issues": [
            {"name": k.issue.name, "jira": k.issue.jira, "joined": k.chosen,
             "not_joined_because": k.left, "matched": k.verdict.matched,
             "held": list(k.verdict.held), "failed": list(k.verdict.failed)}
            for k in explained.verdicts.known_issues],
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
                        **_level_verdict_json(view.verdict),
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
        **_steps_json(judged.steps),
    }


def _level_verdict_json(verdict: LevelVerdict) -> dict[str, Any]:
    """The planner's own verdict on a level: what `state` and `note` above are said from."""
    occurrence, stop = verdict.occurrence, verdict.stop
    return {
        "rule": verdict.rule, "verdict": verdict.state, "start_at": iso(verdict.start),
        "occurrence": None if occurrence is None else {
            "repeat": occurrence.number, "due_at": iso(occurrence.due)},
        "next_due_at": iso(verdict.next_due),
        "stop": None if stop is None else {
            "event": stop.event, "reason": stop.reason, "at": iso(stop.at)},
        "acknowledged": verdict.acknowledged, "why": verdict.why or None,
        **_steps_json(verdict.steps),
    }


def _steps_json(steps: Steps) -> dict[str, Any]:
    return {
        "actions": [{"key": p.key, "kind": p.kind, "what": describe_action(p.action)}
                    for p in steps.actions],
        "skips": [{"key": s.key, "reason": s.reason} for s in steps.skips],
        "settled": list(steps.settled),
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
