"""The words afterhours writes: chat messages, internal notes and Jira issue text."""

from __future__ import annotations

import re
from datetime import datetime

from afterhours.domain.model import Ticket
from afterhours.domain.oncall import OnCallShift
from afterhours.domain.schedule import local_time
from afterhours.policy.model import Schedule

SUMMARY_LIMIT = 255  # Jira rejects longer summaries
DESCRIPTION_LIMIT = 30_000  # under Jira's 32,767-character field limit, leaving room for the header
_SPACE = re.compile(r"\s+")


def one_line(text: str, limit: int) -> str:
    """Collapse white space (newlines break chat and Jira summaries) and cut to `limit` chars."""
    flat = _SPACE.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def jira_summary(ticket: Ticket) -> str:
    """The Jira summary: the ticket's subject and number."""
    suffix = f" (Zendesk #{ticket.id})"
    subject = one_line(ticket.subject, SUMMARY_LIMIT - len(suffix)) or "(no subject)"
    return subject + suffix


def jira_description(ticket: Ticket, reason: str) -> str:
    """The Jira description: where the ticket is, why it was filed, and the customer's words."""
    # The customer's text is shown verbatim inside {noformat} so that wiki markup in it cannot
    # render, link or close the block early.
    body = ticket.description.replace("{noformat}", "{ noformat}")
    if len(body) > DESCRIPTION_LIMIT:
        body = body[:DESCRIPTION_LIMIT] + "\n[… cut by afterhours; the full text is on the ticket]"
    return (
        f"Filed by afterhours from Zendesk ticket #{ticket.id}: {ticket.web_url}\n"
        f"Requester: {ticket.requester_email or 'unknown'}"
        f" ({ticket.organization or 'no organization'})\n"
        f"Priority: {ticket.priority or 'none'}; channel: {ticket.channel}\n"
        f"Why: {reason}\n\n"
        "{noformat}\n" + body + "\n{noformat}"
    )


def chat_escape(text: str) -> str:
    """Escape Slack's control characters so a customer's text cannot ping @channel or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def route_message(ticket: Ticket, rule: str, target: str) -> str:
    """A chat message announcing a routed ticket."""
    subject = chat_escape(one_line(ticket.subject, 120))
    to = f" → {target}" if target else ""
    return f"[afterhours] {rule}: ticket #{ticket.id} “{subject}”{to} {ticket.web_url}"


def unclaimed_message(plain: str, group: str, failure: str | None) -> str:
    """A route's message when its group change has not landed: it says so instead of
    claiming the ticket moved, with the reason when the change failed."""
    if failure is None:
        return f"{plain} (not yet moved to {group})"
    return f"{plain} (group change to {group} failed: {chat_escape(one_line(failure, 120))})"


def escalation_message(ticket: Ticket, ladder: str, level: int, why: str, repeat: int = 0) -> str:
    """A chat message for one escalation level (and which repeat of it, when it repeats)."""
    subject = chat_escape(one_line(ticket.subject, 120))
    again = f" repeat {repeat}" if repeat else ""
    return (
        f"[afterhours] escalation {ladder} level {level}{again}: ticket #{ticket.id} “{subject}”"
        f" ({ticket.priority or 'no priority'}) {why}. {ticket.web_url}"
    )


def page_message(message: str, shift: OnCallShift) -> str:
    """A page for the on-call person: the level's message, addressed to them and their backup."""
    backup = f"backup {shift.backup}" if shift.backup else "no backup"
    return f"{message} On call for {shift.team}: {shift.primary} ({backup})."


def customer_moment(moment: datetime, schedule: Schedule) -> str:
    """A moment as a customer reads it in a reply: 'Monday 23 November at 10:00 (Europe/London)'."""
    local = local_time(moment, schedule)
    return f"{local:%A} {local.day} {local:%B} at {local:%H:%M} ({schedule.time_zone})"
