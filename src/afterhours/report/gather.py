"""The facts of a report, read from the state store only: the snapshots of every ticket that
changed in the period and of the open backlog, the period's audit rows and the Jira issues
filed. No Zendesk or Jira request is made."""

from __future__ import annotations

from datetime import datetime

from afterhours.adapters.state import AuditRow, StateStore
from afterhours.adapters.state_report import (
    audit_since,
    filed_issues,
    open_snapshots,
    snapshots_since,
)
from afterhours.report.model import Event, Facts, Filed


def event_of(row: AuditRow) -> Event:
    """An audit row as the report reads it."""
    return Event(datetime.fromisoformat(row.at), row.ticket_id, row.key, row.rule, row.action,
                 row.outcome, row.reason, row.detail)


def gather(state: StateStore, start: datetime, end: datetime) -> Facts:
    """Everything a report of `start`..`end` is computed from."""
    db = state.database
    events = [event_of(row) for row in audit_since(state, start)]
    return Facts(
        start=start,
        end=end,
        tickets=snapshots_since(db, start),
        backlog=open_snapshots(db),
        events=[e for e in events if e.at <= end],
        filed=[Filed(f.ticket_id, f.key, f.created_at, f.status, f.joined, f.why)
               for f in filed_issues(db)],
    )
