"""Meanings kept in the state store across restarts (similar_issues: matcher: meaning), so a
restarted daemon reads its open issues' meanings back instead of running the model on every
one of their tickets again (15 ms a text: 150 s for 10,000 inside a pass). A cache: failing
to read or write it costs the model's time, never a pass.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta

import structlog

from afterhours.adapters.meaning import DIMENSIONS, IDENTITY
from afterhours.adapters.ports import MeaningStore, StoredMeaning
from afterhours.errors import StateError

log = structlog.get_logger()

# How stale a kept meaning's used_at may get before a read marks it used again: a daemon
# reads its open issues after every filing, and must not rewrite all their rows each time.
MARKED_EVERY = timedelta(days=1)
# How long past the policy's within_days an unused meaning is kept (see KeptMeanings).
MARGIN = timedelta(days=7)
_SIZE = 4 * DIMENSIONS  # bytes of a meaning: float32s


class KeptMeanings:
    """The meanings the state keeps for the model, read and written at `now`.

    Bounded by age, not by a row cap: a meaning is dropped once unused for the policy's
    within_days and a week more. Every read of the open issues uses each of their tickets'
    texts, so a meaning stays while its issue can be joined, and goes once the issue is
    resolved or too old to join. The week covers a reload that lengthens the window. Pruning
    runs only in the transaction that writes new meanings, after this read's were marked
    used: a daemon stopped for a month loses nothing it still needs. A cap would instead
    have to guess how many open issues' tickets a helpdesk has, and evict ones still in use.
    """

    def __init__(self, store: MeaningStore, now: datetime, within_days: int,
                 model: str = IDENTITY) -> None:
        self._store, self._now, self._model = store, now, model
        self._unused_before = now - timedelta(days=within_days) - MARGIN

    def meanings(self, texts: Sequence[str], run: Callable[[str], bytes]) -> dict[str, bytes]:
        """Each text's meaning: the kept ones read back in one batch, the others `run` (the
        model) and kept in one write."""
        stored = self._read(texts)
        found = {text: kept.meaning for text, kept in stored.items()}
        new = {text: run(text) for text in dict.fromkeys(texts) if text not in found}
        stale = [text for text, kept in stored.items()
                 if kept.used_at <= self._now - MARKED_EVERY]
        if new or stale:
            self._write(new, stale)
        return found | new

    def _read(self, texts: Sequence[str]) -> dict[str, StoredMeaning]:
        return read_kept(self._store, texts, self._model)

    def _write(self, new: dict[str, bytes], used: list[str]) -> None:
        try:
            self._store.store_meanings(self._model, new, used=used, at=self._now,
                                       unused_before=self._unused_before)
        except StateError as error:  # a lost lease (LeaseLostError) still stops the pass
            log.warning("meanings.write_failed", error=str(error), meanings=len(new))


def read_kept(store: MeaningStore, texts: Collection[str], model: str = IDENTITY
              ) -> dict[str, StoredMeaning]:
    """The meanings kept of those of `texts`, in one batch; none when the state cannot be
    read (a cache: the model runs instead). A row of the wrong size (never written so) is
    left out, to be run again."""
    try:
        stored = store.stored_meanings(model, set(texts))
    except StateError as error:
        log.warning("meanings.read_failed", error=str(error), texts=len(texts))
        return {}
    return {text: kept for text, kept in stored.items() if len(kept.meaning) == _SIZE}
