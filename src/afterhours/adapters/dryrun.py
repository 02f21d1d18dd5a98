"""Dry-run adapters: read for real, write nothing, and log what would have been written.

`afterhours run --dry-run` runs the full loop with these in place of the writing halves of
the real adapters. Reads (the export, a fresh ticket, a Jira search) still go out, so the
plan is the one the live daemon would make; every write becomes a `dryrun.would_*` log
event and returns a plausible result, so the actions that follow it (a link after a new
Jira issue) are shown too. The state is a private SQLite copy that disappears on close
(dryrun_state.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from typing import Any

import structlog

from afterhours.adapters.comments import contains_text
from afterhours.adapters.dryrun_state import ThrowawayState, copy_from_database, snapshot
from afterhours.adapters.one_by_one import EachIssue, EachTicket
from afterhours.adapters.ports import (
    ChangedIssue,
    ExportPage,
    IssueTracker,
    JoinedIssue,
    TicketDesk,
)
from afterhours.domain.actions import (
    AddInternalNote,
    AddPublicReply,
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
from afterhours.domain.ticket_changes import apply_changes

log = structlog.get_logger()
# A reserved top-level domain (RFC 2606): the URL of an issue that was never filed cannot
# be mistaken for a real one, nor ever resolve.
FAKE_JIRA_BASE = "https://dry-run.invalid/browse"
__all__ = ["FAKE_JIRA_BASE", "DryRunIssueTracker", "DryRunNotifier", "DryRunTicketDesk",
           "ThrowawayState", "copy_from_database", "describe_changes", "snapshot"]


def describe_changes(changes: Sequence[ZendeskAction]) -> list[dict[str, Any]]:
    """Zendesk changes as plain fields for a log line, e.g. {"action": "AddTags", "tags": [...]}."""
    described = []
    for change in changes:
        fields = asdict(change)
        fields.pop("ticket_id", None)
        fields = {k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()}
        described.append({"action": type(change).__name__, **fields})
    return described


class DryRunTicketDesk(EachTicket):
    """Reads from the real desk; logs updates instead of making them.

    What a real update would have changed is laid over every later read, and an updated
    ticket shows up in the next export as Zendesk would show it, so a dry run that keeps
    going plans what the live daemon would plan next (an escalation once a priority is set).
    """

    def __init__(self, desk: TicketDesk) -> None:
        self._desk = desk
        self._changes: dict[int, list[ZendeskAction]] = {}
        self._unexported: dict[int, Ticket] = {}  # updated since the last export ended

    def export_page(self, cursor: str | None, start_time: datetime) -> ExportPage:
        """The real desk's export page, with the would-be updates laid over it."""
        page = self._desk.export_page(cursor, start_time)
        tickets = [self._as_updated(t) for t in page.tickets]
        if page.end_of_stream:
            listed = {t.id for t in tickets}
            tickets += [t for i, t in sorted(self._unexported.items()) if i not in listed]
            self._unexported.clear()
        return replace(page, tickets=tuple(tickets))

    def fetch_ticket(self, ticket_id: int) -> Ticket | None:
        """The real desk's current ticket, with the would-be updates laid over it."""
        ticket = self._desk.fetch_ticket(ticket_id)
        return None if ticket is None else self._as_updated(ticket)

    def has_note(self, ticket_id: int, marker: str) -> bool:
        """Whether a would-be note or reply, or a real comment, contains `marker`."""
        bodies = [c.body for c in self._changes.get(ticket_id, [])
                  if isinstance(c, AddInternalNote | AddPublicReply)]
        return (any(contains_text(body, marker) for body in bodies)
                or self._desk.has_note(ticket_id, marker))

    def update_ticket(self, ticket: Ticket, changes: Sequence[ZendeskAction]) -> datetime:
        """Log the update; return the ticket's own stamp, as if nobody else had touched it."""
        log.info("dryrun.would_update", ticket_id=ticket.id, changes=describe_changes(changes))
        self._changes.setdefault(ticket.id, []).extend(changes)
        self._unexported[ticket.id] = self._as_updated(ticket)
        return ticket.updated_at

    def _as_updated(self, ticket: Ticket) -> Ticket:
        return apply_changes(ticket, self._changes.get(ticket.id, []))

    def close(self) -> None:
        """Close the real desk."""
        self._desk.close()

    def customer_comments(self, ticket_id: int, since: datetime | None) -> list[CustomerComment]:
        """Ask the real desk (a read changes nothing)."""
        return self._desk.customer_comments(ticket_id, since)

    def search_articles(self, query: str, locale: str | None) -> list[Article]:
        """Ask the real desk (a search changes nothing)."""
        return self._desk.search_articles(query, locale)


class DryRunIssueTracker(EachIssue):
    """Searches the real Jira; files nothing, answering with a key that is plainly not real."""

    def __init__(self, tracker: IssueTracker) -> None:
        self._tracker = tracker

    def find_issue(self, ticket_id: int) -> JiraIssueRef | None:
        """Ask the real tracker (a search is a GET): reading changes nothing."""
        return self._tracker.find_issue(ticket_id)

    def create_issue(self, action: CreateJiraIssue) -> JiraIssueRef:
        """Log the issue; return DRYRUN-<ticket id>, so the link that follows is shown too."""
        key = f"DRYRUN-{action.ticket_id}"
        log.info(
            "dryrun.would_create_issue", ticket_id=action.ticket_id, project=action.project,
            issue_type=action.issue_type, summary=action.summary, labels=list(action.labels),
        )
        return JiraIssueRef(key, f"{FAKE_JIRA_BASE}/{key}")

    def link_issue(self, action: LinkJiraIssue) -> None:
        """Log the remote link."""
        log.info(
            "dryrun.would_link_issue", ticket_id=action.ticket_id, issue_key=action.issue_key,
            ticket_url=action.ticket_url,
        )

    def close(self) -> None:
        """Close the real tracker."""
        self._tracker.close()

    def changed_issues(self, projects: Sequence[str], window: timedelta) -> list[ChangedIssue]:
        """Ask the real tracker (a search is a read)."""
        return self._tracker.changed_issues(projects, window)

    def issue_activity(self, issue_key: str) -> IssueActivity | None:
        """Ask the real tracker, except for an issue a dry run only pretended to file."""
        if issue_key.startswith("DRYRUN-"):
            return None
        return self._tracker.issue_activity(issue_key)

    def comment_on_issue(self, action: CommentOnIssue) -> None:
        """Log the comment (its marker, not the customer's words)."""
        log.info("dryrun.would_comment_on_issue", ticket_id=action.ticket_id,
                 issue_key=action.issue_key, marker=action.body.marker)

    def has_issue_comment(self, issue_key: str, marker: str) -> bool:
        """Ask the real tracker (nothing was ever commented by a dry run)."""
        if issue_key.startswith("DRYRUN-"):
            return False
        return self._tracker.has_issue_comment(issue_key, marker)

    def label_issue(self, action: LabelIssue) -> None:
        """Log the labels."""
        log.info("dryrun.would_label_issue", ticket_id=action.ticket_id,
                 issue_key=action.issue_key, labels=list(action.labels))

    def join_issue(self, action: JoinJiraIssue) -> JoinedIssue:
        """Log the join; the count is not known without labelling (0)."""
        log.info("dryrun.would_join_issue", ticket_id=action.ticket_id,
                 issue_key=action.issue_key, label=action.label)
        return JoinedIssue(JiraIssueRef(action.issue_key,
                                        f"{FAKE_JIRA_BASE}/{action.issue_key}"), 0)

    def leave_issue(self, action: JoinJiraIssue) -> JoinedIssue:
        """Ask the real tracker: `afterhours unlink` is a person's command, never a dry run."""
        return self._tracker.leave_issue(action)


class DryRunNotifier:
    """Posts nothing; logs the channel and text (never the webhook URL, which is a secret)."""

    def notify(self, channel: str, text: str, *, key: str | None = None) -> None:
        """Log the message."""
        log.info("dryrun.would_notify", channel=channel, text=text, key=key)

    def trigger_page(self, action: TriggerPage) -> None:
        """Log the page (never the routing key, which is a secret)."""
        log.info("dryrun.would_page", channel=action.channel, summary=action.summary,
                 severity=action.severity, dedup_key=action.dedup_key)

    def resolve_page(self, action: ResolvePage) -> None:
        """Log the resolve."""
        log.info("dryrun.would_resolve_page", channel=action.channel,
                 dedup_key=action.dedup_key)

    def post_message(self, conversation: str, text: str, *, key: str) -> str | None:
        """Log the message (conversation, text and key; never the bot token)."""
        log.info("dryrun.would_post", conversation=conversation, text=text, key=key)
        return None

    def update_posted(self, action: UpdateChatMessage, ts: str | None) -> dict[str, Any]:
        """Log the update of a posted message."""
        log.info("dryrun.would_update_posted", conversation=action.conversation,
                 text=action.text, key=action.message_key)
        return {}

    def update_message(self, response_url: str, text: str) -> None:
        """Log the update (never the response_url: it lets anyone post as the app)."""
        log.info("dryrun.would_update_message", text=text)

    def send_mail(self, action: SendMail) -> dict[str, Any]:
        """Log the mail (its recipients and subject)."""
        log.info("dryrun.would_mail", channel=action.channel, to=list(action.to),
                 subject=action.subject)
        return {}

    def close(self) -> None:
        """Nothing to release: no connection was ever made."""
