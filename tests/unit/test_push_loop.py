"""Push mode in the daemon's loop, with fakes of our ports: the queue is bounded and each ticket
waits once; a pushed ticket wakes the loop long before the poll interval and is planned by a
pass that skips the export; a push that cannot be read is left to the poll."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import timedelta

import pytest

from afterhours import daemon
from afterhours.adapters.one_by_one import fetch_each
from afterhours.adapters.state import StateStore
from afterhours.clock import ManualClock
from afterhours.domain.actions import SetPriority
from afterhours.domain.model import Ticket
from afterhours.errors import TransientError
from afterhours.ops.metrics import Metrics
from afterhours.push.handling import take_pushed
from afterhours.push.queue import PushQueue
from afterhours.push.verify import JiraEvent
from afterhours.service import Service
from factories import SATURDAY_NIGHT, make_ticket, wait_for
from unit.test_service import POLICY, FakeDesk, FakeNotifier, FakeTracker

HOUR = 3600.0  # the poll interval: no test here waits for it


class PushDesk(FakeDesk):
    """A desk whose export is counted and whose tickets are read in one call."""

    def __init__(self) -> None:
        super().__init__([])
        self.exports = 0
        self.batched: list[list[int]] = []

    def export_page(self, cursor: str | None, start_time: object) -> object:  # type: ignore[override]
        self.exports += 1
        return super().export_page(cursor, start_time)  # type: ignore[arg-type]

    def fetch_tickets(self, ticket_ids: Sequence[int]) -> dict[int, Ticket | None]:
        self.batched.append(list(ticket_ids))
        if self.fail is not None:
            raise self.fail
        return fetch_each(self.fetch_ticket, ticket_ids)


def p1(ticket_id: int) -> Ticket:
    """A ticket the policy makes P1 after hours."""
    return make_ticket(id=ticket_id, subject="Checkout is down")


@pytest.fixture
def running(state: StateStore) -> Iterator[tuple[PushDesk, Service, PushQueue]]:
    """A daemon looping in a thread of its own on fakes, its poll an hour apart."""
    desk = PushDesk()
    service = Service(desk=desk, tracker=FakeTracker(), notifier=FakeNotifier(),  # type: ignore[arg-type]
                      state=state, policy=POLICY,
                      clock=ManualClock(SATURDAY_NIGHT + timedelta(minutes=5)))
    pushes = PushQueue(10, metrics=service.metrics)
    loop = threading.Thread(target=daemon.run_forever, args=(service, HOUR),
                            kwargs={"pushes": pushes})
    loop.start()
    try:
        wait_for(lambda: desk.exports == 1, timeout=10)  # the first pass polls at once
        yield desk, service, pushes
    finally:
        service.stop.set()
        loop.join(10)
    assert not loop.is_alive()


def test_the_queue_takes_each_ticket_once_and_refuses_beyond_capacity() -> None:
    metrics = Metrics()
    queue = PushQueue(2, metrics=metrics)
    assert [queue.offer_ticket(t) for t in (5, 5, 6, 7, 6)] == \
        ["accepted", "duplicate", "accepted", "full", "duplicate"]
    assert metrics.webhook_queue.labels("zendesk")._value.get() == 2
    assert queue.wait(0)
    assert queue.take_tickets() == [5, 6]
    assert queue.take_tickets() == []
    assert not queue.wait(0)
    assert metrics.webhook_queue.labels("zendesk")._value.get() == 0


def test_jira_events_wake_the_loop_and_wait_until_drained() -> None:
    queue = PushQueue(2)
    updated, created = JiraEvent("ENG-1", "jira:issue_updated"), JiraEvent("ENG-2", "x")
    assert [queue.offer_jira(e) for e in (updated, updated, created)] == \
        ["accepted", "duplicate", "accepted"]
    assert queue.offer_jira(JiraEvent("ENG-3", "x")) == "full"
    assert queue.wait(0)  # the sync-back takes them at once, not at the next poll
    assert queue.take_tickets() == []
    assert queue.wait(0)  # still waiting: taking the tickets leaves the events
    assert queue.drain_jira() == [updated, created]
    assert not queue.wait(0)
    assert queue.drain_jira() == []


def test_a_pushed_ticket_is_planned_at_once_without_reading_the_export(
    running: tuple[PushDesk, Service, PushQueue],
) -> None:
    desk, service, pushes = running
    desk.current[41] = p1(41)  # created in Zendesk after the poll
    assert pushes.offer_ticket(41) == "accepted"
    wait_for(lambda: len(desk.updates) == 1, timeout=10)  # not the hour's poll
    assert desk.exports == 1
    assert desk.batched == [[41]]
    assert SetPriority(41, "urgent") in desk.updates[0]
    assert service.state.ticket(41) is not None


def test_duplicate_and_late_pushes_change_nothing_done(
    running: tuple[PushDesk, Service, PushQueue],
) -> None:
    desk, service, pushes = running
    desk.current[41] = p1(41)
    pushes.offer_ticket(41)
    # Its pass has settled every entry (the ledger is written after the update returns).
    wait_for(lambda: len(desk.updates) == 1 and service.state.history(41).settled
             and not service.state.intended(41), timeout=10)
    done = service.state.history(41)
    for times in range(2, 5):  # the same delivery again, each after the last was handled
        pushes.offer_ticket(41)
        wait_for(lambda: len(desk.batched) == times, timeout=10)  # noqa: B023
    assert len(desk.updates) == 1  # the ledger: each action once
    assert service.state.history(41) == done


def test_a_push_that_cannot_be_read_is_left_to_the_poll(state: StateStore) -> None:
    desk = PushDesk()
    service = Service(desk=desk, tracker=FakeTracker(), notifier=FakeNotifier(),  # type: ignore[arg-type]
                      state=state, policy=POLICY,
                      clock=ManualClock(SATURDAY_NIGHT + timedelta(minutes=5)))
    pushes = PushQueue()
    pushes.offer_ticket(41)
    desk.fail = TransientError("zendesk", "timed out")
    assert take_pushed(service, pushes) == 0
    assert pushes.take_tickets() == []  # not retried in a loop: the poll brings it
    desk.fail = None
    desk.tickets = [p1(41)]  # the export has it by the next poll
    service.run_pass()
    assert len(desk.updates) == 1


def test_a_deleted_pushed_ticket_is_not_stored(state: StateStore) -> None:
    desk = PushDesk()
    service = Service(desk=desk, tracker=FakeTracker(), notifier=FakeNotifier(),  # type: ignore[arg-type]
                      state=state, policy=POLICY, clock=ManualClock(SATURDAY_NIGHT))
    pushes = PushQueue()
    pushes.offer_ticket(404)
    assert take_pushed(service, pushes) == 0
    assert service.state.ticket(404) is None


def test_without_pushes_the_loop_still_polls_on_its_interval(state: StateStore) -> None:
    desk = PushDesk()
    service = Service(desk=desk, tracker=FakeTracker(), notifier=FakeNotifier(),  # type: ignore[arg-type]
                      state=state, policy=POLICY, clock=ManualClock(SATURDAY_NIGHT))
    polled = threading.Event()

    def count() -> None:
        if desk.exports >= 3:
            service.stop.set()
            polled.set()

    daemon.run_forever(service, 0, before_pass=count, pushes=PushQueue())
    assert polled.is_set()
