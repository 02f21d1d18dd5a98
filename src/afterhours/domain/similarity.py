"""How alike two bug tickets are, for joining an open issue instead of filing a duplicate
(policy similar_issues:), 0 to 100.

By their words (matcher: words, the default): the lower of rapidfuzz's token-sort ratio of
the subjects and its weighted ratio (WRatio) of the subjects with the descriptions' first
words, so a ticket must be alike in both what it is titled and what it says. Case,
punctuation and a few filler words are left out first. Subjects that say the thing fails in
different ways (failing_otherwise(): "not received", "received twice") are held at
CONTRASTED by either matcher.

By their meaning (matcher: meaning): the cosine of the two texts' sentence embeddings (the
shell computes them, adapters/meaning.py), so "Session keeps expiring" is like "Logged out
every few minutes" though they share no word. Embeddings put "CSV export fails" close to
"CSV import fails" too, so a pair whose subjects agree but for a word each names that the
other never says (swapped()), or say the thing fails in different ways ("charged twice",
"not charged": failing_otherwise()), is held at CONTRASTED.

tests/fixtures/similar_tickets.yaml measures both (precision and recall are printed by the
benchmark).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz, utils

from afterhours.domain.model import OpenIssue, OpenIssues

DESCRIPTION_HEAD = 300  # characters of the description compared: where the problem is said
_FILLER = frozenset((
    "a", "an", "the", "to", "of", "in", "on", "with", "for", "my", "our", "we", "i", "is",
    "are", "be", "been", "it", "its", "this", "that", "at", "any", "all", "since", "from",
    "by", "as", "your", "you", "after", "over", "every", "and", "or", "do", "does"))
# Words that say that something is wrong, how much or when, rather than what: one customer
# writes "fails", another "does not work", so they never set two tickets apart.
_GENERIC_WORDS = """
    fails fail failed failing failure broken break breaks error errors not no never cannot
    can cant t unable working work works doesn don didn won nothing anything anymore shows
    show showing issue issues problem problems stuck keeps keep still very extremely really
    always again when since today yesterday morning tonight now suddenly just please help
    some only also but although even though either there their they them then than these
    those what which who me us our he she his her was were will would should could had has
    have get gets getting got"""
_GENERIC = _FILLER | frozenset(_GENERIC_WORDS.split())
CONTRASTED = 50.0  # the most two contrasted tickets score: below any sensible threshold
_STEM = 5  # letters two words share at the start to be one word ("crash", "crashes")
_REFERENCE = 4  # digits from which a number is a reference (order, invoice), not a code
_SPELT = 80  # rapidfuzz ratio at which two words are one word misspelt ("recieve")
_AGREE = 0.5  # share of each subject's words the other's has, for a word to be swapped
# How a thing fails, by the words a subject says it with. Embeddings put "charged twice" close
# to "not charged": the same thing failing in two ways is two bugs.
_FAILURES = {
    **dict.fromkeys(("twice", "double", "doubled", "duplicate", "duplicated", "duplicates"),
                    "too often"),
    **dict.fromkeys(("not", "never", "no", "missing", "lost", "loses", "blank", "empty",
                     "disappeared"), "not at all"),
    **dict.fromkeys(("slow", "lag", "lags", "timeout", "times", "timing"), "too slowly"),
    **dict.fromkeys(("wrong", "incorrect"), "wrongly"),
}


@dataclass(frozen=True)
class Compared:
    """A ticket's text as compared: its subject's words, and those with the description's."""

    subject: str
    whole: str
    meaning: bytes | None = None  # a unit vector of float32s, under matcher: meaning


@dataclass(frozen=True)
class Similar:
    """The open issue a ticket is most like, how alike (0-100) and the words they share."""

    issue: OpenIssue
    score: float
    words: tuple[str, ...]


def compared(subject: str, description: str,
             meanings: Mapping[str, bytes] | None = None) -> Compared:
    """`subject` and `description` as the matcher compares them (with what they mean, when
    `meanings` has it: see meaning_text())."""
    head = _words(subject)
    meaning = None if meanings is None else meanings.get(meaning_text(subject, description))
    return Compared(" ".join(head), " ".join([*head, *_words(description[:DESCRIPTION_HEAD])]),
                    meaning)


def meaning_text(subject: str, description: str) -> str:
    """The text whose meaning matcher: meaning compares: the subject and where the
    description says the problem (the model reads 256 tokens at most; a hostile subject of
    megabytes is not tokenized whole)."""
    return f"{subject[:DESCRIPTION_HEAD]}. {description[:DESCRIPTION_HEAD]}"


def similarity(a: Compared, b: Compared) -> float:
    """How alike two tickets are, 0 to 100: by meaning when both have one (at most
    CONTRASTED when swapped or failing otherwise), else by words (at most CONTRASTED when
    contrasted or failing otherwise)."""
    if a.meaning is not None and b.meaning is not None:
        cosine: float = sum(map(operator.mul, memoryview(a.meaning).cast("f"),
                                memoryview(b.meaning).cast("f")))
        score = max(0.0, 100 * cosine)
        if score > CONTRASTED and (swapped(a, b) or failing_otherwise(a, b)):
            return CONTRASTED
        return round(score, 1)
    score = min(fuzz.token_sort_ratio(a.subject, b.subject), fuzz.WRatio(a.whole, b.whole))
    if score > CONTRASTED and (contrasted(a, b) or failing_otherwise(a, b)):
        return CONTRASTED
    return score


def swapped(a: Compared, b: Compared) -> bool:
    """Whether the subjects agree (each has at least half the other's words) but for a word
    each names that the other ticket never says: "Excel import fails", "Excel export
    fails". A paraphrase shares few words and is left to the meaning."""
    return contrasted(a, b) and min(_agreeing(a.subject, b.subject),
                                    _agreeing(b.subject, a.subject)) >= _AGREE


def failing_otherwise(a: Compared, b: Compared) -> bool:
    """Whether the subjects say the thing fails in different ways: "Orders imported twice"
    against "Orders not imported", "Report is slow" against "Report is wrong"."""
    first, second = _failures(a.subject), _failures(b.subject)
    return bool(first and second and not first & second)


def _failures(subject: str) -> set[str]:
    return {_FAILURES[word] for word in subject.split() if word in _FAILURES}


def _agreeing(subject: str, other: str) -> float:
    """The share of `subject`'s words (filler aside) that `other` says too."""
    words = subject.split()
    said = other.split()
    if not words:
        return 0.0
    return sum(any(_alike(word, o) for o in said) for word in words) / len(words)


def contrasted(a: Compared, b: Compared) -> bool:
    """Whether each ticket's subject names something the other ticket never says."""
    return bool(unsaid(a.subject, b.whole) and unsaid(b.subject, a.whole))


def unsaid(subject: str, whole: str) -> list[str]:
    """The words of `subject`, other than generic ones, that no word of `whole` is like."""
    said = whole.split()
    return [word for word in subject.split()
            if word not in _GENERIC and not _reference(word)
            and not any(_alike(word, other) for other in said)]


def _reference(word: str) -> bool:
    """A number long enough to be an order, invoice or account reference: every customer
    quotes their own, so it never sets two tickets apart ("error 401" against "error 503"
    still does)."""
    return len(word) >= _REFERENCE and word.isdigit()


def _alike(word: str, other: str) -> bool:
    """One word, inflected ("sync", "syncing") or misspelt, rather than two."""
    shortest = min(len(word), len(other))
    if word[:_STEM] == other[:_STEM] and shortest >= _STEM:
        return True
    if shortest == _STEM - 1 and (word.startswith(other) or other.startswith(word)):
        return True
    return word == other or fuzz.ratio(word, other) >= _SPELT


def most_similar(ticket: Compared, issues: OpenIssues, projects: frozenset[str],
                 threshold: float, *, leaving_out: frozenset[str] = frozenset()) -> Similar | None:
    """The open issue (of `projects`, not in `leaving_out`) whose tickets `ticket` is most
    like, when at least `threshold` alike; the first such issue on a tie."""
    best: Similar | None = None
    for issue in issues.issues:
        if issue.key in leaving_out or issue.key.rsplit("-", 1)[0] not in projects:
            continue
        for subject, description in issue.texts:
            other = compared(subject, description, issues.meanings)
            score = similarity(ticket, other)
            if score >= threshold and (best is None or score > best.score):
                shared = sorted(set(ticket.subject.split()) & set(other.subject.split()))
                best = Similar(issue, score, tuple(shared))
    return best


def _words(text: str) -> list[str]:
    return [w for w in utils.default_process(text).split() if w not in _FILLER]


@dataclass(frozen=True)
class Evaluation:
    """The matcher on labelled pairs: how many pairs are duplicates, how many of those it
    would join, and how many pairs it would join wrongly."""

    pairs: int
    duplicates: int
    joined: int
    wrong: int

    @property
    def precision(self) -> float:
        """Of the joins it would make, the share that are right (1 when it makes none)."""
        made = self.joined + self.wrong
        return self.joined / made if made else 1.0

    @property
    def recall(self) -> float:
        """Of the duplicates, the share it would join."""
        return self.joined / self.duplicates if self.duplicates else 1.0


def evaluate(pairs: list[tuple[Compared, Compared, bool]], threshold: float) -> Evaluation:
    """How the matcher does at `threshold` on pairs labelled duplicate (True) or not."""
    joined = wrong = 0
    for a, b, same in pairs:
        if similarity(a, b) >= threshold:
            joined += same
            wrong += not same
    return Evaluation(len(pairs), sum(same for *_, same in pairs), joined, wrong)
