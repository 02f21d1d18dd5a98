"""What the service needs from the outside world; adapters (and test fakes) provide it."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from afterhours.domain.actions import (
    CommentOnIssue,
    CreateJiraIssue,
    JoinJiraIssue,
    LabelIssue,
    LinkJiraIssue,
    ResolvePage,
    SendMail,
    TriggerPage,
    UpdateChatMessage,
    ZendeskAction,
)
from afterhours.domain.model import Article, JiraIssueRef, Ticket
from afterhours.domain.sync_model import CustomerComment, IssueActivity
from afterhours.errors import ServiceError


@dataclass(frozen=True)
class MalformedTicket:
    """A ticket an export page carried that could not be read: its id when it has a usable
    one, and why (short; never the ticket's body)."""

    ticket_id: int | None
    error: str


@dataclass(frozen=True)
class ExportPage:
    """One page of the incremental ticket export and the cursor that follows it; `malformed`
    lists the tickets on it that could not be read (the service re-reads and tracks them)."""

    tickets: tuple[Ticket, ...]
    cursor: str
    end_of_stream: bool
    malformed: tuple[MalformedTicket, ...] = ()


@dataclass(frozen=True)
class ProjectFacts:
    """What Jira says about a project: the names a policy may use in it."""

    key: str
    name: str
    issue_types: frozenset[str]
    components: frozenset[str]


@dataclass(frozen=True)
class TicketWrite:
    """One ticket's Zendesk changes in a batched update, with the ticket as read: its
    updated_at is the stamp safe_update compares, so an agent's newer edit is never lost."""

    ticket: Ticket
    changes: tuple[ZendeskAction, ...]


@dataclass(frozen=True)
class WriteResult:
    """What a batched update did to one ticket: applied when `error` is None, with the ticket's
    new updated_at when the answer told it (None: unknown, re-read before writing again).
    Otherwise why not: ConflictError (changed since read: re-read and re-plan it alone),
    PermanentError (a value refused), OutcomeUnknownError (the answer was lost: reconcile),
    TransientError (not applied: try again later)."""

    ticket_id: int
    error: ServiceError | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ChangedIssue:
    """An issue a poll found updated: enough to tell whether it is news and whose it is."""

    key: str
    updated: datetime
    labels: tuple[str, ...]
    created: datetime | None = None  # equal to `updated`: untouched since it was filed


@dataclass(frozen=True)
class JoinedIssue:
    """An issue a ticket joined, and how many tickets it now has (its zendesk-<id> labels)."""

    issue: JiraIssueRef
    customers: int


class TicketDesk(Protocol):
    """Zendesk, as the service uses it."""

    def export_page(self, cursor: str | None, start_time: datetime) -> ExportPage:
        """The next page of changed tickets after `cursor` (or since `start_time` when None)."""
        ...

    def fetch_ticket(self, ticket_id: int) -> Ticket | None:
        """The ticket as it is now (None once deleted): fresher than any export snapshot;
        MalformedTicketError when Zendesk answers it in a shape that cannot be read."""
        ...

    def fetch_tickets(self, ticket_ids: Sequence[int]) -> dict[int, Ticket | None]:
        """Several tickets as they are now, in as few requests as Zendesk allows: None for one
        deleted; one that cannot be read is left out (the caller keeps its snapshot)."""
        ...

    def has_note(self, ticket_id: int, marker: str) -> bool:
        """Whether any comment on the ticket contains `marker`."""
        ...

    def update_ticket(self, ticket: Ticket, changes: Sequence[ZendeskAction]) -> datetime:
        """Apply `changes` in one safe update and return the ticket's new updated_at;
        ConflictError if the ticket changed since `ticket` was read."""
        ...

    def update_tickets(self, writes: Sequence[TicketWrite]) -> list[WriteResult]:
        """Apply each write with safe_update, in as few requests as Zendesk allows; one result
        per write, in order: one ticket's refusal never fails another's."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...

    def customer_comments(self, ticket_id: int, since: datetime | None) -> list[CustomerComment]:
        """The public comments the ticket's requester made after `since` (None: all), oldest
        first (sync-back: what Jira hears of)."""
        ...

    def search_articles(self, query: str, locale: str | None) -> list[Article]:
        """Help-center articles Zendesk's article search finds for `query`, by relevance;
        one attempt, never through Zendesk's breaker (Guide down: ServiceError)."""
        ...


class IssueTracker(Protocol):
    """Jira, as the service uses it."""

    def find_issue(self, ticket_id: int) -> JiraIssueRef | None:
        """The issue filed for the ticket, if search shows one yet."""
        ...

    def find_issues(self, ticket_ids: Sequence[int]) -> dict[int, JiraIssueRef]:
        """The issues filed for these tickets that search shows yet, by ticket id."""
        ...

    def create_issue(self, action: CreateJiraIssue) -> JiraIssueRef:
        """File the issue, once; OutcomeUnknownError when it may have been filed anyway."""
        ...

    def create_issues(
        self, actions: Sequence[CreateJiraIssue]
    ) -> list[JiraIssueRef | ServiceError]:
        """File each issue once, in as few requests as Jira allows; one result per action, in
        order: the issue, or why not (OutcomeUnknownError when it may have been filed)."""
        ...

    def link_issue(self, action: LinkJiraIssue) -> None:
        """Upsert the remote link from the issue back to the ticket."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...

    def changed_issues(self, projects: Sequence[str], window: timedelta) -> list[ChangedIssue]:
        """The issues of `projects` updated within `window` before now (Jira's now: no clock
        is compared across machines), least recently updated first, every page of them."""
        ...

    def issue_activity(self, issue_key: str) -> IssueActivity | None:
        """The issue now, with its changelog and comments; None when Jira no longer has it
        (or does not let afterhours see it)."""
        ...

    def comment_on_issue(self, action: CommentOnIssue) -> None:
        """Leave the comment, once; OutcomeUnknownError when it may have landed anyway."""
        ...

    def has_issue_comment(self, issue_key: str, marker: str) -> bool:
        """Whether a comment on the issue contains `marker`: did an earlier attempt land?"""
        ...

    def label_issue(self, action: LabelIssue) -> None:
        """Add the labels (adding one the issue has changes nothing)."""
        ...

    def join_issue(self, action: JoinJiraIssue) -> JoinedIssue:
        """Label the issue with the ticket's label and set its customers-<n> label to the
        number of tickets it has now; repeating it changes nothing."""
        ...

    def leave_issue(self, action: JoinJiraIssue) -> JoinedIssue:
        """Undo `join_issue`: take the ticket's label off and count the tickets again."""
        ...


class Notifier(Protocol):
    """The channels escalations reach people by: chat webhooks, PagerDuty services, mail."""

    def notify(self, channel: str, text: str, *, key: str | None = None) -> None:
        """Post `text` to `channel`; `key` lets receivers drop a repeat of the same message."""
        ...

    def trigger_page(self, action: TriggerPage) -> None:
        """Open (or keep open) the incident of `action.dedup_key` on a PagerDuty channel."""
        ...

    def resolve_page(self, action: ResolvePage) -> None:
        """Resolve the incident of `action.dedup_key`."""
        ...

    def send_mail(self, action: SendMail) -> dict[str, Any]:
        """Mail `action` to its recipients; what the server refused, for the audit."""
        ...

    def post_message(self, conversation: str, text: str, *, key: str) -> str | None:
        """Post `text` to a Slack conversation through the Web API, once per `key`; the
        message's ts (None: nothing was posted)."""
        ...

    def update_posted(self, action: UpdateChatMessage, ts: str | None) -> dict[str, Any]:
        """Replace a message posted through the Web API (`ts`, when known) with the
        action's text; what was done, for the audit."""
        ...

    def update_message(self, response_url: str, text: str) -> None:
        """Replace a message someone clicked a button of with `text`."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@dataclass(frozen=True)
class StoredMeaning:
    """A text's meaning as the state kept it, and when a pass last used it (for pruning)."""

    meaning: bytes
    used_at: datetime


class MeaningStore(Protocol):
    """Meanings kept across restarts (similar_issues: matcher: meaning): a cache, never the
    truth; keyed by the model's identity and the exact text it read. The state store."""

    def stored_meanings(self, model: str, texts: Collection[str]) -> dict[str, StoredMeaning]:
        """The meanings `model` gave of those of `texts` kept: all read in a few queries."""
        ...

    def store_meanings(self, model: str, meanings: Mapping[str, bytes], *,
                       used: Collection[str], at: datetime, unused_before: datetime) -> None:
        """In one transaction: keep `meanings`, mark `used` (kept texts) used `at`, and drop
        every meaning, of any model, not used since `unused_before`."""
        ...
