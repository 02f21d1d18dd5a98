"""Acting on one ticket's plan: record the intents, settle what an interrupted attempt
already did, update Zendesk in one request, then Jira and chat, recording each outcome.

Per ticket, as the service has always acted (the batched writes of #13 replace this part);
the service (afterhours.service) plans and calls `_apply` with the plan's actions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import structlog

from afterhours.adapters.ports import IssueTracker, Notifier, TicketDesk
from afterhours.adapters.state import StateStore
from afterhours.announce import as_sent
from afterhours.clock import Clock
from afterhours.domain import render
from afterhours.domain.actions import (
    ZENDESK_ACTIONS,
    CreateJiraIssue,
    LinkJiraIssue,
    NotifyChannel,
    PlannedAction,
)
from afterhours.domain.model import JiraIssueRef, Ticket
from afterhours.errors import (
    ConflictError,
    PermanentError,
    ServiceError,
    TransientError,
)
from afterhours.ops.metrics import Metrics
from afterhours.outcomes import PassReport, Recorder
from afterhours.reconcile import reconcile

log = structlog.get_logger()


class TicketActing:
    """The service's acting part: what it needs of the service, and how it acts."""

    desk: TicketDesk
    tracker: IssueTracker
    notifier: Notifier
    state: StateStore
    clock: Clock
    metrics: Metrics
    recorder: Recorder
    search_lag: timedelta

    def _apply(
        self, ticket: Ticket, actions: Sequence[PlannedAction], report: PassReport
    ) -> tuple[Ticket, bool] | None:
        """Apply one plan; return the ticket as now stamped and whether a new fact was learned,
        or None when the ticket changed under us and must be re-read before anything else."""
        learned, settled = self._reconcile(ticket, actions, report)
        actions = [a for a in actions if a.key not in settled]
        with self.state.batch():  # committed before any side effect: write-ahead
            for planned in actions:
                self.state.mark_intended(
                    at=self.clock(), ticket_id=ticket.id, key=planned.key, rule=planned.rule,
                    action=planned.kind, reason=planned.reason,
                )
        desk_changes = [p for p in actions if isinstance(p.action, ZENDESK_ACTIONS)]
        if desk_changes:
            try:
                ticket = self._update_desk(ticket, desk_changes, report)
            except ConflictError:
                report.conflicts += 1
                for planned in desk_changes:  # each re-planned from the ticket re-read
                    self.metrics.action(planned.kind, "conflict")
                self.recorder.record(ticket.id, "conflict", "ticket changed since read; re-reading")
                return None
        # Chat and Jira go ahead even when Zendesk failed: an on-call page must not wait for
        # Zendesk to recover.
        for planned in actions:
            if isinstance(planned.action, ZENDESK_ACTIONS):
                continue
            try:
                detail, issue = self._perform(planned)
            except ServiceError as error:
                self.recorder.failure([planned], error, report)
                continue
            with self.state.batch():  # the issue and its ledger entry land together
                if issue is not None:
                    self.state.record_jira_issue(ticket.id, issue, self.clock())
                    learned = True
                self.recorder.done(planned, report, detail)
        return ticket, learned

    def _reconcile(
        self, ticket: Ticket, actions: Sequence[PlannedAction], report: PassReport
    ) -> tuple[bool, set[str]]:
        """Settle what an earlier, interrupted attempt already did, and defer what must wait.
        Return whether a Jira issue was found (a fact to plan from) and the keys dealt with."""
        attempts = self.state.attempts(ticket.id)
        if not attempts:
            return False, set()
        found = reconcile(ticket, actions, attempts, desk=self.desk, tracker=self.tracker,
                          now=self.clock(), search_lag=self.search_lag)
        with self.state.batch():
            if found.issue is not None:
                self.state.record_jira_issue(ticket.id, found.issue, self.clock())
            for planned, detail in found.landed:
                self.recorder.done(planned, report, detail)
            for planned, reason in found.waiting:
                self.recorder.record(ticket.id, "deferred", reason, entry=planned)
                report.deferred += 1
        dealt_with = {p.key for p, _ in found.landed} | {p.key for p, _ in found.waiting}
        return found.issue is not None, dealt_with

    def _update_desk(
        self, ticket: Ticket, changes: list[PlannedAction], report: PassReport
    ) -> Ticket:
        """Apply Zendesk changes in one update; return the ticket with its new stamp (as it was
        when the update failed). ConflictError passes up: the whole plan is stale."""
        actions = [c.action for c in changes if isinstance(c.action, ZENDESK_ACTIONS)]
        try:
            updated_at = self.desk.update_ticket(ticket, actions)
        except ConflictError:  # a PermanentError, but it means the whole plan is stale
            raise
        except PermanentError as error:
            if len(changes) == 1:
                self.recorder.failure(changes, error, report)
                return ticket
            # One bad field (a group that does not exist, say) must not sink the priority and
            # tags beside it: try each change alone, so only the bad one fails.
            for change in changes:
                ticket = self._update_desk(ticket, [change], report)
            return ticket
        except ServiceError as error:
            self.recorder.failure(changes, error, report)
            return ticket
        with self.state.batch():  # one Zendesk update settles all its entries at once
            for planned in changes:
                self.recorder.done(planned, report)
        return replace(ticket, updated_at=updated_at)

    def _perform(self, planned: PlannedAction) -> tuple[dict[str, Any], JiraIssueRef | None]:
        action = planned.action
        if isinstance(action, CreateJiraIssue):
            try:
                issue = self.tracker.find_issue(action.ticket_id)
            except TransientError:
                # Nothing was filed this pass (an earlier attempt was reconciled before it got
                # here): once Jira is back, file at once instead of waiting out the search lag.
                self.state.forget_attempt(planned.key)
                raise
            if issue is None:
                # Stamp the attempt right before the one create request: if its answer is lost,
                # Jira's search lag is counted from here (see afterhours.reconcile).
                self.state.mark_intended(
                    at=self.clock(), ticket_id=action.ticket_id, key=planned.key,
                    rule=planned.rule, action=planned.kind, reason=planned.reason)
                try:
                    issue = self.tracker.create_issue(action)
                except TransientError:
                    # Refused before Jira acted on it (429, no connection): nothing to wait for.
                    self.state.forget_attempt(planned.key)
                    raise
                log.info("jira.issue_created", ticket_id=action.ticket_id, issue_key=issue.key)
            return {"issue_key": issue.key, "issue_url": issue.url}, issue
        if isinstance(action, LinkJiraIssue):
            self.tracker.link_issue(action)
            return {"issue_key": action.issue_key}, None
        if isinstance(action, NotifyChannel):
            text, named = self._claimed_text(action)
            text = as_sent(text, action, self.state)  # the Jira issue, if its plan filed one
            self.notifier.notify(action.channel, text, key=planned.key)
            if action.claim is None:
                return {"channel": action.channel}, None
            return {"channel": action.channel, "group_named": named}, None
        raise AssertionError(f"not an outside action: {planned.kind}")  # pragma: no cover

    def _claimed_text(self, action: NotifyChannel) -> tuple[str, bool]:
        """The message to send, and whether it names its group: only once the group change
        is done (Zendesk went first in this plan); otherwise the plain text and why."""
        claim = action.claim
        if claim is None:
            return action.text, False
        entry = self.state.ledger_entry(claim.key)
        if entry is not None and entry[0] == "done":
            return action.text, True
        failure = entry[1] if entry is not None and entry[0] == "failed" else None
        return render.unclaimed_message(claim.plain_text, claim.group, failure), False
