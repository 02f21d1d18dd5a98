"""The meanings the similarity matcher compares under similar_issues: matcher: meaning,
computed here in the shell (the model is I/O and state) for the pure planner to compare."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from afterhours.adapters.meaning import MeaningModel, model_folder
from afterhours.domain.model import OpenIssues, Ticket
from afterhours.domain.similarity import meaning_text
from afterhours.kept_meanings import KeptMeanings
from afterhours.policy.model import Policy


def by_meaning(policy: Policy) -> bool:
    """Whether the policy's similar_issues: compares what tickets mean."""
    return policy.similar_issues is not None and policy.similar_issues.matcher == "meaning"


@lru_cache(maxsize=2)
def meaning_model(folder: Path | None) -> MeaningModel:
    """The model in `folder` (default: the installed package's), loaded once a process;
    MeaningModelError (a ConfigError) naming what to install or set if it cannot be."""
    return MeaningModel(model_folder(folder))


def check_meanings(policy: Policy, folder: Path | None) -> None:
    """Load the model now if the policy needs it, so a daemon or a reload without it fails
    at once, saying what to install, rather than at its first bug ticket."""
    if by_meaning(policy):
        meaning_model(folder)


def with_meanings(issues: OpenIssues, tickets: Iterable[Ticket], policy: Policy,
                  folder: Path | None, kept: KeptMeanings | None = None) -> OpenIssues:
    """`issues` with the meaning of each of their tickets' texts and of `tickets`', when the
    policy compares meanings (else `issues` as they are); those `kept` read back first."""
    if not by_meaning(policy):
        return issues
    texts = [(s, d) for issue in issues.issues for s, d in issue.texts]
    texts += [(t.subject, t.description) for t in tickets]
    return replace(issues, meanings=meanings_of(texts, folder, issues.meanings, kept))


def adding_meanings(issues: OpenIssues, tickets: Iterable[Ticket], policy: Policy,
                    folder: Path | None, kept: KeptMeanings | None = None) -> OpenIssues:
    """`issues`, whose meanings with_meanings() gave, with `tickets`' meanings added: the
    daemon compares each ticket that files with the same open issues, and need not walk
    their texts again for each (a dict's shallow copy is what remains)."""
    if not by_meaning(policy):
        return issues
    return replace(issues, meanings=meanings_of(
        ((t.subject, t.description) for t in tickets), folder, issues.meanings, kept))


def meanings_of(texts: Iterable[tuple[str, str]], folder: Path | None,
                known: Mapping[str, bytes] | None = None,
                kept: KeptMeanings | None = None) -> dict[str, bytes]:
    """What each (subject, description) means, by similarity.meaning_text(), with `known`;
    the missing ones read back from `kept` first, when given, the rest run by the model."""
    model = meaning_model(folder)
    found = dict(known or {})
    missing = [text for text in dict.fromkeys(meaning_text(s, d) for s, d in texts)
               if text not in found]
    if kept is None:
        found.update((text, model.meaning(text)) for text in missing)
    elif missing:  # all known: nothing to ask the state
        found.update(kept.meanings(missing, model.meaning))
    return found


class MeaningsByModel(Mapping[str, bytes]):
    """Each text's meaning, run by the model only when the matcher asks for it (replay: of a
    month's tickets, only those that would file are compared). Deterministic, so to the
    planner it is data like a dict; it lists none (len 0): no text is known in advance."""

    def __init__(self, folder: Path | None) -> None:
        self._model = meaning_model(folder)

    def __getitem__(self, text: str) -> bytes:
        return self._model.meaning(text)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0
