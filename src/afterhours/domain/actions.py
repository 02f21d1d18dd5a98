"""What the planner asks the shell to do, each as an imperative noun, and the plan around them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from afterhours.domain.comment_text import JiraComment
from afterhours.domain.frozen import quick_init
from afterhours.domain.issue_text import IssueBody


@quick_init
@dataclass(frozen=True)
class SetPriority:
    """Set the ticket's Zendesk priority."""

    ticket_id: int
    priority: str


@quick_init
@dataclass(frozen=True)
class AddTags:
    """Add tags to the ticket (never replacing the ones it has)."""

    ticket_id: int
    tags: tuple[str, ...]


@quick_init
@dataclass(frozen=True)
class RemoveTags:
    """Remove tags from the ticket, leaving the others."""

    ticket_id: int
    tags: tuple[str, ...]


@quick_init
@dataclass(frozen=True)
class AssignAgent:
    """Assign the ticket to an agent, by email."""

    ticket_id: int
    email: str


@quick_init
@dataclass(frozen=True)
class AddPublicReply:
    """Add a public comment the requester sees, such as the after-hours acknowledgement."""

    ticket_id: int
    body: str


@quick_init
@dataclass(frozen=True)
class AssignGroup:
    """Assign the ticket to a Zendesk group, by name."""

    ticket_id: int
    group: str


@quick_init
@dataclass(frozen=True)
class AddInternalNote:
    """Add a private comment that only agents see."""

    ticket_id: int
    body: str


@quick_init
@dataclass(frozen=True)
class Claim:
    """A group change a chat message announces: the message may name the group only once
    the change (ledger key `key`) is done; until then `plain_text` is sent instead."""

    key: str
    group: str
    plain_text: str


@quick_init
@dataclass(frozen=True)
class NotifyChannel:
    """Post a message to a chat channel declared in the policy."""

    ticket_id: int
    channel: str
    text: str
    claim: Claim | None = None  # what `text` announces that must land first
    # The ledger key of the Jira create planned with this message: the message names the
    # issue it filed, or says it is not filed (yet), as things stand when it is sent.
    filing: str | None = None
    # The Slack channel id when the channel is Slack's Web API (type slack), not a webhook.
    conversation: str | None = None


@quick_init
@dataclass(frozen=True)
class CreateJiraIssue:
    """File the ticket in Jira; `labels` carry the ticket's identity for de-duplication.
    The description is written as ADF or wiki markup by the adapter, as the server takes."""

    ticket_id: int
    project: str
    issue_type: str
    summary: str
    description: IssueBody
    labels: tuple[str, ...]
    priority: str | None = None  # a Jira priority name, such as Highest
    components: tuple[str, ...] = ()


@quick_init
@dataclass(frozen=True)
class LinkJiraIssue:
    """Point the Jira issue back at the ticket with a remote link."""

    ticket_id: int
    issue_key: str
    ticket_url: str
    title: str


@dataclass(frozen=True)
class JoinJiraIssue:
    """Join the ticket to an issue filed already (a known issue) instead of filing a new one:
    label the issue `label` (zendesk-<id>, as when filing) and count the tickets it now has in
    its customers-<n> label; only while the issue is not Done and (given `projects`) still in
    one of them (domain.join_refusals.join_refusal)."""

    ticket_id: int
    issue_key: str
    label: str
    projects: tuple[str, ...] = ()  # the projects it may be joined in; () for any


@dataclass(frozen=True)
class SetStatus:
    """Set the ticket's Zendesk status, such as open (a ticket reopened for its agent)."""

    ticket_id: int
    status: str


@dataclass(frozen=True)
class CommentOnIssue:
    """Leave a comment on a Jira issue about the ticket (sync-back: a solve, a reopening, a
    customer's comment); written as ADF or wiki markup by the adapter."""

    ticket_id: int
    issue_key: str
    body: JiraComment


@dataclass(frozen=True)
class LabelIssue:
    """Add labels to a Jira issue (never replacing the ones it has)."""

    ticket_id: int
    issue_key: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class TriggerPage:
    """Page a PagerDuty service (a channel of type pagerduty) about the ticket: one incident
    per `dedup_key` (the ledger key of the level's first page), however often it is sent.
    `summary` is one line, the ticket's subject the only customer text in it."""

    ticket_id: int
    channel: str
    dedup_key: str
    summary: str
    severity: str  # critical, error, warning or info
    link: str | None  # the ticket's URL, when afterhours may link to it
    details: tuple[tuple[str, str], ...] = ()  # afterhours' own words: the rule, why


@dataclass(frozen=True)
class ResolvePage:
    """Resolve the PagerDuty incident `dedup_key` opened: the level that paged has stopped."""

    ticket_id: int
    channel: str
    dedup_key: str


@dataclass(frozen=True)
class SendMail:
    """Mail an escalation to `to` through the SMTP server: a plain-text and an HTML part
    (customer text escaped in both), its Message-ID derived from `message_key` (the ledger
    key), so a mail sent again after a lost answer is the same message."""

    ticket_id: int
    channel: str
    to: tuple[str, ...]
    subject: str
    text: str
    html: str
    message_key: str


@dataclass(frozen=True)
class UpdateChatMessage:
    """Replace an escalation's message posted through Slack's Web API (ledger key
    `message_key`, in `conversation`) with `text`: its level has stopped, and says why."""

    ticket_id: int
    channel: str
    conversation: str
    message_key: str
    text: str


ZendeskAction = (
    SetPriority | AddTags | RemoveTags | AssignGroup | AssignAgent | AddInternalNote
    | AddPublicReply | SetStatus
)
Action = (ZendeskAction | NotifyChannel | CreateJiraIssue | LinkJiraIssue | CommentOnIssue
          | LabelIssue | JoinJiraIssue | TriggerPage | ResolvePage | SendMail
          | UpdateChatMessage)
ZENDESK_ACTIONS = (
    SetPriority, AddTags, RemoveTags, AssignGroup, AssignAgent, AddInternalNote, AddPublicReply,
    SetStatus,
)
# Done even once the ticket is closed, by the ledger's action names: what a stopped level
# still owes (its incident's resolve, its Slack messages' update), and what a filed or
# joined issue owes (its link, a join's comment; known_issues.plan_issue_side).
LEVEL_ENDINGS = frozenset({ResolvePage.__name__, UpdateChatMessage.__name__})
ISSUE_SIDE = frozenset({LinkJiraIssue.__name__, CommentOnIssue.__name__})


@quick_init
@dataclass(frozen=True)
class PlannedAction:
    """An action with its idempotency key, the rule that asked for it and why."""

    key: str
    rule: str
    reason: str
    action: Action

    @property
    def kind(self) -> str:
        """The action's type name, e.g. 'CreateJiraIssue'."""
        return type(self.action).__name__


@quick_init
@dataclass(frozen=True)
class SkippedAction:
    """A rule that matched but deliberately did nothing, and why; settled once like an action."""

    key: str
    rule: str
    reason: str


@quick_init
@dataclass(frozen=True)
class Plan:
    """Everything the planner decided for one ticket at one moment.

    `wake_at`: the earliest moment at which the plan for the same ticket and history could
    differ by the passing of time alone (see domain.planner); None when it never will. It
    is not part of what was decided, so two plans compare equal without it.
    """

    ticket_id: int
    actions: tuple[PlannedAction, ...] = ()
    skips: tuple[SkippedAction, ...] = ()
    wake_at: datetime | None = field(default=None, compare=False)

    def __bool__(self) -> bool:
        return bool(self.actions or self.skips)
