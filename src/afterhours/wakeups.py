"""The deadline index: which open tickets a pass plans, so that a quiet pass costs what is
due, not what is open.

Every plan says when the ticket's plan could next change by time alone (`Plan.wake_at`,
domain.planner); the service stores it with the plan's outcomes, rounded down to the second.
A pass plans the open tickets whose wake-up has come, and those with unsettled ledger
entries. Whatever else can change a plan makes its ticket due at once (`wake_at` 0), in the
same transaction as the change: storing a snapshot (the export's changes, a re-read, a
ticket released from quarantine) and releasing parked actions (`afterhours retry`, or a
configuration change). So a kill at any moment loses nothing: a ticket is due until the
transaction that records its plan also records its next wake-up.

The wake-ups were worked out by one policy and one afterhours: a reload, or a start with a
different policy or version (the digest stored with the index differs), marks every open
ticket due once, in one transaction with the new digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import structlog

from afterhours import __version__
from afterhours.adapters.state import StateStore
from afterhours.clock import Clock
from afterhours.domain.model import Ticket
from afterhours.policy.model import Policy

log = structlog.get_logger()
# Snapshots read at a time: a pass holds this many, never every open ticket's.
BATCH = 200


def index_digest(policy: Policy) -> str:
    """What the wake-ups depend on besides the tickets: this afterhours and the policy."""
    text = f"afterhours {__version__}\n{policy.model_dump_json()}"
    return hashlib.sha256(text.encode()).hexdigest()


class Wakeups:
    """Selects the tickets a pass plans; rebuilds the index when the policy changes."""

    def __init__(self, state: StateStore, clock: Clock) -> None:
        self.state = state
        self.clock = clock
        self._policy: Policy | None = None  # the policy the stored wake-ups follow

    def follow(self, policy: Policy) -> int:
        """Make every open ticket due if `policy` is new to the index (reloaded, or not the
        one it was built for at start); return how many were marked."""
        if policy is self._policy:
            return 0
        reloaded = self._policy is not None
        digest = index_digest(policy)
        if not reloaded and self.state.index_built_for() == digest:
            self._policy = policy
            return 0
        marked = self.state.rebuild_index(digest)
        self._policy = policy
        log.info("wakeups.rebuilt", tickets=marked,
                 reason="policy reloaded" if reloaded else "policy or afterhours changed")
        return marked

    def due(self) -> Iterator[Ticket]:
        """The open tickets to plan now, oldest first, read a batch at a time."""
        ids = self.state.due_tickets(self.clock())
        for start in range(0, len(ids), BATCH):
            yield from self.state.tickets(ids[start:start + BATCH])
