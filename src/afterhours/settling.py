"""Settling a batch of due tickets together, in rounds, each phase one batch:

1. plan every ticket (domain.planner, pure); a ticket whose plan pages someone, or whose
   stamp an earlier write of this pass made unknown, is read afresh first (one
   `fetch_tickets` for all of them) and planned again from what Zendesk has now;
2. record every plan's skips, superseded entries and wake-up, in one transaction;
3. act (afterhours.acting): reconcile interrupted attempts and file the Jira issues; a
   ticket that learned its issue (filed or found) is planned again at once with it; then
   record the intents, write Zendesk for the whole batch, then links and chat;
4. a ticket an agent changed under us (a conflict, re-read in one batch) goes round again,
   at most MAX_ROUNDS times; the others are settled for this pass.

So a batch of a thousand tickets costs a few dozen requests, not a few thousand, and a
ticket still never bounces between the store and the services action by action.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import structlog

from afterhours.acting import TicketActing
from afterhours.domain.actions import (
    ZENDESK_ACTIONS,
    CreateJiraIssue,
    Plan,
    ResolvePage,
    UpdateChatMessage,
)
from afterhours.domain.model import Ticket
from afterhours.domain.planner import plan_actions
from afterhours.errors import LeaseLostError, ServiceError, StateError
from afterhours.filing import Turn
from afterhours.outcomes import PassReport
from afterhours.policy.model import Policy

log = structlog.get_logger()
# Rounds per ticket per pass: each re-read after a 409 calls for planning once more.
MAX_ROUNDS = 5


@dataclass
class Planned:
    """A ticket's turn with the plan made for it this round."""

    turn: Turn
    plan: Plan


def pages(plan: Plan) -> bool:
    """Whether the plan escalates: a metric set lags the reply it measures, and the export
    lags a minute, so nobody is paged from a snapshot (a resolve pages nobody)."""
    return any(p.rule.startswith("escalation:")
               and not isinstance(p.action, ResolvePage | UpdateChatMessage)
               for p in plan.actions)


class BatchSettling(TicketActing):
    """The service's settling part: rounds of plan, record, act over a batch of tickets."""

    policy: Policy
    _changed: set[int]

    def _settle_batch(self, tickets: Sequence[Ticket], report: PassReport) -> None:
        """Settle each ticket of the batch once for this pass (see the module's steps)."""
        for ticket in tickets:
            if ticket.id in self._changed:
                self.metrics.ticket_handled(ticket.updated_at)
        turns = [Turn(ticket) for ticket in tickets]
        for _ in range(MAX_ROUNDS):
            if not turns:
                return
            turns = self._round(turns, report)

    def _round(self, turns: list[Turn], report: PassReport) -> list[Turn]:
        """One round over the batch; return the turns that go round again."""
        planned = self._plan_each(turns, report)
        planned = self._read_afresh(planned, report)
        planned = self._record_plans(planned, report)
        self._take_actions(planned)
        learned = self._file_first([item.turn for item in planned], report)
        if learned:
            # Planned again with the issue (pure; the stamps are untouched so far), so a
            # bug's link, tag and note go out in the same write as its triage.
            planned = [item for item in planned if not item.turn.learned]
            again = self._record_plans(self._plan_each(learned, report), report)
            self._take_actions(again)
            for item in again:  # a ticket held back to join still files: a later pass does
                item.turn.actions = [a for a in item.turn.actions
                                     if not isinstance(a.action, CreateJiraIssue)]
            planned += again
        if not planned:
            return []
        return self._reread_changed(self._act_rest([item.turn for item in planned], report))

    @staticmethod
    def _take_actions(planned: Sequence[Planned]) -> None:
        """Give each turn its plan's actions, but those reconcile dealt with this pass."""
        for item in planned:
            turn = item.turn
            turn.learned = False
            turn.actions = [a for a in item.plan.actions if a.key not in turn.held]

    def _plan_each(self, turns: Sequence[Turn], report: PassReport) -> list[Planned]:
        """Plan every ticket; one that the planner cannot handle is counted and left due."""
        planned = []
        for turn in turns:
            try:
                now, history = self.clock(), self.state.history(turn.ticket.id)
                plan = self.planned_with_facts(
                    turn.ticket, plan_actions(turn.ticket, self.policy, now, history), history,
                    now)
            except (StateError, LeaseLostError):
                raise
            except Exception as error:  # one ticket's surprise must not starve the rest
                self._crashed(turn.ticket, error, report)
                continue
            if plan and not turn.counted:
                turn.counted = True
                report.tickets_planned += 1
            planned.append(Planned(turn, plan))
        return planned

    def _read_afresh(self, planned: list[Planned], report: PassReport) -> list[Planned]:
        """Read afresh, in one batch, every ticket about to page someone (once a pass) or
        to be written with a stamp this pass left unknown, and plan those from it."""
        stale = {id(p) for p in planned if p.plan.actions and (
            (pages(p.plan) and not p.turn.refreshed)
            or (not p.turn.stamp_known and any(
                isinstance(a.action, ZENDESK_ACTIONS) for a in p.plan.actions)))}
        if not stale:
            return planned
        fresh = self._fetch([p.turn.ticket.id for p in planned if id(p) in stale])
        kept = []
        for item in planned:
            turn = item.turn
            if id(item) not in stale:
                kept.append(item)
            elif fresh is None or turn.ticket.id not in fresh:  # cannot be read now
                if turn.stamp_known:  # the snapshot will do for a page
                    turn.refreshed = True
                    kept.append(item)
                # else a write without its stamp would only conflict: due again next pass
            elif (ticket := fresh[turn.ticket.id]) is None:
                self._deleted(turn.ticket)
            else:
                turn.refreshed = turn.stamp_known = True
                if ticket == turn.ticket:
                    kept.append(item)
                    continue
                turn.ticket = ticket
                self.state.store_ticket(ticket)
                kept.extend(self._plan_each([turn], report))
        return kept

    def _fetch(self, ticket_ids: list[int]) -> dict[int, Ticket | None] | None:
        """The tickets as Zendesk has them now (None: deleted; left out: unreadable); None
        when Zendesk cannot be read at all."""
        try:
            found = self.desk.fetch_tickets(ticket_ids)
        except ServiceError as error:
            log.warning("tickets.refresh_failed", tickets=len(ticket_ids), error=str(error))
            return None
        return found

    def _deleted(self, ticket: Ticket) -> None:
        self.state.store_ticket(replace(ticket, status="deleted"))
        self.recorder.record(ticket.id, "deleted", "the ticket no longer exists in Zendesk")

    def _record_plans(self, planned: list[Planned], report: PassReport) -> list[Planned]:
        """Record every plan's superseded entries, skips and wake-up in one transaction;
        return those with actions to take."""
        with self.state.batch():
            for item in planned:
                ticket_id, plan = item.turn.ticket.id, item.plan
                superseded = self.recorder.supersede(ticket_id, plan)
                report.skipped += superseded
                for skip in plan.skips:
                    self.recorder.record(ticket_id, "skipped", skip.reason, entry=skip)
                    report.skipped += 1
                # A plan with actions wakes at once: due again until the next plan says not.
                # So does one that superseded an entry: a page given up while it may have
                # gone out is settled now, and the next plan resolves its incident.
                self.state.set_wake(ticket_id, self.clock() if superseded else plan.wake_at)
        return [item for item in planned if item.plan.actions]

    def _reread_changed(self, again: list[Turn]) -> list[Turn]:
        """Re-read, in one batch, the tickets an agent changed under us; the others going
        round again keep their snapshot (their plan counts on the ledger, not the stamp)."""
        conflicted = [t for t in again if t.conflicted]
        if not conflicted:
            return again
        fresh = self._fetch([t.ticket.id for t in conflicted])
        going = [t for t in again if not t.conflicted]
        for turn in conflicted:
            if fresh is None or turn.ticket.id not in fresh:
                continue  # cannot be read now: due again next pass
            ticket = fresh[turn.ticket.id]
            if ticket is None:
                self._deleted(turn.ticket)
                continue
            self.state.store_ticket(ticket)
            going.append(Turn(ticket, refreshed=turn.refreshed, counted=True))
        return going
