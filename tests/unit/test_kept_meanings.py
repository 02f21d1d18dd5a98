"""Kept meanings (afterhours/kept_meanings.py) against a fake of the MeaningStore port: read
back instead of run, marked used at most daily, and a store that fails costs the model's
time, never the meanings."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta

from structlog.testing import capture_logs

from afterhours.adapters.meaning import DIMENSIONS
from afterhours.adapters.ports import StoredMeaning
from afterhours.errors import StateError
from afterhours.kept_meanings import MARGIN, KeptMeanings

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


def meaning(text: str) -> bytes:
    """A stand-in for the model: a meaning of the right size, different per text."""
    return text.encode().ljust(4 * DIMENSIONS, b"\0")[:4 * DIMENSIONS]


class FakeStore:
    """The port in memory; `broken` makes reads or writes fail as a down database would."""

    def __init__(self, broken: str = "") -> None:
        self.rows: dict[tuple[str, str], StoredMeaning] = {}
        self.broken = broken
        self.writes: list[tuple[dict[str, bytes], list[str], datetime]] = []

    def stored_meanings(self, model: str, texts: Collection[str]) -> dict[str, StoredMeaning]:
        if self.broken == "read":
            raise StateError("AFTERHOURS_STATE_URL: the database is down")
        return {t: self.rows[model, t] for t in texts if (model, t) in self.rows}

    def store_meanings(self, model: str, meanings: Mapping[str, bytes], *,
                       used: Collection[str], at: datetime, unused_before: datetime) -> None:
        if self.broken == "write":
            raise StateError("AFTERHOURS_STATE_URL: the disk is full")
        self.writes.append((dict(meanings), list(used), unused_before))
        for text in used:
            self.rows[model, text] = StoredMeaning(self.rows[model, text].meaning, at)
        for text, found in meanings.items():
            self.rows[model, text] = StoredMeaning(found, at)


class CountingModel:
    def __init__(self) -> None:
        self.ran: list[str] = []

    def __call__(self, text: str) -> bytes:
        self.ran.append(text)
        return meaning(text)


def test_kept_meanings_are_read_back_and_only_new_texts_run() -> None:
    store, model = FakeStore(), CountingModel()
    first = KeptMeanings(store, NOW, 30).meanings(["a", "b", "a"], model)
    assert first == {"a": meaning("a"), "b": meaning("b")}
    assert model.ran == ["a", "b"]
    assert store.writes == [({"a": meaning("a"), "b": meaning("b")}, [],
                             NOW - timedelta(days=30) - MARGIN)]

    again = KeptMeanings(store, NOW + timedelta(hours=1), 30).meanings(["a", "b", "c"], model)
    assert again == {"a": meaning("a"), "b": meaning("b"), "c": meaning("c")}
    assert model.ran == ["a", "b", "c"]
    assert store.writes[-1][:2] == ({"c": meaning("c")}, [])  # used within a day: not marked


def test_a_read_of_only_kept_texts_writes_nothing_until_a_day_has_passed() -> None:
    store, model = FakeStore(), CountingModel()
    KeptMeanings(store, NOW, 30).meanings(["a"], model)
    KeptMeanings(store, NOW + timedelta(hours=23), 30).meanings(["a"], model)
    assert len(store.writes) == 1
    KeptMeanings(store, NOW + timedelta(days=1), 30).meanings(["a"], model)
    assert store.writes[-1][:2] == ({}, ["a"])
    assert model.ran == ["a"]


def test_another_models_meanings_are_not_read() -> None:
    store, model = FakeStore(), CountingModel()
    KeptMeanings(store, NOW, 30, model="other-model").meanings(["a"], model)
    KeptMeanings(store, NOW, 30).meanings(["a"], model)
    assert model.ran == ["a", "a"]


def test_a_kept_row_of_the_wrong_size_is_run_again() -> None:
    store, model = FakeStore(), CountingModel()
    KeptMeanings(store, NOW, 30).meanings(["a"], model)
    [key] = store.rows
    store.rows[key] = StoredMeaning(b"\0" * 7, NOW)
    assert KeptMeanings(store, NOW, 30).meanings(["a"], model) == {"a": meaning("a")}
    assert store.rows[key].meaning == meaning("a")


def test_a_failing_read_runs_the_model_and_warns() -> None:
    store, model = FakeStore(broken="read"), CountingModel()
    with capture_logs() as logs:
        found = KeptMeanings(store, NOW, 30).meanings(["a", "b"], model)
    assert found == {"a": meaning("a"), "b": meaning("b")}
    assert model.ran == ["a", "b"]
    [event] = [e for e in logs if e["event"] == "meanings.read_failed"]
    assert event["log_level"] == "warning"
    assert "down" in event["error"]


def test_a_failing_write_keeps_the_meanings_and_warns() -> None:
    store, model = FakeStore(broken="write"), CountingModel()
    with capture_logs() as logs:
        found = KeptMeanings(store, NOW, 30).meanings(["a"], model)
    assert found == {"a": meaning("a")}
    assert [e["event"] for e in logs] == ["meanings.write_failed"]
    assert logs[0]["log_level"] == "warning"
