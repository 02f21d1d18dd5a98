"""The service: one pass reads what changed, selects what is due, and settles it in batches
of up to a thousand tickets: plan, record the intents, act, record the outcomes.

1. read changes (afterhours.reading): the export's pages into the state, each stored
   ticket made due;
2. select what is due (afterhours.wakeups): the tickets stored since, those whose wake-up
   has come, those with unsettled entries; after a policy change, every open ticket once;
3. plan each batch (afterhours.settling, domain.planner), with the wake-ups recorded in
   the same transaction as the plans' skips and superseded entries;
4. to 6. record the intents, act in batches and record the outcomes (afterhours.acting).
The daemon's loop around the passes (the lease, the reload) is afterhours.daemon.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import timedelta
from itertools import islice
from pathlib import Path

import structlog

from afterhours import daemon
from afterhours.adapters.lease import LeaseKeeper
from afterhours.adapters.ports import IssueTracker, Notifier, TicketDesk
from afterhours.adapters.state import StateStore
from afterhours.breaker import Breakers
from afterhours.clock import Clock
from afterhours.domain.model import Ticket
from afterhours.errors import LeaseLostError, StateError
from afterhours.logs import correlated_pass
from afterhours.ops.health import Health
from afterhours.ops.metrics import Metrics
from afterhours.ops.passes import observed_pass
from afterhours.outcomes import PassReport, Recorder
from afterhours.policy.model import Policy
from afterhours.quarantine import Intake
from afterhours.reading import read_changes
from afterhours.settling import BatchSettling
from afterhours.syncback import start_sync_watch, sync_back, sync_issues
from afterhours.wakeups import Wakeups

log = structlog.get_logger()
# Tickets settled together: ten update_many jobs of 100, queued and followed together (see
# adapters/zendesk_batch.py). A stop or a lost lease takes effect between batches.
BATCH = 1000


class Service(BatchSettling):
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
        similarity_model: Path | None = None,
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
        # The model's folder for similar_issues: matcher: meaning (None: the package's).
        self.similarity_model = similarity_model
        # Set by SIGTERM: the pass stops after the batch in hand (the retry policy's waits
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
        self._swept_pages = False  # the closed tickets that paged looked at since start
        # On PostgreSQL the lease decides which replica acts; None: this daemon alone does
        # (on SQLite its file lock made it the only one).
        self.lease = lease

    @property
    def is_leader(self) -> bool:
        """Whether this replica acts now (the afterhours_leader gauge): always without a
        lease, else while it holds the lease."""
        return self.lease is None or self.lease.is_leader

    def run_pass(self, *, read_export: bool = True, issues: Sequence[str] = ()) -> PassReport:
        """Read what changed, then settle every ticket that is due once (or until stopped).
        Each log line of the pass carries its `pass_id`, and each about a ticket its
        `ticket_id`. `read_export=False`: only what is due (pushed tickets stored just
        before), sparing the export's own rate limit, and of Jira only the `issues` pushed
        (no search)."""
        with correlated_pass(), observed_pass(self.metrics, self.health) as report:
            self.breakers.new_pass()
            start_sync_watch(self)
            intake = Intake(self.desk, self.state, self.recorder, self.clock)
            self._changed = read_changes(
                intake, self.clock, backfill=self.backfill, metrics=self.metrics,
                stop=self.stop, report=report) if read_export else set()
            self._close_out(report)
            self.wakeups.follow(self.policy)  # a new policy: every open ticket is due
            due = self.wakeups.due()
            while tickets := list(islice(due, BATCH)):
                # A lease lost mid-pass stops the acting at once: another replica goes on.
                if self.stop.is_set() or not self.is_leader:
                    report.interrupted = True
                    break
                self._settle_chunk(tickets, report)
            if report.interrupted:
                return report
            if self.is_leader:
                self._resolve_closed(report)
            # Jira's progress back to the tickets (and theirs to it).
            if read_export:
                sync_back(self, report)
            if issues:  # pushed by Jira's webhooks: at once
                sync_issues(self, issues, report)
        return report

    def _resolve_closed(self, report: PassReport) -> None:
        """Plan the tickets solved or closed meanwhile that paged PagerDuty: for a closed
        ticket the planner plans only the resolves of its incidents still open. The first
        pass after a start looks at every one closed in the last week (a kill may have come
        between storing one and resolving its page)."""
        swept = self._swept_pages
        closed = self.state.closed_with_pages(
            self._changed if swept else None, since=self.clock() - timedelta(days=7))
        self._swept_pages = True
        for start in range(0, len(closed), BATCH):
            self._settle_chunk(closed[start:start + BATCH], report)

    def _settle_chunk(self, tickets: list[Ticket], report: PassReport) -> None:
        """Settle a batch of tickets; a surprise is counted against each, not raised."""
        try:
            self._settle_batch(tickets, report)
        except (StateError, LeaseLostError):  # no later ticket can be recorded either
            raise
        except Exception as error:  # one batch's surprise must not starve the rest
            for ticket in tickets:
                self._crashed(ticket, error, report)

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
