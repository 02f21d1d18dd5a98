"""Meanings kept in the state (migration 0008), on SQLite and PostgreSQL: read back by model
and text, in a few batched statements, pruned once unused, never written to the real state
by a dry run; and a state that cannot be read costs the model's time, not the meanings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from structlog.testing import capture_logs

from afterhours.adapters.dryrun_state import ThrowawayState
from afterhours.adapters.meaning import DIMENSIONS, IDENTITY, MeaningModel, MeaningModelError
from afterhours.adapters.sql import Database
from afterhours.adapters.state import StateStore
from afterhours.domain.model import OpenIssue, OpenIssues
from afterhours.domain.similarity import meaning_text
from afterhours.kept_meanings import KeptMeanings
from afterhours.meanings import meaning_model, meanings_of, with_meanings
from afterhours.policy import parse_policy

pytestmark = pytest.mark.integration
AT = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def meaning(text: str) -> bytes:
    return text.encode().ljust(4 * DIMENSIONS, b"\x01")[:4 * DIMENSIONS]


def keep(state: StateStore, *texts: str, model: str = IDENTITY, at: datetime = AT,
         used: tuple[str, ...] = (), unused_before: datetime = AT - 30 * DAY) -> None:
    state.store_meanings(model, {t: meaning(t) for t in texts}, used=used, at=at,
                         unused_before=unused_before)


def test_meanings_are_kept_as_the_model_gave_them_and_read_back(state: StateStore) -> None:
    keep(state, "SSO broken", "Login loops")
    found = state.stored_meanings(IDENTITY, ["SSO broken", "Login loops", "never kept"])
    assert {t: f.meaning for t, f in found.items()} == {
        "SSO broken": meaning("SSO broken"), "Login loops": meaning("Login loops")}
    assert {f.used_at for f in found.values()} == {AT}
    # Keyed by a hash of the exact text: one character more is another text.
    assert state.stored_meanings(IDENTITY, ["SSO broken "]) == {}


def test_another_models_meanings_are_kept_apart(state: StateStore) -> None:
    keep(state, "SSO broken")
    state.store_meanings("another-model", {"SSO broken": b"\2" * 8}, used=(), at=AT,
                         unused_before=AT - DAY)
    assert state.stored_meanings(IDENTITY, ["SSO broken"])["SSO broken"].meaning == meaning(
        "SSO broken")
    assert state.stored_meanings("another-model", ["SSO broken"])["SSO broken"].meaning == (
        b"\2" * 8)
    assert state.stored_meanings("a third model", ["SSO broken"]) == {}
    assert state.meanings_kept() == 2


def test_meanings_unused_since_the_cutoff_are_pruned_and_used_ones_stay(
    state: StateStore,
) -> None:
    keep(state, "old", "still used", at=AT)
    later = AT + 10 * DAY
    keep(state, "new", at=later, used=("still used",), unused_before=AT + DAY)
    found = state.stored_meanings(IDENTITY, ["old", "still used", "new"])
    assert sorted(found) == ["new", "still used"]
    assert found["still used"].used_at == later


def test_through_kept_meanings_an_issue_past_the_window_and_a_week_is_dropped(
    state: StateStore,
) -> None:
    KeptMeanings(state, AT, 30).meanings(["resolved", "open"], meaning)
    # 20 days on only the open issue's text is read: marked used; nothing new, but a write.
    KeptMeanings(state, AT + 20 * DAY, 30).meanings(["open"], meaning)
    KeptMeanings(state, AT + 38 * DAY, 30).meanings(["open", "new"], meaning)
    assert sorted(state.stored_meanings(IDENTITY, ["resolved", "open", "new"])) == [
        "new", "open"]


class Counting:
    """Counts the statements the state sends (wrapping its database's execute)."""

    def __init__(self, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent: list[str] = []
        execute = db.execute

        def counted(sql: str, params: Any = ()) -> Any:
            self.sent.append(sql.split(maxsplit=1)[0])
            return execute(sql, params)

        monkeypatch.setattr(db, "execute", counted)


def test_thousands_of_texts_are_read_and_written_in_a_few_statements(
    state: StateStore, monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = [f"ticket text {n}" for n in range(2_000)]
    counting = Counting(state.database, monkeypatch)
    keep(state, *texts)
    assert counting.sent.count("INSERT") == 9  # 225 rows a statement: parameters bounded
    assert counting.sent.count("BEGIN") == 1  # one transaction
    counting.sent.clear()
    assert len(state.stored_meanings(IDENTITY, texts)) == 2_000
    assert counting.sent == ["SELECT"] * 3  # 899 texts a statement


def test_a_dry_run_reads_the_kept_meanings_and_writes_none_to_the_real_state(
    state_url: str,
) -> None:
    real = StateStore(state_url)
    try:
        keep(real, "kept before")
        copy = ThrowawayState(url=state_url)
        try:
            found = KeptMeanings(copy, AT + 2 * DAY, 30).meanings(
                ["kept before", "new in the dry run"], meaning)
            assert found == {t: meaning(t) for t in ("kept before", "new in the dry run")}
            assert copy.meanings_kept() == 2
        finally:
            copy.close()
        assert real.meanings_kept() == 1
        assert real.stored_meanings(IDENTITY, ["kept before"])["kept before"].used_at == AT
    finally:
        real.close()


@pytest.fixture
def model() -> Iterator[MeaningModel]:
    try:
        yield meaning_model(None)
    except MeaningModelError as missing:
        pytest.skip(str(missing))


SIMILAR = parse_policy("version: 1\nschedule: {time_zone: UTC, hours: {mon: [09:00-17:00]}}\n"
                       "similar_issues: {matcher: meaning, threshold: 90}\n")
ISSUES = OpenIssues((OpenIssue("ENG-1", (("SSO broken", "Login loops back."),)),))


def test_open_issues_meanings_are_kept_and_a_state_that_fails_falls_back_to_the_model(
    state: StateStore, model: MeaningModel,
) -> None:
    text = meaning_text("SSO broken", "Login loops back.")
    expected = meanings_of([("SSO broken", "Login loops back.")], None)
    kept = with_meanings(ISSUES, (), SIMILAR, None, KeptMeanings(state, AT, 30))
    assert kept.meanings == expected
    assert state.stored_meanings(IDENTITY, [text])[text].meaning == expected[text]

    state.database.execute("DROP TABLE meanings")  # a read (and a write) that fails
    with capture_logs() as logs:
        again = with_meanings(ISSUES, (), SIMILAR, None, KeptMeanings(state, AT, 30))
    assert again.meanings == expected
    assert [e["event"] for e in logs] == ["meanings.read_failed", "meanings.write_failed"]
    assert {e["log_level"] for e in logs} == {"warning"}
