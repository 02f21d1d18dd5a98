"""The loop as one replica of several: it acts only while it leads (fakes for the lease)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from structlog.testing import capture_logs

from afterhours import service as service_module
from afterhours.adapters.state import StateStore
from afterhours.clock import ManualClock
from afterhours.errors import LeaseLostError
from afterhours.service import Service
from factories import SATURDAY_NIGHT, make_ticket
from unit.test_service import POLICY, FakeDesk, FakeNotifier, FakeTracker


class Renewals:
    """Stands in for adapters/lease.py's Lease where the loop reads it."""

    renew_every = 0.05


class FakeKeeper:
    """A lease keeper the test steers: `leading` answers `is_leader` (a callable may change
    its answer as it is asked), `forfeit` and `close` are recorded."""

    def __init__(self, leading: Any) -> None:
        self.leading = leading
        self.lease = Renewals()
        self.forfeited: list[str] = []
        self.closed = False

    @property
    def is_leader(self) -> bool:
        return bool(self.leading() if callable(self.leading) else self.leading)

    def forfeit(self, why: str) -> None:
        self.forfeited.append(why)
        self.leading = False

    def close(self) -> None:
        self.closed = True


def service_with(keeper: FakeKeeper, state: StateStore, desk: FakeDesk,
                 notifier: FakeNotifier) -> Service:
    return Service(desk=desk, tracker=FakeTracker(), notifier=notifier, state=state,
                   policy=POLICY, clock=ManualClock(SATURDAY_NIGHT + timedelta(minutes=5)),
                   lease=keeper)  # type: ignore[arg-type]


def tickets(count: int) -> list[Any]:
    return [make_ticket(id=n, subject="Checkout is down", priority="urgent",
                        tags=frozenset({"p1"})) for n in range(1, count + 1)]


def test_a_lone_daemon_without_a_lease_always_leads(state: StateStore) -> None:
    service = Service(desk=FakeDesk([]), tracker=FakeTracker(), notifier=FakeNotifier(),
                      state=state, policy=POLICY, clock=ManualClock(SATURDAY_NIGHT))
    assert service.is_leader


def test_a_standby_runs_no_pass_until_it_takes_the_lease_over(state: StateStore) -> None:
    asked = iter(range(10**6))
    keeper = FakeKeeper(lambda: next(asked) >= 5)  # the lease is free from the 5th look on
    desk, notifier = FakeDesk(tickets(1)), FakeNotifier()
    service = service_with(keeper, state, desk, notifier)
    happened: list[str] = []

    def first_pass_done() -> None:
        happened.append("before_pass")
        if happened.count("before_pass") == 2:
            service.stop.set()

    service.run_forever(0, before_pass=first_pass_done,
                        on_lead=lambda: happened.append("on_lead"))
    assert happened[:2] == ["on_lead", "before_pass"]
    assert happened.count("on_lead") == 1  # once per takeover, not once per pass
    assert desk.updates  # the pass acted once it led


def test_a_lease_lost_mid_pass_stops_acting_before_the_next_batch(
    state: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service_module, "BATCH", 1)  # a batch a ticket: three batches
    looks = iter(range(10**6))
    keeper = FakeKeeper(lambda: next(looks) < 1)  # leads for the first batch only
    desk, notifier = FakeDesk(tickets(3)), FakeNotifier()
    report = service_with(keeper, state, desk, notifier).run_pass()
    assert report.interrupted
    assert report.tickets_planned == 1
    assert {u[0].ticket_id for u in desk.updates} == {1}


class FencedOutState(StateStore):
    """A state whose writes ahead are refused: another replica took the lease over."""

    def mark_intended(self, **_: Any) -> None:
        raise LeaseLostError("lease 'daemon' is held by b (token 2) now, not by this replica a"
                             " (token 1): its write is refused")


def test_a_refused_write_makes_the_daemon_a_standby_not_a_crash(tmp_path: Any) -> None:
    state = FencedOutState(f"sqlite:///{tmp_path / 'state.sqlite3'}")
    keeper = FakeKeeper(True)
    desk, notifier = FakeDesk(tickets(1)), FakeNotifier()
    service = service_with(keeper, state, desk, notifier)
    stood_by = threading.Timer(0.3, service.stop.set)  # a SIGTERM while standing by
    stood_by.start()
    try:
        with capture_logs() as logs:
            service.run_forever(0)  # returns: not raised, not crashed
    finally:
        stood_by.cancel()
        state.close()
    assert keeper.forfeited == [
        "lease 'daemon' is held by b (token 2) now, not by this replica a (token 1): its write"
        " is refused"]
    assert (desk.updates, notifier.sent) == ([], [])  # nothing acted on after the refusal
    events = [e["event"] for e in logs]
    assert "pass.crashed" not in events
    assert "state.failed" not in events
    assert events[-1] == "daemon.stopped"


def test_closing_the_service_releases_the_lease(state: StateStore) -> None:
    keeper = FakeKeeper(True)
    service_with(keeper, state, FakeDesk([]), FakeNotifier()).close()
    assert keeper.closed
