"""The deadline index in the state store, the same on SQLite and PostgreSQL: what makes a
ticket due, what keeps it asleep, and the rebuild after a policy change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from afterhours.adapters.state import StateStore
from afterhours.clock import ManualClock
from afterhours.policy import parse_policy
from afterhours.wakeups import Wakeups, index_digest
from factories import make_ticket

pytestmark = pytest.mark.integration
AT = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
LATER = AT + timedelta(hours=2)
POLICY = parse_policy("version: 1\nschedule: {time_zone: UTC, hours: {}}\n")


def asleep(state: StateStore, *ids: int, until: datetime | None = LATER) -> None:
    """Record the tickets' plans: nothing to do before `until`."""
    for ticket_id in ids:
        state.set_wake(ticket_id, until)


def test_a_stored_ticket_is_due_until_its_plan_says_otherwise(state: StateStore) -> None:
    state.store_page([make_ticket(id=1), make_ticket(id=2)], "c1")
    assert state.due_tickets(AT) == [1, 2]
    asleep(state, 1, 2)
    assert state.due_tickets(AT) == []
    assert state.wake_at(1) == LATER
    assert state.due_tickets(LATER - timedelta(seconds=1)) == []
    assert state.due_tickets(LATER) == [1, 2]
    asleep(state, 2, until=None)  # nothing to wait for: only a change wakes it
    assert state.due_tickets(AT + timedelta(days=365)) == [1]
    assert state.wake_at(2) is None


def test_a_wake_up_is_rounded_down_to_the_second(state: StateStore) -> None:
    state.store_page([make_ticket(id=1)], "c1")
    asleep(state, 1, until=LATER + timedelta(microseconds=999_999))
    assert state.wake_at(1) == LATER
    assert state.due_tickets(LATER) == [1]  # a little early, never late


def test_a_changed_or_reread_ticket_is_due_again(state: StateStore) -> None:
    state.store_page([make_ticket(id=1), make_ticket(id=2)], "c1")
    asleep(state, 1, 2)
    state.store_page([make_ticket(id=1, updated_at=AT + timedelta(minutes=1))], "c2")
    state.store_ticket(make_ticket(id=2, updated_at=AT + timedelta(minutes=1)))
    assert state.due_tickets(AT) == [1, 2]


def test_an_older_snapshot_leaves_the_wake_up_alone(state: StateStore) -> None:
    state.store_page([make_ticket(id=1, updated_at=AT)], "c1")
    asleep(state, 1)
    state.store_page([make_ticket(id=1, updated_at=AT - timedelta(minutes=5))], "c2")
    assert state.due_tickets(AT) == []


def test_closed_tickets_are_never_due(state: StateStore) -> None:
    state.store_page([make_ticket(id=1, status="solved"), make_ticket(id=2)], "c1")
    asleep(state, 1, 2, until=AT)
    assert state.due_tickets(LATER) == [2]
    assert state.wake_at(1) is None


def test_unsettled_entries_make_a_ticket_due(state: StateStore) -> None:
    state.store_page([make_ticket(id=1), make_ticket(id=2, status="closed")], "c1")
    asleep(state, 1)
    for ticket_id in (1, 2):
        state.mark_intended(at=AT, ticket_id=ticket_id, key=f"ticket:{ticket_id}/r/note",
                            rule="r", action="AddInternalNote", reason="why")
    assert state.due_tickets(AT) == [1]  # the closed one is closed out instead
    assert [t for t, *_ in state.intended_on_closed()] == [2]


def test_released_parked_actions_make_their_tickets_due(state: StateStore) -> None:
    state.store_page([make_ticket(id=1), make_ticket(id=2)], "c1")
    asleep(state, 1, 2)
    state.record(at=AT, ticket_id=1, key="ticket:1/r/assign_group", rule="r",
                 action="AssignGroup", outcome="failed", status="failed", reason="no group")
    released = state.release_parked(None, at=AT, outcome="retry_requested", reason="fixed")
    assert [p.ticket_id for p in released] == [1]
    assert state.due_tickets(AT) == [1]


def test_the_snapshots_of_due_tickets_are_read_by_id(state: StateStore) -> None:
    state.store_page([make_ticket(id=n) for n in range(1, 1202)] +
                     [make_ticket(id=5000, status="solved")], "c1")
    found = state.tickets([*range(1, 1202), 5000, 9999])
    assert [t.id for t in found] == list(range(1, 1202))  # open and stored only


def test_a_new_policy_makes_every_open_ticket_due_once(state: StateStore) -> None:
    clock = ManualClock(AT)
    state.store_page([make_ticket(id=1), make_ticket(id=2), make_ticket(id=3, status="closed")],
                     "c1")
    asleep(state, 1, 2)
    first = Wakeups(state, clock)
    assert first.follow(POLICY) == 2  # never built for this policy: a rebuild
    assert state.index_built_for() == index_digest(POLICY)
    assert list(first.due()) == [make_ticket(id=1), make_ticket(id=2)]
    asleep(state, 1, 2)
    assert first.follow(POLICY) == 0  # the same one: nothing
    # A restart with the same policy (an equal copy) keeps the index.
    restarted = Wakeups(state, clock)
    assert restarted.follow(POLICY.model_copy(deep=True)) == 0
    assert list(restarted.due()) == []
    # A reload (a policy object the index does not follow yet) marks them due.
    reloaded = parse_policy("version: 1\nschedule: {time_zone: UTC, hours: {mon: [09:00-17:00]}}\n")
    assert restarted.follow(reloaded) == 2
    assert state.due_tickets(AT) == [1, 2]
    # A start with another policy than the index's does too.
    asleep(state, 1, 2)
    assert Wakeups(state, clock).follow(POLICY) == 2
