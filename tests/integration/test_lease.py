"""One active replica: the lease on SQLite and on a real PostgreSQL.

No test sleeps: the lease's expiry is on the database's clock, so a test ages the lease row
instead of waiting; each holder's own clock is a counter the test moves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from afterhours.adapters.lease import Lease
from afterhours.adapters.migrations import migrate
from afterhours.adapters.sql import Database, open_database
from afterhours.errors import LeaseLostError

pytestmark = pytest.mark.integration


class Ticker:
    """A replica's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def connect(state_url: str) -> Iterator[Callable[[], Database]]:
    """Open connections to one migrated state database (a replica each); closed afterwards."""
    opened: list[Database] = []

    def open_one() -> Database:
        opened.append(open_database(state_url))
        return opened[-1]

    migrate(open_one())
    yield open_one
    for db in opened:
        db.close()


def _expire(db: Database) -> None:
    """Move the lease's expiry an hour back: as if the holder had stopped renewing long ago."""
    db.execute("UPDATE lease SET expires_at = expires_at - 3600")


def _write(db: Database, lease: Lease, note: str) -> None:
    with db.transaction():
        lease.assert_fence(db)
        db.execute("INSERT INTO cursor (name, value) VALUES (?, ?)", (note, note))


def test_of_two_replicas_only_one_leads(connect: Callable[[], Database]) -> None:
    first, second = Lease(connect(), holder="a"), Lease(connect(), holder="b")
    assert first.try_acquire()
    assert not second.try_acquire()
    assert first.is_leader
    assert not second.is_leader
    assert first.try_acquire()  # renewing keeps the token
    assert first.fencing_token == 1
    assert second.fencing_token is None


def test_the_lease_runs_on_the_databases_clock(connect: Callable[[], Database]) -> None:
    db = connect()
    Lease(db, holder="a", seconds=30).try_acquire()
    row = db.fetchone(f"SELECT expires_at - {db.dialect.now_seconds} FROM lease")  # noqa: S608
    assert row is not None
    assert 25 < row[0] <= 30


def test_a_standby_takes_an_expired_lease_with_a_higher_token(
    connect: Callable[[], Database],
) -> None:
    first, second = Lease(connect(), holder="a"), Lease(connect(), holder="b")
    assert first.try_acquire()
    _expire(connect())
    assert second.try_acquire()
    assert second.fencing_token == 2
    assert not first.try_acquire()  # the old leader learns it lost
    assert not first.is_leader
    assert second.is_leader


def test_the_old_leaders_late_write_is_refused(connect: Callable[[], Database]) -> None:
    old_db, new_db = connect(), connect()
    old, new = Lease(old_db, holder="a"), Lease(new_db, holder="b")
    assert old.try_acquire()
    _write(old_db, old, "before")
    _expire(connect())  # the old leader is paused past its lease...
    assert new.try_acquire()
    with pytest.raises(LeaseLostError, match=r"held by b \(token 2\) now, not by this replica a"):
        _write(old_db, old, "late")  # ...and wakes up to write
    _write(new_db, new, "after")
    assert connect().fetchall("SELECT name FROM cursor ORDER BY name") == [
        ("after",), ("before",)]


def test_release_hands_over_at_once(connect: Callable[[], Database]) -> None:
    first_db = connect()
    first, second = Lease(first_db, holder="a"), Lease(connect(), holder="b")
    assert first.try_acquire()
    first.release()
    assert not first.is_leader
    assert second.try_acquire()  # no waiting for the expiry
    assert second.fencing_token == 2
    with pytest.raises(LeaseLostError):
        _write(first_db, first, "after release")


def test_a_leader_that_cannot_renew_stops_leading_by_its_own_clock(
    connect: Callable[[], Database],
) -> None:
    ticker = Ticker()
    lease = Lease(connect(), holder="a", seconds=30, monotonic=ticker)
    assert lease.try_acquire()
    assert lease.renew_every == 10
    ticker.now += 29.9
    assert lease.is_leader
    ticker.now += 0.1  # no renewal got through for a whole lease: a standby may lead now
    assert not lease.is_leader
    assert lease.try_acquire()  # nobody took over: the same token goes on
    assert lease.is_leader
    assert lease.fencing_token == 1


def test_the_fence_belongs_inside_a_transaction(connect: Callable[[], Database]) -> None:
    db = connect()
    lease = Lease(db, holder="a")
    lease.try_acquire()
    with pytest.raises(RuntimeError, match="inside the writer's transaction"):
        lease.assert_fence(db)


def test_a_default_holder_names_host_and_process(connect: Callable[[], Database]) -> None:
    first, second = Lease(connect()), Lease(connect())
    assert first.holder != second.holder
    assert first.holder.count(":") == 2


@pytest.mark.postgres
def test_a_takeover_waits_for_the_fenced_write_in_flight(postgres_url: str) -> None:
    old_db, new_db, watcher = (open_database(postgres_url) for _ in range(3))
    try:
        migrate(watcher)
        old, new = Lease(old_db, holder="a"), Lease(new_db, holder="b")
        assert old.try_acquire()
        _expire(watcher)
        (new_pid,) = new_db.fetchone("SELECT pg_backend_pid()") or (None,)
        took_over: list[bool] = []
        with old_db.transaction():
            old.assert_fence(old_db)  # still the holder: the row is locked until commit
            taker = threading.Thread(target=lambda: took_over.append(new.try_acquire()))
            taker.start()
            _wait_until_blocked(watcher, new_pid)
            assert took_over == []
            old_db.execute("INSERT INTO cursor (name, value) VALUES ('in flight', 'x')")
        taker.join(timeout=30)
        assert took_over == [True]
        assert new.fencing_token == 2
        assert watcher.fetchall("SELECT name FROM cursor") == [("in flight",)]
    finally:
        for db in (old_db, new_db, watcher):
            db.close()


def _wait_until_blocked(watcher: Database, pid: int) -> None:
    """Poll until the backend waits on a lock (bounded: the test fails rather than hangs)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        row = watcher.fetchone("SELECT wait_event_type FROM pg_stat_activity WHERE pid = ?",
                               (pid,))
        if row is not None and row[0] == "Lock":
            return
        time.sleep(0.01)
    raise AssertionError("the takeover never waited on the fenced write")
