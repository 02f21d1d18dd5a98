"""Outcomes: what a pass did, written three ways at once (ledger, audit trail, log line)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import structlog

from afterhours.adapters.state import StateStore
from afterhours.adapters.zendesk_parse import short_error
from afterhours.clock import Clock
from afterhours.domain.actions import (
    ISSUE_SIDE,
    LEVEL_ENDINGS,
    JoinJiraIssue,
    Plan,
    PlannedAction,
    SkippedAction,
)
from afterhours.errors import PermanentError, ServiceError
from afterhours.ops.metrics import Metrics
from afterhours.redact import redact, redact_data

JOIN = JoinJiraIssue.__name__  # a join: withdrawn when not done, never settled (Recorder)
_NO_LONGER = "no longer planned: the ticket or policy changed since it was intended"

log = structlog.get_logger()


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
    quarantined: int = 0  # tickets Zendesk answered that could not be read (held, or no id)
    export_failed: bool = False
    interrupted: bool = False

    @property
    def result(self) -> str:
        """failed (the export, a ticket, an unreadable ticket held in quarantine or an action
        for good), interrupted (a stop request), deferred (done but for what a later pass
        retries) or ok: the passes_total label."""
        if self.export_failed or self.failed or self.crashed or self.quarantined:
            return "failed"
        if self.interrupted:
            return "interrupted"
        return "deferred" if self.deferred else "ok"

    @property
    def clean(self) -> bool:
        """The pass completed and nothing failed for good; deferred actions only wait for a
        later pass, which is normal (`run --once` exits 0)."""
        return self.result in ("ok", "deferred")


class Recorder:
    """Writes each outcome to the audit trail and the log, settling its ledger entry."""

    def __init__(self, state: StateStore, clock: Clock, metrics: Metrics | None = None) -> None:
        self.state = state
        self.clock = clock
        self.metrics = metrics or Metrics(clock)
        self._crashes: dict[int, str] = {}  # ticket id -> the last crash audited for it

    def record(
        self,
        ticket_id: int,
        outcome: str,
        reason: str,
        *,
        entry: PlannedAction | SkippedAction | None = None,
        detail: dict[str, Any] | None = None,
        status: str | None = None,
        action: str | None = None,
    ) -> None:
        """Audit an outcome; `status` (or done/skipped) also settles the entry in the ledger.
        `action` names the kind when `entry` is not a PlannedAction (one read from the ledger)."""
        key = entry.key if entry else None
        rule = entry.rule if entry else None
        # A reason quotes an error, and an error may quote a URL: no secret goes in the trail.
        reason, detail = redact(reason), redact_data(detail)
        if isinstance(entry, PlannedAction):
            action = entry.kind
        settled = status or (outcome if outcome in ("done", "skipped") else None)
        self.state.record(
            at=self.clock(), ticket_id=ticket_id, key=key, rule=rule, action=action,
            outcome=outcome, reason=reason, status=settled, detail=detail,
        )
        if key:
            self._count(key, rule, action, outcome)
        event = f"action.{outcome}" if key else f"ticket.{outcome}"
        level = (log.warning if outcome in ("failed", "deferred", "conflict", "join_refused")
                 else log.info)
        level(event, ticket_id=ticket_id, key=key, rule=rule, action=action, reason=reason,
              **(detail or {}))

    def _count(self, key: str, rule: str | None, action: str | None, outcome: str) -> None:
        # A planner's skip (a rule that matched and deliberately did nothing) has no kind.
        self.metrics.action(action or "none", outcome)
        # Every escalation level leaves exactly one note (key .../note): it counts the level.
        if outcome == "done" and rule and rule.startswith("escalation:") and key.endswith("/note"):
            self.metrics.escalation_fired(rule)

    def crashed(self, ticket_id: int, error: BaseException) -> None:
        """Audit a ticket whose turn ended in a surprise (`ticket_crashed`, with the error
        in one short line, never the ticket's text), once per ticket and error in a row: a
        ticket that fails every pass does not fill the trail. It is tried again next pass."""
        reason = short_error(error)
        if self._crashes.get(ticket_id) == reason:
            return
        self._crashes[ticket_id] = reason
        self.state.record(at=self.clock(), ticket_id=ticket_id, outcome="ticket_crashed",
                          reason=redact(f"the ticket could not be processed and was skipped "
                                        f"this pass: {reason}"))

    def done(self, planned: PlannedAction, report: PassReport,
             detail: dict[str, Any] | None = None) -> None:
        """Settle an action that took effect."""
        self.record(planned.action.ticket_id, "done", planned.reason, entry=planned,
                    detail=describe(planned) if detail is None else detail)
        report.done += 1

    def failure(
        self, planned: Sequence[PlannedAction], error: ServiceError, report: PassReport
    ) -> None:
        """Record actions that failed: settled when the failure is permanent, else deferred."""
        permanent = isinstance(error, PermanentError)
        for item in planned:
            # A permanent failure settles the entry (it would fail the same way again); any
            # other (transient, refused credentials, an unknown outcome) leaves it intended
            # for the next pass, which reconciles it first.
            self.record(
                item.action.ticket_id, "failed" if permanent else "deferred", str(error),
                entry=item, detail={"status": error.status},
                status="failed" if permanent else None,
            )
            if permanent:
                report.failed += 1
            else:
                report.deferred += 1

    def supersede(self, ticket_id: int, plan: Plan) -> int:
        """Settle entries intended earlier that `plan` no longer holds (a reply stopped the
        ladder, a repeat moved on, the ticket or the policy changed after a cut-short pass);
        return how many. Left alone they would stay 'intended' forever."""
        planned = {p.key for p in plan.actions} | {s.key for s in plan.skips}
        settled = 0
        for key, rule, action in self.state.intended(ticket_id):
            if key in planned:
                continue
            if action in LEVEL_ENDINGS:
                # Not needed now (the level is live again on a fresher read), but the incident
                # stays open (the message unchanged) until one is sent: settled as skipped, no
                # later plan could.
                self._withdraw(ticket_id, key, rule, action, "not planned now: the level it"
                               " ends is needed again; planned again when it stops")
            elif action == JOIN:
                self._withdraw(ticket_id, key, rule, action, _NO_LONGER)
            else:
                self.record(ticket_id, "skipped", _NO_LONGER,
                            entry=SkippedAction(key, rule, _NO_LONGER), action=action)
                settled += 1
        return settled

    def settle_closed(self) -> int:
        """Settle what was still intended on tickets now solved, closed or deleted; the
        planner leaves those alone, so nothing else would. Return how many."""
        settled = 0
        for ticket_id, key, rule, action in self.state.intended_on_closed():
            if action in LEVEL_ENDINGS or action in ISSUE_SIDE:  # planned all the same
                continue
            if action == JOIN:
                self._withdraw(ticket_id, key, rule, action, "the ticket was solved or closed"
                               " before its join was done: joined if it reopens")
                continue
            reason = "the ticket was solved or closed before this was done"
            self.record(ticket_id, "skipped", reason, entry=SkippedAction(key, rule, reason),
                        action=action)
            settled += 1
        return settled

    def _withdraw(self, ticket_id: int, key: str, rule: str, action: str, why: str) -> None:
        """Take back an entry intended and not done, rather than settle it, so a later plan
        may intend it afresh; audited as deferred. A level ending, so its incident is
        resolved once it stops; a join, since settled it would read as joined (the ticket's
        link, tag, note and issue comment would follow a join never made, and it would never
        file)."""
        self.state.withdraw(key)
        self.record(ticket_id, "deferred", why, entry=SkippedAction(key, rule, why),
                    action=action)


def describe(planned: PlannedAction) -> dict[str, Any]:
    """An action's fields, for the audit detail."""
    fields = asdict(planned.action)
    fields.pop("ticket_id", None)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()}
