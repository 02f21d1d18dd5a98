"""What pushed deliveries leave for the daemon: ticket ids (each once), Jira issue events and
acknowledgements, bounded. The HTTP thread only offers; the daemon's thread takes, between
passes, so a pushed ticket is never planned while a pass is working on it."""

from __future__ import annotations

import threading
from typing import Literal, TypeVar

from afterhours.ops.metrics import Metrics
from afterhours.push.acknowledgements import AckEvent
from afterhours.push.verify import JiraEvent

DEFAULT_CAPACITY = 1000
Offered = Literal["accepted", "duplicate", "full"]
T = TypeVar("T")


class PushQueue:
    """Pushed ticket ids and Jira events waiting, `capacity` of each at most; safe to use
    from the HTTP thread and the daemon's at once."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, *, metrics: Metrics | None = None
                 ) -> None:
        self.capacity = capacity
        self._metrics = metrics
        self._lock = threading.Lock()
        self._tickets: dict[int, None] = {}  # an ordered set: first pushed, first planned
        self._jira: dict[JiraEvent, None] = {}
        self._acks: dict[str, AckEvent] = {}  # by event id: a redelivery is the same event
        self._waiting = threading.Event()  # set while tickets wait: wakes the daemon

    def offer_ticket(self, ticket_id: int) -> Offered:
        """Queue a pushed ticket: `accepted`, `duplicate` (already waiting: once is enough,
        the daemon reads the ticket as it is then), or `full` (refused, nothing queued)."""
        with self._lock:
            offered = _offer(self._tickets, ticket_id, self.capacity)
            count = len(self._tickets)
            if offered == "accepted":
                self._waiting.set()
        self._gauge("zendesk", count)
        return offered

    def offer_jira(self, event: JiraEvent) -> Offered:
        """Queue a Jira issue event (for the sync-back); the same event waiting already is a
        `duplicate`."""
        with self._lock:
            offered = _offer(self._jira, event, self.capacity)
            count = len(self._jira)
            if offered == "accepted":
                self._waiting.set()
        self._gauge("jira", count)
        return offered

    def offer_ack(self, event: AckEvent) -> Offered:
        """Queue an acknowledgement (from a page or a message): it wakes the daemon as a
        pushed ticket does; the same event waiting already is a `duplicate`."""
        with self._lock:
            if event.event_id in self._acks:
                return "duplicate"
            if len(self._acks) >= self.capacity:
                return "full"
            self._acks[event.event_id] = event
            self._waiting.set()
        return "accepted"

    def take_acks(self) -> list[AckEvent]:
        """Every acknowledgement waiting, oldest first; none waits afterwards."""
        with self._lock:
            taken, self._acks = list(self._acks.values()), {}
        return taken

    def take_tickets(self) -> list[int]:
        """Every pushed ticket waiting, first pushed first; the queue is empty afterwards."""
        with self._lock:
            taken, self._tickets = list(self._tickets), {}
            if not self._jira:
                self._waiting.clear()
        self._gauge("zendesk", 0)
        return taken

    def drain_jira(self) -> list[JiraEvent]:
        """Every Jira issue event waiting, oldest first; the queue is empty afterwards."""
        with self._lock:
            taken, self._jira = list(self._jira), {}
            if not self._tickets:
                self._waiting.clear()
        self._gauge("jira", 0)
        return taken

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for a pushed ticket or Jira event; whether any is
        waiting."""
        return self._waiting.wait(timeout)

    def _gauge(self, source: str, count: int) -> None:
        if self._metrics is not None:
            self._metrics.push_queued(source, count)


def _offer(queue: dict[T, None], item: T, capacity: int) -> Offered:
    if item in queue:
        return "duplicate"
    if len(queue) >= capacity:
        return "full"
    queue[item] = None
    return "accepted"
