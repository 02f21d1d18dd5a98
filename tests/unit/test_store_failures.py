"""A state store failing during a run: the daemon says so, and leaves non-zero, not looping."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from afterhours.adapters.ports import ExportPage
from afterhours.adapters.state import StateStore
from afterhours.clock import ManualClock
from afterhours.daemon import MAX_STORE_FAILURES
from afterhours.errors import StateError
from afterhours.policy import load_policy
from afterhours.service import Service
from factories import SATURDAY_NIGHT

POLICY = load_policy(Path(__file__).parents[1] / "fixtures" / "classic_policy.yaml").policy


class QuietDesk:
    """An export with nothing new."""

    def export_page(self, cursor: str | None, start_time: datetime) -> ExportPage:
        return ExportPage((), "cursor-1", end_of_stream=True)

    def close(self) -> None:
        """Nothing to release."""


class BrokenState(StateStore):
    """A state (SQLite or PostgreSQL) whose disk fills up after `healthy` passes."""

    def __init__(self, url: str, healthy: int) -> None:
        super().__init__(url)
        self.healthy = healthy

    def store_page(self, tickets: object, cursor: str) -> None:
        if self.healthy <= 0:
            raise StateError(f"AFTERHOURS_STATE_URL={self.where}: the disk is full")
        self.healthy -= 1


@pytest.fixture
def broken(state_url: str) -> Iterator[Callable[[int], BrokenState]]:
    """Opens a BrokenState on SQLite, then on PostgreSQL; closed afterwards."""
    opened: list[BrokenState] = []

    def open_one(healthy: int) -> BrokenState:
        opened.append(BrokenState(state_url, healthy))
        return opened[-1]

    yield open_one
    for state in opened:
        state.close()


def service(state: StateStore, stop: threading.Event) -> Service:
    """A service whose only I/O is the export and the state."""
    return Service(desk=QuietDesk(), tracker=None, notifier=None, state=state,  # type: ignore[arg-type]
                   policy=POLICY, clock=ManualClock(SATURDAY_NIGHT), stop=stop)


def test_a_store_failing_pass_after_pass_ends_the_daemon(
    broken: Callable[[int], BrokenState],
) -> None:
    stop = threading.Event()
    daemon = service(broken(2), stop)
    with capture_logs() as logs, pytest.raises(StateError, match="the disk is full"):
        daemon.run_forever(0)
    failures = [e for e in logs if e["event"] == "state.failed"]
    assert [e["consecutive"] for e in failures] == list(range(1, MAX_STORE_FAILURES + 1))
    assert not any(e["event"] == "pass.crashed" for e in logs)


def test_a_store_that_recovers_resets_the_count(broken: Callable[[int], BrokenState]) -> None:
    stop = threading.Event()
    state = broken(0)
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


def test_stopping_while_the_store_fails_is_not_a_clean_exit(
    broken: Callable[[int], BrokenState],
) -> None:
    stop = threading.Event()
    daemon = service(broken(0), stop)
    with pytest.raises(StateError):
        daemon.run_forever(0, before_pass=stop.set)  # SIGTERM arrives during the first pass
