"""What every part of the state store shares: its database, its transactions and its fence."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from afterhours.adapters.sql import Database


class Fence(Protocol):
    """Refuses a write once this replica no longer leads (adapters/lease.py's `Lease`)."""

    def assert_fence(self, db: Database) -> None:
        """Inside the writer's transaction: raise LeaseLostError unless this replica leads."""


class StoreBase:
    """The database and the one transaction helper the state's parts write through."""

    _db: Database
    _fence: Fence | None = None

    def fence_with(self, fence: Fence | None) -> None:
        """Check `fence` at the start of every write transaction from now on: a replica that
        lost the lease has its late writes refused (LeaseLostError), not racing the new one."""
        self._fence = fence

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group the writes inside into one transaction: one commit (and fsync) for all."""
        with self._transaction():
            yield

    @contextmanager
    def _transaction(self) -> Iterator[Database]:
        if self._db.in_transaction:  # inside batch(): the outer transaction commits
            yield self._db
            return
        with self._db.transaction() as db:
            if self._fence is not None:
                self._fence.assert_fence(db)
            yield db
