"""Whether a ticket meets a rule's conditions, with the reasons a lead can read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from afterhours.domain.model import Ticket
from afterhours.policy.model import Match


@dataclass(frozen=True)
class Verdict:
    """The outcome of matching: what held and what did not, in words."""

    held: tuple[str, ...]
    failed: tuple[str, ...]
    hours_failed: bool = False

    @property
    def matched(self) -> bool:
        """Every condition held."""
        return not self.failed

    @property
    def only_hours_failed(self) -> bool:
        """Everything held but the after-hours condition: the rule was left alone on purpose."""
        return self.hours_failed and len(self.failed) == 1


@lru_cache(maxsize=1024)
def _word_pattern(phrase: str) -> re.Pattern[str]:
    # Word-aware: "down" must not match "download"; inner spaces match any run of white space.
    words = [re.escape(w) for w in phrase.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def evaluate(match: Match, ticket: Ticket, *, after_hours: bool, when: str) -> Verdict:
    """Check every condition of `match` on `ticket`; `when` describes its creation time."""
    held: list[str] = []
    failed: list[str] = []

    def check(ok: bool, yes: str, no: str) -> None:
        (held if ok else failed).append(yes if ok else no)

    if match.keywords:
        fields = (("subject", ticket.subject), ("description", ticket.description))
        hit = next(
            (
                (kw, where)
                for kw in match.keywords
                for where, text in fields
                if _word_pattern(kw).search(text)
            ),
            None,
        )
        check(
            hit is not None,
            f"keyword {hit[0]!r} in {hit[1]}" if hit else "",
            f"none of the keywords {', '.join(match.keywords)}",
        )
    if match.organizations:
        org = ticket.organization
        wanted = {o.casefold() for o in match.organizations}
        check(
            org is not None and org.casefold() in wanted,
            f"organization {org!r}",
            f"organization {org!r} not in {', '.join(match.organizations)}",
        )
    if match.requester_domains:
        domain = (ticket.requester_email or "").rpartition("@")[2].casefold()
        wanted = {d.casefold().lstrip("@") for d in match.requester_domains}
        check(domain in wanted, f"requester domain {domain!r}", f"requester domain {domain!r}")
    if match.tags:
        common = sorted(ticket.tags.intersection(match.tags))
        check(bool(common), f"tag {common[0]!r}" if common else "", "none of the tags")
    if match.channels:
        check(
            ticket.channel in match.channels,
            f"channel {ticket.channel!r}",
            f"channel {ticket.channel!r} not in {', '.join(match.channels)}",
        )
    if match.priorities:
        check(
            ticket.priority in match.priorities,
            f"priority {ticket.priority!r}",
            f"priority {ticket.priority!r} not in {', '.join(match.priorities)}",
        )
    hours_failed = match.after_hours is not None and after_hours != match.after_hours
    if match.after_hours is not None:
        said = f"created {'after' if after_hours else 'in business'} hours ({when})"
        check(not hours_failed, said, said)
    return Verdict(tuple(held), tuple(failed), hours_failed)
