"""The similarity matchers' rows (issue #22): precision and recall at the suggested
thresholds on the corpus, its halves and each blind set, then the trade-off a lead chooses
from: at each of a few thresholds, what each matcher joins and how many joins are wrong."""

from __future__ import annotations

from collections.abc import Mapping

from afterhours.domain.similarity import Evaluation
from bench.similarity import (
    BLIND,
    HALVES,
    MEANING_SUGGESTED,
    RECALL,
    SUGGESTED,
    TRADE_OFF,
    blind_and_corpus,
    matcher_on_corpus,
    meaning_of_corpus,
)
from bench.table import NONE, NOT_RUN, Row, judged


def matcher_rows() -> list[Row]:
    """The similarity matchers' precision and recall on the corpus (issue #22), by words and
    by meaning: on the whole, on each half and on each blind set; the target is judged on all
    but the tuning half. Then the model's time, and the trade-off rows."""
    rows = [_matcher_row(None), *(_matcher_row(half) for half in (*HALVES, *BLIND))]
    found = meaning_of_corpus()
    if found is None:
        return [*rows, Row("Similar-ticket matcher by meaning", "model not installed",
                           target=f"no wrong join, ≥ {RECALL:.0%} joined", verdict=NOT_RUN),
                *trade_off_rows(None)]
    rows += [_matcher_row(None, found.meanings),
             *(_matcher_row(half, found.meanings) for half in (*HALVES, *BLIND))]
    return [*rows, Row("  meaning of one ticket's text (all-MiniLM-L6-v2 in NumPy)",
                       f"{found.per_text * 1000:.0f} ms", target=NONE, verdict=NONE),
            *trade_off_rows(found.meanings)]


def trade_off_rows(meanings: Mapping[str, bytes] | None) -> list[Row]:
    """At each TRADE_OFF threshold, by words and (with `meanings`) by meaning: the share of
    the corpus's and of the blind sets' duplicates joined, and the wrong joins among all."""
    rows = []
    for threshold in TRADE_OFF:
        by_words = blind_and_corpus(threshold)
        by_meaning = None if meanings is None else blind_and_corpus(threshold, meanings)
        cells = [_trade_off("words", *by_words)]
        if by_meaning is not None:
            cells.append(_trade_off("meaning", *by_meaning))
        rows.append(Row(f"  trade-off at {threshold}: joined of the corpus's, of the blind"
                        " sets' duplicates (wrong joins)", "; ".join(cells)))
    return rows


def _trade_off(by: str, corpus: Evaluation, blind: Evaluation) -> str:
    return (f"{by} {corpus.recall:.0%}, {blind.recall:.0%}"
            f" ({corpus.wrong + blind.wrong} wrong)")


def _matcher_row(half: str | None, meanings: dict[str, bytes] | None = None) -> Row:
    threshold = SUGGESTED if meanings is None else MEANING_SUGGESTED
    found = matcher_on_corpus(threshold, half, meanings)
    by = "words" if meanings is None else "meaning"
    where = (f"Similar-ticket matcher by {by} at {threshold} on" if half is None
             else f"  {half} half:" if half in HALVES
             else f"  blind set {BLIND.index(half) + 1}:")
    judge = half != "tuning"
    return Row(f"{where} {found.pairs} labelled pairs ({found.duplicates} duplicates):"
               " precision, recall",
               f"{found.precision:.0%}, {found.recall:.0%} ({found.wrong} wrong joins)",
               target=f"no wrong join, ≥ {RECALL:.0%} joined" if judge else NONE,
               verdict=judged(found.wrong == 0 and found.recall >= RECALL) if judge else NONE)
