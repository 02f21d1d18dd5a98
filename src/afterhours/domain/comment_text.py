"""A comment afterhours leaves on a Jira issue, and the same comment as ADF (Jira Cloud, REST
v3) or wiki markup (Data Center, v2): the policy's words, a link to the ticket, the
customer's words when quoted, and the ledger key that finds the comment again.

The customer's words are inert in both: in ADF only text nodes without marks inside a
blockquote, in wiki markup one {noformat} block nothing in them can close (domain.adf and
domain.wiki, as for descriptions). The policy's words are written as text too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from afterhours.domain import adf, wiki
from afterhours.domain.issue_text import DESCRIPTION_LIMIT, fit, own_link
from afterhours.domain.text import clean_text, cut, utf16_len

# Room kept for everything around the customer's words (a long intro, the marker, the note).
_QUOTE_LIMIT = DESCRIPTION_LIMIT - 3_000


@dataclass(frozen=True)
class JiraComment:
    """What a comment on an issue says. `intro` is the policy's (clean) words, `ticket_url`
    afterhours' own link, `quote` the customer's words (clean; empty: none) and `quoted_from`
    how long they were before any cut, `marker` the line that ends it (its ledger key)."""

    intro: str
    ticket_label: str
    ticket_url: str
    quote: str
    quoted_from: int
    marker: str


def jira_comment(intro: str, ticket_id: int, ticket_url: str, marker: str,
                 quote: str = "") -> JiraComment:
    """A comment: the policy's words about ticket `ticket_id`, and maybe the customer's."""
    words = clean_text(quote).strip("\n")
    return JiraComment(clean_text(intro).strip(), f"Zendesk ticket #{ticket_id}", ticket_url,
                       cut(words, _QUOTE_LIMIT), len(words), marker)


def _cut_note(comment: JiraComment, shown: str) -> str | None:
    if len(shown) >= comment.quoted_from:
        return None
    return (f"[…] cut by afterhours: {len(shown):,} of {comment.quoted_from:,} characters "
            "shown; the full text is on ")


def as_adf(comment: JiraComment) -> dict[str, Any]:
    """The comment as an ADF document (Jira Cloud)."""
    return fit(lambda shown: _document(comment, shown), adf.fits, comment.quote)


def _document(comment: JiraComment, shown: str) -> dict[str, Any]:
    content = [adf.paragraph(*([adf.text(comment.intro + " ")] if comment.intro else []),
                             adf.linked(comment.ticket_label, comment.ticket_url))]
    words = adf.quoted(shown)
    if words:
        content.append({"type": "blockquote", "content": words})
    note = _cut_note(comment, shown)
    if note is not None:
        content.append(adf.paragraph(adf.text(note, adf.EM),
                                     adf.linked(comment.ticket_label, comment.ticket_url,
                                                adf.EM)))
    content.append(adf.paragraph(adf.text(comment.marker)))
    return {"version": 1, "type": "doc", "content": content}


def as_wiki(comment: JiraComment) -> str:
    """The comment in wiki markup (Jira Data Center), escaped in full."""
    return fit(lambda shown: _wiki(comment, shown),
               lambda text: utf16_len(text) <= DESCRIPTION_LIMIT, comment.quote)


def _wiki(comment: JiraComment, shown: str) -> str:
    intro = f"{wiki.escape(comment.intro)} " if comment.intro else ""
    lines = [intro + wiki.link(comment.ticket_label, comment.ticket_url)]
    if shown.strip():
        lines += [wiki.NOFORMAT, wiki.unclosable(shown), wiki.NOFORMAT]
    note = _cut_note(comment, shown)
    if note is not None:
        lines.append(f"_{wiki.escape(note)}{wiki.link(comment.ticket_label, comment.ticket_url)}_")
    lines.append(wiki.escape(comment.marker))
    return "\n".join(lines)


def plain_marker(body: Any) -> str:
    """A comment's text as Jira answers it (a string on v2, ADF where v3 is read), with
    wiki markup's escapes taken out: where a marker is looked for."""
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    return text.replace("\\", "")


__all__ = ["JiraComment", "as_adf", "as_wiki", "jira_comment", "own_link", "plain_marker"]
