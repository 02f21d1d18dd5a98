"""A join that cannot be done: whether a known issue may still be joined as Jira shows it now,
and the ledger key that remembers a join refused for good.

A refused join is not retried: the ticket files its own issue instead, once, as a bug about
nothing known would (domain.known_issues.known_match), and never joins that issue again.
"""

from __future__ import annotations

from afterhours.domain.actions import JoinJiraIssue

REFUSED = "/join_refused:"


def refused_key(ticket_id: int, issue_key: str) -> str:
    """The ledger key saying the ticket's join of `issue_key` was refused for good."""
    return f"ticket:{ticket_id}{REFUSED}{issue_key}"


def refused_issues(settled: frozenset[str]) -> frozenset[str]:
    """The issues a ticket's refused joins named, from its settled ledger keys."""
    return frozenset(key.rpartition(REFUSED)[2] for key in settled if REFUSED in key)


def join_refusal(action: JoinJiraIssue, key: str, project: str, done: bool) -> str | None:
    """Why `action` must not join the issue Jira shows as `key` in `project` (Done or not):
    a resolved issue is no place for a new customer, and one moved out of the projects the
    policy joins is no longer the policy's. None: it may be joined."""
    if done:
        return f"{action.issue_key} is Done"
    if action.projects and project not in action.projects:
        moved = f" (now {key})" if key != action.issue_key else ""
        return (f"{action.issue_key}{moved} is in project {project}, which the policy does not"
                f" join issues in ({', '.join(action.projects)})")
    return None
