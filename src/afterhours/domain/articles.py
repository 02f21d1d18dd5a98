"""`{articles}` in a reply: the help-center articles a search found, those the policy allows
(sections, labels) whose titles are alike enough to the ticket's subject, best first, each a
line with its title (on one line, cut) and its link."""

from __future__ import annotations

from rapidfuzz import fuzz, utils

from afterhours.domain.model import Article, Ticket
from afterhours.domain.text import one_line
from afterhours.policy.articles import Articles

TITLE_LIMIT = 150


def search_words(ticket: Ticket) -> str:
    """What the help center is searched for: the subject and the description's first words."""
    return one_line(f"{ticket.subject} {ticket.description[:200]}", 250)


def offered(ticket: Ticket, found: tuple[Article, ...], policy: Articles) -> list[Article]:
    """The articles to offer, best first."""
    subject = utils.default_process(ticket.subject)
    scored = []
    for number, article in enumerate(found):
        if policy.sections and article.section_id not in policy.sections:
            continue
        if policy.labels and not set(policy.labels) & set(article.labels):
            continue
        if not article.url.startswith(("https://", "http://")) or any(
                c.isspace() for c in article.url):
            continue
        score = fuzz.token_set_ratio(subject, utils.default_process(article.title))
        if score >= policy.threshold:
            scored.append((-score, number, article))
    return [article for *_, article in sorted(scored)[:policy.max_articles]]


def articles_text(ticket: Ticket, found: tuple[Article, ...] | None,
                  policy: Articles | None) -> str:
    """The `{articles}` placeholder: a line per article offered, or nothing."""
    if found is None or policy is None:
        return ""
    return "\n".join(f"- {one_line(a.title, TITLE_LIMIT)}: {a.url}"
                     for a in offered(ticket, found, policy))
