"""What a Jira description says, before it is written as ADF (Jira Cloud) or wiki markup
(Jira Data Center): the facts afterhours vouches for, our own links, and the customer's words.

The adapter picks the rendering by the server's deploymentType (see adapters/jira.py); both
renderings cut the customer's words to fit Jira's limit with `fit`, and say so with a link to
the full ticket.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

from afterhours.domain.model import Ticket
from afterhours.domain.text import clean_text, cut, one_line, utf16_len

T = TypeVar("T")
# Jira refuses a description over 32,767 characters (Java's, so UTF-16 units), in wiki
# markup and in ADF alike (there the document's JSON counts).
DESCRIPTION_LIMIT = 32_767
# No rendering can carry more of the customer's text than this: the rest is never kept.
TEXT_LIMIT = DESCRIPTION_LIMIT
_FACT_LIMIT = 500  # a requester, an organization, a reason: one line each
NO_DESCRIPTION = "The ticket has no description."


@dataclass(frozen=True)
class IssueBody:
    """A Jira description's content. Every text is clean (see domain.text); `text` is the
    customer's (empty when there is none), cut to TEXT_LIMIT, and `length` how long it was
    before any cut (characters)."""

    ticket_id: int
    ticket_url: str
    requester: str
    organization: str | None
    organization_url: str | None
    priority: str
    channel: str
    reason: str
    text: str
    length: int


def own_link(url: str | None) -> str | None:
    """`url` when afterhours may link to it (an absolute http(s) URL without white space or
    markup characters); else None, and the text is shown without a link."""
    if not url or _NOT_IN_LINKS.search(url):
        return None
    if url.isascii() and url.startswith(("https://", "http://")):
        # What urlsplit would find, without it: the scheme, then a host unless the path,
        # query or fragment starts at once (every ticket's message links the ticket).
        rest = url.partition("//")[2]
        return url if rest and rest[0] not in "/?#" else None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


# White space (as str.isspace says) and the characters that end or mark up a link.
_NOT_IN_LINKS = re.compile(r"[\s|\[\]{}<>\"'`\\]")


def issue_body(ticket: Ticket, reason: str) -> IssueBody:
    """The description of the issue filed for `ticket` because of `reason`."""
    text = clean_text(ticket.description).strip("\n")
    return IssueBody(
        ticket_id=ticket.id,
        ticket_url=ticket.web_url,
        requester=one_line(ticket.requester_email or "unknown", _FACT_LIMIT),
        organization=one_line(ticket.organization or "", _FACT_LIMIT) or None,
        organization_url=ticket.organization_url,
        priority=one_line(ticket.priority or "none", _FACT_LIMIT),
        channel=one_line(ticket.channel, _FACT_LIMIT),
        reason=one_line(reason, 2 * _FACT_LIMIT),
        text=cut(text, TEXT_LIMIT),
        length=len(text),
    )


def cut_note(body: IssueBody, shown: str) -> str | None:
    """The words that say the customer's text was cut (the link to the ticket follows), or
    None when `shown` is all of it."""
    if len(shown) >= body.length:
        return None
    return (f"[…] cut by afterhours: {len(shown):,} of {body.length:,} characters shown; "
            "the full text is on ")


def fit(render: Callable[[str], T], fits: Callable[[T], bool], text: str) -> T:
    """`render` of the longest clean prefix of `text` whose rendering `fits` (at least of the
    empty text): a binary search over prefix lengths."""
    whole = render(text)
    if fits(whole):
        return whole
    low, high = 0, utf16_len(text)  # low: a length that fits (assumed for 0), high: does not
    best = render(cut(text, 0))
    while high - low > 1:
        middle = (low + high) // 2
        candidate = render(cut(text, middle))
        if fits(candidate):
            low, best = middle, candidate
        else:
            high = middle
    return best
