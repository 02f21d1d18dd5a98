"""`python -m bench.kept_meanings [N]`: what kept meanings save a restarted daemon (policy
similar_issues: matcher: meaning). With N open issues' ticket texts (default 300), the time
the first filing pass after a restart spends on their meanings: run again by the model (its
cache empty, as in a new process) against read back from the state (SQLite, a temp file).
The rest of that pass is the same either way. Figures are printed, never asserted."""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from afterhours.adapters.state import SqliteState
from afterhours.domain.model import OpenIssue, OpenIssues
from afterhours.kept_meanings import KeptMeanings
from afterhours.meanings import meaning_model, with_meanings
from afterhours.policy import parse_policy

POLICY = parse_policy("version: 1\nschedule: {time_zone: UTC, hours: {mon: [09:00-17:00]}}\n"
                      "similar_issues: {matcher: meaning, threshold: 90}\n")
NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


def open_issues(texts: int) -> OpenIssues:
    """`texts` tickets' texts, ten to an issue, each different."""
    return OpenIssues(tuple(
        OpenIssue(f"ENG-{start}", tuple(
            (f"Checkout fails with error {n}", f"Since update {n * 7919 % 10007} the cart"
             f" page shows error {n} for customer {n * 31}.")
            for n in range(start, min(start + 10, texts))))
        for start in range(0, texts, 10)))


def restarted_read(issues: OpenIssues, kept: KeptMeanings | None) -> float:
    """Seconds for the open issues' meanings with the model's own cache empty."""
    meaning_model(None)._cache.clear()  # a new process remembers nothing
    started = time.perf_counter()
    with_meanings(issues, (), POLICY, None, kept)
    return time.perf_counter() - started


def main(texts: int) -> None:
    """Print both figures and their ratio."""
    issues = open_issues(texts)
    meaning_model(None).meaning("warm up")
    with tempfile.TemporaryDirectory() as scratch:
        state = SqliteState(Path(scratch) / "state.sqlite3")
        try:
            run = restarted_read(issues, None)
            with_meanings(issues, (), POLICY, None, KeptMeanings(state, NOW, 30))  # kept
            stored = restarted_read(issues, KeptMeanings(state, NOW, 30))
        finally:
            state.close()
    print(f"first filing pass after a restart, meanings of {texts:,} open tickets' texts:"
          f" run by the model {run:.2f} s, read back from the state {stored:.3f} s"
          f" ({run / stored:.0f}x)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
