"""Acting on a batch of plans, each step one batch: settle what interrupted attempts
already did, file the Jira issues, record the intents, write Zendesk, then links and chat,
recording each outcome.

Jira goes first: a ticket whose issue is filed (or found) this round is planned again at
once with it (the link, the tag, the note) and written to Zendesk once, not twice. Chat and
Jira go ahead even when Zendesk failed: an on-call page must not wait for Zendesk to recover.
The rounds around this are afterhours.settling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import structlog

from afterhours.adapters.ports import IssueTracker, Notifier, TicketDesk, TicketWrite
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
    ResolvePage,
    SendMail,
    TriggerPage,
)
from afterhours.domain.model import JiraIssueRef, Ticket
from afterhours.errors import (
    ConflictError,
    LeaseLostError,
    PermanentError,
    ServiceError,
    StateError,
    TransientError,
)
from afterhours.ops.metrics import Metrics
from afterhours.outcomes import PassReport, Recorder
from afterhours.reconcile import reconcile

log = structlog.get_logger()


@dataclass
class Turn:
    """One ticket's place in a batch: the ticket as last read, what it is to do this round,
    and what this pass has learned about it."""

    ticket: Ticket
    refreshed: bool = False  # read afresh this pass before paging anyone
    counted: bool = False  # counted in tickets_planned
    stamp_known: bool = True  # False after a write whose answer did not tell the new stamp
    conflicted: bool = False  # changed under us: re-read, then plan again
    learned: bool = False  # a Jira issue filed or found: plan again with it
    actions: list[PlannedAction] = field(default_factory=list)


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

    def _act_on(self, turns: Sequence[Turn], report: PassReport) -> list[Turn]:
        """Act on every turn's actions; return the turns to plan again: those that learned
        of their Jira issue (planned again before anything else is done for them) and those
        an agent changed under us (re-read first)."""
        for turn in turns:
            learned, settled = self._reconcile(turn.ticket, turn.actions, report)
            turn.actions = [a for a in turn.actions if a.key not in settled]
            turn.learned = learned
        self._file_issues([t for t in turns if not t.learned], report)
        acting = [t for t in turns if not t.learned]
        with self.state.batch():  # committed before any side effect: write-ahead
            for turn in acting:
                for planned in turn.actions:
                    self._mark_intended(planned)
        self._write_desk(acting, report)
        for turn in acting:
            if not turn.conflicted:
                self._act_outside(turn, report)
        return [t for t in turns if t.learned or t.conflicted]

    def _act_outside(self, turn: Turn, report: PassReport) -> None:
        """Take the turn's links and chat messages, one at a time (neither has a batch),
        with the ticket's id on every log line (the retry policy's included)."""
        try:
            with structlog.contextvars.bound_contextvars(ticket_id=turn.ticket.id):
                self._act_outside_bound(turn, report)
        except (StateError, LeaseLostError):  # no later ticket can be recorded either
            raise
        except Exception as error:  # one ticket's surprise must not starve the rest
            self._crashed(turn.ticket, error, report)

    def _act_outside_bound(self, turn: Turn, report: PassReport) -> None:
        for planned in turn.actions:
            if isinstance(planned.action, ZENDESK_ACTIONS):
                continue
            try:
                detail = self._perform(planned)
            except ServiceError as error:
                self.recorder.failure([planned], error, report)
                continue
            self.recorder.done(planned, report, detail)

    def _crashed(self, ticket: Ticket, error: Exception, report: PassReport) -> None:
        """Count a ticket whose turn ended in a surprise; it is due again next pass."""
        report.crashed += 1
        log.error("ticket.crashed", ticket_id=ticket.id, exc_info=error)
        self.recorder.crashed(ticket.id, error)

    def _mark_intended(self, planned: PlannedAction) -> None:
        self.state.mark_intended(
            at=self.clock(), ticket_id=planned.action.ticket_id, key=planned.key,
            rule=planned.rule, action=planned.kind, reason=planned.reason)

    def _file_issues(self, turns: Sequence[Turn], report: PassReport) -> None:
        """File the batch's Jira issues: one search for those filed already (an earlier
        attempt search shows now), one bulk create for the rest. A ticket whose issue is
        filed or found has learned it (`Turn.learned`); its create is settled either way."""
        creating = [(turn, planned) for turn in turns for planned in turn.actions
                    if isinstance(planned.action, CreateJiraIssue)]
        if not creating:
            return
        for turn, planned in creating:
            turn.actions.remove(planned)
        with self.state.batch():
            for _, planned in creating:
                self._mark_intended(planned)
        try:
            found = self.tracker.find_issues([turn.ticket.id for turn, _ in creating])
        except ServiceError as error:
            # Nothing was filed this pass (an earlier attempt was reconciled before it got
            # here): once Jira is back, file at once instead of waiting out the search lag.
            with self.state.batch():
                for _, planned in creating:
                    if isinstance(error, TransientError):
                        self.state.forget_attempt(planned.key)
                self.recorder.failure([planned for _, planned in creating], error, report)
            return
        to_file = []
        with self.state.batch():
            for turn, planned in creating:
                issue = found.get(turn.ticket.id)
                if issue is not None:
                    self._filed(turn, planned, issue, report)
                    continue
                # Stamp the attempt right before the create request: if its answer is lost,
                # Jira's search lag is counted from here (see afterhours.reconcile).
                self._mark_intended(planned)
                to_file.append((turn, planned))
        if not to_file:
            return
        results = self.tracker.create_issues(
            [planned.action for _, planned in to_file if isinstance(planned.action,
                                                                    CreateJiraIssue)])
        with self.state.batch():  # each issue and its ledger entry land together
            for (turn, planned), result in zip(to_file, results, strict=True):
                if isinstance(result, JiraIssueRef):
                    log.info("jira.issue_created", ticket_id=turn.ticket.id,
                             issue_key=result.key)
                    self._filed(turn, planned, result, report)
                    continue
                if isinstance(result, TransientError):
                    # Refused before Jira acted on it (429, no connection): nothing to wait for.
                    self.state.forget_attempt(planned.key)
                self.recorder.failure([planned], result, report)

    def _filed(self, turn: Turn, planned: PlannedAction, issue: JiraIssueRef,
               report: PassReport) -> None:
        self.state.record_jira_issue(turn.ticket.id, issue, self.clock())
        self.recorder.done(planned, report, {"issue_key": issue.key, "issue_url": issue.url})
        turn.learned = True

    def _write_desk(self, turns: Sequence[Turn], report: PassReport) -> None:
        """Write every turn's Zendesk changes in one batched update (one safe update per
        ticket); each ticket's result settles its own entries."""
        writes = [(turn, [p for p in turn.actions if isinstance(p.action, ZENDESK_ACTIONS)])
                  for turn in turns]
        writes = [(turn, changes) for turn, changes in writes if changes]
        if not writes:
            return
        results = self.desk.update_tickets([
            TicketWrite(turn.ticket, tuple(p.action for p in changes
                                           if isinstance(p.action, ZENDESK_ACTIONS)))
            for turn, changes in writes])
        one_by_one = []
        with self.state.batch():
            for (turn, changes), result in zip(writes, results, strict=True):
                error = result.error
                if error is None:
                    for planned in changes:
                        self.recorder.done(planned, report)
                    if result.updated_at is None:
                        turn.stamp_known = False
                    else:
                        turn.ticket = replace(turn.ticket, updated_at=result.updated_at)
                elif isinstance(error, ConflictError):
                    self._conflicted(turn, changes, report)
                elif isinstance(error, PermanentError) and len(changes) > 1:
                    one_by_one.append((turn, changes))
                else:
                    self.recorder.failure(changes, error, report)
        for turn, changes in one_by_one:
            # One bad field (a group that does not exist, say) must not sink the priority
            # and tags beside it: each change alone, so only the bad one fails.
            for number, change in enumerate(changes):
                try:
                    turn.ticket = self._update_desk(turn.ticket, [change], report)
                except ConflictError:
                    self._conflicted(turn, changes[number:], report)
                    break

    def _conflicted(self, turn: Turn, changes: Sequence[PlannedAction],
                    report: PassReport) -> None:
        """An agent (or a lost answer of ours) changed the ticket since it was read: it is
        re-read and re-planned from the ticket as it is, outside actions included."""
        report.conflicts += 1
        for planned in changes:  # each re-planned from the ticket re-read
            self.metrics.action(planned.kind, "conflict")
        self.recorder.record(turn.ticket.id, "conflict", "ticket changed since read; re-reading")
        turn.conflicted = True

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

    def _perform(self, planned: PlannedAction) -> dict[str, Any]:
        """Take one link, chat message or page; return its audit detail."""
        action = planned.action
        if isinstance(action, LinkJiraIssue):
            self.tracker.link_issue(action)
            return {"issue_key": action.issue_key}
        if isinstance(action, NotifyChannel):
            text, named = self._claimed_text(action)
            text = as_sent(text, action, self.state)  # the Jira issue, if its plan filed one
            if action.conversation is not None:  # Slack's Web API: looked up before a repeat
                self.notifier.post_message(action.conversation, text, key=planned.key)
            else:
                self.notifier.notify(action.channel, text, key=planned.key)
            if action.claim is None:
                return {"channel": action.channel}
            return {"channel": action.channel, "group_named": named}
        if isinstance(action, TriggerPage):
            # The dedup_key makes a repeat one incident: nothing to reconcile first.
            self.notifier.trigger_page(action)
            return {"channel": action.channel, "dedup_key": action.dedup_key,
                    "severity": action.severity}
        if isinstance(action, ResolvePage):
            self.notifier.resolve_page(action)
            return {"channel": action.channel, "dedup_key": action.dedup_key}
        if isinstance(action, SendMail):
            # Sent again after a lost answer, it is the same message (its Message-ID).
            refused = self.notifier.send_mail(action)
            return {"channel": action.channel, "to": list(action.to), **refused}
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
