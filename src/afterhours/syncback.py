"""Sync-back: progress on a Jira issue reaches the tickets it hangs off, and what happens to
those tickets reaches the issue, as the policy's sync_back: section says.

Once per pass, after the tickets (`sync_back`, called by the service):
1. link the issues afterhours filed (state_sync: an issue can hang off several tickets and a
   ticket off several issues; an issue labelled zendesk-<ticket id> is linked when seen);
2. poll Jira: the policy's projects, updated since the last poll started minus the search
   lag (JQL's relative dates, so no clock is compared across machines), every page; an
   issue is news when it is linked or labelled and its `updated` differs from the one last
   seen (deduplicated on key and updated), or when flows from it are still unsettled;
3. read each such issue's changelog and comments, plan its flows to each linked ticket
   (domain.syncback) and act (afterhours.syncback_acting);
4. for each ticket hanging off an open issue, compare it with what was last seen of it and
   leave the comments and labels its changes call for (domain.syncback_tickets).
The watermark moves only when a poll was read whole. `sync_issues` does steps 1 and 3 for
issues named by someone else (Jira's webhooks), at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from afterhours.adapters.state_sync import SeenIssue
from afterhours.domain.sync_model import IssueActivity, LinkedTicket, baseline_of
from afterhours.domain.syncback import plan_issue_flows
from afterhours.domain.syncback_tickets import plan_ticket_flows, ticket_events
from afterhours.errors import LeaseLostError, ServiceError, StateError
from afterhours.outcomes import PassReport
from afterhours.policy.sync_back_checks import watched_projects
from afterhours.syncback_acting import (
    ISSUE_EVENTS,
    TICKET_EVENTS,
    SyncActing,
    SyncHost,
    event_of,
)

log = structlog.get_logger()
_TICKET_LABEL = re.compile(r"^zendesk-(\d{1,18})$")
__all__ = ["SyncHost", "label_tickets", "sync_back", "sync_issues"]


def label_tickets(labels: Iterable[str]) -> list[int]:
    """The tickets an issue's zendesk-<ticket id> labels name."""
    return sorted({int(m[1]) for label in labels if (m := _TICKET_LABEL.match(label))})


def sync_back(host: SyncHost, report: PassReport) -> None:
    """One pass of sync-back, both ways (nothing without a sync_back: section)."""
    if host.policy.sync_back is None:
        return
    _SyncPass(host, report).run()


def start_sync_watch(host: SyncHost) -> None:
    """Before a pass's triage: if sync-back never polled, its first poll looks back to now.
    A pass cut short before its sync-back (a kill, a long backlog) must not leave the Jira
    changes made meanwhile unread; those before sync-back was turned on are not read."""
    if host.policy.sync_back is not None and host.state.sync_watermark() is None:
        host.state.set_sync_watermark(host.clock())


def sync_issues(host: SyncHost, issue_keys: Sequence[str], report: PassReport) -> None:
    """Sync these issues now, whatever was seen of them (keys from Jira's webhooks): what a
    lost webhook misses, the next poll catches."""
    if host.policy.sync_back is None:
        return
    sync = _SyncPass(host, report)
    host.state.link_filed_issues(host.clock())
    for key in dict.fromkeys(issue_keys):
        if host.stop.is_set():
            report.interrupted = True
            return
        sync.guarded(sync.sync_issue, key)


class _SyncPass:
    """One pass of sync-back."""

    def __init__(self, host: SyncHost, report: PassReport) -> None:
        self.host, self.report, self.state = host, report, host.state
        self.acting = SyncActing(host, report)

    def run(self) -> None:
        started = self.host.clock()
        self.state.link_filed_issues(started)
        polled = self._poll()
        keys = dict.fromkeys([*(polled or ()), *self.state.pending_issues()])
        for key in keys:
            if self.host.stop.is_set():
                self.report.interrupted = True
                return
            self.guarded(self.sync_issue, key)
        for ticket_id in self.state.watched_tickets():
            if self.host.stop.is_set():
                self.report.interrupted = True
                return
            self.guarded(self.sync_ticket, ticket_id)
        if polled is not None:
            self.state.set_sync_watermark(started)

    def guarded(self, step: Callable[[Any], None], item: str | int) -> None:
        """Run one issue's or ticket's sync; a surprise is counted, not raised (the state's
        and the lease's errors stop the pass, as in the ticket loop)."""
        try:
            step(item)
        except (StateError, LeaseLostError):
            raise
        except Exception:  # one issue's surprise must not starve the rest
            self.report.crashed += 1
            log.exception("sync.crashed", item=item)
            if isinstance(item, str):
                self._read_again(item)

    def _read_again(self, key: str) -> None:
        """Have the next pass read the issue again, whatever the poll says of it."""
        seen = self.state.seen_issue(key)
        never = datetime.fromtimestamp(0, UTC)  # no `updated` of Jira's equals it
        self.state.set_seen_issue(SeenIssue(key, seen.url if seen else "", seen.updated
                                            if seen else never, bool(seen and seen.resolved),
                                            True), self.host.clock())

    def _poll(self) -> list[str] | None:
        """The issues the poll found news of, oldest change first; None when it failed."""
        projects = watched_projects(self.host.policy)
        watermark = self.state.sync_watermark()
        now = self.host.clock()
        window = self.host.search_lag + (now - watermark if watermark else timedelta(0))
        try:
            changed = self.host.tracker.changed_issues(projects, window)
        except ServiceError as error:
            log.warning("sync.poll_failed", projects=list(projects), error=str(error))
            self.report.deferred += 1
            return None
        if not changed:  # a quiet poll reads no more of the state
            log.info("sync.polled", projects=list(projects), changed=0, news=0)
            return []
        known = self.state.linked_issue_keys()
        news = []
        for issue in changed:
            if issue.key not in known and not label_tickets(issue.labels):
                continue
            seen = self.state.seen_issue(issue.key)
            if seen is not None and seen.updated == issue.updated and not seen.pending:
                continue  # read already, at this very update
            if seen is None and issue.key in known and issue.created == issue.updated:
                # One afterhours filed, untouched since: nothing to read, nothing flows (a
                # first pass's bugs would otherwise cost a read each).
                self.state.set_seen_issue(SeenIssue(issue.key, "", issue.updated, False, False),
                                          now)
                continue
            news.append(issue.key)
        log.info("sync.polled", projects=list(projects), changed=len(changed), news=len(news))
        return news

    def sync_issue(self, key: str) -> None:
        """Read one issue and apply its flows to each linked ticket."""
        host, now = self.host, self.host.clock()
        try:
            activity = host.tracker.issue_activity(key)
        except ServiceError as error:
            log.warning("sync.issue_read_failed", issue_key=key, error=str(error))
            self.report.deferred += 1
            self._read_again(key)
            return
        seen = self.state.seen_issue(key)
        if activity is None:  # deleted, or hidden from afterhours: nothing more flows
            log.warning("sync.issue_gone", issue_key=key)
            self.state.set_seen_issue(SeenIssue(key, seen.url if seen else "", seen.updated
                                                if seen else now, True, False), now)
            return
        issue = activity.issue
        for ticket_id in label_tickets(issue.labels):
            if self.state.add_sync_link(key, ticket_id, source="label", since=issue.updated,
                                        at=now):
                log.info("sync.linked", issue_key=key, ticket_id=ticket_id, source="label")
        links = self.state.sync_links(key)
        unfinished = False
        for ticket_id, since in links:
            unfinished |= not self._flow_to_ticket(activity, ticket_id, since)
        pending = unfinished or any(
            event_of(k).startswith(ISSUE_EVENTS) and k.startswith(f"sync:{key}/")
            for ticket_id, _ in links for k, _, _ in self.state.intended_sync(ticket_id))
        self.state.set_seen_issue(SeenIssue(key, issue.url, issue.updated, issue.resolved,
                                            pending), now)

    def _flow_to_ticket(self, activity: IssueActivity, ticket_id: int,
                        since: datetime | None) -> bool:
        """Apply an issue's flows to one linked ticket; False when they could not be
        planned (the ticket could not be read: the issue is read again next pass)."""
        policy, prefix = self.host.policy, f"sync:{activity.issue.key}/ticket:{ticket_id}/"
        settled = self.state.history(ticket_id).settled
        try:
            ticket = self.state.ticket(ticket_id) or self.host.desk.fetch_ticket(ticket_id)
            plans = plan_issue_flows(activity, [LinkedTicket(ticket_id, ticket, since)], policy,
                                     settled)
            if plans and plans[0].actions:
                # Planned again from the ticket as it is now: a reopening or a tag depends
                # on it, and its stamp makes the update safe.
                ticket = self.host.desk.fetch_ticket(ticket_id)
                plans = plan_issue_flows(activity, [LinkedTicket(ticket_id, ticket, since)],
                                         policy, settled)
        except ServiceError as error:
            log.warning("sync.ticket_read_failed", ticket_id=ticket_id, error=str(error))
            self.report.deferred += 1
            return False
        if not plans or ticket is None:  # the ticket is gone: nothing flows to it
            return True
        [plan] = plans
        self.acting.settle_skips(plan, lambda k: k.startswith(prefix) and event_of(
            k).startswith(ISSUE_EVENTS))
        if plan.actions:
            self.acting.on_ticket(ticket, plan.actions)
        return True

    def sync_ticket(self, ticket_id: int) -> None:
        """Tell the open issues a ticket hangs off what changed on it since last seen."""
        ticket = self.state.ticket(ticket_id)
        if ticket is None:
            return
        seen = self.state.ticket_baseline(ticket_id)
        now, sync = self.host.clock(), self.host.policy.sync_back
        intended = [k for k, _, _ in self.state.intended_sync(ticket_id)]
        if seen is None or sync is None or (baseline_of(ticket) == seen and not any(
                event_of(k).startswith(TICKET_EVENTS) for k in intended)):
            # Never seen (nothing has happened yet), or nothing Jira hears of changed.
            self.state.set_ticket_baseline(ticket_id, seen or baseline_of(ticket), now,
                                           updated_at=ticket.updated_at)
            return
        open_issues = [key for key in self.state.linked_issues(ticket_id)
                       if not getattr(self.state.seen_issue(key), "resolved", False)]
        comments = []
        update = ticket.last_customer_update_at
        if sync.in_jira.customer_comment is not None and update is not None and (
                seen.customer_update_at is None or update > seen.customer_update_at):
            try:
                comments = self.host.desk.customer_comments(ticket_id, seen.customer_update_at)
            except ServiceError as error:
                log.warning("sync.comments_read_failed", ticket_id=ticket_id, error=str(error))
                self.report.deferred += 1
                return
        reopening = any(k.endswith("/reopen") for k in intended)
        events = ticket_events(ticket, seen, comments, reopening=reopening)
        plan = plan_ticket_flows(ticket, events, open_issues, self.host.policy,
                                 self.state.history(ticket_id).settled)
        self.acting.settle_skips(plan, lambda k: event_of(k).startswith(TICKET_EVENTS))
        self.acting.on_issues(ticket_id, plan.actions)
        unsettled = [k for k, _, _ in self.state.intended_sync(ticket_id)
                     if event_of(k).startswith(TICKET_EVENTS)]
        if not unsettled and not reopening:
            self.state.set_ticket_baseline(ticket_id, baseline_of(ticket), now,
                                           updated_at=ticket.updated_at)
