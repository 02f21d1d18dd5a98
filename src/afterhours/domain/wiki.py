"""Jira Data Center descriptions in wiki markup (REST v2), escaped in full.

Wiki markup renders what it is given, so nothing of the customer's goes out unescaped:
- their words sit in one {noformat} block, which shows text as written (no links, images,
  mentions or macros), and every "{noformat" in them is broken so the block cannot close
  early;
- each header value (requester, organization, reason...) has every markup character
  backslash-escaped, a backslash shown as U+29F5, a look-alike (two would be a line
  break), and URL schemes written "http[:]//" so they are not linked.
Only afterhours' own URLs (the ticket, the requester's organization) are links.
"""

from __future__ import annotations

import re

from afterhours.domain.issue_text import (
    DESCRIPTION_LIMIT,
    NO_DESCRIPTION,
    IssueBody,
    cut_note,
    fit,
    own_link,
)
from afterhours.domain.text import defang_schemes, utf16_len

NOFORMAT = "{noformat}"
# What Jira's wiki renderer reads as markup anywhere in a line.
_MARKUP = frozenset("*_?-+^~{}[]!|#")
# "{noformat", "{NoFormat:title=x}", "{ noformat}": any of them could end the block.
_BLOCK_END = re.compile(r"\{(?=\s*noformat)", re.IGNORECASE)


def escape(value: str) -> str:
    """One line of (clean) text that Jira's wiki renderer shows as written."""
    value = defang_schemes(value)
    return "".join("\u29f5" if c == "\\" else "\\" + c if c in _MARKUP else c for c in value)


def unclosable(words: str) -> str:
    """The customer's words, safe inside {noformat}: nothing in them can end the block."""
    return _BLOCK_END.sub("{ ", words)


def link(label: str, url: str | None) -> str:
    """`label` linked to `url` when afterhours may link there (see own_link), else text."""
    href = own_link(url)
    return f"[{escape(label)}|{href}]" if href else escape(label)


def description(body: IssueBody) -> str:
    """The issue's description in wiki markup, within Jira's limit."""
    return fit(lambda shown: _description(body, shown),
               lambda text: utf16_len(text) <= DESCRIPTION_LIMIT, body.text)


def _description(body: IssueBody, shown: str) -> str:
    ticket = f"Zendesk ticket #{body.ticket_id}"
    organization = f" ({link(body.organization, body.organization_url)})" \
        if body.organization else ""
    lines = [
        f"Filed by afterhours from {link(ticket, body.ticket_url)}",
        f"Requester: {escape(body.requester)}{organization}",
        f"Priority: {escape(body.priority)}; channel: {escape(body.channel)}",
        f"Why: {escape(body.reason)}",
        "",
    ]
    if shown.strip():
        lines += ["*The customer wrote:*", NOFORMAT, unclosable(shown), NOFORMAT]
    else:
        lines.append(f"_{NO_DESCRIPTION}_")
    note = cut_note(body, shown)
    if note is not None:
        lines.append(f"_{escape(note)}{link(ticket, body.ticket_url)}._")
    return "\n".join(lines)
