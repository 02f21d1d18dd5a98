"""The loop: read changed tickets, plan, apply, record; then again, until told to stop.

One pass drains the incremental export into the state file, then plans every open ticket
there. Open tickets are planned even when Zendesk reports no change, which is how a ticket
that just sits there still reaches its escalation deadline without an API call per ticket.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import structlog

from afterhours.adapters.lease import LeaseKeeper
from afterhours.adapters.ports import IssueTracker, Notifier, TicketDesk
from afterhours.adapters.state import StateStore
from afterhours.announce import as_sent
from afterhours.breaker import Breakers
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
from afterhours.domain.planner import plan_actions
from afterhours.errors import (
    ConflictError,
    LeaseLostError,
    PermanentError,
    ServiceError,
    StateError,
    TransientError,
)
from afterhours.logs import correlated_pass
from afterhours.ops.health import Health
from afterhours.ops.metrics import Metrics
from afterhours.ops.passes import observed_pass
from afterhours.outcomes import PassReport, Recorder
from afterhours.policy.model import Policy
from afterhours.quarantine import Intake
from afterhours.reconcile import reconcile

log = structlog.get_logger()
# Passes in a row whose state store failed before the daemon gives up and exits non-zero:
# a few minutes to ride out a full disk being cleared, not hours of doing nothing.
MAX_STORE_FAILURES = 5
# Rounds per ticket per pass: a re-read before an escalation, a re-read after a 409, and
# a Jira issue created (a fact the link actions need) each call for planning once more.
MAX_ROUNDS = 5
# How often a standby looks whether its lease keeper took the lease over (seconds).
STANDBY_POLL = 0.1


class Service:
    """Runs passes over Zendesk with the policy in force."""

    def __init__(
        self,
        *,
        desk: TicketDesk,
        tracker: IssueTracker,
        notifier: Notifier,
        state: StateStore,
        policy: Policy,
        clock: Clock,
        backfill: timedelta = timedelta(hours=24),
        search_lag: timedelta = timedelta(minutes=3),
        stop: threading.Event | None = None,
        breakers: Breakers | None = None,
        metrics: Metrics | None = None,
        health: Health | None = None,
        lease: LeaseKeeper | None = None,
    ) -> None:
        self.desk = desk
        self.tracker = tracker
        self.notifier = notifier
        self.state = state
        self.policy = policy
        self.clock = clock
        # Zendesk refuses an export that starts less than a minute ago.
        self.backfill = max(backfill, timedelta(minutes=2))
        # How long Jira's search may take to show a new issue (see afterhours.reconcile).
        self.search_lag = search_lag
        # Set by SIGTERM: the pass stops after the ticket in hand (the retry policy's waits
        # end early on the same event, see bootstrap).
        self.stop = stop or threading.Event()
        # What ops see (afterhours.ops): fresh ones unless the composition root shares its own.
        self.metrics = metrics or Metrics(clock)
        self.health = health or Health(clock, metrics=self.metrics,
                                       store_probe=state.export_cursor)
        self.recorder = Recorder(state, clock, self.metrics)
        # The adapters' circuit breakers (see bootstrap): open ones probe again each pass.
        self.breakers = breakers or Breakers()
        self._changed: set[int] = set()  # tickets the export brought this pass
        # On PostgreSQL the lease decides which replica acts; None: this daemon alone does
        # (on SQLite its file lock made it the only one).
        self.lease = lease

    @property
    def is_leader(self) -> bool:
        """Whether this replica acts now (the afterhours_leader gauge): always without a
        lease, else while it holds the lease."""
        return self.lease is None or self.lease.is_leader

    def run_pass(self) -> PassReport:
        """Read what changed, then settle every open ticket once (or until stopped). Each log
        line of the pass carries its `pass_id`, and each about a ticket its `ticket_id`."""
        with correlated_pass(), observed_pass(self.metrics, self.health) as report:
            self.breakers.new_pass()
            self._read_changes(report)
            self._close_out(report)
            for ticket in self.state.open_tickets():
                # A lease lost mid-pass stops the acting at once: another replica goes on.
                if self.stop.is_set() or not self.is_leader:
                    report.interrupted = True
                    break
                self._settle_alone(ticket, report)
        return report

    def _settle_alone(self, ticket: Ticket, report: PassReport) -> None:
        """Settle one ticket with its id on every log line; a crash is counted, not raised."""
        with structlog.contextvars.bound_contextvars(ticket_id=ticket.id):
            if ticket.id in self._changed:
                self.metrics.ticket_handled(ticket.updated_at)
            try:
                self._settle(ticket, report)
            except (StateError, LeaseLostError):  # no later ticket can be recorded either
                raise
            except Exception as error:  # one ticket's surprise must not starve the rest
                report.crashed += 1
                log.exception("ticket.crashed", ticket_id=ticket.id)
                self.recorder.crashed(ticket.id, error)

    def close(self) -> None:
        """Release the lease, close every adapter; the service is unusable afterwards."""
        if self.lease is not None:
            self.lease.close()
        for adapter in (self.desk, self.tracker, self.notifier, self.state):
            adapter.close()

    def run_forever(
        self, interval: float, *, before_pass: Callable[[], object] | None = None,
        on_lead: Callable[[], object] | None = None,
    ) -> None:
        """Run passes every `interval` seconds until `self.stop` is set; `before_pass` runs
        first each time (the policy reloader: the policy only changes between passes).
        Only while this replica leads: a standby waits, and `on_lead` runs each time it
        starts to lead, before its first pass. A write refused by the fence (LeaseLostError)
        makes it a standby again.

        StateError when the state store failed `MAX_STORE_FAILURES` passes in a row, or was
        still failing when told to stop: a daemon that cannot record must not look healthy.
        """
        store_error: StateError | None = None
        failures = 0
        leading = False
        while not self.stop.is_set():
            if not self.is_leader:
                leading = False
                self._stand_by()
                continue
            with correlated_pass():  # the reload before a pass, and its crash, carry its id
                try:
                    if not leading and on_lead is not None:
                        on_lead()
                    leading = True
                    if before_pass is not None:
                        before_pass()
                    self.run_pass()
                    store_error, failures = None, 0
                except LeaseLostError as error:
                    leading = False
                    self._step_down(error)
                    continue
                except StateError as error:
                    store_error, failures = error, failures + 1
                    log.error("state.failed", error=str(error), consecutive=failures,
                              limit=MAX_STORE_FAILURES)
                    if failures >= MAX_STORE_FAILURES:
                        raise
                except Exception:  # a daemon outlives a bad pass; the next one starts afresh
                    log.exception("pass.crashed")
            self.stop.wait(interval)
        log.info("daemon.stopped")
        if store_error is not None:
            raise store_error

    def _stand_by(self) -> None:
        """Wait while another replica leads: until the lease keeper takes the lease over, or
        this daemon is told to stop. Readiness hears from the store meanwhile."""
        probe_every = self.lease.lease.renew_every if self.lease is not None else 1.0
        next_probe = 0.0
        while not self.stop.is_set() and not self.is_leader:
            if time.monotonic() >= next_probe:
                self.health.probe_store()
                next_probe = time.monotonic() + probe_every
            self.stop.wait(STANDBY_POLL)

    def _step_down(self, error: LeaseLostError) -> None:
        """A fenced write was refused: another replica leads now; stop acting, stand by."""
        if self.lease is None:  # pragma: no cover  (nothing fences a lone daemon's writes)
            raise error
        self.lease.forfeit(str(error))

    def _read_changes(self, report: PassReport) -> None:
        self._changed = set()
        intake = Intake(self.desk, self.state, self.recorder, self.clock)
        try:
            cursor = self.state.export_cursor()
            start = self.clock() - self.backfill
            intake.retry_held(report, self.stop)  # quarantined tickets, before any planning
            while True:
                page = self.desk.export_page(cursor, start)
                # Snapshots, held malformed tickets and the cursor: one transaction.
                report.tickets_read += intake.store_page(page, report)
                report.pages += 1
                self._changed.update(t.id for t in page.tickets)
                cursor = page.cursor
                if page.end_of_stream:
                    self.metrics.export_caught_up()
                    return
        except ServiceError as error:
            # Without fresh changes the stored tickets can still be escalated on time.
            report.export_failed = True
            log.error("export.failed", error=str(error), status=error.status)
        except (StateError, LeaseLostError):  # no pass can be recorded: say so loudly
            raise
        except Exception:  # a surprise on the read side must not stop the escalations either
            report.export_failed = True
            log.exception("export.crashed")

    def _close_out(self, report: PassReport) -> None:
        """Settle what was still pending on tickets an agent solved or closed meanwhile."""
        with self.state.batch():
            report.skipped += self.recorder.settle_closed()

    def _settle(self, ticket: Ticket, report: PassReport) -> None:
        refreshed = False
        for round_number in range(MAX_ROUNDS):
            plan = plan_actions(ticket, self.policy, self.clock(), self.state.history(ticket.id))
            if not plan:
                with self.state.batch():
                    report.skipped += self.recorder.supersede(ticket.id, plan)
                return
            if round_number == 0:
                report.tickets_planned += 1
            if not refreshed and any(p.rule.startswith("escalation:") for p in plan.actions):
                # A metric set lags the reply it measures, and the export lags a minute: read
                # the ticket afresh before paging anyone, then plan from that.
                refreshed = True
                fresh = self._refresh(ticket, required=False)
                if fresh is None:
                    return
                if fresh != ticket:
                    ticket = fresh
                    continue
            with self.state.batch():
                report.skipped += self.recorder.supersede(ticket.id, plan)
                for skip in plan.skips:
                    self.recorder.record(ticket.id, "skipped", skip.reason, entry=skip)
                    report.skipped += 1
            if not plan.actions:
                return
            outcome = self._apply(ticket, plan.actions, report)
            if outcome is None:
                # An agent (or a lost answer of ours) changed the ticket since it was read:
                # re-read and re-plan from the ticket as it is, outside actions included.
                fresh = self._refresh(ticket, required=True)
                if fresh is None:
                    return
                ticket = fresh
                continue
            ticket, learned = outcome
            if not learned:
                return

    def _refresh(self, ticket: Ticket, *, required: bool) -> Ticket | None:
        """The ticket as Zendesk has it now, kept as its snapshot; None when it is gone, or
        when it cannot be read and `required` (else the snapshot will do)."""
        try:
            fresh = self.desk.fetch_ticket(ticket.id)
        except ServiceError as error:
            log.warning("ticket.refresh_failed", ticket_id=ticket.id, error=str(error))
            return None if required else ticket
        if fresh is None:  # deleted: nothing more to do for it
            self.state.store_ticket(replace(ticket, status="deleted"))
            self.recorder.record(ticket.id, "deleted", "the ticket no longer exists in Zendesk")
            return None
        self.state.store_ticket(fresh)
        return fresh

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
