"""Acting on sync-back's plans: every flow a ledger entry, written ahead, looked up before it is
tried again, and settled with an audit row (afterhours.outcomes), as the ticket loop acts.

- On a ticket: the changes of one plan go in one safe update (a note and a reply make two,
  see adapters/zendesk_update). An earlier attempt is looked up first: a note by its marker,
  a reply by its text, a reopening or a tag by the ticket as it is now.
- On an issue: each comment or label alone; a comment attempted before is looked up by its
  marker first, a label is added again (adding one the issue has changes nothing).

A reopening of afterhours' own is remembered as what sync-back last saw of the ticket, in
the transaction that settles it: the issues the ticket hangs off never hear of it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any, Protocol

import structlog

from afterhours.adapters.ports import IssueTracker, TicketDesk
from afterhours.adapters.state import Attempt, StateStore
from afterhours.clock import Clock
from afterhours.domain.actions import (
    ZENDESK_ACTIONS,
    AddInternalNote,
    AddPublicReply,
    AddTags,
    CommentOnIssue,
    LabelIssue,
    Plan,
    PlannedAction,
    SetStatus,
    SkippedAction,
    ZendeskAction,
)
from afterhours.domain.effects import note_marker
from afterhours.domain.model import Ticket
from afterhours.domain.sync_model import TicketBaseline
from afterhours.domain.ticket_changes import apply_changes
from afterhours.errors import ConflictError, PermanentError, ServiceError
from afterhours.outcomes import PassReport, Recorder
from afterhours.policy.model import Policy

log = structlog.get_logger()
ISSUE_EVENTS = ("change:", "comment:", "resolved:")  # what flows from an issue to a ticket
TICKET_EVENTS = ("solved@", "reopened@", "customer:")  # what flows from a ticket to issues
_NO_LONGER = "no longer planned: the issue or the ticket changed since it was intended"


class SyncHost(Protocol):
    """What sync-back needs of the service (afterhours.service.Service has all of it)."""

    desk: TicketDesk
    tracker: IssueTracker
    state: StateStore
    policy: Policy
    clock: Clock
    recorder: Recorder
    search_lag: timedelta
    stop: threading.Event


def event_of(key: str) -> str:
    """A sync-back key's event part: sync:<issue>/ticket:<id>/<event>/<step>."""
    parts = key.split("/")
    return parts[2] if len(parts) > 3 else ""


def detail_of(planned: PlannedAction) -> dict[str, Any]:
    """What the audit row of a flow says: where it went, never the words it carried."""
    action = planned.action
    detail: dict[str, Any] = {"issue_key": planned.rule.removeprefix("sync:")}
    if isinstance(action, SetStatus):
        detail["status"] = action.status
    elif isinstance(action, AddTags | LabelIssue):
        detail["tags" if isinstance(action, AddTags) else "labels"] = list(
            action.tags if isinstance(action, AddTags) else action.labels)
    return detail


class SyncActing:
    """Records, looks up and acts on sync-back's plans for one pass."""

    def __init__(self, host: SyncHost, report: PassReport) -> None:
        self.host, self.report = host, report
        self.state, self.recorder = host.state, host.recorder

    def settle_skips(self, plan: Plan, kept: Callable[[str], bool]) -> None:
        """Record the plan's skips, and settle as skipped the entries intended earlier that
        the plan no longer holds (among those `kept` says are this plan's to settle)."""
        planned = {p.key for p in plan.actions} | {s.key for s in plan.skips}
        with self.state.batch():
            for key, rule, action in self.state.intended_sync(plan.ticket_id):
                if kept(key) and key not in planned:
                    self.recorder.record(plan.ticket_id, "skipped", _NO_LONGER,
                                         entry=SkippedAction(key, rule, _NO_LONGER),
                                         action=action)
                    self.report.skipped += 1
            for skip in plan.skips:
                self.recorder.record(plan.ticket_id, "skipped", skip.reason, entry=skip)
                self.report.skipped += 1

    def _intend(self, actions: Sequence[PlannedAction]) -> None:
        with self.state.batch():  # committed before any side effect: write-ahead
            for planned in actions:
                self.state.mark_intended(
                    at=self.host.clock(), ticket_id=planned.action.ticket_id, key=planned.key,
                    rule=planned.rule, action=planned.kind, reason=planned.reason)

    def _done(self, planned: PlannedAction, detail: dict[str, Any] | None = None) -> None:
        with self.state.batch():
            self.recorder.done(planned, self.report, {**detail_of(planned), **(detail or {})})
            if isinstance(planned.action, SetStatus):
                self._own_status(planned.action)

    def _own_status(self, action: SetStatus) -> None:
        # Afterhours' own reopening: what sync-back saw of the ticket moves with it.
        seen = self.state.ticket_baseline(action.ticket_id)
        self.state.set_ticket_baseline(action.ticket_id, TicketBaseline(
            action.status, None, seen.customer_update_at if seen else None), self.host.clock())

    # -- on a ticket -----------------------------------------------------------------------

    def on_ticket(self, ticket: Ticket, actions: Sequence[PlannedAction]) -> None:
        """Apply one ticket's flows from Jira: look up what may have landed, then update."""
        to_do = self._looked_up(ticket, actions, self.state.attempts(ticket.id))
        if not to_do:
            return
        self._intend(to_do)
        self._update(ticket, to_do, retried=False)

    def _looked_up(self, ticket: Ticket, actions: Sequence[PlannedAction],
                   attempts: Mapping[str, Attempt]) -> list[PlannedAction]:
        to_do = []
        for planned in actions:
            if planned.key not in attempts:
                to_do.append(planned)
                continue
            try:
                landed = _landed_on_ticket(self.host.desk, ticket, planned)
            except ServiceError as error:
                self.recorder.record(ticket.id, "deferred", f"could not check an earlier "
                                     f"attempt: {error}", entry=planned)
                self.report.deferred += 1
                continue
            if landed:
                self._done(planned, {"reconciled": "found on the ticket"})
            else:
                to_do.append(planned)
        return to_do

    def _update(self, ticket: Ticket, actions: list[PlannedAction], *, retried: bool) -> None:
        changes: list[ZendeskAction] = [
            p.action for p in actions if isinstance(p.action, ZENDESK_ACTIONS)]
        try:
            stamp = self.host.desk.update_ticket(ticket, changes)
        except ConflictError:
            fresh = None if retried else self.host.desk.fetch_ticket(ticket.id)
            if fresh is None:  # changed again, or gone: the next pass looks again
                self.report.conflicts += 1
                self.recorder.record(ticket.id, "conflict",
                                     "ticket changed since read; sync-back tries next pass")
                return
            self._update(fresh, actions, retried=True)
            return
        except PermanentError as error:
            if len(actions) == 1:
                self.recorder.failure(actions, error, self.report)
                return
            for planned in actions:  # one refused change must not sink the rest
                self._update(ticket, [planned], retried=retried)
            return
        except ServiceError as error:
            self.recorder.failure(actions, error, self.report)
            return
        for planned in actions:
            self._done(planned)
        if any(not isinstance(change, AddInternalNote) for change in changes):
            # The ticket's own plan depends on what changed (a reopening starts its ladders
            # again): stored as changed, and so due at once, before the export brings it.
            self.state.store_ticket(replace(apply_changes(ticket, changes), updated_at=stamp))

    # -- on an issue -----------------------------------------------------------------------

    def on_issues(self, ticket_id: int, actions: Sequence[PlannedAction]) -> None:
        """Apply one ticket's flows to its issues, each alone."""
        attempts = self.state.attempts(ticket_id)
        tracker = self.host.tracker
        for planned in actions:
            action = planned.action
            try:
                if (planned.key in attempts and isinstance(action, CommentOnIssue)
                        and tracker.has_issue_comment(action.issue_key,
                                                      note_marker(planned.key))):
                    self._done(planned, {"reconciled": "found on the issue"})
                    continue
                self._intend([planned])
                if isinstance(action, CommentOnIssue):
                    tracker.comment_on_issue(action)
                elif isinstance(action, LabelIssue):
                    tracker.label_issue(action)
            except ServiceError as error:
                self.recorder.failure([planned], error, self.report)
                continue
            self._done(planned)


def _landed_on_ticket(desk: TicketDesk, ticket: Ticket, planned: PlannedAction) -> bool:
    """Whether an earlier attempt of `planned` shows on the ticket as it is now."""
    action = planned.action
    if isinstance(action, AddInternalNote):
        return desk.has_note(ticket.id, note_marker(planned.key))
    if isinstance(action, AddPublicReply):
        return desk.has_note(ticket.id, action.body)
    if isinstance(action, SetStatus):
        return ticket.status == action.status
    if isinstance(action, AddTags):
        return set(action.tags) <= ticket.tags
    return False
