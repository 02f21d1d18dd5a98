"""The service: one pass reads what changed, selects what is due, plans each such ticket,
records the intents, acts, and records the outcomes.

1. read changes (afterhours.reading): the export's pages into the state, each stored
   ticket made due;
2. select what is due (afterhours.wakeups): the tickets stored since, those whose wake-up
   has come, those with unsettled entries; after a policy change, every open ticket once;
3. plan (domain.planner), with the wake-up recorded in the same transaction as the plan's
   skips and superseded entries;
4. to 6. record the intents, act and record the outcomes (afterhours.acting).
The daemon's loop around the passes (the lease, the reload) is afterhours.daemon.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import structlog

from afterhours import daemon
from afterhours.acting import TicketActing
from afterhours.adapters.lease import LeaseKeeper
from afterhours.adapters.ports import IssueTracker, Notifier, TicketDesk
from afterhours.adapters.state import StateStore
from afterhours.breaker import Breakers
from afterhours.clock import Clock
from afterhours.domain.model import Ticket
from afterhours.domain.planner import plan_actions
from afterhours.errors import LeaseLostError, ServiceError, StateError
from afterhours.logs import correlated_pass
from afterhours.ops.health import Health
from afterhours.ops.metrics import Metrics
from afterhours.ops.passes import observed_pass
from afterhours.outcomes import PassReport, Recorder
from afterhours.policy.model import Policy
from afterhours.quarantine import Intake
from afterhours.reading import read_changes
from afterhours.syncback import sync_back
from afterhours.wakeups import Wakeups

log = structlog.get_logger()
# Rounds per ticket per pass: a re-read before an escalation, a re-read after a 409, and
# a Jira issue created (a fact the link actions need) each call for planning once more.
MAX_ROUNDS = 5


class Service(TicketActing):
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
        self.wakeups = Wakeups(state, clock)
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
        """Read what changed, then settle every ticket that is due once (or until stopped).
        Each log line of the pass carries its `pass_id`, and each about a ticket its
        `ticket_id`."""
        with correlated_pass(), observed_pass(self.metrics, self.health) as report:
            self.breakers.new_pass()
            intake = Intake(self.desk, self.state, self.recorder, self.clock)
            self._changed = read_changes(intake, self.clock, backfill=self.backfill,
                                         metrics=self.metrics, stop=self.stop, report=report)
            self._close_out(report)
            self.wakeups.follow(self.policy)  # a new policy: every open ticket is due
            for ticket in self.wakeups.due():
                # A lease lost mid-pass stops the acting at once: another replica goes on.
                if self.stop.is_set() or not self.is_leader:
                    report.interrupted = True
                    break
                self._settle_alone(ticket, report)
            if not report.interrupted:  # Jira's progress back to the tickets (and theirs to it)
                sync_back(self, report)
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
        """Run passes every `interval` seconds until stopped: see `daemon.run_forever`."""
        daemon.run_forever(self, interval, before_pass=before_pass, on_lead=on_lead)

    def _close_out(self, report: PassReport) -> None:
        """Settle what was still pending on tickets an agent solved or closed meanwhile."""
        with self.state.batch():
            report.skipped += self.recorder.settle_closed()

    def _settle(self, ticket: Ticket, report: PassReport) -> None:
        """Plan, record the intents, act, record the outcomes; plan again (at most
        MAX_ROUNDS times) when acting brought something new to plan from. Each plan's
        wake-up is stored with its skips: the ticket stays due until then."""
        refreshed = False
        for round_number in range(MAX_ROUNDS):
            plan = plan_actions(ticket, self.policy, self.clock(), self.state.history(ticket.id))
            if not plan:
                with self.state.batch():
                    report.skipped += self.recorder.supersede(ticket.id, plan)
                    self.state.set_wake(ticket.id, plan.wake_at)
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
                # A plan with actions wakes at once: due again until the next plan says not.
                self.state.set_wake(ticket.id, plan.wake_at)
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
