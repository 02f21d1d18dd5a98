"""What sync-back reads, as plain data: a Jira issue as it is now with what happened to it
(changelog and comments), the tickets hanging off it, and what was last seen of a ticket.

Adapters build these from Jira's and Zendesk's answers; the planners (domain.syncback,
domain.syncback_tickets) read nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from afterhours.domain.model import Ticket

# How the changelog names the fields a policy's notes_on: lists (Jira's field ids).
NOTED_FIELDS = {"status": "status", "assignee": "assignee", "fixVersions": "fix_version",
                "resolution": "resolution"}
SYNC_PREFIX = "sync:"  # every sync-back ledger key starts so (the ticket planner skips them)


@dataclass(frozen=True)
class ChangedField:
    """One field of a changelog history: its Jira field id and its values as text."""

    field: str  # Jira's field id: status, assignee, fixVersions, resolution, labels...
    before: str | None
    after: str | None


@dataclass(frozen=True)
class IssueChange:
    """One changelog history: who changed which fields, when; `by_afterhours` when the
    author is afterhours' own Jira account."""

    history_id: str
    at: datetime
    author: str
    by_afterhours: bool
    fields: tuple[ChangedField, ...]


@dataclass(frozen=True)
class IssueComment:
    """A comment on the issue; `visibility` is role:<name> or group:<name> when it is
    restricted, `body` the text as Jira answers it on REST v2."""

    comment_id: str
    at: datetime
    author: str
    by_afterhours: bool
    body: str
    visibility: str | None = None


@dataclass(frozen=True)
class IssueState:
    """A Jira issue as it is now: what the notes and the resolution are planned from."""

    key: str
    url: str
    status: str
    resolution: str | None
    fix_versions: tuple[str, ...]
    assignee: str | None
    labels: tuple[str, ...]
    updated: datetime

    @property
    def resolved(self) -> bool:
        """Whether the issue has a resolution (Jira sets one on entering a done status)."""
        return self.resolution is not None


@dataclass(frozen=True)
class IssueActivity:
    """An issue now, with its changelog and comments (oldest first)."""

    issue: IssueState
    changes: tuple[IssueChange, ...] = ()
    comments: tuple[IssueComment, ...] = ()


@dataclass(frozen=True)
class LinkedTicket:
    """A ticket hanging off an issue: as Zendesk has it (None: gone), and the moment from
    which the issue's changes flow to it (None: all of them, for an issue afterhours filed)."""

    ticket_id: int
    ticket: Ticket | None
    since: datetime | None = None


@dataclass(frozen=True)
class TicketBaseline:
    """What sync-back last saw of a ticket: the changes since are its events."""

    status: str
    solved_at: datetime | None
    customer_update_at: datetime | None


@dataclass(frozen=True)
class CustomerComment:
    """A public comment by the ticket's requester."""

    comment_id: int
    at: datetime
    body: str


def sync_key(issue_key: str, ticket_id: int, event: str, step: str) -> str:
    """The ledger key of one step of one flow between an issue and a ticket."""
    return f"{SYNC_PREFIX}{issue_key}/ticket:{ticket_id}/{event}/{step}"


def baseline_of(ticket: Ticket) -> TicketBaseline:
    """What is seen of `ticket` now, to compare the next look with."""
    return TicketBaseline(ticket.status, ticket.solved_at, ticket.last_customer_update_at)
