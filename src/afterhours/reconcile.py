"""Reconcile: before an action is tried again, find out whether its last attempt landed.

An action still "intended" in the ledger after an attempt was cut short (a crash, a lost
answer) may or may not have happened. Repeating it blindly duplicates what cannot be undone:
a second Jira issue, a second note. So each kind is looked up first:

- a note: the ticket's comments are searched for the note's marker (its ledger key);
- a public reply: the customer must not see a marker, so the comments are searched for the
  reply's own text, which names the ticket and its promised time;
- a comment on a Jira issue (joining a known issue): the issue's comments are searched for
  its marker;
- a Jira issue: search by the ticket's label; when search cannot see it yet, wait until
  Jira's search index has caught up with the last attempt before filing again;
- tags, priority, group: re-planned from the ticket as it is now, so a change that landed
  plans nothing; a remote link is an upsert; a chat message carries an idempotency key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from afterhours.adapters.ports import TicketDesk
from afterhours.adapters.state import Attempt
from afterhours.domain.actions import (
    AddInternalNote,
    AddPublicReply,
    CommentOnIssue,
    CreateJiraIssue,
    PlannedAction,
)
from afterhours.domain.model import JiraIssueRef, Ticket
from afterhours.domain.planner import note_marker
from afterhours.errors import ServiceError


class IssueFinder(Protocol):
    """What reconcile asks of Jira: the issue filed for a ticket, if search shows one, and
    whether a comment of ours is on an issue."""

    def find_issue(self, ticket_id: int) -> JiraIssueRef | None:
        """The issue filed for the ticket, if search shows one yet."""
        ...

    def has_issue_comment(self, issue_key: str, marker: str) -> bool:
        """Whether a comment on the issue contains `marker`."""
        ...


@dataclass
class Reconciliation:
    """What the lookups found: actions that had landed, and ones that must wait."""

    to_do: list[PlannedAction] = field(default_factory=list)
    landed: list[tuple[PlannedAction, dict[str, Any]]] = field(default_factory=list)
    waiting: list[tuple[PlannedAction, str]] = field(default_factory=list)
    issue: JiraIssueRef | None = None


def reconcile(
    ticket: Ticket,
    actions: Sequence[PlannedAction],
    attempts: Mapping[str, Attempt],
    *,
    desk: TicketDesk,
    tracker: IssueFinder,
    now: datetime,
    search_lag: timedelta,
) -> Reconciliation:
    """Sort `actions` into to do, already landed, and waiting, by looking at the services."""
    result = Reconciliation()
    for planned in actions:
        attempt = attempts.get(planned.key)
        if attempt is None:
            result.to_do.append(planned)
            continue
        try:
            _look_up(result, planned, ticket, attempt, desk=desk, tracker=tracker, now=now,
                     search_lag=search_lag)
        except ServiceError as error:
            # Unsure whether it landed and unable to look: waiting is the only safe choice.
            result.waiting.append((planned, f"could not check an earlier attempt: {error}"))
    return result


def _look_up(
    result: Reconciliation,
    planned: PlannedAction,
    ticket: Ticket,
    attempt: Attempt,
    *,
    desk: TicketDesk,
    tracker: IssueFinder,
    now: datetime,
    search_lag: timedelta,
) -> None:
    action = planned.action
    if isinstance(action, AddInternalNote | AddPublicReply):
        marker = note_marker(planned.key) if isinstance(action, AddInternalNote) else action.body
        if desk.has_note(ticket.id, marker):
            result.landed.append((planned, {"reconciled": "note found on the ticket"}))
        else:
            result.to_do.append(planned)
        return
    if isinstance(action, CommentOnIssue):  # a joined known issue's "another customer"
        if tracker.has_issue_comment(action.issue_key, action.body.marker):
            result.landed.append((planned, {"reconciled": "comment found on the issue"}))
        else:
            result.to_do.append(planned)
        return
    if isinstance(action, CreateJiraIssue):
        issue = tracker.find_issue(ticket.id)
        if issue is not None:
            result.issue = issue
            result.landed.append((planned, {
                "reconciled": "issue found by its label", "issue_key": issue.key,
                "issue_url": issue.url}))
            return
        visible_from = attempt.last + search_lag
        if now < visible_from:
            result.waiting.append((planned, (
                f"an earlier attempt may have filed the issue; Jira search shows new issues "
                f"only after a lag, so filing again waits until {visible_from.isoformat()}")))
            return
    result.to_do.append(planned)
