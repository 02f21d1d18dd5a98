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
from dataclasses import replace
from datetime import timedelta
from typing import Any

import structlog

from afterhours.adapters.ports import (
    IssueTracker,
    Notifier,
    TicketDesk,
    TicketWrite,
    WriteResult,
)
from afterhours.adapters.state import StateStore
from afterhours.announce import as_sent
from afterhours.clock import Clock
from afterhours.domain import render
from afterhours.domain.actions import (
    ZENDESK_ACTIONS,
    AddInternalNote,
    CommentOnIssue,
    JoinJiraIssue,
    LinkJiraIssue,
    NotifyChannel,
    PlannedAction,
    ResolvePage,
    SendMail,
    TriggerPage,
    UpdateChatMessage,
)
from afterhours.domain.model import Ticket
from afterhours.errors import (
    ConflictError,
    LeaseLostError,
    NotesUnknownError,
    PermanentError,
    ServiceError,
    StateError,
)
from afterhours.filing import IssueFiling, Turn
from afterhours.ops.metrics import Metrics
from afterhours.outcomes import PassReport, Recorder

log = structlog.get_logger()


class TicketActing(IssueFiling):
    """The service's acting part: what it needs of the service, and how it acts."""

    desk: TicketDesk
    tracker: IssueTracker
    notifier: Notifier
    state: StateStore
    clock: Clock
    metrics: Metrics
    recorder: Recorder
    search_lag: timedelta

    def _file_first(self, turns: Sequence[Turn], report: PassReport) -> list[Turn]:
        """Settle what interrupted attempts already did, then file the Jira issues; return
        the turns that learned of their issue, to be planned again with it before anything
        else is done for them (their link, tag and note then go with their other changes)."""
        attempts = {turn.ticket.id: self.state.attempts(turn.ticket.id) for turn in turns}
        finder = self._issues_found(turns, attempts)
        for turn in turns:
            learned, settled = self._reconcile(turn.ticket, turn.actions, report,
                                               attempts[turn.ticket.id], finder)
            turn.actions = [a for a in turn.actions if a.key not in settled]
            turn.held |= settled
            turn.learned = learned
        self._file_issues([t for t in turns if not t.learned], report)
        return [t for t in turns if t.learned]

    def _act_rest(self, turns: Sequence[Turn], report: PassReport) -> list[Turn]:
        """Record the intents, write Zendesk for every turn at once, then links and chat;
        return the turns an agent changed under us (to re-read and plan again)."""
        self._join_first(turns, report)  # what says a ticket joined waits for the join
        with self.state.batch():  # committed before any side effect: write-ahead
            for turn in turns:
                for planned in turn.actions:
                    self._mark_intended(planned)
        self._write_desk(turns, report)
        for turn in turns:
            if not turn.conflicted:
                self._act_outside(turn, report)
        return [t for t in turns if t.conflicted]

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
        with self.state.batch():
            one_by_one = [(turn, changes)
                          for (turn, changes), result in zip(writes, results, strict=True)
                          if not self._settle_write(turn, changes, result, report)]
        for turn, changes in one_by_one:
            # One bad field (a group that does not exist, say) must not sink the priority
            # and tags beside it: each change alone, so only the bad one fails.
            for number, change in enumerate(changes):
                try:
                    turn.ticket = self._update_desk(turn.ticket, [change], report)
                except ConflictError:
                    self._conflicted(turn, changes[number:], report)
                    break

    def _settle_write(self, turn: Turn, changes: Sequence[PlannedAction], result: WriteResult,
                      report: PassReport) -> bool:
        """Settle one ticket's entries from its write's result; False when a refused value
        means its changes must be tried one by one."""
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
            return False
        elif isinstance(error, NotesUnknownError):
            self._partly_applied(changes, error, report)
            turn.stamp_known = False
        else:
            self.recorder.failure(changes, error, report)
        return True

    def _partly_applied(self, changes: Sequence[PlannedAction], error: NotesUnknownError,
                        report: PassReport) -> None:
        """The update's fields and public reply landed, its notes may not have: the reply is
        done (the planner counts it as afterhours' own, never as a person's reply that
        stops a ladder), the notes are looked for before being written again."""
        for planned in changes:
            if not isinstance(planned.action, AddInternalNote):
                self.recorder.done(planned, report)
        self.recorder.failure([p for p in changes if isinstance(p.action, AddInternalNote)],
                              error, report)

    def _conflicted(self, turn: Turn, changes: Sequence[PlannedAction],
                    report: PassReport) -> None:
        """An agent (or a lost answer of ours) changed the ticket since it was read: it is
        re-read and re-planned from the ticket as it is, outside actions included."""
        report.conflicts += 1
        for planned in changes:  # each re-planned from the ticket re-read
            self.metrics.action(planned.kind, "conflict")
        self.recorder.record(turn.ticket.id, "conflict", "ticket changed since read; re-reading")
        turn.conflicted = True

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
        except NotesUnknownError as error:
            self._partly_applied(changes, error, report)
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
        if isinstance(action, JoinJiraIssue | CommentOnIssue):
            return self._on_known_issue(action)
        if isinstance(action, NotifyChannel):
            text, named = self._claimed_text(action)
            text = as_sent(text, action, self.state)  # the Jira issue, if its plan filed one
            detail: dict[str, Any] = {"channel": action.channel}
            if action.conversation is not None:  # Slack's Web API: looked up before a repeat
                ts = self.notifier.post_message(action.conversation, text, key=planned.key)
                # Kept with the entry: the message is updated in place when its level stops.
                detail |= {"conversation": action.conversation, "ts": ts}
            else:
                self.notifier.notify(action.channel, text, key=planned.key)
            if action.claim is None:
                return detail
            return detail | {"group_named": named}
        if isinstance(action, TriggerPage | ResolvePage | SendMail):
            return self._page(action)
        if isinstance(action, UpdateChatMessage):  # chat.update: the same again is harmless
            return self.notifier.update_posted(action, self.state.posted_ts(action.message_key))
        raise AssertionError(f"not an outside action: {planned.kind}")  # pragma: no cover

    def _page(self, action: TriggerPage | ResolvePage | SendMail) -> dict[str, Any]:
        """Page, resolve a page, or mail; return the audit detail."""
        if isinstance(action, TriggerPage):
            # The dedup_key makes a repeat one incident: nothing to reconcile first.
            self.notifier.trigger_page(action)
            return {"channel": action.channel, "dedup_key": action.dedup_key,
                    "severity": action.severity}
        if isinstance(action, ResolvePage):
            self.notifier.resolve_page(action)
            return {"channel": action.channel, "dedup_key": action.dedup_key}
        # Sent again after a lost answer, it is the same message (its Message-ID).
        refused = self.notifier.send_mail(action)
        return {"channel": action.channel, "to": list(action.to), **refused}

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
