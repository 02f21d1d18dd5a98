"""A replay's whole report: the period, the policies, their tallies and their difference."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from afterhours.inspect.replay import (
    Period,
    PolicyDiff,
    Replay,
    RuleTally,
    Selection,
    compare,
    replay_policy,
)
from afterhours.inspect.words import iso
from afterhours.policy import LoadedPolicy

# Said in the text and the JSON alike, so a reader of either knows what "replay" means.
METHOD = (
    "Each ticket is replayed as it arrived: open and unanswered, even if it is solved or closed"
    " now, with the subject, tags, priority and group it has now (the export keeps no older"
    " versions). Arrival rules are judged at creation; an escalation level counts when it fell"
    " due by the evaluation time and before the ticket's real first reply or solve."
)


@dataclass(frozen=True)
class ReplayReport:
    """Everything `replay` prints."""

    period: Period
    evaluated_at: datetime
    selection: Selection
    policy: LoadedPolicy
    replay: Replay
    against: LoadedPolicy | None = None
    old: Replay | None = None
    diff: PolicyDiff | None = None


def build_report(
    selection: Selection, period: Period, now: datetime, policy: LoadedPolicy,
    against: LoadedPolicy | None = None, *, meanings: Mapping[str, bytes] | None = None,
) -> ReplayReport:
    """Replay the selection under `policy` (and `against`, then compare) at `now`, with what
    the tickets mean when a policy's similar_issues: compares meanings."""
    new = replay_policy(selection.tickets, policy.policy, now, meanings)
    if against is None:
        return ReplayReport(period, now, selection, policy, new)
    old = replay_policy(selection.tickets, against.policy, now, meanings)
    return ReplayReport(period, now, selection, policy, new, against, old, compare(new, old))


def report_to_json(report: ReplayReport) -> dict[str, Any]:
    """The report as JSON-ready data."""
    selection = report.selection
    data: dict[str, Any] = {
        "period": {"start": iso(report.period.start), "end": iso(report.period.end)},
        "evaluated_at": iso(report.evaluated_at),
        "method": METHOD,
        "policy": {"path": report.policy.path, "sha256": report.policy.sha256},
        "tickets": {
            "read": selection.read, "replayed": len(selection.tickets),
            "outside_period": selection.outside, "deleted": selection.deleted,
        },
        "rules": [_tally_json(t) for t in report.replay.tallies],
        "no_rule": {"tickets": len(report.replay.untouched),
                    "sample": list(report.replay.untouched[:5])},
        "joins": [{"ticket_id": j.ticket_id, "issue": j.issue, "reason": j.reason}
                  for j in report.replay.joins],
        "near_joins": [{"ticket_id": n.ticket_id, "issue": n.issue, "score": n.score,
                        "words": list(n.words)} for n in report.replay.near_joins],
        "against": None,
    }
    if report.against is not None and report.diff is not None:
        data["against"] = {
            "path": report.against.path, "sha256": report.against.sha256,
            "tickets_changed": len(report.diff.changed),
            "rules": [
                {"rule": s.rule, "gained": len(s.gained), "lost": len(s.lost),
                 "gained_sample": list(s.gained[:5]), "lost_sample": list(s.lost[:5])}
                for s in report.diff.shifts
            ],
            "examples": [
                {"ticket_id": c.ticket_id, "rules_gained": list(c.rules_gained),
                 "rules_lost": list(c.rules_lost), "steps_gained": list(c.steps_gained),
                 "steps_lost": list(c.steps_lost)}
                for c in report.diff.changed[:5]
            ],
        }
    return data


def _tally_json(tally: RuleTally) -> dict[str, Any]:
    return {
        "rule": tally.rule, "tickets": len(tally.tickets),
        "actions": dict(sorted(tally.actions.items())),
        "already_in_place": tally.already, "held_by_hours": len(tally.held_by_hours),
        "sample": tally.sample,
    }
