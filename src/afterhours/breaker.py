"""Circuit breakers: a dependency that keeps failing without an answer is left alone a while.

One breaker per dependency: `zendesk`, `jira`, and `chat:<channel>` for each chat channel
(a dead webhook must not hold up a page on another channel). After `threshold` failures in a
row that got no answer (refused, reset, timed out, or 502/503/504: the service or its gateway
saying it is unavailable) the breaker opens: calls through it fail at once with
CircuitOpenError, without touching the network or sleeping, and the pass defers that
dependency's actions and goes on with everything else.

Any answer counts as the dependency being up and resets the count: a success, a 4xx, a 429
(Retry-After deals with it, and a limit on one endpoint must not stop the others) or a 500
(usually one request's trouble, which must not stop the requests that would work).

At the start of each pass (`Breakers.new_pass`) an open breaker turns half-open: the next
call probes; an answer closes the breaker, a failure opens it again at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Literal, TypeVar

import structlog

from afterhours.errors import (
    CircuitOpenError,
    OutcomeUnknownError,
    RateBudgetError,
    ServiceError,
    TransientError,
)

T = TypeVar("T")
State = Literal["closed", "open", "half_open"]
log = structlog.get_logger()
OUTAGE_STATUSES = frozenset({502, 503, 504})


def is_outage(error: ServiceError) -> bool:
    """Whether `error` says the dependency did not answer (rather than answered no)."""
    if isinstance(error, CircuitOpenError):
        return False
    return isinstance(error, TransientError | OutcomeUnknownError) and (
        error.status is None or error.status in OUTAGE_STATUSES)


class CircuitBreaker:
    """The state of one dependency: closed (calls go out), open (refused), half-open (probe)."""

    def __init__(self, dependency: str, *, threshold: int = 3) -> None:
        if threshold < 1:
            raise ValueError(f"a breaker threshold is at least 1, not {threshold}")
        self.dependency = dependency
        self.threshold = threshold
        self._state: State = "closed"
        self._failures = 0
        self._last_error = ""
        # The daemon calls from one thread; /readyz and metrics read from another.
        self._lock = threading.Lock()

    @property
    def state(self) -> State:
        """closed, open or half_open."""
        with self._lock:
            return self._state

    def call(self, fn: Callable[[], T]) -> T:
        """Run `fn` unless the breaker is open (CircuitOpenError), and count how it went.

        The failure that opens the breaker is raised as CircuitOpenError too, so a retry loop
        around this call stops at once; unless it is OutcomeUnknownError, which must keep
        saying that the request may have landed.
        """
        with self._lock:
            if self._state == "open":
                raise self._refusal()
        try:
            result = fn()
        except ServiceError as error:
            if self._failed(error) and not isinstance(error, OutcomeUnknownError):
                raise self._refusal() from error
            raise
        self._answered()
        return result

    def new_pass(self) -> None:
        """An open breaker lets the next call through as a probe."""
        with self._lock:
            if self._state == "open":
                self._state = "half_open"

    def _failed(self, error: ServiceError) -> bool:
        """Count `error`; True when the breaker is open after it."""
        if isinstance(error, RateBudgetError):
            return False  # never sent: it says nothing of the dependency either way
        if not is_outage(error):
            self._answered()
            return False
        with self._lock:
            self._failures += 1
            self._last_error = str(error)
            if self._state == "half_open" or (
                    self._state == "closed" and self._failures >= self.threshold):
                self._state = "open"
                log.warning("breaker.opened", dependency=self.dependency,
                            failures=self._failures, error=self._last_error)
            return self._state == "open"

    def _answered(self) -> None:
        with self._lock:
            self._failures = 0
            if self._state != "closed":
                self._state = "closed"
                log.info("breaker.closed", dependency=self.dependency)

    def _refusal(self) -> CircuitOpenError:
        service = self.dependency.split(":", 1)[0]
        return CircuitOpenError(service, (
            f"{self.dependency} is not answering ({self._failures} failures in a row, the"
            f" last: {self._last_error}); not called again before the next pass"))


class Breakers:
    """The breakers of one daemon, one per dependency, each made on first use."""

    def __init__(self, *, threshold: int = 3) -> None:
        self.threshold = threshold
        self._breakers: dict[str, CircuitBreaker] = {}
        self._lock = threading.Lock()

    def get(self, dependency: str) -> CircuitBreaker:
        """The breaker of `dependency` ("zendesk", "jira", "chat:<channel>")."""
        with self._lock:
            breaker = self._breakers.get(dependency)
            if breaker is None:
                breaker = self._breakers[dependency] = CircuitBreaker(
                    dependency, threshold=self.threshold)
            return breaker

    def new_pass(self) -> None:
        """Called as a pass starts: every open breaker probes its dependency again."""
        for breaker in self._all():
            breaker.new_pass()

    def states(self) -> dict[str, State]:
        """Each known dependency's breaker state (a copy: for /readyz and metrics)."""
        return {breaker.dependency: breaker.state for breaker in self._all()}

    def open_dependencies(self) -> frozenset[str]:
        """The dependencies not known to work: breaker open, or half-open awaiting its probe."""
        return frozenset(name for name, state in self.states().items() if state != "closed")

    def _all(self) -> list[CircuitBreaker]:
        with self._lock:
            return list(self._breakers.values())


def guarded(breaker: CircuitBreaker | None, fn: Callable[[], T]) -> Callable[[], T]:
    """`fn` called through `breaker`, or `fn` itself when there is no breaker."""
    return fn if breaker is None else partial(breaker.call, fn)
