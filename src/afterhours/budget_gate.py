"""The rate budget at the HTTP seams: a request waits out the budget's delay before it is
sent, with the retry policy's stop-aware sleep; a delay longer than the policy lets a
Retry-After be slept is not waited: the request is refused at once (RateBudgetError) and its
action waits for a later pass, as after such a 429.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import structlog

from afterhours.budget import RateBudget, read_headers
from afterhours.clock import Clock
from afterhours.errors import RateBudgetError
from afterhours.ops.metrics import Metrics
from afterhours.retrying import RetryPolicy, parse_retry_after

log = structlog.get_logger()


def seconds_of(clock: Clock) -> Callable[[], float]:
    """`clock` as seconds since the epoch: the budget's time, and the twins' on a test clock."""
    return lambda: clock().timestamp()


class BudgetGate:
    """Where one service's requests pass its `RateBudget`: `admit` before each is sent,
    `answered` with what came back."""

    def __init__(self, budget: RateBudget, *, clock: Callable[[], float], retry: RetryPolicy,
                 metrics: Metrics | None = None) -> None:
        self.budget = budget
        self._clock = clock
        self._retry = retry
        self._metrics = metrics

    @property
    def service(self) -> str:
        """The service whose requests pass here."""
        return self.budget.service

    def admit(self, endpoint: str) -> None:
        """Return once a request to `endpoint` may go; RateBudgetError when it must not (a
        wait beyond the policy's cap, or the daemon stopping meanwhile)."""
        now = self._clock()
        wait = self.budget.delay(endpoint, now)
        cap = self._retry.max_retry_after
        if wait > cap:
            log.warning("budget.deferred", service=self.service, endpoint=endpoint,
                        wait_seconds=round(wait, 2), cap=cap)
            raise RateBudgetError(self.service, (
                f"the rate budget holds {endpoint} for {wait:.0f} s, longer than a call may"
                f" wait ({cap:g} s); not sent"), retry_after=wait)
        at = now
        if wait > 0:
            log.debug("budget.waiting", service=self.service, endpoint=endpoint,
                      wait_seconds=round(wait, 2))
            self._retry.sleep(wait)
            if self._metrics is not None:
                self._metrics.budget_waited(self.service, wait)
            if self._retry.cancel is not None and self._retry.cancel.is_set():
                raise RateBudgetError(self.service, f"stopping: {endpoint} not sent")
            # On a clock that the sleep did not move, the request still takes its slot.
            at = max(self._clock(), now + wait)
        self.budget.spend(endpoint, at)
        self._show(at)

    def answered(self, endpoint: str, status: int, headers: Mapping[str, str]) -> None:
        """Take in an answer's rate-limit headers, and a 429's Retry-After."""
        now = self._clock()
        retry_after = parse_retry_after(headers.get("Retry-After")) if status == 429 else None
        self.budget.observe(endpoint, now, read_headers(headers, now), retry_after)
        self._show(now)

    def _show(self, now: float) -> None:
        if self._metrics is not None:
            self._metrics.budget_left(self.service, self.budget.left(now))
