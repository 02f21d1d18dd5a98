"""One active replica: a lease row in the state database, with expiry and a fencing token.

Every replica calls `try_acquire` every `renew_every` seconds: the holder renews, a standby
takes over once the lease has expired on the database's clock (replicas' own clocks never
count), and each takeover raises the fencing token. Writers call `assert_fence` inside their
transaction, so an old leader that was paused past its lease has its late write refused
(`LeaseLostError`) instead of racing the new one. `release` on a clean stop hands over at once.
`LeaseKeeper` does the renewing on a thread of its own.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable

import structlog

from afterhours.adapters.sql import Database
from afterhours.errors import LeaseLostError, StateError

log = structlog.get_logger(__name__)


class Lease:
    """This replica's claim on the lease `name` (the `lease` table of migration 0002)."""

    def __init__(
        self,
        db: Database,
        *,
        seconds: float = 30.0,
        holder: str | None = None,
        name: str = "daemon",
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self.seconds = seconds
        # The host (a pod's name on Kubernetes) and pid tell an operator who leads; the random
        # part keeps a restarted process with a reused pid from passing for its predecessor.
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.name = name
        self._monotonic = monotonic
        self._held = False
        self._token: int | None = None
        self._valid_until = 0.0
        # Seconds until the holder's lease expires, as the last failed try found it.
        self.free_in: float | None = None

    @property
    def renew_every(self) -> float:
        """How often to call `try_acquire`: a third of the lease, so two renewals may fail."""
        return self.seconds / 3

    @property
    def is_leader(self) -> bool:
        """True while this replica holds the lease, by its own clock's conservative reckoning."""
        return self._held and self._monotonic() < self._valid_until

    @property
    def fencing_token(self) -> int | None:
        """The token of the lease this replica holds or held last; None when it never did."""
        return self._token

    def try_acquire(self) -> bool:
        """Renew the lease, or take it when free or expired; True when this replica leads."""
        asked = self._monotonic()
        now = self._db.dialect.now_seconds
        # One statement, so two standbys cannot both take an expired lease. Only the dialect's
        # clock expression is spliced in; every value is a parameter.
        row = self._db.fetchone(
            f"INSERT INTO lease (name, holder, token, expires_at) VALUES (?, ?, 1, {now} + ?)"  # noqa: S608
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
            " token = CASE WHEN lease.holder = excluded.holder THEN lease.token"
            " ELSE lease.token + 1 END, expires_at = excluded.expires_at"
            f" WHERE lease.holder = excluded.holder OR lease.expires_at <= {now}"
            " RETURNING token",
            (self.name, self.holder, self.seconds),
        )
        if row is None:
            if self._held:
                log.warning("lease.lost", lease=self.name, holder=self.holder,
                            fencing_token=self._token)
            self._held = False
            left = self._db.fetchone(f"SELECT expires_at - {now} FROM lease WHERE name = ?",  # noqa: S608
                                     (self.name,))
            self.free_in = None if left is None else max(0.0, float(left[0]))
            return False
        token = int(row[0])
        if not self._held or token != self._token:
            log.info("lease.acquired", lease=self.name, holder=self.holder, fencing_token=token)
        self._held = True
        self._token = token
        # The database granted the lease after we asked: it lasts at least `seconds` from then.
        self._valid_until = asked + self.seconds
        return True

    def forfeit(self, why: str) -> None:
        """Stop counting as the leader at once: a fenced write was refused (`why`), so another
        replica holds the lease; the next `try_acquire` finds out more."""
        if self._held:
            log.warning("lease.lost", lease=self.name, holder=self.holder,
                        fencing_token=self._token, reason=why)
        self._held = False

    def release(self) -> None:
        """Give the lease up on a clean stop, so a standby takes over at its next try."""
        if not self._held:
            return
        self._held = False
        self._db.execute(
            "UPDATE lease SET holder = '', expires_at = 0 WHERE name = ? AND holder = ?",
            (self.name, self.holder),
        )
        log.info("lease.released", lease=self.name, holder=self.holder, fencing_token=self._token)

    def close(self) -> None:
        """Close the lease's database connection (`release` first, on a clean stop)."""
        self._db.close()

    def assert_fence(self, db: Database) -> None:
        """Inside a writer's transaction: raise LeaseLostError unless this replica still holds
        the lease. The lease row stays locked until that transaction ends, so no takeover can
        land between this check and the commit."""
        if not db.in_transaction:
            raise RuntimeError("assert_fence belongs inside the writer's transaction")
        row = db.fetchone(
            f"SELECT holder, token FROM lease WHERE name = ?{db.dialect.lock_for_share}",  # noqa: S608
            (self.name,),
        )
        if row is None or row[0] != self.holder or row[1] != self._token:
            holder, token = row if row is not None else (None, None)
            raise LeaseLostError(
                f"lease {self.name!r} is held by {holder or 'nobody'} (token {token}) now, not by"
                f" this replica {self.holder} (token {self._token}): its write is refused"
            )


class LeaseKeeper:
    """Keeps a lease from a thread of its own: every `renew_every` seconds the holder renews,
    a standby tries to take it (right when the holder's lease runs out, if sooner).

    Renewal does not wait for the loop between tickets: one ticket can take minutes (a
    dependency's retries), and a leader that is merely busy must not lose the lease. A
    leader that is paused or killed stops renewing, and is fenced out once a standby took over.
    `on_change(leading)` is called (from that thread) whenever leadership changes.
    """

    def __init__(self, lease: Lease, *, on_change: Callable[[bool], object] | None = None,
                 ) -> None:
        self.lease = lease
        self._on_change = on_change
        self._leading: bool | None = None  # unknown until `start`: told either way then
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._keep, name="afterhours-lease", daemon=True)

    @property
    def is_leader(self) -> bool:
        """True while this replica holds the lease (see `Lease.is_leader`)."""
        return self.lease.is_leader

    def start(self) -> bool:
        """Try once now (a database that cannot be reached fails here, at start), then keep
        trying on the thread; True when this replica leads from the start."""
        leading = self.lease.try_acquire()
        self._changed(leading)
        self._thread.start()
        return leading

    def forfeit(self, why: str) -> None:
        """A fenced write was refused (`why`): lead no more until the lease is taken again."""
        self.lease.forfeit(why)
        self._changed(False)

    def close(self) -> None:
        """Stop the thread and release the lease, so a standby takes over at once; then close
        the lease's connection."""
        self._halt.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        try:
            self.lease.release()
        except StateError as error:  # it expires on its own: a standby waits the lease out
            log.warning("lease.release_failed", lease=self.lease.name, holder=self.lease.holder,
                        error=str(error))
        finally:
            self.lease.close()
        self._changed(False)

    def _keep(self) -> None:
        while not self._halt.wait(self._pause()):
            try:
                leading = self.lease.try_acquire()
            except Exception as error:  # this thread must outlive any failure: it is the lease
                # Still leading by its own clock for a while; the next try may get through.
                log.warning("lease.renew_failed", lease=self.lease.name,
                            holder=self.lease.holder, error=str(error))
                leading = self.lease.is_leader
            self._changed(leading)

    def _pause(self) -> float:
        pause = self.lease.renew_every
        if not self.lease.is_leader and self.lease.free_in is not None:
            # A standby tries again as the holder's lease runs out, not a renewal later.
            pause = min(pause, self.lease.free_in + _AFTER_EXPIRY)
        return pause

    def _changed(self, leading: bool) -> None:
        if leading != self._leading:
            self._leading = leading
            if self._on_change is not None:
                self._on_change(leading)


_AFTER_EXPIRY = 0.05  # seconds: the database's clock and ours tick apart by about this much
