"""What acting does for known issues (afterhours.acting's part): joining one, commenting on
it, one filing per problem in a batch (similar_issues:), and the open issues a bug may join.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog

from afterhours.adapters.ports import IssueTracker
from afterhours.adapters.state import StateStore
from afterhours.clock import Clock
from afterhours.domain.actions import CommentOnIssue, CreateJiraIssue, JoinJiraIssue, PlannedAction
from afterhours.domain.known_issues import unlink_key
from afterhours.domain.model import JiraIssueRef, OpenIssues
from afterhours.domain.similarity import Compared, compared, similarity
from afterhours.policy.model import Policy

if TYPE_CHECKING:
    from afterhours.acting import Turn

log = structlog.get_logger()


class KnownIssueActing:
    """The known-issue part of TicketActing."""

    tracker: IssueTracker
    state: StateStore
    clock: Clock
    policy: Policy
    # The open issues a bug may join by similarity, read once and again after a filing.
    _similar: OpenIssues | None = None

    def _on_known_issue(self, action: JoinJiraIssue | CommentOnIssue) -> dict[str, Any]:
        """Join a known issue (it is then the ticket's issue: sync-back and later plans
        treat it as filed), or comment on it; return the audit detail."""
        if isinstance(action, CommentOnIssue):
            self.tracker.comment_on_issue(action)
            return {"issue_key": action.issue_key}
        joined = self.tracker.join_issue(action)
        self._similar = None
        self.state.record_jira_issue(action.ticket_id, joined.issue, self.clock())
        log.info("jira.issue_joined", ticket_id=action.ticket_id, issue_key=action.issue_key,
                 customers=joined.customers)
        return {"issue_key": action.issue_key, "customers": joined.customers}

    def _filed_already(self, found: dict[int, JiraIssueRef],
                       ticket_id: int) -> JiraIssueRef | None:
        """The issue search shows for the ticket, unless a lead unlinked the ticket from it
        (`afterhours unlink`: search may lag the label it took off)."""
        issue = found.get(ticket_id)
        if issue is None or self.state.ledger_status(unlink_key(ticket_id, issue.key)) != "done":
            return issue
        return None

    def _one_per_problem(
        self, creating: list[tuple[Turn, PlannedAction]],
    ) -> tuple[list[tuple[Turn, PlannedAction]], list[tuple[Turn, Turn]]]:
        """With similar_issues: in the policy, the batch's creates less those much like an
        earlier one into the same project (an outage's tickets arriving together), each
        held with the turn that files: once its issue is filed, they are planned again
        and join it; if it is not, they are filed by a later pass."""
        similar = self.policy.similar_issues
        if similar is None or len(creating) < 2:
            return creating, []
        kept: list[tuple[Turn, PlannedAction, str, Compared]] = []
        held: list[tuple[Turn, Turn]] = []
        for turn, planned in creating:
            assert isinstance(planned.action, CreateJiraIssue)  # noqa: S101  (filtered above)
            text = compared(turn.ticket.subject, turn.ticket.description)
            first = next((t for t, _, project, other in kept
                          if project == planned.action.project
                          and similarity(text, other) >= similar.threshold), None)
            if first is None:
                kept.append((turn, planned, planned.action.project, text))
            else:
                held.append((turn, first))
        return [(turn, planned) for turn, planned, *_ in kept], held

    @staticmethod
    def _plan_held_again(held: list[tuple[Turn, Turn]]) -> None:
        for turn, first in held:
            turn.learned = first.learned

    def open_issues(self) -> OpenIssues:
        """The open issues a bug may join by similarity (policy similar_issues:), read from
        the state once and again after each filing or join."""
        similar = self.policy.similar_issues
        if self._similar is None:
            since = self.clock() - timedelta(days=similar.within_days if similar else 30)
            self._similar = self.state.open_issues(since)
        return self._similar
