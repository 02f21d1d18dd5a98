"""`replay` and joins: which bug tickets of the period would have joined which issue (a known
issue, or with similar_issues: one a ticket earlier in the period would have filed), with
the reason the planner gives (the conditions, or the score and shared words), so a lead can
set the threshold before relying on it. Pure, like the rest of replay."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from afterhours.domain.actions import CreateJiraIssue, JoinJiraIssue, Plan
from afterhours.domain.model import OpenIssue, OpenIssues, Ticket
from afterhours.policy.model import Policy

Replayer = Callable[[Ticket, Policy, datetime, OpenIssues | None], Plan]


@dataclass(frozen=True)
class Join:
    """A ticket that would have joined an issue instead of filing one, and why."""

    ticket_id: int
    issue: str  # a Jira key, or "the issue #N would file" within the period
    reason: str


def would_file_key(project: str, ticket_id: int) -> str:
    """The stand-in key of the issue a replayed ticket would have filed."""
    return f"{project}-{ticket_id}"


def plans_with_joins(tickets: Sequence[Ticket], policy: Policy, now: datetime,
                     replay: Replayer, meanings: Mapping[str, bytes] | None = None,
                     ) -> tuple[list[Plan], tuple[Join, ...]]:
    """Each ticket's replayed plan, oldest first, with similar_issues: judged against the
    issues the tickets before it would have filed (and what the tickets mean, under
    matcher: meaning); and the joins among them."""
    similar = policy.similar_issues is not None
    filed: list[OpenIssue] = []
    stand_ins: dict[str, int] = {}
    plans, joins = [], []
    for ticket in sorted(tickets, key=lambda t: (t.created_at, t.id)):
        plan = replay(ticket, policy, now,
                      OpenIssues(tuple(filed), {} if meanings is None else meanings)
                      if similar else None)
        plans.append(plan)
        for planned in plan.actions:
            action = planned.action
            if isinstance(action, CreateJiraIssue) and similar:
                key = would_file_key(action.project, ticket.id)
                stand_ins[key] = ticket.id
                filed.append(OpenIssue(key, ((ticket.subject, ticket.description),)))
            elif isinstance(action, JoinJiraIssue):
                issue = action.issue_key
                if issue in stand_ins:
                    issue = f"the issue #{stand_ins[issue]} would file"
                joins.append(Join(ticket.id, issue, planned.reason))
    order = {t.id: n for n, t in enumerate(tickets)}
    return sorted(plans, key=lambda p: order[p.ticket_id]), tuple(joins)
