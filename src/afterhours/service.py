"""The loop: read changed tickets, plan, apply, record; then again, until told to stop.

One pass drains the incremental export into the state file, then plans every open ticket
there. Open tickets are planned even when Zendesk reports no change, which is how a ticket
that just sits there still reaches its escalation deadline without an API call per ticket.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from typing import Any

import structlog

from afterhours.adapters.ports import IssueTracker, Notifier, TicketDesk
from afterhours.adapters.state import SqliteState
from afterhours.clock import Clock
from afterhours.domain.actions import (
    ZENDESK_ACTIONS,
    CreateJiraIssue,
    LinkJiraIssue,
    NotifyChannel,
    PlannedAction,
    SkippedAction,
)
from afterhours.domain.model import Ticket
from afterhours.domain.planner import plan_actions
from afterhours.errors import ConflictError, PermanentError, ServiceError
from afterhours.policy.model import Policy

log = structlog.get_logger()
# Creating a Jira issue teaches the planner a fact (the key) that the link actions need;
# a few rounds per ticket per pass is all that can ever be useful.
MAX_ROUNDS = 3


@dataclass
class PassReport:
    """What one pass did, for the canonical log line and the demo."""

    pages: int = 0
    tickets_read: int = 0
    tickets_planned: int = 0
    done: int = 0
    skipped: int = 0
    failed: int = 0
    deferred: int = 0
    conflicts: int = 0
    crashed: int = 0
    export_failed: bool = False
    interrupted: bool = False

    @property
    def clean(self) -> bool:
        """Nothing failed, waits for a retry, or crashed."""
        return not (self.export_failed or self.failed or self.deferred or self.crashed)


class Service:
    """Runs passes over Zendesk with the policy in force."""

    def __init__(
        self,
        *,
        desk: TicketDesk,
        tracker: IssueTracker,
        notifier: Notifier,
        state: SqliteState,
        policy: Policy,
        clock: Clock,
        backfill: timedelta = timedelta(hours=24),
        stop: threading.Event | None = None,
    ) -> None:
        self.desk = desk
        self.tracker = tracker
        self.notifier = notifier
        self.state = state
        self.policy = policy
        self.clock = clock
        # Zendesk refuses an export that starts less than a minute ago.
        self.backfill = max(backfill, timedelta(minutes=2))
        # Set by SIGTERM: the pass stops after the ticket in hand (the retry policy's waits
        # end early on the same event, see bootstrap).
        self.stop = stop or threading.Event()

    def run_pass(self) -> PassReport:
        """Read what changed, then settle every open ticket once (or until stopped)."""
        report = PassReport()
        self._read_changes(report)
        for ticket in self.state.open_tickets():
            if self.stop.is_set():
                report.interrupted = True
                break
            try:
                self._settle(ticket, report)
            except Exception:  # one ticket's surprise must not starve every ticket after it
                report.crashed += 1
                log.exception("ticket.crashed", ticket_id=ticket.id)
        log.info("pass.completed", **asdict(report))
        return report

    def close(self) -> None:
        """Close every adapter; the service is unusable afterwards."""
        for adapter in (self.desk, self.tracker, self.notifier, self.state):
            adapter.close()

    def run_forever(self, interval: float) -> None:
        """Run passes every `interval` seconds until `self.stop` is set."""
        while not self.stop.is_set():
            try:
                self.run_pass()
            except Exception:  # a daemon outlives a bad pass; the next one starts afresh
                log.exception("pass.crashed")
            self.stop.wait(interval)
        log.info("daemon.stopped")

    def _read_changes(self, report: PassReport) -> None:
        cursor = self.state.export_cursor()
        start = self.clock() - self.backfill
        try:
            while True:
                page = self.desk.export_page(cursor, start)
                self.state.store_page(page.tickets, page.cursor)
                report.pages += 1
                report.tickets_read += len(page.tickets)
                cursor = page.cursor
                if page.end_of_stream:
                    return
        except ServiceError as error:
            # Without fresh changes the stored tickets can still be escalated on time.
            report.export_failed = True
            log.error("export.failed", error=str(error), status=error.status)

    def _settle(self, ticket: Ticket, report: PassReport) -> None:
        for round_number in range(MAX_ROUNDS):
            plan = plan_actions(ticket, self.policy, self.clock(), self.state.history(ticket.id))
            if not plan:
                return
            if round_number == 0:
                report.tickets_planned += 1
            with self.state.batch():
                for skip in plan.skips:
                    self._record(ticket.id, "skipped", skip.reason, entry=skip)
                    report.skipped += 1
            if not plan.actions:
                return
            outcome = self._apply(ticket, plan.actions, report)
            if outcome is None:
                return
            ticket, learned = outcome
            if not learned:
                return

    def _apply(
        self, ticket: Ticket, actions: Sequence[PlannedAction], report: PassReport
    ) -> tuple[Ticket, bool] | None:
        """Apply one plan; return the ticket as now stamped and whether a new fact was learned,
        or None when the ticket changed under us and must be re-read before anything else."""
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
                # An agent changed the ticket since we read it: the entries stay intended and
                # the next pass re-plans from the agent's version, outside actions included.
                report.conflicts += 1
                self._record(ticket.id, "conflict",
                             "ticket changed since read; re-planning on the next pass")
                return None
        # Chat and Jira go ahead even when Zendesk failed: an on-call page must not wait for
        # Zendesk to recover.
        learned = False
        for planned in actions:
            if isinstance(planned.action, ZENDESK_ACTIONS):
                continue
            try:
                detail = self._perform(planned)
            except ServiceError as error:
                self._record_failure([planned], error, report)
                continue
            learned = learned or isinstance(planned.action, CreateJiraIssue)
            self._record(ticket.id, "done", planned.reason, entry=planned, detail=detail)
            report.done += 1
        return ticket, learned

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
                self._record_failure(changes, error, report)
                return ticket
            # One bad field (a group that does not exist, say) must not sink the priority and
            # tags beside it: try each change alone, so only the bad one fails.
            for change in changes:
                ticket = self._update_desk(ticket, [change], report)
            return ticket
        except ServiceError as error:
            self._record_failure(changes, error, report)
            return ticket
        with self.state.batch():  # one Zendesk update settles all its entries at once
            for planned in changes:
                self._record(ticket.id, "done", planned.reason, entry=planned,
                             detail=_describe(planned))
                report.done += 1
        return replace(ticket, updated_at=updated_at)

    def _perform(self, planned: PlannedAction) -> dict[str, Any]:
        action = planned.action
        if isinstance(action, CreateJiraIssue):
            issue = self.tracker.create_issue(action)
            self.state.record_jira_issue(action.ticket_id, issue, self.clock())
            log.info("jira.issue_created", ticket_id=action.ticket_id, issue_key=issue.key)
            return {"issue_key": issue.key, "issue_url": issue.url}
        if isinstance(action, LinkJiraIssue):
            self.tracker.link_issue(action)
            return {"issue_key": action.issue_key}
        if isinstance(action, NotifyChannel):
            self.notifier.notify(action.channel, action.text)
            return {"channel": action.channel}
        raise AssertionError(f"not an outside action: {planned.kind}")  # pragma: no cover

    def _record_failure(
        self, planned: Sequence[PlannedAction], error: ServiceError, report: PassReport
    ) -> None:
        permanent = isinstance(error, PermanentError)
        for item in planned:
            # A permanent failure settles the entry (it would fail the same way again); any
            # other (transient, refused credentials) leaves it intended for the next pass.
            self._record(
                item.action.ticket_id, "failed" if permanent else "deferred", str(error),
                entry=item, detail={"status": error.status},
                status="failed" if permanent else None,
            )
            if permanent:
                report.failed += 1
            else:
                report.deferred += 1

    def _record(
        self,
        ticket_id: int,
        outcome: str,
        reason: str,
        *,
        entry: PlannedAction | SkippedAction | None = None,
        detail: dict[str, Any] | None = None,
        status: str | None = None,
    ) -> None:
        """Audit an outcome; `status` (or done/skipped) also settles the entry in the ledger."""
        key = entry.key if entry else None
        rule = entry.rule if entry else None
        action = entry.kind if isinstance(entry, PlannedAction) else None
        settled = status or (outcome if outcome in ("done", "skipped") else None)
        self.state.record(
            at=self.clock(), ticket_id=ticket_id, key=key, rule=rule, action=action,
            outcome=outcome, reason=reason, status=settled, detail=detail,
        )
        event = f"action.{outcome}" if key else f"ticket.{outcome}"
        level = log.warning if outcome in ("failed", "deferred", "conflict") else log.info
        level(event, ticket_id=ticket_id, key=key, rule=rule, action=action, reason=reason,
              **(detail or {}))


def _describe(planned: PlannedAction) -> dict[str, Any]:
    fields = asdict(planned.action)
    fields.pop("ticket_id", None)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()}
