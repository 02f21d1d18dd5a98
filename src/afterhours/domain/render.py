"""The words afterhours writes: chat messages, internal notes and Jira issue text."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

from afterhours.domain import chat
from afterhours.domain.issue_text import IssueBody, issue_body
from afterhours.domain.model import Ticket
from afterhours.domain.oncall import OnCallShift
from afterhours.domain.schedule import DAY_NAMES, MONTH_NAMES, TWO_DIGITS, in_zone
from afterhours.domain.text import cut, one_line, utf16_len, visible
from afterhours.policy.model import Schedule

SUMMARY_LIMIT = 255  # Jira rejects longer summaries (Java characters: UTF-16 units)
NO_SUBJECT = "(no subject)"
# one_line lives in domain.text now; the many callers that import it from here still may.
__all__ = ["chat_escape", "customer_moment", "escalation_message", "jira_description",
           "jira_summary", "mention", "one_line", "page_message", "route_message",
           "unclaimed_message", "with_issue", "without_issue"]


def jira_summary(ticket: Ticket) -> str:
    """The Jira summary: the ticket's subject and number, on one clean line, trimmed, never
    empty (a subject of nothing visible reads "(no subject)"), at most SUMMARY_LIMIT."""
    suffix = f" (Zendesk #{ticket.id})"
    subject = one_line(ticket.subject, SUMMARY_LIMIT)
    subject = subject if visible(subject) else NO_SUBJECT
    room = SUMMARY_LIMIT - len(suffix)
    if utf16_len(subject) > room:
        subject = cut(subject[:room], room - 1).rstrip() + "…"
    return subject + suffix


def jira_description(ticket: Ticket, reason: str) -> IssueBody:
    """The Jira description: where the ticket is, why it was filed, and the customer's words;
    written as ADF or wiki markup by the adapter (domain.adf, domain.wiki)."""
    return issue_body(ticket, reason)


def chat_escape(text: str) -> str:
    """Ticket text for a chat message: it cannot ping, mention or link (see domain.chat)."""
    return chat.escape(text)


@lru_cache(maxsize=256)  # a plan's messages all name the ticket's subject
def _chat_subject(subject: str) -> str:
    return chat_escape(one_line(subject, 120))


def route_message(ticket: Ticket, rule: str, target: str) -> str:
    """A chat message announcing a routed ticket."""
    subject = _chat_subject(ticket.subject)
    to = f" → {target}" if target else ""
    return f"[afterhours] {rule}: ticket #{ticket.id} “{subject}”{to} {chat.link(ticket.web_url)}"


def unclaimed_message(plain: str, group: str, failure: str | None) -> str:
    """A route's message when its group change has not landed: it says so instead of
    claiming the ticket moved, with the reason when the change failed."""
    if failure is None:
        return f"{plain} (not yet moved to {group})"
    return f"{plain} (group change to {group} failed: {chat_escape(one_line(failure, 120))})"


def escalation_message(ticket: Ticket, ladder: str, level: int, why: str, repeat: int = 0) -> str:
    """A chat message for one escalation level (and which repeat of it, when it repeats)."""
    subject = _chat_subject(ticket.subject)
    again = f" repeat {repeat}" if repeat else ""
    return (
        f"[afterhours] escalation {ladder} level {level}{again}: ticket #{ticket.id} “{subject}”"
        f" ({chat_escape(ticket.priority or 'no priority')}) {why}. {chat.link(ticket.web_url)}"
    )


def mention(ids: Sequence[str]) -> str:
    """The channel's configured mentions, to put before a message: `<@U...>` for a person,
    `<!subteam^S...>` for a user group (ids the policy validated; never customer text)."""
    return "".join(f"<!subteam^{i}> " if i.startswith("S") else f"<@{i}> " for i in ids)


def with_issue(text: str, key: str, url: str) -> str:
    """A message with the Jira issue the ticket was filed as: its key, linked."""
    return f"{text} Jira: {chat.link(url, key)}"


def without_issue(text: str, failure: str | None) -> str:
    """A message whose Jira issue is not filed (yet): it says so, with why when it failed."""
    if failure is None:
        return f"{text} (not yet filed in Jira)"
    return f"{text} (filing in Jira failed: {chat_escape(one_line(failure, 120))})"


def page_message(message: str, shift: OnCallShift) -> str:
    """A page for the on-call person: the level's message, addressed to them and their backup."""
    backup = f"backup {shift.backup}" if shift.backup else "no backup"
    return f"{message} On call for {shift.team}: {shift.primary} ({backup})."


def customer_moment(moment: datetime, schedule: Schedule) -> str:
    """A moment as a customer reads it in a reply: 'Monday 23 November at 10:00 (Europe/London)'."""
    return _customer_moment(moment, schedule.time_zone)


# Replies promise the same few moments to many tickets (a business-hours promise made at
# night falls due at the same time the next working day): each is written once.
@lru_cache(maxsize=1024)
def _customer_moment(moment: datetime, time_zone: str) -> str:
    local = in_zone(moment, time_zone)
    return (f"{DAY_NAMES[local.weekday()]} {local.day} {MONTH_NAMES[local.month - 1]} at"
            f" {TWO_DIGITS[local.hour]}:{TWO_DIGITS[local.minute]} ({time_zone})")
