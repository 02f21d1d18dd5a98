"""The words sync-back writes on a ticket: a note per Jira change, a Jira comment copied as a
note, and the values a reply on resolution is filled with.

Text from Jira (a comment, a name, a version) goes into Zendesk inert: clean (no control or
bidirectional characters), every "://" written "[:]//" and "www." "www[.]" so Zendesk's
autolinker makes nothing of them, and every "[afterhours" broken by a word joiner, so no
copied text can pass for the marker that says a note of afterhours' own landed (see
afterhours.reconcile).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from afterhours.domain.model import Ticket
from afterhours.domain.sync_model import ChangedField, IssueComment, IssueState
from afterhours.domain.text import clean_text, cut, defang_schemes, one_line

# Zendesk takes comments up to 64 KB; a copied comment is cut well before, with a pointer.
COPY_LIMIT = 20_000
_NAME_LIMIT = 200
_MARKER = re.compile(r"\[(afterhours)", re.IGNORECASE)
_WWW = re.compile(r"\b(www)\.", re.IGNORECASE)
WORD_JOINER = "\u2060"


def inert(text: str) -> str:
    """Foreign text made safe to write on a ticket (see the module's docstring)."""
    text = _WWW.sub(r"\1[.]", defang_schemes(clean_text(text)))
    return _MARKER.sub(lambda m: "[" + m.group(1) + WORD_JOINER, text)


def _name(value: str | None, empty: str) -> str:
    return inert(one_line(value, _NAME_LIMIT)) if value else empty


def describe_field(change: ChangedField) -> str:
    """One changed field in a few words: 'status To Do → In Progress', 'assigned to Dana'."""
    before, after = _name(change.before, ""), _name(change.after, "")
    if change.field == "status":
        return f"status {before or 'none'} → {after or 'none'}"
    if change.field == "assignee":
        return f"assigned to {after}" if after else f"unassigned (was {before or 'nobody'})"
    if change.field == "fixVersions":
        return f"fix version {after} added" if after else f"fix version {before} removed"
    if change.field == "resolution":
        return f"resolved as {after}" if after else f"resolution {before} cleared"
    return f"{_name(change.field, 'a field')} changed"


def change_note(issue: IssueState, author: str, fields: Sequence[ChangedField],
                marker: str) -> str:
    """An internal note saying what changed on the issue, by whom, with its link."""
    said = "; ".join(describe_field(f) for f in fields)
    return (f"Jira {issue.key} changed ({_name(author, 'someone')}): {said}.\n{issue.url}"
            f"\n\n{marker}")


def without_marker(body: str, marker: str | None) -> str:
    """A copied comment's text without the marker that asked for the copy."""
    text = body.strip()
    if marker and text.casefold().startswith(marker.casefold()):
        text = text[len(marker):].lstrip()
    return text


def comment_note(issue: IssueState, comment: IssueComment, copy_marker: str | None,
                 marker: str) -> str:
    """A Jira comment copied as an internal note: who wrote it where, then its words."""
    words = inert(without_marker(comment.body, copy_marker)).strip("\n")
    shown = cut(words, COPY_LIMIT)
    if len(shown) < len(words):
        shown += f"\n[…] cut by afterhours: the full comment is on {issue.url}"
    return (f"{_name(comment.author, 'Someone')} commented on Jira {issue.key}:\n{issue.url}"
            f"\n\n{shown or '(no text)'}\n\n{marker}")


def resolution_values(ticket: Ticket, issue: IssueState) -> Mapping[str, str]:
    """What a reply on resolution's placeholders say."""
    return {
        "ticket_id": str(ticket.id),
        "subject": one_line(ticket.subject, _NAME_LIMIT),
        "requester_email": ticket.requester_email or "",
        "priority": ticket.priority or "none",
        "issue_key": issue.key,
        "issue_url": issue.url,
        "fix_version": ", ".join(one_line(v, _NAME_LIMIT) for v in issue.fix_versions),
        "resolution": one_line(issue.resolution or "", _NAME_LIMIT),
    }
