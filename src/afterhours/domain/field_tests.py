"""One test of a rule's condition on a ticket field, prepared once: its wanted words
normalised (`for_matching`, case folded), its word patterns and regex compiled.

Both sides are read as `for_matching` gives them (NFKC, no zero-width characters): a ticket
saying `re\\u200bfund`, or refund in full-width letters, contains the keyword refund.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from afterhours.domain.model import Ticket
from afterhours.domain.text import for_matching
from afterhours.policy.conditions import Test, compile_regex


@lru_cache(maxsize=1024)
def word_pattern(phrase: str) -> re.Pattern[str]:
    """The pattern that finds `phrase` as whole words, in any case."""
    # Word-aware: "down" must not match "download"; inner spaces match any run of white space.
    words = [re.escape(w) for w in for_matching(phrase).split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


class Phrases:
    """Phrases to find as whole words, in any case, and which is found first in list order.

    Most texts hold none of a rule's phrases, and a regex search costs a microsecond or more
    per phrase: an ASCII text is first looked at for the first word of each (lower case, as
    a plain substring), which every match needs; only a text that has one is searched.
    A first word made of word characters only must be one of the text's words (a run of
    them, found once per text): a match starts and ends at a word boundary.
    """

    def __init__(self, phrases: Sequence[str]) -> None:
        self.patterns = [(p, word_pattern(p)) for p in phrases]
        words = [for_matching(p).split() for p in phrases]
        self._firsts = (tuple(w[0].lower() for w in words)
                        if all(p.isascii() for p in phrases) and all(words) else None)
        firsts = self._firsts or ()
        self._first_words = frozenset(f for f in firsts if _WORD.fullmatch(f))
        self._first_parts = tuple(f for f in firsts if not _WORD.fullmatch(f))
        # The last two texts looked at and what was found in each: a rule that matches is
        # screened, then judged in words, on the very same texts (a subject, a description).
        self._last: tuple[str, str | None, str, str | None] = ("", None, "", None)

    def may_be_in(self, text: str) -> bool:
        """False only when no phrase can be in `text`."""
        if self._firsts is None or not text.isascii():
            return True
        low = _lower(text)
        for first in self._firsts:  # noqa: SIM110  (a loop: any() costs a generator)
            if first in low:
                return True
        return False

    def first_in(self, text: str) -> str | None:
        """The first phrase (in list order) that `text` holds; None when none."""
        last = self._last
        if last[0] is text:
            return last[1]
        if last[2] is text:
            return last[3]
        found: str | None = None
        if self._firsts is not None and text.isascii():  # may_be_in, inline: asked per rule
            low, words = _words(text)
            if words.isdisjoint(self._first_words):
                for part in self._first_parts:
                    if part in low:
                        break
                else:
                    self._last = (text, None, last[0], last[1])
                    return None
        for phrase, pattern in self.patterns:
            if pattern.search(text):
                found = phrase
                break
        # One assignment: a reader sees whole pairs, never half of one.
        self._last = (text, found, last[0], last[1])
        return found


@lru_cache(maxsize=64)  # a ticket's subject and description, asked by every rule
def _lower(text: str) -> str:
    return text.lower()


@lru_cache(maxsize=64)
def _words(text: str) -> tuple[str, frozenset[str]]:
    # An ASCII text in lower case, and its words (runs of word characters).
    low = _lower(text)
    return low, frozenset(_WORD.findall(low))


_WORD = re.compile(r"\w+")


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> Any:
    return compile_regex(pattern)


def email_domain(email: str | None) -> str | None:
    """The part of an address after its last @; None without one."""
    return email.rpartition("@")[2] if email and "@" in email else None


# What each test field reads from a ticket: every value it has (none when unset).
FIELDS: dict[str, Callable[[Ticket], Sequence[str]]] = {
    "subject": lambda t: [t.subject] if t.subject else [],
    "description": lambda t: [t.description] if t.description else [],
    "text": lambda t: [v for v in (t.subject, t.description) if v],
    "status": lambda t: [t.status],
    "priority": lambda t: [t.priority] if t.priority else [],
    "channel": lambda t: [t.channel],
    "requester_email": lambda t: [t.requester_email] if t.requester_email else [],
    "requester_domain": lambda t: [d] if (d := email_domain(t.requester_email)) else [],
    "organization": lambda t: [t.organization] if t.organization else [],
    "group": lambda t: [t.group] if t.group else [],
    "assignee": lambda t: [t.assignee] if t.assignee else [],
    "tag": lambda t: sorted(t.tags),
}


class FieldTest:
    """A test with its wanted words normalised and its patterns compiled, once."""

    def __init__(self, test: Test) -> None:
        self.present = test.present
        self.equals = None if test.equals is None else _folded(test.equals)
        self.in_ = None if test.in_ is None else frozenset(_folded(v) for v in test.in_)
        self.contains = None if test.contains is None else Phrases(test.contains)
        self.regex = None if test.regex is None else _regex(test.regex)
        self.pattern = test.regex
        self.wanted = wanted(test)
        # A test takes exactly one operator: a contains: test runs its phrases only.
        self.only_contains = self.contains is not None and self.present is None and (
            self.equals is None and self.in_ is None and self.regex is None)

    def run(self, values: Sequence[str]) -> str | None:
        """What in `values` passed, as words; None when nothing did."""
        if self.present is not None:
            if bool(values) != self.present:
                return None
            return "has a value" if values else "is empty"
        for value in values:
            passed = self.run_one(value)
            if passed is not None:
                return passed
        return None

    def run_one(self, value: str) -> str | None:
        """What passed in one value (`run` of a field that has a value), as words."""
        if self.present is not None:
            return "has a value" if self.present else None
        value = for_matching(value)
        if self.contains is not None and self.equals is None and self.in_ is None:
            # The common test (contains:), straight to its phrases.
            word = self.contains.first_in(value)
            if word is not None:
                return f"contains {word!r}"
            return None if self.regex is None else self._passed(value)
        return self._passed(value)

    def _passed(self, value: str) -> str | None:
        if self.equals is not None and value.strip().casefold() == self.equals:
            return f"is {value!r}"
        if self.in_ is not None and value.strip().casefold() in self.in_:
            return f"is {value!r}"
        if self.contains is not None:
            word = self.contains.first_in(value)
            if word is not None:
                return f"contains {word!r}"
        if self.regex is not None and self.regex.search(value) is not None:
            return f"matches /{self.pattern}/"
        return None


def _folded(text: str) -> str:
    return for_matching(text).strip().casefold()


def wanted(test: Test) -> str:
    """What a failed test wanted, in words."""
    if test.equals is not None:
        return f"is not {test.equals!r}"
    if test.in_ is not None:
        return f"is not one of {', '.join(test.in_)}"
    if test.contains is not None:
        return f"contains none of {', '.join(test.contains)}"
    if test.regex is not None:
        return f"does not match /{test.regex}/"
    return "is empty" if test.present else "has a value"
