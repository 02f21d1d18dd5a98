"""A state store failing during a run: the daemon says so, and leaves non-zero, not looping."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from afterhours.adapters.ports import ExportPage
from afterhours.adapters.state import SqliteState
from afterhours.clock import ManualClock
from afterhours.errors import StateError
from afterhours.policy import load_policy
from afterhours.service import MAX_STORE_FAILURES, Service
from factories import SATURDAY_NIGHT

POLICY = load_policy(Path(__file__).parents[1] / "fixtures" / "classic_policy.yaml").policy


class QuietDesk:
    """An export with nothing new."""

    def export_page(self, cursor: str | None, start_time: datetime) -> ExportPage:
        return ExportPage((), "cursor-1", end_of_stream=True)

    def close(self) -> None:
        """Nothing to release."""


class BrokenState(SqliteState):
    """A state file whose disk fills up after `healthy` passes."""

    def __init__(self, path: Path, healthy: int) -> None:
        super().__init__(path)
        self.healthy = healthy

    def store_page(self, tickets: object, cursor: str) -> None:
        if self.healthy <= 0:
            raise StateError(f"AFTERHOURS_STATE_DB={self.path}: the disk is full")
        self.healthy -= 1


def service(state: SqliteState, stop: threading.Event) -> Service:
    """A service whose only I/O is the export and the state."""
    return Service(desk=QuietDesk(), tracker=None, notifier=None, state=state,  # type: ignore[arg-type]
                   policy=POLICY, clock=ManualClock(SATURDAY_NIGHT), stop=stop)


def test_a_store_failing_pass_after_pass_ends_the_daemon(tmp_path: Path) -> None:
    stop = threading.Event()
    daemon = service(BrokenState(tmp_path / "s.sqlite3", healthy=2), stop)
    with capture_logs() as logs, pytest.raises(StateError, match="the disk is full"):
        daemon.run_forever(0)
    failures = [e for e in logs if e["event"] == "state.failed"]
    assert [e["consecutive"] for e in failures] == list(range(1, MAX_STORE_FAILURES + 1))
    assert not any(e["event"] == "pass.crashed" for e in logs)


def test_a_store_that_recovers_resets_the_count(tmp_path: Path) -> None:
    stop = threading.Event()
    state = BrokenState(tmp_path / "s.sqlite3", healthy=0)
    daemon = service(state, stop)
    passes = 0

    def heal_after_some_failures() -> None:
        nonlocal passes
        passes += 1
        if passes == MAX_STORE_FAILURES - 1:
            state.healthy = 10**6  # space was freed
        if passes == MAX_STORE_FAILURES + 3:
            stop.set()

    daemon.run_forever(0, before_pass=heal_after_some_failures)  # returns: no error


def test_stopping_while_the_store_fails_is_not_a_clean_exit(tmp_path: Path) -> None:
    stop = threading.Event()
    daemon = service(BrokenState(tmp_path / "s.sqlite3", healthy=0), stop)
    with pytest.raises(StateError):
        daemon.run_forever(0, before_pass=stop.set)  # SIGTERM arrives during the first pass
