"""`replay` and joins: which bug tickets of the period would have joined which issue (a known
issue, or with similar_issues: one a ticket earlier in the period would have filed), with
the reason the planner gives (the conditions, or the score and shared words), so a lead can
set the threshold before relying on it. Pure, like the rest of replay."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from afterhours.domain.actions import CreateJiraIssue, JoinJiraIssue, Plan
from afterhours.domain.known_issues import filed_projects
from afterhours.domain.model import OpenIssue, OpenIssues, Ticket
from afterhours.domain.similarity import Similar, compared, most_similar
from afterhours.policy.model import Policy

Replayer = Callable[[Ticket, Policy, datetime, OpenIssues | None], Plan]


@dataclass(frozen=True)
class Join:
    """A ticket that would have joined an issue instead of filing one, and why."""

    ticket_id: int
    issue: str  # a Jira key, or "the issue #N would file" within the period
    reason: str


@dataclass(frozen=True)
class NearJoin:
    """A ticket that would have filed, and the issue of the period it was most like, below
    the threshold: what a lower threshold would have joined."""

    ticket_id: int
    issue: str  # "the issue #N would file"
    score: float
    words: tuple[str, ...]  # shared by the subjects


NEAR_JOINS = 10  # the closest below the threshold a replay lists


def would_file_key(project: str, ticket_id: int) -> str:
    """The stand-in key of the issue a replayed ticket would have filed."""
    return f"{project}-{ticket_id}"


def plans_with_joins(tickets: Sequence[Ticket], policy: Policy, now: datetime,
                     replay: Replayer, meanings: Mapping[str, bytes] | None = None,
                     ) -> tuple[list[Plan], tuple[Join, ...], tuple[NearJoin, ...]]:
    """Each ticket's replayed plan, oldest first, with similar_issues: judged against the
    issues the tickets before it would have filed (and what the tickets mean, under
    matcher: meaning); the joins among them; and the NEAR_JOINS tickets that filed closest
    below the threshold, most alike first."""
    similar = policy.similar_issues is not None
    filed: list[OpenIssue] = []
    stand_ins: dict[str, int] = {}
    plans, joins, near = [], [], []
    for ticket in sorted(tickets, key=lambda t: (t.created_at, t.id)):
        issues = OpenIssues(tuple(filed), {} if meanings is None else meanings)
        plan = replay(ticket, policy, now, issues if similar else None)
        plans.append(plan)
        for planned in plan.actions:
            action = planned.action
            if isinstance(action, CreateJiraIssue) and similar:
                closest = _closest(ticket, policy, issues)
                if closest is not None:
                    near.append(NearJoin(ticket.id, _named(closest.issue.key, stand_ins),
                                         closest.score, closest.words))
                key = would_file_key(action.project, ticket.id)
                stand_ins[key] = ticket.id
                filed.append(OpenIssue(key, ((ticket.subject, ticket.description),)))
            elif isinstance(action, JoinJiraIssue):
                joins.append(Join(ticket.id, _named(action.issue_key, stand_ins),
                                  planned.reason))
    order = {t.id: n for n, t in enumerate(tickets)}
    closest_first = sorted(near, key=lambda n: (-n.score, n.ticket_id))[:NEAR_JOINS]
    return sorted(plans, key=lambda p: order[p.ticket_id]), tuple(joins), tuple(closest_first)


def _closest(ticket: Ticket, policy: Policy, issues: OpenIssues) -> Similar | None:
    """The issue of the period the ticket is most like, however little."""
    similar = policy.similar_issues
    if similar is None:
        return None
    projects = frozenset(similar.projects or filed_projects(policy))
    return most_similar(compared(ticket.subject, ticket.description, issues.meanings), issues,
                        projects, 0.0)


def _named(key: str, stand_ins: dict[str, int]) -> str:
    """A Jira key, or the issue a ticket of the period would have filed."""
    return f"the issue #{stand_ins[key]} would file" if key in stand_ins else key
