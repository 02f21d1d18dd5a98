"""What the planner reads: a ticket as plain data, and what was already done for it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

# The export also lists deleted tickets (status "deleted"): nothing is to be done for them.
CLOSED_STATUSES = frozenset({"solved", "closed", "deleted"})


@dataclass(frozen=True)
class Ticket:
    """A Zendesk ticket reduced to what the policy can look at; datetimes are aware UTC."""

    id: int
    subject: str
    description: str
    status: str
    priority: str | None
    tags: frozenset[str]
    channel: str
    requester_email: str | None
    organization: str | None
    group: str | None
    created_at: datetime
    updated_at: datetime
    web_url: str
    first_reply_at: datetime | None = None
    solved_at: datetime | None = None
    assignee: str | None = None  # the assignee's email
    # Custom fields by their Zendesk title; a multi-select field gives one pair per value.
    custom_fields: tuple[tuple[str, str], ...] = ()
    last_customer_update_at: datetime | None = None  # the requester's latest comment or change
    replies: int = 0  # public agent replies, afterhours' own included
    organization_url: str | None = None  # where an agent opens the requester's organization

    def field_values(self, name: str) -> tuple[str, ...]:
        """The values of the custom field titled `name` (any case); empty when unset."""
        wanted = name.casefold()
        return tuple(value for title, value in self.custom_fields if title.casefold() == wanted)

    @property
    def is_closed(self) -> bool:
        """Solved or closed: nothing more is planned for it."""
        return self.status in CLOSED_STATUSES


@dataclass(frozen=True)
class JiraIssueRef:
    """The Jira issue afterhours filed for a ticket."""

    key: str
    url: str


@dataclass(frozen=True)
class OpenIssue:
    """An open Jira issue afterhours filed or linked, as the similarity matcher sees it: the
    text of each ticket it has (subject, description)."""

    key: str
    texts: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class OpenIssues:
    """The open issues a bug ticket may join by similarity (policy similar_issues:), read
    by the shell once and shared by every ticket's history."""

    issues: tuple[OpenIssue, ...] = ()
    # Under similar_issues: matcher: meaning, what each text means (similarity.meaning_text
    # of the issues' tickets and of the tickets being planned: a unit vector of float32s).
    meanings: Mapping[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class Article:
    """A help-center article as its search answered it."""

    title: str
    url: str
    section_id: int | None = None
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Acknowledged:
    """A person acknowledged the ticket's escalation where they read it: who (as the vendor
    names them), from where (PagerDuty, Slack), when, and the agent to assign it to (Take
    it) when there is one."""

    who: str
    source: str
    at: datetime
    assignee: str | None = None

    def said(self) -> str:
        """'acknowledged by Alice Chen in PagerDuty at 2026-11-21 03:12 UTC'."""
        return (f"acknowledged by {self.who} in {self.source} at "
                f"{self.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC")


@dataclass(frozen=True)
class History:
    """What the ledger says was already settled for one ticket."""

    settled: frozenset[str] = field(default_factory=frozenset)  # action keys done or skipped
    jira_issue: JiraIssueRef | None = None
    # Only given to a ticket about to be filed in Jira, when the policy matches similar issues.
    open_issues: OpenIssues | None = None
    # Only given to a ticket whose reply may offer articles (policy articles:); None: none
    # were looked up (or the search failed), and {articles} says nothing.
    articles: tuple[Article, ...] | None = None
    acknowledgement: Acknowledged | None = None  # the first, from a page or a message
    # afterhours' own public replies still intended (an answer lost, a kill): they may be on
    # the ticket already, so a reply Zendesk counts is never taken for a person's for them.
    replies_in_doubt: int = 0
