"""One active replica: a lease row in the state database, with expiry and a fencing token.

Every replica calls `try_acquire` every `renew_every` seconds: the holder renews, a standby
takes over once the lease has expired on the database's clock (replicas' own clocks never
count), and each takeover raises the fencing token. Writers call `assert_fence` inside their
transaction, so an old leader that was paused past its lease has its late write refused
(`LeaseLostError`) instead of racing the new one. `release` on a clean stop hands over at once.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable

import structlog

from afterhours.adapters.sql import Database
from afterhours.errors import LeaseLostError

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
                log.warning("lease.lost", lease=self.name, holder=self.holder, token=self._token)
            self._held = False
            return False
        token = int(row[0])
        if not self._held or token != self._token:
            log.info("lease.acquired", lease=self.name, holder=self.holder, token=token)
        self._held = True
        self._token = token
        # The database granted the lease after we asked: it lasts at least `seconds` from then.
        self._valid_until = asked + self.seconds
        return True

    def release(self) -> None:
        """Give the lease up on a clean stop, so a standby takes over at its next try."""
        if not self._held:
            return
        self._held = False
        self._db.execute(
            "UPDATE lease SET holder = '', expires_at = 0 WHERE name = ? AND holder = ?",
            (self.name, self.holder),
        )
        log.info("lease.released", lease=self.name, holder=self.holder, token=self._token)

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
