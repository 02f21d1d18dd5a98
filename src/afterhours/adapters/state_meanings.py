"""Meanings kept in the state (migration 0008, `meanings`): what the model gave for a text,
read back after a restart instead of running the model on every open issue's tickets again.

Keyed by the model's identity and the SHA-256 of the exact text (never the text itself: the
ticket's words stay in `tickets`). Reads and writes are batched, a statement per few hundred
texts, so a pass's cost does not grow by a query per text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from afterhours.adapters.ports import StoredMeaning
from afterhours.adapters.state_base import StoreBase

# Parameters per statement: under SQLite's oldest limit (999), far under PostgreSQL's.
_PARAMETERS = 900
_COLUMNS = 4  # model, text_sha256, meaning, used_at


class MeaningsPart(StoreBase):
    """Reading, keeping and pruning the meanings of ticket texts."""

    def stored_meanings(self, model: str, texts: Collection[str]) -> dict[str, StoredMeaning]:
        """The meanings `model` gave of those of `texts` kept: all read in a few queries."""
        by_sha = {text_sha256(text): text for text in texts}
        found: dict[str, StoredMeaning] = {}
        for chunk in _chunks(list(by_sha), _PARAMETERS - 1):
            # Only placeholders are spliced in: the texts' hashes are parameters.
            sql = f"SELECT text_sha256, meaning, used_at FROM meanings WHERE model = ? AND text_sha256 IN ({_places(len(chunk))})"  # noqa: E501, S608
            rows = self._db.fetchall(sql, (model, *chunk))
            for sha, meaning, used_at in rows:
                found[by_sha[str(sha)]] = StoredMeaning(
                    bytes(meaning), datetime.fromtimestamp(int(used_at), UTC))
        return found

    def store_meanings(self, model: str, meanings: Mapping[str, bytes], *,
                       used: Collection[str], at: datetime, unused_before: datetime) -> None:
        """In one transaction: keep `meanings`, mark `used` (kept texts) used `at`, and drop
        every meaning, of any model, not used since `unused_before`."""
        now = int(at.timestamp())
        rows = [(model, text_sha256(text), meaning, now) for text, meaning in meanings.items()]
        with self._transaction() as db:
            for chunk in _chunks(rows, _PARAMETERS // _COLUMNS):
                values = ", ".join(f"({_places(_COLUMNS)})" for _ in chunk)
                db.execute(f"INSERT INTO meanings (model, text_sha256, meaning, used_at) VALUES {values}"  # noqa: E501, S608
                           " ON CONFLICT (model, text_sha256) DO UPDATE"
                           " SET meaning = excluded.meaning, used_at = excluded.used_at",
                           [value for row in chunk for value in row])
            for shas in _chunks([text_sha256(text) for text in used], _PARAMETERS - 2):
                sql = f"UPDATE meanings SET used_at = ? WHERE model = ? AND text_sha256 IN ({_places(len(shas))})"  # noqa: E501, S608
                db.execute(sql, (now, model, *shas))
            db.execute("DELETE FROM meanings WHERE used_at < ?",
                       (int(unused_before.timestamp()),))

    def meanings_kept(self) -> int:
        """How many meanings the state keeps, of every model."""
        row = self._db.fetchone("SELECT COUNT(*) FROM meanings")
        return 0 if row is None else int(row[0])


def text_sha256(text: str) -> str:
    """The key of a text's meaning: the SHA-256 of the exact text the model read."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[start:start + size] for start in range(0, len(items), size)]


def _places(count: int) -> str:
    return ", ".join("?" for _ in range(count))
