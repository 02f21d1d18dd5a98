"""Whether a ticket meets a rule's conditions, with the reasons a lead can read.

Both sides are read as `for_matching` gives them (NFKC, no zero-width characters): a ticket
saying `re\\u200bfund`, or refund in full-width letters, contains the keyword refund.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from afterhours.domain.model import Ticket
from afterhours.domain.text import for_matching
from afterhours.policy.conditions import Condition, Test, compile_regex


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
    words = [re.escape(w) for w in for_matching(phrase).split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> Any:
    return compile_regex(pattern)


def _same(value: str, wanted: str) -> bool:
    return value.strip().casefold() == for_matching(wanted).strip().casefold()


def _domain(email: str | None) -> str | None:
    return email.rpartition("@")[2] if email and "@" in email else None


# What each test field reads from a ticket: every value it has (none when unset).
_FIELDS: dict[str, Callable[[Ticket], Sequence[str]]] = {
    "subject": lambda t: [t.subject] if t.subject else [],
    "description": lambda t: [t.description] if t.description else [],
    "text": lambda t: [v for v in (t.subject, t.description) if v],
    "status": lambda t: [t.status],
    "priority": lambda t: [t.priority] if t.priority else [],
    "channel": lambda t: [t.channel],
    "requester_email": lambda t: [t.requester_email] if t.requester_email else [],
    "requester_domain": lambda t: [d] if (d := _domain(t.requester_email)) else [],
    "organization": lambda t: [t.organization] if t.organization else [],
    "group": lambda t: [t.group] if t.group else [],
    "assignee": lambda t: [t.assignee] if t.assignee else [],
    "tag": lambda t: sorted(t.tags),
}


def run_test(test: Test, values: Sequence[str]) -> str | None:
    """What in `values` passed `test`, as words; None when nothing did."""
    values = [for_matching(value) for value in values]
    if test.present is not None:
        return ("has a value" if values else "is empty") if bool(values) == test.present else None
    for value in values:
        if test.equals is not None and _same(value, test.equals):
            return f"is {value!r}"
        if test.in_ is not None and any(_same(value, v) for v in test.in_):
            return f"is {value!r}"
        if test.contains is not None:
            word = next((w for w in test.contains if _word_pattern(w).search(value)), None)
            if word is not None:
                return f"contains {word!r}"
        if test.regex is not None and _regex(test.regex).search(value) is not None:
            return f"matches /{test.regex}/"
    return None


def _wanted(test: Test) -> str:
    if test.equals is not None:
        return f"is not {test.equals!r}"
    if test.in_ is not None:
        return f"is not one of {', '.join(test.in_)}"
    if test.contains is not None:
        return f"contains none of {', '.join(test.contains)}"
    if test.regex is not None:
        return f"does not match /{test.regex}/"
    return "is empty" if test.present else "has a value"


def evaluate(match: Condition, ticket: Ticket, *, after_hours: bool, when: str) -> Verdict:
    """Check every condition of `match` on `ticket`; `when` describes its creation time."""
    held: list[str] = []
    failed: list[str] = []

    def check(ok: bool, yes: str, no: str) -> None:
        (held if ok else failed).append(yes if ok else no)

    _shorthands(match, ticket, check)
    for name, read in _FIELDS.items():
        test = getattr(match, name)
        if test is None:
            continue
        if name == "text":
            # Say which of the two held, as a lead would look for it there.
            found = ((where, run_test(test, _FIELDS[where](ticket)))
                     for where in ("subject", "description"))
            where, passed = next(((w, p) for w, p in found if p is not None), (name, None))
        else:
            where, passed = name, run_test(test, read(ticket))
        check(passed is not None, f"{where} {passed}", f"{name} {_wanted(test)}")
    for title, test in match.fields.items():
        passed = run_test(test, ticket.field_values(title))
        check(passed is not None, f"field {title!r} {passed}", f"field {title!r} {_wanted(test)}")
    for part in match.all_:
        inner = evaluate(part, ticket, after_hours=after_hours, when=when)
        held.extend(inner.held)
        failed.extend(inner.failed)
    if match.any_:
        branches = [evaluate(p, ticket, after_hours=after_hours, when=when) for p in match.any_]
        won = next((b for b in branches if b.matched), None)
        check(
            won is not None,
            "any of: " + ("; ".join(won.held) if won else ""),
            "none of: " + " | ".join("; ".join(b.failed) for b in branches),
        )
    if match.not_ is not None:
        inner = evaluate(match.not_, ticket, after_hours=after_hours, when=when)
        check(
            not inner.matched,
            "not: " + "; ".join(inner.failed),
            "not: but " + ("; ".join(inner.held) or "it matches every ticket"),
        )
    hours_failed = match.after_hours is not None and after_hours != match.after_hours
    if match.after_hours is not None:
        said = f"created {'after' if after_hours else 'in business'} hours ({when})"
        check(not hours_failed, said, said)
    return Verdict(tuple(held), tuple(failed), hours_failed)


def _shorthands(match: Condition, ticket: Ticket, check: Callable[[bool, str, str], None]) -> None:
    if match.keywords:
        fields = (("subject", for_matching(ticket.subject)),
                  ("description", for_matching(ticket.description)))
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
        wanted = {for_matching(o).casefold() for o in match.organizations}
        check(
            org is not None and for_matching(org).casefold() in wanted,
            f"organization {org!r}",
            f"organization {org!r} not in {', '.join(match.organizations)}",
        )
    if match.requester_domains:
        domain = for_matching(_domain(ticket.requester_email) or "").casefold()
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
