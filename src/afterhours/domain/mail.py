"""Escalation mail as the planner plans it: who is mailed (addresses, and whoever is on call
now), and the words, as plain text and as HTML. Pure.

Customer text (the subject) is cleaned to one line in both parts, and HTML-escaped in the
HTML one; the only link is afterhours' own, the ticket's. Nothing else of the ticket's text
is put in a mail.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from afterhours.domain.actions import SendMail
from afterhours.domain.issue_text import own_link
from afterhours.domain.oncall import OnCallShift, on_call_now
from afterhours.domain.text import one_line
from afterhours.policy.model import Policy
from afterhours.policy.rules import ONCALL_PREFIX

if TYPE_CHECKING:
    from afterhours.domain.effects import PlanBuilder

SUBJECT_LIMIT = 120  # characters of the ticket's subject in the mail's subject
FOOTER = "Sent by afterhours: an automatic message; replies to it are not read."


def channel_recipients(policy: Policy, channel: str, now: datetime) -> list[str]:
    """The email channel's `to:` at `now`, each oncall:<team> as whoever is on call for it
    then, primary and backup."""
    found: list[str] = []
    for entry in policy.channels[channel].to:
        if entry.startswith(ONCALL_PREFIX):
            team = entry.removeprefix(ONCALL_PREFIX)
            found += _people(on_call_now(team, policy.oncall[team], now))
        else:
            found.append(entry)
    return found


def recipients(builder: PlanBuilder, channel: str, shift: OnCallShift | None) -> tuple[str, ...]:
    """The channel's `to:` now, and the paged team's on-call: each address once, in order."""
    found = channel_recipients(builder.policy, channel, builder.now)
    if shift is not None:
        found += _people(shift)
    unique: dict[str, str] = {}
    for address in found:
        unique.setdefault(address.casefold(), address)
    return tuple(unique.values())


def _people(shift: OnCallShift) -> Iterable[str]:
    return [p for p in (shift.primary, shift.backup) if p is not None and "@" in p]


def mail(builder: PlanBuilder, rule: str, step: str, channel: str, reason: str, *,
         shift: OnCallShift | None) -> SendMail:
    """The mail a rule's or level's `step` sends to the email `channel`."""
    view = builder.view
    what = builder.level_title or rule
    subject = one_line(view.subject, SUBJECT_LIMIT)
    priority = view.priority or "no priority"
    said = [f"{what} for Zendesk ticket #{view.id} ({priority}):", f"“{subject}”",
            f"Why: {one_line(reason, 1000)}."]
    if shift is not None:
        backup = f"backup {shift.backup}" if shift.backup else "no backup"
        said.append(f"On call for {shift.team}: {shift.primary} ({backup}).")
    link = own_link(view.web_url)
    text = "\n".join([*said, f"Open the ticket: {link}" if link else f"Ticket #{view.id}",
                      "", "-- ", FOOTER]) + "\n"
    anchor = (f'<p><a href="{html.escape(link, quote=True)}">Open ticket #{view.id}</a></p>'
              if link else "")
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in said)
    page = (f"<!DOCTYPE html><html><body>{paragraphs}{anchor}"
            f"<hr><p><small>{html.escape(FOOTER)}</small></p></body></html>")
    head = f"[afterhours] {what}: ticket #{view.id} ({priority}) {subject}"
    return SendMail(view.id, channel, recipients(builder, channel, shift), head, text, page,
                    builder.key(rule, step))
